// Roll-ups of allocated windows: by namespace, workload, pod, container, node, node pool, `label:<name>`, training
// job, pipeline run, Knative service or served model, over any range and step, with idle kept apart or shared
// back in proportion to each row's cost of that resource (OpenCost's shareIdle). Pure; SPEC.md §7.
import { IDLE, type WindowAllocation } from './allocate.ts';
import { type Allocation, addInto, cloneAllocation, finalize } from './allocation.ts';

export type AggregateBy =
  | 'cluster'
  | 'node'
  | 'nodePool'
  | 'namespace'
  | 'workload'
  | 'pod'
  | 'container'
  | 'job'
  | 'pipelineRun'
  | 'knativeService'
  | 'model'
  | `label:${string}`;

/** Key of rows that lack the property aggregated by, as OpenCost names it. */
export const UNALLOCATED = '__unallocated__';

const AGGREGATE_NAMES = new Set([
  'cluster',
  'node',
  'nodePool',
  'namespace',
  'workload',
  'pod',
  'container',
  'job',
  'pipelineRun',
  'knativeService',
  'model',
]);

/** True for a valid `aggregate` value: one of the names, or `label:<name>`. */
export function isAggregateBy(text: string): text is AggregateBy {
  return AGGREGATE_NAMES.has(text) || (text.startsWith('label:') && text.length > 6);
}

export interface AggregateOptions {
  /** One property or several (keys joined with `/`). */
  aggregate: AggregateBy | readonly AggregateBy[];
  /** Epoch ms range; windows are placed by their start. Default: the windows' own extent. */
  range?: { start: number; end: number };
  /** Milliseconds per set; default: one set for the whole range. */
  step?: number;
  /** Keep `__idle__` rows (what is left of idle after sharing). Default false, as OpenCost's includeIdle. */
  includeIdle?: boolean;
  /** Spread idle over the rows, per resource, in proportion to their cost of that resource. */
  shareIdle?: boolean;
  /** Share (and report) idle per node rather than across the cluster. */
  idleByNode?: boolean;
}

export interface AllocationSet {
  start: number;
  end: number;
  /** Sorted by totalCost, highest first. */
  allocations: Allocation[];
}

function workloadOf(row: Allocation): string | undefined {
  const p = row.properties;
  return p.workloadKind && p.workloadName ? `${p.namespace}/${p.workloadKind}/${p.workloadName}` : undefined;
}

/** The row's key for one aggregation property; UNALLOCATED when the row lacks it. */
export function aggregateKey(row: Allocation, by: AggregateBy): string {
  const p = row.properties;
  const labels = p.labels ?? {};
  const ns = p.namespace;
  let key: string | undefined;
  switch (by) {
    case 'cluster':
      key = 'cluster';
      break;
    case 'node':
      key = p.node;
      break;
    case 'nodePool':
      key = p.nodePool;
      break;
    case 'namespace':
      key = ns;
      break;
    case 'workload':
      key = workloadOf(row);
      break;
    case 'pod':
      key = p.pod && `${ns}/${p.pod}`;
      break;
    case 'container':
      key = p.container && `${ns}/${p.pod}/${p.container}`;
      break;
    case 'job':
      // Every training kind (PyTorchJob, TFJob, MPIJob, XGBoostJob, JAXJob, PaddleJob, TrainJob, JobSet, RayJob…);
      // pipeline runs have their own roll-up.
      key =
        p.mlJobKind && p.mlJobName && p.mlJobKind !== 'PipelineRun'
          ? `${ns}/${p.mlJobKind}/${p.mlJobName}`
          : undefined;
      break;
    case 'pipelineRun': {
      const run = p.mlJobKind === 'PipelineRun' ? p.mlJobName : labels['pipeline/runid'];
      key = run && `${ns}/${run}`;
      break;
    }
    case 'knativeService': {
      const service =
        p.servedModelKind === 'KnativeService' ? p.servedModel : labels['serving.knative.dev/service'];
      key = service && `${ns}/${service}`;
      break;
    }
    case 'model':
      key = p.servedModel && `${ns}/${p.servedModel}`;
      break;
    default:
      key = labels[by.slice('label:'.length)];
  }
  return key || UNALLOCATED;
}

const RESOURCES = [
  { cost: 'cpuCost', idle: 'cpuIdleCost', hours: 'cpuCoreHours' },
  { cost: 'ramCost', idle: 'ramIdleCost', hours: 'ramByteHours' },
  { cost: 'gpuCost', idle: 'gpuIdleCost', hours: 'gpuHours' },
] as const;

