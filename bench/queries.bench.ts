// Query benchmark (issue 10 "Queries", issue 6 acceptance 3): /api/v1/allocation?aggregate=namespace,
// /api/v1/models and /api/v1/rightsizing over a simulated 1,000-node cluster's history, 1 day and 30 days: median
// and p99 latency over repetitions, CPU per request and peak RSS.
//
// History (bench/history.ts): the last day is simulated for real (backfill through the batch writer, roll-ups by
// the cost service) and copied back in time in SQL to make 30 days of the hourly summaries aggregate=namespace
// reads; the models query and rightsizing read the real day (rightsizing reads every raw window of its history, at
// most 14 days; the 30-day versions of both are measured by bench/queries-scale.ts). Every query goes through the
// collector's real app (createApp → cost or rightsizing service → store) in a fresh process (bench/queries-worker.ts)
// after the roll-ups are complete, so peak RSS is the query's process and nothing else.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildHistory, type HistoryInfo } from './history.ts';
import type { WorkerRequest, WorkerResult } from './queries-worker.ts';
import type { Row } from './table.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const WORKER = new URL('./queries-worker.ts', import.meta.url).pathname;
const TSX_LOADER = import.meta.resolve('tsx');

export interface QuerySpec {
  /** Short name for the table, e.g. `allocation aggregate=namespace, 30 d`. */
  name: string;
  path: string;
  reps: number;
  /** A latency limit to set the median against (ms), when the issue gives one. */
  limitMs?: number;
  limitName?: string;
}

export interface QueryMeasurement extends WorkerResult {
  spec: QuerySpec;
  medianMs: number;
  p99Ms: number;
  medianCpuMs: number;
  load: number;
}

/** The value at quantile q of the sorted values (nearest rank). */
export function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** Runs one query spec in a fresh worker process over the store. */
export function measureQuery(file: string, now: number, spec: QuerySpec): Promise<QueryMeasurement> {
  const request: WorkerRequest = { file, now, path: spec.path, reps: spec.reps };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', TSX_LOADER, WORKER, JSON.stringify(request)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.once('error', reject);
    child.once('close', (code) => {
      const line = stdout.trim().split('\n').at(-1) ?? '';
      if (code !== 0 || !line.startsWith('{')) {
        reject(new Error(`query worker for ${spec.path} exited ${code}: ${stderr.slice(-1500)}`));
        return;
      }
      const result = JSON.parse(line) as WorkerResult;
      if (result.status !== 200) {
        reject(new Error(`${spec.path} answered ${result.status}: ${stderr.slice(-500)}`));
        return;
      }
      resolve({
        ...result,
        spec,
        medianMs: quantile(result.wallMs, 0.5),
        p99Ms: quantile(result.wallMs, 0.99),
        medianCpuMs: quantile(result.cpuMs, 0.5),
        load: loadavg()[0]!,
      });
    });
  });
}

const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

/** The query specs for a history: allocation by namespace and models over [end − days, end), and rightsizing. */
export function querySpecs(
  history: HistoryInfo,
  options: { reps: number; slowReps: number; modelsDays: readonly number[] },
): QuerySpec[] {
  const specs: QuerySpec[] = [];
  const range = (days: number) => `${iso(history.end - days * DAY)},${iso(history.end)}`;
  const allocationDays = history.days > 1 ? [1, history.days] : [1];
  for (const days of allocationDays) {
    specs.push({
      name: `allocation aggregate=namespace, ${days} d`,
      path: `/api/v1/allocation?window=${range(days)}&aggregate=namespace`,
      reps: options.reps,
      ...(days >= 30
        ? history.nodes >= 5000
          ? { limitMs: 2000, limitName: 'issue 10 limit' }
          : { limitMs: 1000, limitName: 'issue 6 AC3 limit' }
        : {}),
    });
  }
  for (const days of options.modelsDays) {
    specs.push({
      name: `models, ${days} d`,
      path: `/api/v1/models?window=${range(days)}`,
      reps: options.slowReps,
    });
  }
  specs.push({
    name: `rightsizing, ${Math.min(history.rawDays, 14)} d of raw windows`,
    path: '/api/v1/rightsizing?refresh=true',
    reps: options.slowReps,
  });
  return specs;
}

