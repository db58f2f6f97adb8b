// A simulated history for the query benchmarks, built fast enough to run in `npm run bench`.
//
// The last `realDays` days are real: the simulator's cluster is backfilled through the store's batch writer
// (simulator/backfill.ts, 1-hour windows unless told otherwise) and the cost service's own roll-up step turns every
// node-hour into its hourly roll-ups (collector/cost-service.ts refreshRollups, as a running collector does). Older days are
// copies of those days, shifted back in time in SQL, so the tables a query reads have the row counts and shapes
// that real history of that length would have. Which tables are copied is chosen by what the measured queries read:
//
//   - 'summaries': cost_hourly_nodes and cost_hourly_namespaces: what `aggregate=namespace` (and `cluster`) reads
//     for whole hours;
//   - 'rollups': every hourly roll-up (also cost_hourly_allocations, cost_hourly_models, cost_hourly_gpu_waste and
//     the served-model roll-up):
//     what /api/v1/models, jobs, budgets and other aggregations read;
//   - raw windows (node, GPU, container and model windows) for the last `rawDays` days: what rightsizing reads
//     (at most its 14 days of history) and what a range's cut hours are allocated from.
//
// The copies are complete roll-ups: no dirty mark is left behind, so a query finds nothing to recompute (as on a
// collector whose roll-up timer has caught up). A copy is the real day's rows with times moved, so prices, pods and
// usage repeat day by day; query cost depends on row counts and shapes, not on the values.
import { existsSync, rmSync } from 'node:fs';
import { createCostService } from '../collector/cost-service.ts';
import type { Db } from '../collector/store/database.ts';
import { openStore, type Store } from '../collector/store/store.ts';
import { backfill } from '../simulator/backfill.ts';
import { generateCluster } from '../simulator/cluster.ts';
import { DAY, HOUR } from '../simulator/schedule.ts';

const cpuSeconds = () => {
  const used = process.cpuUsage();
  return (used.user + used.system) / 1e6;
};

/** The end of every benchmark history (exclusive): an hour boundary, so whole days are whole hours. */
export const HISTORY_END = Date.parse('2025-06-15T00:00:00Z');

export interface HistoryOptions {
  file: string;
  nodes: number;
  /** GPUs in the cluster; default 8 per node (the 5,000-node, 40,000-GPU cluster of bench/backfill-scale.ts). */
  gpus?: number;
  /** Days of history the queries see. */
  days: number;
  /** Days simulated for real (the last ones); default 1. */
  realDays?: number;
  /** Length of a simulated window (ms); default 1 hour (a live agent's is 1 minute). */
  windowMs?: number;
  /** Which roll-ups the older days get: 'summaries' or every roll-up ('rollups'). */
  copy: 'summaries' | 'rollups';
  /** Days of raw windows (from the end); default realDays. */
  rawDays?: number;
  seed?: number;
  log?: (line: string) => void;
}

export interface HistoryInfo {
  nodes: number;
  gpus: number;
  days: number;
  realDays: number;
  rawDays: number;
  /** Length of a simulated window (ms). */
  windowMs: number;
  copy: HistoryOptions['copy'];
  start: number;
  end: number;
  /** Rows per table after the build. */
  rows: Record<string, number>;
  storeMiB: number;
  /** Seconds (wall and CPU of this process) spent backfilling, rolling up and copying. */
  seconds: { backfill: number; rollup: number; copy: number; total: number; cpu: number };
}

const SUMMARY_TABLES = ['cost_hourly_nodes', 'cost_hourly_namespaces'];
const ROLLUP_TABLES = [
  ...SUMMARY_TABLES,
  'cost_hourly_allocations',
  'cost_hourly_models',
  'cost_hourly_gpu_waste',
  // The served-model roll-up (migration 0003) that /api/v1/models reads.
  'cost_hourly_model_costs',
  'cost_hourly_model_unmatched',
  'cost_hourly_model_sums',
  'cost_daily_model_pods',
];
const RAW_TABLES = ['node_windows', 'gpu_windows', 'container_windows', 'model_windows'];
export const COUNTED_TABLES = [...RAW_TABLES, ...ROLLUP_TABLES];
/** Columns that hold a time and move with a copied day. */
const TIME_COLUMNS = new Set(['hour', 'day', 'start', 'end']);
/** The time column a roll-up table is keyed by: the hour, or the day for the per-day tables. */
const keyOf = (table: string) => (table.startsWith('cost_daily_') ? 'day' : 'hour');

/** The cost service's options for both the build and the measured queries (equal pricing: no recomputation). */
export const costOptions = (now: number) => ({ currency: 'USD', refreshInterval: 0, now: () => now });

function columnsOf(db: Db, table: string): string[] {
  return (db.prepare(`PRAGMA table_info(${table})`).all() as Array<{ name: string }>).map((c) => c.name);
}

