// Backfill: writes a simulated history straight into a collector store, through the store's own batch writer, as if
// every node's agent had sent it: one batch per node per day of windows (agent id = node name, sequence = the
// batch's first minute since the epoch, received at its last window's end), every node record marked simulated.
//
// History uses coarser windows than a live agent (1 minute): `windowMs` must divide an hour (1m, 5m, 10m, 15m,
// 30m, 1h), so every pod starts and stops on a window boundary, and each window's start and end are stored, so
// costs (request × duration) come out the same whatever the window. At 1h, 14 days of 5,000 nodes is 1.68 million
// node-windows instead of 100 million.
//
// Speed: batches are grouped into large transactions (savepoints inside), and the connection runs with
// `synchronous = OFF` while backfilling (restored after): a crash mid-backfill loses the backfill, never the store.
import { createHash } from 'node:crypto';
import type { Store } from '../collector/store/store.ts';
import type { Batch, UsageWindow } from '../core/protocol/batch.ts';
import type { Cluster } from './cluster.ts';
import { DAY, HOUR, MINUTE } from './schedule.ts';
import { nodeWindow } from './usage.ts';

export interface BackfillOptions {
  /** First window's start and the end of the last window (ms since the epoch); both multiples of windowMs. */
  from: number;
  to: number;
  windowMs: number;
  /** Called after each day of history with the node-windows written so far and the total. */
  onProgress?: (done: number, total: number) => void;
}

export interface BackfillResult {
  nodeWindows: number;
  gpuWindows: number;
  containerWindows: number;
  modelWindows: number;
  batches: number;
}

/** Batches per transaction: large enough that commits cost nothing, small enough to keep the WAL modest. */
const BATCHES_PER_TRANSACTION = 200;

export function checkWindow(windowMs: number): void {
  if (!Number.isInteger(windowMs) || windowMs < MINUTE || HOUR % windowMs !== 0 || windowMs % MINUTE !== 0) {
    throw new Error(
      `backfill window ${windowMs / 1000}s must be a whole number of minutes that divides an hour (1m, 5m, 10m, 15m, 30m or 1h)`,
    );
  }
}

/** Aligns a time down to the window grid. */
export function alignDown(t: number, windowMs: number): number {
  return Math.floor(t / windowMs) * windowMs;
}

/** Writes [from, to) of every node's history into the store. */
export function backfill(store: Store, cluster: Cluster, options: BackfillOptions): BackfillResult {
  const { from, to, windowMs } = options;
  checkWindow(windowMs);
  if (from % windowMs !== 0 || to % windowMs !== 0 || to <= from) {
    throw new Error(
      'backfill range must be a non-empty whole number of windows, aligned to the window length',
    );
  }
  const windowsPerBatch = Math.max(1, Math.min(1440, DAY / windowMs));
  const result: BackfillResult = {
    nodeWindows: 0,
    gpuWindows: 0,
    containerWindows: 0,
    modelWindows: 0,
    batches: 0,
  };
  const total = ((to - from) / windowMs) * cluster.nodes.length;
  const db = store.db;
  const synchronous = db.pragma('synchronous', { simple: true }) as number;
  db.pragma('synchronous = OFF');
  let pending: Array<{ batch: Batch; receivedAt: number }> = [];
  const flush = db.transaction(() => {
    for (const { batch, receivedAt } of pending) store.writeBatch(batch, receivedAt);
  });
  const commit = () => {
    flush();
    pending = [];
  };
  try {
    for (let batchStart = from; batchStart < to; batchStart += windowsPerBatch * windowMs) {
      const batchEnd = Math.min(to, batchStart + windowsPerBatch * windowMs);
      for (const node of cluster.nodes) {
        const windows: UsageWindow[] = [];
        for (let start = batchStart; start < batchEnd; start += windowMs) {
          const window = nodeWindow(node, start, start + windowMs);
          windows.push(window);
          result.nodeWindows++;
          result.gpuWindows += window.gpus.length;
          result.containerWindows += window.containers.length;
          result.modelWindows += window.models.length;
        }
        pending.push({
          batch: {
            schemaVersion: 1,
            agentId: node.name,
            sequence: Math.floor(batchStart / MINUTE),
            sentAt: new Date(batchEnd).toISOString(),
            windows,
          },
          receivedAt: batchEnd,
        });
        result.batches++;
        if (pending.length >= BATCHES_PER_TRANSACTION) commit();
      }
      commit();
      options.onProgress?.(result.nodeWindows, total);
    }
  } finally {
    db.pragma(`synchronous = ${synchronous}`);
  }
  return result;
}

const DIGEST_TABLES: Array<[table: string, order: string]> = [
  ['batches', 'agent_id, sequence'],
  ['nodes', 'name'],
  ['node_windows', 'node, start'],
  ['gpu_windows', 'node, start, gpu_id'],
  ['container_windows', 'node, start, namespace, pod, container'],
  ['model_windows', 'node, start, namespace, pod, model'],
];

/** A SHA-256 over every row of the stored records, in key order: equal digests mean identical stores. */
export function storeDigest(store: Store): string {
  const hash = createHash('sha256');
  for (const [table, order] of DIGEST_TABLES) {
    hash.update(`${table}\n`);
    for (const row of store.db.prepare(`SELECT * FROM ${table} ORDER BY ${order}`).iterate()) {
      hash.update(`${JSON.stringify(row)}\n`);
    }
  }
  return hash.digest('hex');
}