/**
 * Copies of the windows' allocations with idle folded in (when `share`), and what is left of idle: per resource
 * and scope (a node, or all windows given), row cost += idle × row's own cost / Σ own costs. A scope whose rows
 * have no cost of a resource keeps that idle in its `__idle__` row.
 */
export function shareIdle(
  windows: readonly WindowAllocation[],
  options: { share?: boolean; idleByNode?: boolean } = {},
): { allocations: Allocation[]; idle: Allocation[] } {
  const allocations = windows.flatMap((w) => w.allocations.map(cloneAllocation));
  const idle = windows.map((w) => cloneAllocation(w.idle));
  if (options.share) {
    const scopeOf = (row: Allocation) => (options.idleByNode ? (row.properties.node ?? '') : '');
    for (const r of RESOURCES) {
      const weights = new Map<string, number>();
      const pools = new Map<string, number>();
      for (const row of allocations) {
        const scope = scopeOf(row);
        weights.set(scope, (weights.get(scope) ?? 0) + row[r.cost] - row[r.idle]);
      }
      for (const row of idle) pools.set(scopeOf(row), (pools.get(scopeOf(row)) ?? 0) + row[r.cost]);
      for (const row of allocations) {
        const weight = weights.get(scopeOf(row)) ?? 0;
        if (weight <= 0) continue;
        const add = ((pools.get(scopeOf(row)) ?? 0) * (row[r.cost] - row[r.idle])) / weight;
        row[r.cost] += add;
        row[r.idle] += add;
      }
      for (const row of idle) {
        if ((weights.get(scopeOf(row)) ?? 0) > 0) {
          row[r.cost] = 0;
          row[r.hours] = 0;
        }
      }
    }
    for (const row of allocations) finalize(row);
    for (const row of idle) finalize(row);
  }
  return { allocations, idle };
}

/** Sums rows into one row per key (properties kept where all rows agree), finalized and sorted by cost. */
export function groupRows(rows: readonly Allocation[], keyOf: (row: Allocation) => string): Allocation[] {
  const groups = new Map<string, Allocation>();
  for (const row of rows) {
    const key = keyOf(row);
    const group = groups.get(key);
    if (group) addInto(group, row);
    else groups.set(key, { ...cloneAllocation(row), name: key });
  }
  return [...groups.values()].map(finalize).sort((a, b) => b.totalCost - a.totalCost);
}

/** Rolls allocated windows up into one AllocationSet per step. */
export function aggregateAllocations(
  windows: readonly WindowAllocation[],
  options: AggregateOptions,
): AllocationSet[] {
  if (windows.length === 0 && !options.range) return [];
  const by = (Array.isArray(options.aggregate) ? options.aggregate : [options.aggregate]) as AggregateBy[];
  // A loop, not Math.min(...spread): a month of windows overflows the argument stack.
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  for (const w of windows) {
    if (w.start < first) first = w.start;
    if (w.end > last) last = w.end;
  }
  const start = options.range?.start ?? first;
  const end = options.range?.end ?? last;
  const step = options.step && options.step > 0 ? options.step : Math.max(1, end - start);

  const buckets = new Map<number, WindowAllocation[]>();
  for (const w of windows) {
    if (w.start < start || w.start >= end) continue;
    const index = Math.floor((w.start - start) / step);
    const bucket = buckets.get(index) ?? [];
    bucket.push(w);
    buckets.set(index, bucket);
  }

  const sets: AllocationSet[] = [];
  const count = Math.ceil((end - start) / step);
  for (let index = 0; index < count; index++) {
    const bucket = buckets.get(index) ?? [];
    const { allocations, idle } = shareIdle(bucket, {
      share: options.shareIdle ?? false,
      idleByNode: options.idleByNode ?? false,
    });
    const rows = groupRows(allocations, (row) => by.map((b) => aggregateKey(row, b)).join('/'));
    if (options.includeIdle) {
      const idleKey = (row: Allocation) => (options.idleByNode ? `${row.properties.node}/${IDLE}` : IDLE);
      const remaining = groupRows(idle, idleKey).filter((row) => row.totalCost !== 0 || row.gpuHours !== 0);
      rows.push(...remaining);
      rows.sort((a, b) => b.totalCost - a.totalCost);
    }
    sets.push({
      start: start + index * step,
      end: Math.min(end, start + (index + 1) * step),
      allocations: rows,
    });
  }
  return sets;
}