/** Table rows for one measured query. */
export function queryRows(history: HistoryInfo, m: QueryMeasurement): Row[] {
  const label = `queries ${history.nodes.toLocaleString('en-US')} nodes × ${history.days} d: ${m.spec.name}`;
  const note = `${m.wallMs.length} requests; CPU median ${m.medianCpuMs.toFixed(0)} ms; ${(m.bytes / 1024).toFixed(0)} KiB answer; RSS before the first request ${m.baseRssMiB.toFixed(0)} MiB; load average ${m.load.toFixed(2)}`;
  const limit =
    m.spec.limitMs !== undefined
      ? { peer: m.spec.limitName ?? 'limit', peerFigure: m.spec.limitMs, better: 'lower' as const }
      : {};
  return [
    { name: `${label} — median latency`, figure: m.medianMs, unit: 'ms', ...limit, note },
    { name: `${label} — p99 latency`, figure: m.p99Ms, unit: 'ms', ...limit },
    { name: `${label} — peak RSS`, figure: m.peakRssMiB, unit: 'MiB' },
  ];
}

export function historyNote(history: HistoryInfo): string {
  const rows = history.rows;
  const m = (n: number | undefined) => `${((n ?? 0) / 1e6).toFixed(2)}M`;
  return `history: ${history.nodes} nodes, ${history.gpus} GPUs; last ${history.realDays} d simulated (${history.windowMs / 60_000} min windows) and rolled up, copied to ${history.days} d (${history.copy}); raw windows ${history.rawDays} d; rows: node windows ${m(rows['node_windows'])}, container windows ${m(rows['container_windows'])}, hourly nodes ${m(rows['cost_hourly_nodes'])}, hourly allocations ${m(rows['cost_hourly_allocations'])}, hourly namespaces ${m(rows['cost_hourly_namespaces'])}, hourly models ${m(rows['cost_hourly_models'])}; store ${history.storeMiB} MiB; built in ${history.seconds.total.toFixed(0)} s (backfill ${history.seconds.backfill.toFixed(0)} s, roll-ups ${history.seconds.rollup.toFixed(0)} s, copies ${history.seconds.copy.toFixed(0)} s; ${history.seconds.cpu.toFixed(0)} CPU-s)`;
}

export async function runQueriesBench(options: {
  quick: boolean;
  log: (line: string) => void;
}): Promise<Row[]> {
  const nodes = options.quick ? 50 : 1000;
  const dir = mkdtempSync(join(tmpdir(), 'mlcost-bench-queries-'));
  try {
    const file = join(dir, 'mlcost.db');
    const history = await buildHistory({ file, nodes, days: 30, copy: 'summaries', log: options.log });
    options.log(`queries: ${historyNote(history)}`);
    const specs = querySpecs(history, {
      reps: options.quick ? 3 : 21,
      slowReps: 2,
      modelsDays: [1],
    });
    const rows: Row[] = [
      {
        name: `queries ${nodes.toLocaleString('en-US')} nodes: history build`,
        figure: history.seconds.total,
        unit: 's',
        note: historyNote(history),
      },
    ];
    for (const spec of specs) {
      const m = await measureQuery(file, history.end, spec);
      options.log(
        `queries: ${spec.name}: median ${m.medianMs.toFixed(1)} ms, p99 ${m.p99Ms.toFixed(1)} ms, CPU ${m.medianCpuMs.toFixed(1)} ms, peak RSS ${m.peakRssMiB.toFixed(0)} MiB`,
      );
      rows.push(...queryRows(history, m));
    }
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
