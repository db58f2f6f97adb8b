// Writes one agent batch in one transaction: the batch's (agent, sequence) row and every record of its windows,
// or nothing at all. A batch already stored is reported as a duplicate and not written again.
import type { Batch, UsageWindow } from '../../core/protocol/batch.ts';
import type { Db } from './database.ts';
import { WINDOW_INSERT_SQL, windowRows } from './window-rows.ts';

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
  // A row already stored (the same window re-sent in another batch) is kept as it was.
  const insert = (sql: string) => db.prepare(`${sql} ON CONFLICT DO NOTHING`);
  const insertNodeWindow = insert(WINDOW_INSERT_SQL.node);
  const insertGpuWindow = insert(WINDOW_INSERT_SQL.gpu);
  const insertContainerWindow = insert(WINDOW_INSERT_SQL.container);
  const insertModelWindow = insert(WINDOW_INSERT_SQL.model);

  const writeWindow = (agentId: string, window: UsageWindow): void => {
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
    const rows = windowRows(window);
    insertNodeWindow.run(rows.node);
    for (const row of rows.gpus) insertGpuWindow.run(row);
    for (const row of rows.containers) insertContainerWindow.run(row);
    for (const row of rows.models) insertModelWindow.run(row);
  };

  return db.transaction((batch: Batch, receivedAt: number): WriteResult => {
    const inserted = insertBatch.run(batch.agentId, batch.sequence, receivedAt, batch.windows.length);
    if (inserted.changes === 0) return { duplicate: true, windows: 0 };
    for (const window of batch.windows) writeWindow(batch.agentId, window);
    return { duplicate: false, windows: batch.windows.length };
  });
}
