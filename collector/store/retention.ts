// Retention: per-window records older than collector.retention are deleted, in one transaction per sweep.
import type { Db } from './database.ts';

const TABLES = ['node_windows', 'gpu_windows', 'container_windows', 'model_windows'] as const;

export function createRetention(db: Db): (cutoff: number) => number {
  const deletes = TABLES.map((table) => db.prepare(`DELETE FROM ${table} WHERE "end" <= ?`));
  // A batch row older than every window it could hold is no longer needed to recognise a re-sent batch: an agent
  // never re-sends anything older than its spool's age bound, far below the retention.
  const deleteBatches = db.prepare('DELETE FROM batches WHERE received_at <= ?');
  return db.transaction((cutoff: number) => {
    let removed = 0;
    for (const statement of deletes) removed += statement.run(cutoff).changes;
    deleteBatches.run(cutoff);
    return removed;
  });
}
