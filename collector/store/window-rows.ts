// The rows one usage window becomes in the store, as the values bound to each table's prepared insert: one place
// for the column order, used by the batch writer and by the ingest benchmark's raw-insert baseline.
import type { UsageWindow } from '../../core/protocol/batch.ts';

export const WINDOW_INSERT_SQL = {
  node: `INSERT INTO node_windows (node, start, end, cpu_avg, cpu_max, memory_avg, memory_max, load1, cpu_cores, memory_bytes)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  gpu: `INSERT INTO gpu_windows (node, start, end, gpu_id, uuid, gpu_index, model, mig_profile, mig_instance_id,
      activity_avg, activity_max, sm_activity_avg, tensor_activity_avg, memory_used_max, memory_total, power_avg,
      energy_joules, temperature_max, sm_clock_avg, last_xid, holders)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  container: `INSERT INTO container_windows (node, start, end, namespace, pod, container, cpu_avg, cpu_max, cpu_p95,
      memory_avg, memory_max, request_cpu, request_memory, request_gpus, gpu_resource, limit_cpu, limit_memory,
      pod_uid, qos_class, workload_kind, workload_name, ml_job_kind, ml_job_name, served_model, restarts, oom_killed,
      labels)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  model: `INSERT INTO model_windows (node, start, end, namespace, pod, model, server, requests_ok, requests_failed,
      prompt_tokens, generated_tokens, latency_sum, latency_count, queue_max, kv_cache_max)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
} as const;

export interface WindowRows {
  node: unknown[];
  gpus: unknown[][];
  containers: unknown[][];
  models: unknown[][];
}

/** The values each of a window's rows binds, in WINDOW_INSERT_SQL's column order. */
export function windowRows(window: UsageWindow): WindowRows {
  const start = Date.parse(window.start);
  const end = Date.parse(window.end);
  const n = window.node;
  return {
    node: [
      n.name,
      start,
      end,
      n.cpuUsedCoresAvg ?? null,
      n.cpuUsedCoresMax ?? null,
      n.memoryUsedBytesAvg ?? null,
      n.memoryUsedBytesMax ?? null,
      n.load1 ?? null,
      n.capacity.cpuCores,
      n.capacity.memoryBytes,
    ],
    gpus: window.gpus.map((g) => [
      n.name,
      start,
      end,
      g.id,
      g.uuid,
      g.index ?? null,
      g.model ?? null,
      g.migProfile ?? null,
      g.migInstanceId ?? null,
      g.activityAvg ?? null,
      g.activityMax ?? null,
      g.smActivityAvg ?? null,
      g.tensorActivityAvg ?? null,
      g.memoryUsedBytesMax ?? null,
      g.memoryTotalBytes ?? null,
      g.powerWattsAvg ?? null,
      g.energyJoules ?? null,
      g.temperatureCelsiusMax ?? null,
      g.smClockMhzAvg ?? null,
      g.lastXid ?? null,
      JSON.stringify(g.holders),
    ]),
    containers: window.containers.map((c) => [
      n.name,
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
    ]),
    models: window.models.map((m) => [
      n.name,
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
    ]),
  };
}
