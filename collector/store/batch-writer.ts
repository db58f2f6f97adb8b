// Writes one agent batch in one transaction: the batch's (agent, sequence) row and every record of its windows,
// or nothing at all. A batch already stored is reported as a duplicate and not written again.
import type { Batch, UsageWindow } from '../../core/protocol/batch.ts';
import type { Db } from './database.ts';

export interface WriteResult {
  duplicate: boolean;
  windows: number;
}

export type BatchWriter = (batch: Batch, receivedAt: number) => WriteResult;

export function createBatchWriter(db: Db): BatchWriter {
  const insertBatch = db.prepare(
    'INSERT INTO batches (agent_id, sequence, received_at, windows) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING',
  );
  const upsertNode = db.prepare(`
    INSERT INTO nodes (name, agent_id, first_seen, last_seen, cpu_cores, memory_bytes, gpus, labels, simulated)
    VALUES (@name, @agentId, @seen, @seen, @cpuCores, @memoryBytes, @gpus, @labels, @simulated)
    ON CONFLICT (name) DO UPDATE SET
      agent_id = excluded.agent_id,
      last_seen = max(nodes.last_seen, excluded.last_seen),
      cpu_cores = excluded.cpu_cores, memory_bytes = excluded.memory_bytes, gpus = excluded.gpus,
      labels = excluded.labels, simulated = excluded.simulated,
      gone_at = CASE WHEN excluded.last_seen > nodes.last_seen THEN NULL ELSE nodes.gone_at END`);
  const insertNodeWindow = db.prepare(`
    INSERT INTO node_windows (node, start, end, cpu_avg, cpu_max, memory_avg, memory_max, load1, cpu_cores, memory_bytes)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`);
  const insertGpuWindow = db.prepare(`
    INSERT INTO gpu_windows (node, start, end, gpu_id, uuid, gpu_index, model, mig_profile, mig_instance_id,
      activity_avg, activity_max, sm_activity_avg, tensor_activity_avg, memory_used_max, memory_total, power_avg,
      energy_joules, temperature_max, sm_clock_avg, last_xid, holders)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`);
  const insertContainerWindow = db.prepare(`
    INSERT INTO container_windows (node, start, end, namespace, pod, container, cpu_avg, cpu_max, cpu_p95,
      memory_avg, memory_max, request_cpu, request_memory, request_gpus, gpu_resource, limit_cpu, limit_memory,
      pod_uid, qos_class, workload_kind, workload_name, ml_job_kind, ml_job_name, served_model, restarts, oom_killed,
      labels)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`);
  const insertModelWindow = db.prepare(`
    INSERT INTO model_windows (node, start, end, namespace, pod, model, server, requests_ok, requests_failed,
      prompt_tokens, generated_tokens, latency_sum, latency_count, queue_max, kv_cache_max)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`);

  const writeWindow = (agentId: string, window: UsageWindow): void => {
    const start = Date.parse(window.start);
    const end = Date.parse(window.end);
    const node = window.node;
    upsertNode.run({
      name: node.name,
      agentId,
      seen: end,
      cpuCores: node.capacity.cpuCores,
      memoryBytes: node.capacity.memoryBytes,
      gpus: node.capacity.gpus ?? null,
      labels: JSON.stringify(node.labels),
      simulated: node.simulated ? 1 : 0,
    });
    insertNodeWindow.run(
      node.name,
      start,
      end,
      node.cpuUsedCoresAvg ?? null,
      node.cpuUsedCoresMax ?? null,
      node.memoryUsedBytesAvg ?? null,
      node.memoryUsedBytesMax ?? null,
      node.load1 ?? null,
      node.capacity.cpuCores,
      node.capacity.memoryBytes,
    );
    for (const gpu of window.gpus) {
      insertGpuWindow.run(
        node.name,
        start,
        end,
        gpu.id,
        gpu.uuid,
        gpu.index ?? null,
        gpu.model ?? null,
        gpu.migProfile ?? null,
        gpu.migInstanceId ?? null,
        gpu.activityAvg ?? null,
        gpu.activityMax ?? null,
        gpu.smActivityAvg ?? null,
        gpu.tensorActivityAvg ?? null,
        gpu.memoryUsedBytesMax ?? null,
        gpu.memoryTotalBytes ?? null,
        gpu.powerWattsAvg ?? null,
        gpu.energyJoules ?? null,
        gpu.temperatureCelsiusMax ?? null,
        gpu.smClockMhzAvg ?? null,
        gpu.lastXid ?? null,
        JSON.stringify(gpu.holders),
      );
    }
    for (const c of window.containers) {
      insertContainerWindow.run(
        node.name,
        start,
        end,
        c.namespace,
        c.pod,
        c.container,
        c.cpuCoresAvg ?? null,
        c.cpuCoresMax ?? null,
        c.cpuCoresP95 ?? null,
        c.memoryBytesAvg ?? null,
        c.memoryBytesMax ?? null,
        c.requests.cpuCores ?? null,
        c.requests.memoryBytes ?? null,
        c.requests.gpus ?? null,
        c.requests.gpuResource ?? null,
        c.limits.cpuCores ?? null,
        c.limits.memoryBytes ?? null,
        c.podUid ?? null,
        c.qosClass ?? null,
        c.workload?.kind ?? null,
        c.workload?.name ?? null,
        c.mlJob?.kind ?? null,
        c.mlJob?.name ?? null,
        c.servedModel?.name ?? null,
        c.restarts ?? null,
        c.oomKilled === undefined ? null : c.oomKilled ? 1 : 0,
        c.labels ? JSON.stringify(c.labels) : null,
      );
    }
    for (const m of window.models) {
      insertModelWindow.run(
        node.name,
        start,
        end,
        m.namespace,
        m.pod,
        m.model,
        m.server,
        m.requestsOk,
        m.requestsFailed,
        m.promptTokens,
        m.generatedTokens,
        m.latencySecondsSum,
        m.latencyCount,
        m.queueLengthMax ?? null,
        m.kvCacheUsageMax ?? null,
      );
    }
  };

  return db.transaction((batch: Batch, receivedAt: number): WriteResult => {
    const inserted = insertBatch.run(batch.agentId, batch.sequence, receivedAt, batch.windows.length);
    if (inserted.changes === 0) return { duplicate: true, windows: 0 };
    for (const window of batch.windows) writeWindow(batch.agentId, window);
    return { duplicate: false, windows: batch.windows.length };
  });
}
