// Retention: per-window records older than collector.retention are deleted, in one transaction per sweep.
import type { Db } from './database.ts';

export const WINDOW_TABLES = ['node_windows', 'gpu_windows', 'container_windows', 'model_windows'] as const;

/**
 * The sweep's delete for one window table. A window ends after it starts, so `start < cutoff` holds for every row
 * to delete: it lets SQLite walk the start index to the old rows instead of scanning the whole table every sweep.
 */
export const expiredWindowsSql = (table: (typeof WINDOW_TABLES)[number]) =>
  `DELETE FROM ${table} WHERE start < @cutoff AND "end" <= @cutoff`;

export function createRetention(db: Db): (cutoff: number) => number {
  const deletes = WINDOW_TABLES.map((table) => db.prepare(expiredWindowsSql(table)));
  // A batch row older than every window it could hold is no longer needed to recognise a re-sent batch: an agent
  // never re-sends anything older than its spool's age bound, far below the retention.
  const deleteBatches = db.prepare('DELETE FROM batches WHERE received_at <= ?');
  return db.transaction((cutoff: number) => {
    let removed = 0;
    for (const statement of deletes) removed += statement.run({ cutoff }).changes;
    deleteBatches.run(cutoff);
    return removed;
  });
}
