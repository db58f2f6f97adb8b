// Rightsizing's points: one node's windows, read in start order, merged into one point per pod and container (GPU
// holder, served model) and `pointMs` slot. A point stands for the busiest window in it (see
// rightsizing-queries.ts): maxima of usage, requests and limits, sums of model counters, its first window's start
// and its last window's end. NULLs are skipped as SQL's max() and sum() skip them: a value is NULL only when every
// window's is. The identity columns (owner, labels) are the first window's.
import type { ContainerRow, GpuRow, GpuWindowRow, ModelRow } from './rightsizing-rows.ts';

/**
 * Merges rows that share a key and a `pointMs` slot (`start - start % pointMs`) into one point. `rows` must come in
 * start order (as a node's rows do from its primary key); a slot's points come out, in the order their first row
 * came, once the next slot begins. A row object becomes its point's object and is changed by `merge`.
 */
export function* pointsOf<R extends { start: number }>(
  rows: Iterable<R>,
  pointMs: number,
  keyOf: (row: R) => string,
  merge: (point: R, row: R) => void,
): Generator<R, void, void> {
  let slot = Number.NaN;
  let open = new Map<string, R>();
  for (const row of rows) {
    const rowSlot = row.start - (row.start % pointMs);
    if (rowSlot !== slot) {
      if (rowSlot < slot) throw new Error(`rows out of start order: ${row.start} after the slot at ${slot}`);
      yield* open.values();
      open = new Map();
      slot = rowSlot;
    }
    const key = keyOf(row);
    const point = open.get(key);
    if (point) merge(point, row);
    else open.set(key, row);
  }
  yield* open.values();
}

/** SQL's max() of two nullable values: NULL only when both are. */
export function sqlMax<T extends number | string>(a: T | null, b: T | null): T | null {
  if (a === null) return b;
  if (b === null) return a;
  return b > a ? b : a;
}

/** SQL's sum() of two nullable values: NULL only when both are. */
export const sqlSum = (a: number | null, b: number | null): number | null =>
  a === null ? b : b === null ? a : a + b;

const keyPart = (value: string | null) => (value === null ? '\u0001' : value);

export const containerPointKey = (row: ContainerRow) =>
  `${row.namespace}\u0000${row.pod}\u0000${row.container}`;

export function mergeContainerRow(point: ContainerRow, row: ContainerRow): void {
  point.start = Math.min(point.start, row.start);
  point.end = Math.max(point.end, row.end);
  point.cpu_avg = sqlMax(point.cpu_avg, row.cpu_avg);
  point.cpu_p95 = sqlMax(point.cpu_p95, row.cpu_p95);
  point.cpu_max = sqlMax(point.cpu_max, row.cpu_max);
  point.memory_avg = sqlMax(point.memory_avg, row.memory_avg);
  point.memory_max = sqlMax(point.memory_max, row.memory_max);
  point.request_cpu = sqlMax(point.request_cpu, row.request_cpu);
  point.request_memory = sqlMax(point.request_memory, row.request_memory);
  point.request_gpus = sqlMax(point.request_gpus, row.request_gpus);
  point.gpu_resource = sqlMax(point.gpu_resource, row.gpu_resource);
  point.limit_cpu = sqlMax(point.limit_cpu, row.limit_cpu);
  point.limit_memory = sqlMax(point.limit_memory, row.limit_memory);
  point.restarts = sqlMax(point.restarts, row.restarts);
  point.oom_killed = sqlMax(point.oom_killed, row.oom_killed);
}

export const gpuPointKey = (row: GpuRow) =>
  `${row.gpu_id}\u0000${keyPart(row.namespace)}\u0000${keyPart(row.pod)}\u0000${keyPart(row.container)}`;

export function mergeGpuRow(point: GpuRow, row: GpuRow): void {
  point.start = Math.min(point.start, row.start);
  point.end = Math.max(point.end, row.end);
  point.share = sqlMax(point.share, row.share);
  point.model = sqlMax(point.model, row.model);
  point.mig_profile = sqlMax(point.mig_profile, row.mig_profile);
  point.activity_avg = sqlMax(point.activity_avg, row.activity_avg);
  point.activity_max = sqlMax(point.activity_max, row.activity_max);
  point.memory_used_max = sqlMax(point.memory_used_max, row.memory_used_max);
  point.memory_total = sqlMax(point.memory_total, row.memory_total);
}

export const modelPointKey = (row: ModelRow) => `${row.namespace}\u0000${row.pod}\u0000${row.model}`;

export function mergeModelRow(point: ModelRow, row: ModelRow): void {
  point.start = Math.min(point.start, row.start);
  point.end = Math.max(point.end, row.end);
  point.server = sqlMax(point.server, row.server) ?? point.server;
  point.requests_ok = sqlSum(point.requests_ok, row.requests_ok) ?? 0;
  point.requests_failed = sqlSum(point.requests_failed, row.requests_failed) ?? 0;
  point.prompt_tokens = sqlSum(point.prompt_tokens, row.prompt_tokens) ?? 0;
  point.generated_tokens = sqlSum(point.generated_tokens, row.generated_tokens) ?? 0;
  point.latency_sum = sqlSum(point.latency_sum, row.latency_sum) ?? 0;
  point.latency_count = sqlSum(point.latency_count, row.latency_count) ?? 0;
  point.queue_max = sqlMax(point.queue_max, row.queue_max);
  point.kv_cache_max = sqlMax(point.kv_cache_max, row.kv_cache_max);
}

interface Holder {
  namespace?: unknown;
  pod?: unknown;
  container?: unknown;
  share?: unknown;
}

const textOrNull = (value: unknown) => (typeof value === 'string' ? value : null);
const numberOrNull = (value: unknown) => (typeof value === 'number' ? value : null);

/**
 * One row per GPU window and holder, in the windows' order. A GPU held by the same pods window after window has
 * the same holders text, so each distinct text is parsed once; text that is not a JSON array holds nobody.
 */
export function* holderRows(windows: Iterable<GpuWindowRow>): Generator<GpuRow, void, void> {
  const parsed = new Map<string, Holder[]>();
  for (const window of windows) {
    let holders = parsed.get(window.holders);
    if (!holders) {
      holders = parseHolders(window.holders);
      if (parsed.size >= 10_000) parsed.clear();
      parsed.set(window.holders, holders);
    }
    for (const holder of holders) {
      yield {
        gpu_id: window.gpu_id,
        node: window.node,
        start: window.start,
        end: window.end,
        namespace: textOrNull(holder.namespace),
        pod: textOrNull(holder.pod),
        container: textOrNull(holder.container),
        share: numberOrNull(holder.share),
        model: window.model,
        mig_profile: window.mig_profile,
        activity_avg: window.activity_avg,
        activity_max: window.activity_max,
        memory_used_max: window.memory_used_max,
        memory_total: window.memory_total,
      };
    }
  }
}

function parseHolders(text: string): Holder[] {
  try {
    const value = JSON.parse(text) as unknown;
    return Array.isArray(value)
      ? value.map((holder) => (holder !== null && typeof holder === 'object' ? (holder as Holder) : {}))
      : [];
  } catch {
    return [];
  }
}