/** Copies the rows of `table` whose `key` time is in [from, to) to the same times `shift` ms earlier. */
function copyShifted(db: Db, table: string, key: string, from: number, to: number, shift: number): number {
  const columns = columnsOf(db, table);
  const select = columns.map((c) => (TIME_COLUMNS.has(c) ? `"${c}" - ${shift}` : `"${c}"`)).join(', ');
  const list = columns.map((c) => `"${c}"`).join(', ');
  return db
    .prepare(
      `INSERT INTO ${table} (${list}) SELECT ${select} FROM ${table} WHERE "${key}" >= ? AND "${key}" < ?`,
    )
    .run(from, to).changes;
}

export function countRows(db: Db): Record<string, number> {
  const rows: Record<string, number> = {};
  for (const table of COUNTED_TABLES) {
    rows[table] = (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
  }
  return rows;
}

export async function buildHistory(options: HistoryOptions): Promise<HistoryInfo> {
  const realDays = Math.min(options.realDays ?? 1, options.days);
  const rawDays = Math.min(Math.max(options.rawDays ?? realDays, realDays), options.days);
  const gpus = options.gpus ?? options.nodes * 8;
  const log = options.log ?? (() => {});
  const end = HISTORY_END;
  const start = end - options.days * DAY;
  const realStart = end - realDays * DAY;
  for (const suffix of ['', '-wal', '-shm']) {
    if (existsSync(options.file + suffix)) rmSync(options.file + suffix);
  }
  const began = performance.now();
  const cpuBegan = process.cpuUsage();
  const cluster = generateCluster({ seed: options.seed ?? 1, nodes: options.nodes, gpus });
  const store: Store = openStore(options.file);
  let storeClosed = false;
  try {
    backfill(store, cluster, { from: realStart, to: end, windowMs: options.windowMs ?? HOUR });
    const backfilled = performance.now();
    const cpuBackfilled = cpuSeconds();
    log(
      `history: ${options.nodes} nodes × ${realDays} d backfilled in ${((backfilled - began) / 1000).toFixed(1)} s`,
    );
    const db = store.db;
    db.pragma('synchronous = OFF');
    const cost = createCostService(store, costOptions(end + HOUR));
    await cost.refreshRollups({ to: end });
    cost.close();
    const rolled = performance.now();
    const cpuRolled = cpuSeconds();
    log(
      `history: roll-ups of ${options.nodes * realDays * 24} node-hours in ${((rolled - backfilled) / 1000).toFixed(1)} s (${(((cpuRolled - cpuBackfilled) / (options.nodes * realDays * 24)) * 1000).toFixed(1)} ms CPU per node-hour)`,
    );
    const tables = options.copy === 'rollups' ? ROLLUP_TABLES : SUMMARY_TABLES;
    const span = realDays * DAY;
    db.transaction(() => {
      for (let shift = span; shift < options.days * DAY; shift += span) {
        const lowest = Math.max(start, realStart - shift);
        // Copy the real days' rows to [realStart − shift, end − shift), clipped at the history's start.
        for (const table of tables) copyShifted(db, table, keyOf(table), lowest + shift, end, shift);
        if (shift < rawDays * DAY) {
          const rawLowest = Math.max(end - rawDays * DAY, realStart - shift);
          for (const table of RAW_TABLES) copyShifted(db, table, 'start', rawLowest + shift, end, shift);
        }
      }
      // Copied raw windows marked their node-hours dirty (the trigger); their roll-ups are copied too (rollups) or
      // stand for them (summaries): nothing is left to recompute.
      db.prepare('DELETE FROM cost_dirty_hours').run();
      db.prepare('DELETE FROM cost_dirty_summaries').run();
    })();
    const copied = performance.now();
    log(`history: copied to ${options.days} d in ${((copied - rolled) / 1000).toFixed(1)} s`);
    const rows = countRows(db);
    db.pragma('synchronous = FULL');
    store.close();
    storeClosed = true;
    const cpu = process.cpuUsage(cpuBegan);
    const sizeStore = openStore(options.file);
    const storeMiB = Math.round(sizeStore.sizeBytes() / 2 ** 20);
    sizeStore.close();
    return {
      nodes: cluster.nodes.length,
      gpus: cluster.gpuCount,
      days: options.days,
      realDays,
      rawDays,
      windowMs: options.windowMs ?? HOUR,
      copy: options.copy,
      start,
      end,
      rows,
      storeMiB,
      seconds: {
        backfill: (backfilled - began) / 1000,
        rollup: (rolled - backfilled) / 1000,
        copy: (copied - rolled) / 1000,
        total: (copied - began) / 1000,
        cpu: (cpu.user + cpu.system) / 1e6,
      },
    };
  } finally {
    if (!storeClosed) store.close();
  }
}
