// What the cost model reads from and writes to the store: raw windows for one node and range as
// StoredWindowInput[] (node_windows ⋈ nodes, gpu_windows and container_windows, joined in JS on (node, start)),
// model windows, and the hourly roll-ups of migration 0002 (one node-hour at a time, so memory stays bounded by one
// hour of one node when writing and one hour of the cluster when reading), and of migration 0003 (served-model
// costs per hour, built from an hour's roll-ups with its namespace sums).
import type { CapacityType } from '../../core/node-labels.ts';
import { emptyAllocation, finalize } from '../cost/allocation.ts';
import {
  type Allocation,
  type AllocationProperties,
  IDLE,
  rollupWindows,
  type StoredContainer,
  type StoredGpu,
  type StoredHolder,
  type StoredModelWindow,
  type StoredWindowInput,
  type WindowAllocation,
} from '../cost/index.ts';
import type { Db } from './database.ts';

export const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** A day's 24 hour bits. */
const ALL_HOURS = 0xffffff;

/** Start of the UTC hour holding `time` (epoch ms). */
export function hourOf(time: number): number {
  return Math.floor(time / HOUR_MS) * HOUR_MS;
}

export interface NodeHour {
  node: string;
  /** Start of the hour, epoch ms. */
  hour: number;
}

/** GPU waste of one node-hour: a free unit, or one holder's share of a held-but-idle unit. */
export interface HourlyGpuWaste {
  node: string;
  hour: number;
  kind: 'free' | 'held-idle';
  gpuId: string;
  /** The holder, for held-idle rows; '' for free capacity. */
  namespace: string;
  pod: string;
  unitKind: string;
  uuid: string;
  model: string | null;
  migProfile: string | null;
  gpuHours: number;
  cost: number;
  activity: number | null;
}

/** One node-hour, rolled up: what is stored for it. */
export interface NodeHourRollup {
  window: WindowAllocation;
  waste: HourlyGpuWaste[];
  windows: number;
}

/** Allocates one stored window with the pure model (prices and options are the caller's). */
export type AllocateStored = (window: StoredWindowInput) => WindowAllocation;

/** One allocation row's share of a budget: what the spend queries read. */
export interface SpendRow {
  namespace: string;
  labels: string | null;
  start: number;
  end: number;
  cost: number;
}

interface NodeWindowRow {
  start: number;
  end: number;
  cpu_cores: number;
  memory_bytes: number;
  labels: string | null;
  gpus: number | null;
}

interface GpuRow {
  start: number;
  gpu_id: string;
  uuid: string;
  model: string | null;
  mig_profile: string | null;
  activity_avg: number | null;
  holders: string;
}

interface ContainerRow {
  start: number;
  namespace: string;
  pod: string;
  container: string;
  cpu_avg: number | null;
  memory_avg: number | null;
  request_cpu: number | null;
  request_memory: number | null;
  request_gpus: number | null;
  gpu_resource: string | null;
  workload_kind: string | null;
  workload_name: string | null;
  ml_job_kind: string | null;
  ml_job_name: string | null;
  served_model: string | null;
  labels: string | null;
}

interface HourlyNodeRow {
  hour: number;
  node: string;
  start: number;
  end: number;
  windows: number;
  currency: string;
  discount: number;
  price_source: string;
  cpu_core_hours: number;
  ram_byte_hours: number;
  gpu_hours: number;
  cpu_cost: number;
  ram_cost: number;
  gpu_cost: number;
  total_cost: number;
  storage_cost: number;
  free_gpu_hours: number;
  free_gpu_cost: number;
  held_idle_gpu_hours: number;
  held_idle_gpu_cost: number;
  held_unused_gpu_cost: number;
}

/**
 * The columns an allocation row is read with, in this order (raw arrays: reading objects with this many columns
 * costs twice as much). The namespace summary is read with the same list (pod and container NULL).
 */
const ROW_COLUMNS = [
  'node',
  'namespace',
  'pod',
  'container',
  'idle',
  'start',
  'end',
  'node_pool',
  'instance_type',
  'capacity_type',
  'region',
  'zone',
  'workload_kind',
  'workload_name',
  'ml_job_kind',
  'ml_job_name',
  'served_model',
  'served_model_kind',
  'gpu_model',
  'discount',
  'labels',
  'cpu_core_hours',
  'cpu_core_request_hours',
  'cpu_core_usage_hours',
  'ram_byte_hours',
  'ram_byte_request_hours',
  'ram_byte_usage_hours',
  'gpu_hours',
  'gpu_active_hours',
  'gpu_measured_hours',
  'pv_byte_hours',
  'cpu_cost',
  'ram_cost',
  'gpu_cost',
  'pv_cost',
] as const;
const SELECT_ROW = ROW_COLUMNS.join(', ');
/** Properties the namespace summary keeps where every summed row agrees (labels are intersected in JS). */
const AGREED = [
  'node',
  'node_pool',
  'instance_type',
  'capacity_type',
  'region',
  'zone',
  'workload_kind',
  'workload_name',
  'ml_job_kind',
  'ml_job_name',
  'served_model',
  'served_model_kind',
  'gpu_model',
  'discount',
] as const;
const SUM_COLUMNS = ROW_COLUMNS.slice(ROW_COLUMNS.indexOf('cpu_core_hours'));

type RawRow = unknown[];

type SumColumn = (typeof SUM_COLUMNS)[number];

/** A pod's allocation rows on one node-hour summed (cost_hourly_model_unmatched's rows have this shape). */
export type PodSumRow = {
  hour: number;
  node: string;
  namespace: string;
  pod: string;
  start: number;
  end: number;
  /** The served-model identity all the rows agree on, else null. */
  served_model: string | null;
} & Record<SumColumn, number>;

/** cost_hourly_model_costs summed over a range per namespace and model (and node, when asked). */
export type ModelCostGroupRow = {
  namespace: string;
  model: string;
  node: string;
  first_hour: number;
  /** The first row in (hour, node, pod) order: `hour␟node␟pod␟server`, hour zero-padded. */
  first_key: string;
  start: number | null;
  end: number | null;
  requests_ok: number;
  requests_failed: number;
  prompt_tokens: number;
  generated_tokens: number;
} & Record<SumColumn, number>;

interface ModelRecordRow {
  node: string;
  namespace: string;
  pod: string;
  model: string;
  server: string;
  requests_ok: number;
  requests_failed: number;
  prompt_tokens: number;
  generated_tokens: number;
}

interface WasteRow {
  hour: number;
  node: string;
  kind: 'free' | 'held-idle';
  gpu_id: string;
  namespace: string;
  pod: string;
  unit_kind: string;
  uuid: string;
  model: string | null;
  mig_profile: string | null;
  gpu_hours: number;
  cost: number;
  activity: number | null;
}

/** Parses JSON label maps, sharing one object per distinct text (label maps repeat in every window). */
function labelCache() {
  const cache = new Map<string, Record<string, string>>();
  return (text: string | null): Record<string, string> | undefined => {
    if (text === null) return undefined;
    let parsed = cache.get(text);
    if (!parsed) {
      parsed = JSON.parse(text) as Record<string, string>;
      cache.set(text, parsed);
    }
    return parsed;
  };
}

/**
 * GPU waste of a node-hour from its windows' device detail (which roll-ups do not keep): free capacity per unit,
 * and each holder's share of a held unit whose activity is below `threshold` (SPEC.md §8), summed over the hour.
 */
export function gpuWasteRows(
  node: string,
  hour: number,
  windows: readonly WindowAllocation[],
  threshold: number,
): HourlyGpuWaste[] {
  const rows = new Map<string, HourlyGpuWaste & { activityHours: number }>();
  const add = (
    kind: HourlyGpuWaste['kind'],
    use: WindowAllocation['gpuDevices'][number],
    namespace: string,
    pod: string,
    gpuHours: number,
    cost: number,
  ) => {
    const key = `${kind}|${use.gpuId}|${namespace}|${pod}`;
    let row = rows.get(key);
    if (!row) {
      row = {
        node,
        hour,
        kind,
        gpuId: use.gpuId,
        namespace,
        pod,
        unitKind: use.kind,
        uuid: use.uuid,
        model: use.model,
        migProfile: use.migProfile,
        gpuHours: 0,
        cost: 0,
        activity: null,
        activityHours: 0,
      };
      rows.set(key, row);
    }
    row.gpuHours += gpuHours;
    row.cost += cost;
    if (kind === 'held-idle' && use.activity !== null) row.activityHours += gpuHours * use.activity;
  };
  for (const w of windows) {
    for (const use of w.gpuDevices) {
      if (use.freeShare > 1e-12)
        add('free', use, '', '', use.gpuHours * use.freeShare, use.cost * use.freeShare);
      if (use.heldShare > 0 && use.activity !== null && use.activity < threshold) {
        for (const holder of use.holders) {
          add(
            'held-idle',
            use,
            holder.namespace,
            holder.pod,
            use.gpuHours * holder.share,
            use.cost * holder.share,
          );
        }
      }
    }
  }
  return [...rows.values()].map(({ activityHours, ...row }) => ({
    ...row,
    activity: row.kind === 'held-idle' && row.gpuHours > 0 ? activityHours / row.gpuHours : null,
  }));
}

export function createCostQueries(db: Db) {
  // Dirty set.
  const dirtyIn = db.prepare<[number, number, number], { hour: number; node: string }>(
    'SELECT hour, node FROM cost_dirty_hours WHERE hour >= ? AND hour < ? ORDER BY hour, node LIMIT ?',
  );
  const countDirty = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM cost_dirty_hours');
  const countDirtyIn = db.prepare<[number, number], { n: number }>(
    'SELECT count(*) AS n FROM cost_dirty_hours WHERE hour >= ? AND hour < ?',
  );
  const clearDirty = db.prepare('DELETE FROM cost_dirty_hours WHERE hour = ? AND node = ?');
  const dropDirtyBefore = db.prepare('DELETE FROM cost_dirty_hours WHERE hour < ?');
  const markAll = db.prepare(
    'INSERT OR IGNORE INTO cost_dirty_hours (hour, node) SELECT DISTINCT start - (start % 3600000), node FROM node_windows',
  );

  // Raw windows of one node.
  const nodeWindows = db.prepare<[string, number, number], NodeWindowRow>(`
    SELECT w.start, w.end, w.cpu_cores, w.memory_bytes, n.labels, n.gpus
    FROM node_windows w LEFT JOIN nodes n ON n.name = w.node
    WHERE w.node = ? AND w.start >= ? AND w.start < ? ORDER BY w.start`);
  const gpuWindows = db.prepare<[string, number, number], GpuRow>(`
    SELECT start, gpu_id, uuid, model, mig_profile, activity_avg, holders
    FROM gpu_windows WHERE node = ? AND start >= ? AND start < ?`);
  const containerWindows = db.prepare<[string, number, number], ContainerRow>(`
    SELECT start, namespace, pod, container, cpu_avg, memory_avg, request_cpu, request_memory, request_gpus,
      gpu_resource, workload_kind, workload_name, ml_job_kind, ml_job_name, served_model, labels
    FROM container_windows WHERE node = ? AND start >= ? AND start < ?`);
  const nodesIn = db.prepare<[number, number], { node: string }>(
    'SELECT DISTINCT node FROM node_windows WHERE start >= ? AND start < ? ORDER BY node',
  );
  const modelSums = db.prepare<[number, number], ModelRecordRow>(`
    SELECT node, namespace, pod, model, max(server) AS server, sum(requests_ok) AS requests_ok,
      sum(requests_failed) AS requests_failed, sum(prompt_tokens) AS prompt_tokens,
      sum(generated_tokens) AS generated_tokens
    FROM model_windows WHERE start >= ? AND start < ?
    GROUP BY node, namespace, pod, model ORDER BY node, namespace, pod, model`);
  const servedModels = db.prepare<
    [number, number],
    { namespace: string; pod: string; model: string; server: string }
  >(`
    SELECT namespace, pod, model, max(server) AS server FROM model_windows WHERE start >= ? AND start < ?
    GROUP BY namespace, pod, model`);

  // Roll-ups.
  const deleteNodes = db.prepare('DELETE FROM cost_hourly_nodes WHERE hour = ? AND node = ?');
  const deleteAllocations = db.prepare('DELETE FROM cost_hourly_allocations WHERE hour = ? AND node = ?');
  const deleteWaste = db.prepare('DELETE FROM cost_hourly_gpu_waste WHERE hour = ? AND node = ?');
  const deleteModels = db.prepare('DELETE FROM cost_hourly_models WHERE hour = ? AND node = ?');
  const insertModels = db.prepare(`
    INSERT INTO cost_hourly_models (hour, node, namespace, pod, model, server, requests_ok, requests_failed,
      prompt_tokens, generated_tokens)
    SELECT @hour, node, namespace, pod, model, max(server), sum(requests_ok), sum(requests_failed),
      sum(prompt_tokens), sum(generated_tokens)
    FROM model_windows WHERE node = @node AND start >= @hour AND start < @hour + 3600000
    GROUP BY namespace, pod, model`);
  const hourModels = db.prepare<[number], ModelRecordRow>(`
    SELECT node, namespace, pod, model, server, requests_ok, requests_failed, prompt_tokens, generated_tokens
    FROM cost_hourly_models WHERE hour = ? ORDER BY node, namespace, pod, model`);
  const insertNode = db.prepare(`
    INSERT INTO cost_hourly_nodes (hour, node, start, end, windows, currency, discount, price_source,
      cpu_core_hours, ram_byte_hours, gpu_hours, cpu_cost, ram_cost, gpu_cost, total_cost, storage_cost,
      free_gpu_hours, free_gpu_cost, held_idle_gpu_hours, held_idle_gpu_cost, held_unused_gpu_cost)
    VALUES (@hour, @node, @start, @end, @windows, @currency, @discount, @price_source, @cpu_core_hours,
      @ram_byte_hours, @gpu_hours, @cpu_cost, @ram_cost, @gpu_cost, @total_cost, @storage_cost, @free_gpu_hours,
      @free_gpu_cost, @held_idle_gpu_hours, @held_idle_gpu_cost, @held_unused_gpu_cost)`);
  const insertAllocation = db.prepare(`
    INSERT INTO cost_hourly_allocations (hour, node, namespace, pod, container, idle, start, end, node_pool,
      instance_type, capacity_type, region, zone, workload_kind, workload_name, ml_job_kind, ml_job_name,
      served_model, served_model_kind, gpu_model, discount, labels, cpu_core_hours, cpu_core_request_hours,
      cpu_core_usage_hours, ram_byte_hours, ram_byte_request_hours, ram_byte_usage_hours, gpu_hours,
      gpu_active_hours, gpu_measured_hours, pv_byte_hours, cpu_cost, ram_cost, gpu_cost, pv_cost)
    VALUES (@hour, @node, @namespace, @pod, @container, @idle, @start, @end, @node_pool, @instance_type,
      @capacity_type, @region, @zone, @workload_kind, @workload_name, @ml_job_kind, @ml_job_name, @served_model,
      @served_model_kind, @gpu_model, @discount, @labels, @cpu_core_hours, @cpu_core_request_hours,
      @cpu_core_usage_hours, @ram_byte_hours, @ram_byte_request_hours, @ram_byte_usage_hours, @gpu_hours,
      @gpu_active_hours, @gpu_measured_hours, @pv_byte_hours, @cpu_cost, @ram_cost, @gpu_cost, @pv_cost)`);
  const insertWaste = db.prepare(`
    INSERT INTO cost_hourly_gpu_waste (hour, node, kind, gpu_id, namespace, pod, unit_kind, uuid, model,
      mig_profile, gpu_hours, cost, activity)
    VALUES (@hour, @node, @kind, @gpu_id, @namespace, @pod, @unit_kind, @uuid, @model, @mig_profile,
      @gpu_hours, @cost, @activity)`);
  // The distinct hours, found by skipping from one hour to the next on the primary key (hour, node): a month of a
  // 5,000-node cluster is 720 index seeks instead of a scan of 3.6 million keys.
  const hoursIn = db.prepare<[{ from: number; to: number }], { hour: number }>(`
    WITH RECURSIVE hours (hour) AS (
      SELECT (SELECT min(hour) FROM cost_hourly_nodes WHERE hour >= @from AND hour < @to)
      UNION ALL
      SELECT (SELECT min(hour) FROM cost_hourly_nodes WHERE hour > hours.hour AND hour < @to)
      FROM hours WHERE hours.hour IS NOT NULL
    )
    SELECT hour FROM hours WHERE hour IS NOT NULL`);
  const hourNodes = db.prepare<[number], HourlyNodeRow>(
    'SELECT * FROM cost_hourly_nodes WHERE hour = ? ORDER BY node',
  );
  const hourAllocations = db
    .prepare<[number], RawRow>(
      `SELECT ${SELECT_ROW} FROM cost_hourly_allocations WHERE hour = ? ORDER BY node`,
    )
    .raw();
  const hourJobRows = db
    .prepare<[number], RawRow>(
      `SELECT ${SELECT_ROW} FROM cost_hourly_allocations
       WHERE hour = ? AND idle = 0 AND ml_job_kind IS NOT NULL AND ml_job_name IS NOT NULL`,
    )
    .raw();
  const hourSummary = db
    .prepare<[number], RawRow>(
      `SELECT ${SELECT_ROW.replace('pod, container', 'NULL AS pod, NULL AS container')}
       FROM cost_hourly_namespaces WHERE hour = ? ORDER BY namespace`,
    )
    .raw();
  const clusterTotals = db.prepare<[number], { idle: number; cpu: number; ram: number; gpu: number }>(`
    SELECT idle, sum(cpu_cost) AS cpu, sum(ram_cost) AS ram, sum(gpu_cost) AS gpu
    FROM cost_hourly_namespaces WHERE hour = ? GROUP BY idle`);
  const nodeTotals = db.prepare<
    [number],
    { node: string; idle: number; cpu: number; ram: number; gpu: number }
  >(`
    SELECT node, idle, sum(cpu_cost) AS cpu, sum(ram_cost) AS ram, sum(gpu_cost) AS gpu
    FROM cost_hourly_allocations WHERE hour = ? GROUP BY node, idle`);
  const markSummaryDirty = db.prepare('INSERT OR IGNORE INTO cost_dirty_summaries (hour) VALUES (?)');
  const dirtySummaries = db.prepare<[number], { hour: number }>(
    'SELECT hour FROM cost_dirty_summaries ORDER BY hour LIMIT ?',
  );
  const clearSummaryDirty = db.prepare('DELETE FROM cost_dirty_summaries WHERE hour = ?');
  const deleteSummary = db.prepare('DELETE FROM cost_hourly_namespaces WHERE hour = ?');
  const insertSummary = db.prepare(`
    INSERT INTO cost_hourly_namespaces (hour, namespace, idle, start, end, ${AGREED.join(', ')}, labels,
      ${SUM_COLUMNS.join(', ')})
    SELECT hour, namespace, idle, min(start), max(end),
      ${AGREED.map((c) => `CASE WHEN count(${c}) = count(*) AND min(${c}) = max(${c}) THEN min(${c}) END`).join(',\n      ')},
      NULL, ${SUM_COLUMNS.map((c) => `sum(${c})`).join(', ')}
    FROM cost_hourly_allocations WHERE hour = ? GROUP BY namespace, idle`);
  const summaryLabels = db.prepare<[number], { namespace: string; labels: string | null }>(
    'SELECT DISTINCT namespace, labels FROM cost_hourly_allocations WHERE hour = ? AND idle = 0',
  );
  const setSummaryLabels = db.prepare(
    'UPDATE cost_hourly_namespaces SET labels = ? WHERE hour = ? AND namespace = ? AND idle = 0',
  );
  const hourWaste = db.prepare<[number], WasteRow>(
    'SELECT * FROM cost_hourly_gpu_waste WHERE hour = ? ORDER BY node, kind, gpu_id, namespace, pod',
  );
  const hourSpend = db.prepare<[number], SpendRow>(`
    SELECT namespace, labels, start, end, cpu_cost + ram_cost + gpu_cost + pv_cost AS cost
    FROM cost_hourly_allocations WHERE hour = ? AND idle = 0`);
  const pruneTables = [
    'cost_hourly_nodes',
    'cost_hourly_allocations',
    'cost_hourly_namespaces',
    'cost_hourly_gpu_waste',
    'cost_hourly_models',
    'cost_hourly_model_costs',
    'cost_hourly_model_unmatched',
    'cost_hourly_model_sums',
    'cost_dirty_summaries',
  ].map((table) => db.prepare(`DELETE FROM ${table} WHERE hour < ?`));
  // A day's pods lose the bits of the hours before the cutoff; days left with none go.
  const deletePodDaysBefore = db.prepare(`DELETE FROM cost_daily_model_pods WHERE day + ${DAY_MS} <= ?`);
  const clearPodHoursBefore = db.prepare(`
    UPDATE cost_daily_model_pods SET mask = mask & ~((1 << ((@cutoff - day + ${HOUR_MS - 1}) / ${HOUR_MS})) - 1)
    WHERE day < @cutoff`);
  const deleteEmptyPodDays = db.prepare('DELETE FROM cost_daily_model_pods WHERE mask = 0');
  const getState = db.prepare<[string], { value: string }>(
    'SELECT value FROM cost_rollup_state WHERE key = ?',
  );
  const setState = db.prepare(
    'INSERT INTO cost_rollup_state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
  );

  // Served-model costs per hour (migration 0003), built from the hour's roll-ups with its namespace sums.
  const SUM_LIST = SUM_COLUMNS.join(', ');
  const deleteModelCosts = db.prepare('DELETE FROM cost_hourly_model_costs WHERE hour = ?');
  const deleteUnmatched = db.prepare('DELETE FROM cost_hourly_model_unmatched WHERE hour = ?');
  const insertModelCost = db.prepare(`
    INSERT INTO cost_hourly_model_costs (hour, node, namespace, pod, model, server, start, end, requests_ok,
      requests_failed, prompt_tokens, generated_tokens, ${SUM_LIST})
    VALUES (@hour, @node, @namespace, @pod, @model, @server, @start, @end, @requests_ok, @requests_failed,
      @prompt_tokens, @generated_tokens, ${SUM_COLUMNS.map((c) => `@${c}`).join(', ')})`);
  const insertUnmatched = db.prepare(`
    INSERT INTO cost_hourly_model_unmatched (hour, node, namespace, pod, served_model, start, end, ${SUM_LIST})
    VALUES (@hour, @node, @namespace, @pod, @served_model, @start, @end, ${SUM_COLUMNS.map((c) => `@${c}`).join(', ')})`);
  // Each pod's rows on each node summed, for the pods that may be serving: a served-model identity on some row of
  // the pod this hour, or model records in some hour (the models query's servingPods are a subset of these).
  const podSums = (where: string, group: string) => `
    SELECT hour, node, namespace, pod, min(start) AS start, max(end) AS end,
      CASE WHEN count(served_model) = count(*) AND min(served_model) = max(served_model) THEN min(served_model) END
        AS served_model,
      ${SUM_COLUMNS.map((c) => `sum(${c}) AS ${c}`).join(', ')}
    FROM cost_hourly_allocations WHERE ${where} AND idle = 0 GROUP BY ${group}`;
  const hourPods = db.prepare<[{ hour: number }], PodSumRow & { identity: number }>(`
    WITH pods AS (
      SELECT hour, node, namespace, pod, min(start) AS start, max(end) AS end,
        CASE WHEN count(served_model) = count(*) AND min(served_model) = max(served_model)
          THEN min(served_model) END AS served_model,
        max(max(served_model IS NOT NULL)) OVER (PARTITION BY namespace, pod) AS identity,
        ${SUM_COLUMNS.map((c) => `sum(${c}) AS ${c}`).join(', ')}
      FROM cost_hourly_allocations WHERE hour = @hour AND idle = 0 GROUP BY node, namespace, pod
    )
    SELECT * FROM pods p WHERE identity = 1
      OR EXISTS (SELECT 1 FROM cost_hourly_models m WHERE m.namespace = p.namespace AND m.pod = p.pod)`);
  const podInHour = db.prepare<[number, string, string, string], { one: number }>(
    'SELECT 1 AS one FROM cost_hourly_allocations WHERE hour = ? AND node = ? AND namespace = ? AND pod = ? LIMIT 1',
  );
  const nodeInHour = db.prepare<[number, string], { one: number }>(
    'SELECT 1 AS one FROM cost_hourly_nodes WHERE hour = ? AND node = ?',
  );
  const unmatchedInHour = db.prepare<[number, string, string, string], { one: number }>(
    'SELECT 1 AS one FROM cost_hourly_model_unmatched WHERE hour = ? AND node = ? AND namespace = ? AND pod = ?',
  );
  const rollupBounds = db.prepare<[], { first: number | null; last: number | null }>(
    'SELECT min(hour) AS first, max(hour) AS last FROM cost_hourly_nodes',
  );
  const nodeHourModelPods = db.prepare<[string, number, number], { namespace: string; pod: string }>(
    'SELECT DISTINCT namespace, pod FROM model_windows WHERE node = ? AND start >= ? AND start < ?',
  );
  const podServedElsewhere = db.prepare<[string, string, number, number], { one: number }>(
    'SELECT 1 AS one FROM cost_hourly_models WHERE namespace = ? AND pod = ? AND (hour < ? OR hour > ?) LIMIT 1',
  );
  const podKnown = db.prepare<[string, string], { one: number }>(
    'SELECT 1 AS one FROM cost_hourly_models WHERE namespace = ? AND pod = ? LIMIT 1',
  );
  const podServedIn = db.prepare<[string, string, number, number], { model: string; server: string }>(`
    SELECT model, max(server) AS server FROM cost_hourly_models
    WHERE namespace = ? AND pod = ? AND hour >= ? AND hour < ? GROUP BY model ORDER BY model`);
  const SUMMED = `sum(requests_ok) AS requests_ok, sum(requests_failed) AS requests_failed,
      sum(prompt_tokens) AS prompt_tokens, sum(generated_tokens) AS generated_tokens,
      ${SUM_COLUMNS.map((c) => `sum(${c}) AS ${c}`).join(', ')}`;
  const modelCostGroupsCluster = db.prepare<[number, number], ModelCostGroupRow>(`
    SELECT namespace, model, '' AS node, min(hour) AS first_hour,
      min(printf('%015d', hour) || char(31) || first_node || char(31) || first_pod || char(31) || server)
        AS first_key,
      min(start) AS start, max(end) AS end, ${SUMMED}
    FROM cost_hourly_model_sums WHERE hour >= ? AND hour < ? GROUP BY namespace, model`);
  const modelCostGroupsByNode = db.prepare<[number, number], ModelCostGroupRow>(`
    SELECT namespace, model, node, min(hour) AS first_hour,
      min(printf('%015d', hour) || char(31) || node || char(31) || pod || char(31) || server) AS first_key,
      min(start) AS start, max(end) AS end, ${SUMMED}
    FROM cost_hourly_model_costs WHERE hour >= ? AND hour < ? GROUP BY namespace, model, node`);
  const modelPodsIn = db.prepare<
    [{ firstDay: number; lastDay: number; firstMask: number; lastMask: number }],
    { namespace: string; model: string; pods: string }
  >(`
    SELECT namespace, model, group_concat(DISTINCT pod) AS pods FROM cost_daily_model_pods
    WHERE day >= @firstDay AND day <= @lastDay
      AND (mask & CASE WHEN day = @firstDay THEN @firstMask ELSE ${ALL_HOURS} END
        & CASE WHEN day = @lastDay THEN @lastMask ELSE ${ALL_HOURS} END) != 0
    GROUP BY namespace, model`);
  const deleteModelSums = db.prepare('DELETE FROM cost_hourly_model_sums WHERE hour = ?');
  const insertModelSums = db.prepare(`
    INSERT INTO cost_hourly_model_sums (hour, namespace, model, first_node, first_pod, server, start, end,
      requests_ok, requests_failed, prompt_tokens, generated_tokens, ${SUM_LIST})
    VALUES (@hour, @namespace, @model, @first_node, @first_pod, @server, @start, @end, @requests_ok,
      @requests_failed, @prompt_tokens, @generated_tokens, ${SUM_COLUMNS.map((c) => `@${c}`).join(', ')})`);
  const clearPodHour = db.prepare(
    'UPDATE cost_daily_model_pods SET mask = mask & ~@bit WHERE day = @day AND (mask & @bit) != 0',
  );
  const setPodHour = db.prepare(`
    INSERT INTO cost_daily_model_pods (day, namespace, model, pod, mask)
    SELECT DISTINCT @day, namespace, model, pod, @bit FROM cost_hourly_model_costs WHERE hour = @hour
    ON CONFLICT (day, namespace, model, pod) DO UPDATE SET mask = mask | excluded.mask`);
  const dropEmptyPodDays = db.prepare('DELETE FROM cost_daily_model_pods WHERE day = ? AND mask = 0');
  const unmatchedIn = db.prepare<[number, number], PodSumRow>(
    'SELECT * FROM cost_hourly_model_unmatched WHERE hour >= ? AND hour < ? ORDER BY hour, node, namespace, pod',
  );
  const podRowsIn = db.prepare<[{ namespace: string; pod: string; from: number; to: number }], PodSumRow>(
    `${podSums('namespace = @namespace AND pod = @pod AND hour >= @from AND hour < @to', 'hour, node')}
     ORDER BY hour, node`,
  );

  /** A node's raw windows with start in [start, end), oldest first. */
  function readWindows(node: string, start: number, end: number): StoredWindowInput[] {
    const rows = nodeWindows.all(node, start, end);
    if (rows.length === 0) return [];
    const labelsOf = labelCache();
    const byStart = new Map<number, StoredWindowInput>();
    const out: StoredWindowInput[] = [];
    for (const row of rows) {
      const window: StoredWindowInput = {
        start: row.start,
        end: row.end,
        node: {
          name: node,
          labels: labelsOf(row.labels ?? '{}') ?? {},
          cpuCores: row.cpu_cores,
          memoryBytes: row.memory_bytes,
          gpus: row.gpus,
        },
        gpus: [],
        containers: [],
      };
      byStart.set(row.start, window);
      out.push(window);
    }
    for (const row of gpuWindows.all(node, start, end)) {
      const window = byStart.get(row.start);
      if (!window) continue; // a GPU row without its node window: nothing to price it against
      const gpu: StoredGpu = {
        gpuId: row.gpu_id,
        uuid: row.uuid,
        model: row.model,
        migProfile: row.mig_profile,
        activityAvg: row.activity_avg,
        holders: JSON.parse(row.holders) as StoredHolder[],
      };
      window.gpus.push(gpu);
    }
    for (const row of containerWindows.all(node, start, end)) {
      const window = byStart.get(row.start);
      if (!window) continue;
      const container: StoredContainer = {
        namespace: row.namespace,
        pod: row.pod,
        container: row.container,
        cpuAvg: row.cpu_avg,
        memoryAvg: row.memory_avg,
        requestCpu: row.request_cpu,
        requestMemory: row.request_memory,
        requestGpus: row.request_gpus,
        gpuResource: row.gpu_resource,
        workloadKind: row.workload_kind,
        workloadName: row.workload_name,
        mlJobKind: row.ml_job_kind,
        mlJobName: row.ml_job_name,
        servedModel: row.served_model,
        servedModelKind: null,
        labels: labelsOf(row.labels) ?? null,
      };
      window.containers.push(container);
    }
    return out;
  }

  function writeRollup(node: string, hour: number, rollup: NodeHourRollup): void {
    const w = rollup.window;
    insertNode.run({
      hour,
      node,
      start: w.start,
      end: w.end,
      windows: rollup.windows,
      currency: w.currency,
      discount: w.discount,
      price_source: w.priceSource,
      cpu_core_hours: w.nodeCost.cpuCoreHours,
      ram_byte_hours: w.nodeCost.ramByteHours,
      gpu_hours: w.nodeCost.gpuHours,
      cpu_cost: w.nodeCost.cpuCost,
      ram_cost: w.nodeCost.ramCost,
      gpu_cost: w.nodeCost.gpuCost,
      total_cost: w.nodeCost.totalCost,
      storage_cost: w.storageCost,
      free_gpu_hours: w.gpuWaste.free.gpuHours,
      free_gpu_cost: w.gpuWaste.free.cost,
      held_idle_gpu_hours: w.gpuWaste.heldIdle.gpuHours,
      held_idle_gpu_cost: w.gpuWaste.heldIdle.cost,
      held_unused_gpu_cost: w.gpuWaste.heldUnusedCost,
    });
    for (const row of [...w.allocations, w.idle]) insertAllocation.run(allocationParams(hour, node, row));
    for (const waste of rollup.waste) {
      insertWaste.run({
        hour,
        node,
        kind: waste.kind,
        gpu_id: waste.gpuId,
        namespace: waste.namespace,
        pod: waste.pod,
        unit_kind: waste.unitKind,
        uuid: waste.uuid,
        model: waste.model,
        mig_profile: waste.migProfile,
        gpu_hours: waste.gpuHours,
        cost: waste.cost,
        activity: waste.activity,
      });
    }
  }

  /**
   * Recomputes the given node-hours from their raw windows and writes them, with their dirty marks cleared, in one
   * transaction: readers see each node-hour either wholly old or wholly new. A node-hour without windows left
   * loses its roll-up. Stops early (after at least one) once `deadline` (performance.now() ms) has passed, so a
   * caller can yield to the event loop. Returns the node-hours written: the first that many of `pairs`.
   */
  const refreshNodeHours = db.transaction(
    (
      pairs: readonly NodeHour[],
      allocate: AllocateStored,
      gpuIdleThreshold: number,
      deadline = Number.POSITIVE_INFINITY,
    ): number => {
      let done = 0;
      for (const { node, hour } of pairs) {
        if (done > 0 && performance.now() > deadline) break;
        done++;
        deleteNodes.run(hour, node);
        deleteAllocations.run(hour, node);
        deleteWaste.run(hour, node);
        deleteModels.run(hour, node);
        insertModels.run({ hour, node });
        for (const { namespace, pod } of nodeHourModelPods.all(node, hour, hour + HOUR_MS)) {
          if (!podServedElsewhere.get(namespace, pod, hour, hour)) markPodHours(node, namespace, pod, hour);
        }
        const windows = readWindows(node, hour, hour + HOUR_MS);
        if (windows.length > 0) {
          const allocated = windows.map(allocate);
          const [rolled] = rollupWindows(allocated, HOUR_MS);
          writeRollup(node, hour, {
            window: rolled!,
            waste: gpuWasteRows(node, hour, allocated, gpuIdleThreshold),
            windows: windows.length,
          });
        }
        clearDirty.run(hour, node);
        markSummaryDirty.run(hour);
      }
      return done;
    },
  );

  /**
   * A pod's first model records: the hours already built without it (its node-hours with rows and no record, and no
   * served-model identity) would now have it as a serving pod, so they are rebuilt. Walks from `hour` both ways
   * while the pod has rows on the node (hours the node has no roll-up for are stepped over).
   */
  function markPodHours(node: string, namespace: string, pod: string, hour: number): void {
    const { first, last } = rollupBounds.get()!;
    if (first === null || last === null) return;
    for (const step of [-HOUR_MS, HOUR_MS]) {
      for (let h = hour + step; h >= first && h <= last; h += step) {
        if (podInHour.get(h, node, namespace, pod)) {
          if (!unmatchedInHour.get(h, node, namespace, pod)) markSummaryDirty.run(h);
        } else if (nodeInHour.get(h, node)) break;
      }
    }
  }

  /**
   * The served-model rows of one hour (SPEC.md §10): a pod's rows on a node-hour go to the models it has records
   * for there, by tokens (else requests, else evenly); a serving pod without records there is kept whole.
   */
  function rebuildModelCosts(hour: number): void {
    deleteModelCosts.run(hour);
    deleteUnmatched.run(hour);
    deleteModelSums.run(hour);
    const records = new Map<string, ModelRecordRow[]>();
    // Per namespace and model, in the order of the hour's first record (node, namespace, pod, model).
    const sums = new Map<string, Record<string, unknown> & Record<SumColumn, number>>();
    for (const r of hourModels.all(hour)) {
      const key = `${r.node}|${r.namespace}|${r.pod}`;
      const list = records.get(key);
      if (list) list.push(r);
      else records.set(key, [r]);
      const sumKey = `${r.namespace}|${r.model}`;
      if (!sums.has(sumKey)) {
        const row: Record<string, unknown> = {
          hour,
          namespace: r.namespace,
          model: r.model,
          first_node: r.node,
          first_pod: r.pod,
          server: r.server,
          start: null,
          end: null,
          requests_ok: 0,
          requests_failed: 0,
          prompt_tokens: 0,
          generated_tokens: 0,
        };
        for (const c of SUM_COLUMNS) row[c] = 0;
        sums.set(sumKey, row as Record<string, unknown> & Record<SumColumn, number>);
      }
    }
    const write = (list: readonly ModelRecordRow[], pod: PodSumRow | null) => {
      let tokens = 0;
      let requests = 0;
      for (const r of list) {
        tokens += r.prompt_tokens + r.generated_tokens;
        requests += r.requests_ok + r.requests_failed;
      }
      for (const r of list) {
        const share =
          tokens > 0
            ? (r.prompt_tokens + r.generated_tokens) / tokens
            : requests > 0
              ? (r.requests_ok + r.requests_failed) / requests
              : 1 / list.length;
        const params: Record<string, unknown> = {
          hour,
          node: r.node,
          namespace: r.namespace,
          pod: r.pod,
          model: r.model,
          server: r.server,
          start: pod?.start ?? null,
          end: pod?.end ?? null,
          requests_ok: r.requests_ok,
          requests_failed: r.requests_failed,
          prompt_tokens: r.prompt_tokens,
          generated_tokens: r.generated_tokens,
        };
        for (const c of SUM_COLUMNS) params[c] = pod ? pod[c] * share : 0;
        insertModelCost.run(params);
        const sum = sums.get(`${r.namespace}|${r.model}`)!;
        for (const c of SUM_COLUMNS) sum[c] += params[c] as number;
        for (const c of ['requests_ok', 'requests_failed', 'prompt_tokens', 'generated_tokens'] as const) {
          sum[c] = (sum[c] as number) + r[c];
        }
        if (pod) {
          sum.start = sum.start === null ? pod.start : Math.min(sum.start as number, pod.start);
          sum.end = sum.end === null ? pod.end : Math.max(sum.end as number, pod.end);
        }
      }
    };
    for (const pod of hourPods.all({ hour })) {
      const key = `${pod.node}|${pod.namespace}|${pod.pod}`;
      const list = records.get(key);
      if (list) {
        records.delete(key);
        write(list, pod);
      } else {
        const params: Record<string, unknown> = {
          hour,
          node: pod.node,
          namespace: pod.namespace,
          pod: pod.pod,
          served_model: pod.served_model,
          start: pod.start,
          end: pod.end,
        };
        for (const c of SUM_COLUMNS) params[c] = pod[c];
        insertUnmatched.run(params);
      }
    }
    // Records of pods without allocation rows that hour: tokens and requests, no cost.
    for (const list of records.values()) write(list, null);
    for (const row of sums.values()) insertModelSums.run(row);
    const day = Math.floor(hour / DAY_MS) * DAY_MS;
    const bit = 1 << ((hour - day) / HOUR_MS);
    clearPodHour.run({ day, bit });
    setPodHour.run({ day, bit, hour });
    dropEmptyPodDays.run(day);
  }

  /** Every node's roll-up of one hour, as WindowAllocations (per-window device detail is not kept). */
  function readHour(hour: number): WindowAllocation[] {
    const nodes = hourNodes.all(hour);
    if (nodes.length === 0) return [];
    const labelsOf = labelCache();
    const rowsByNode = new Map<string, Allocation[]>();
    const idleByNode = new Map<string, Allocation>();
    for (const row of hourAllocations.all(hour)) {
      const allocation = toAllocation(row, labelsOf);
      const node = row[0] as string;
      if (row[4] === 1) idleByNode.set(node, allocation);
      else {
        const list = rowsByNode.get(node);
        if (list) list.push(allocation);
        else rowsByNode.set(node, [allocation]);
      }
    }
    return nodes.map((n) => ({
      node: n.node,
      start: n.start,
      end: n.end,
      currency: n.currency,
      discount: n.discount,
      priceSource: n.price_source as WindowAllocation['priceSource'],
      nodeCost: {
        node: n.node,
        start: n.start,
        end: n.end,
        cpuCoreHours: n.cpu_core_hours,
        ramByteHours: n.ram_byte_hours,
        gpuHours: n.gpu_hours,
        cpuCost: n.cpu_cost,
        ramCost: n.ram_cost,
        gpuCost: n.gpu_cost,
        totalCost: n.total_cost,
      },
      allocations: rowsByNode.get(n.node) ?? [],
      idle:
        idleByNode.get(n.node) ??
        finalize(emptyAllocation(IDLE, { node: n.node, idle: true }, n.start, n.end)),
      gpuWaste: {
        free: { gpuHours: n.free_gpu_hours, cost: n.free_gpu_cost, devices: [] },
        heldIdle: { gpuHours: n.held_idle_gpu_hours, cost: n.held_idle_gpu_cost, devices: [] },
        heldUnusedCost: n.held_unused_gpu_cost,
      },
      gpuDevices: [],
      storageCost: n.storage_cost,
    }));
  }

  /** Rebuilds the namespace summary of one hour from its allocation rows. */
  const rebuildSummary = db.transaction((hour: number) => {
    deleteSummary.run(hour);
    insertSummary.run(hour);
    const maps = new Map<string, Array<Record<string, string> | undefined>>();
    const labelsOf = labelCache();
    for (const { namespace, labels } of summaryLabels.all(hour)) {
      const list = maps.get(namespace) ?? [];
      list.push(labelsOf(labels));
      maps.set(namespace, list);
    }
    for (const [namespace, list] of maps) {
      const labels = intersectLabels(list);
      if (labels) setSummaryLabels.run(JSON.stringify(labels), hour, namespace);
    }
    rebuildModelCosts(hour);
    clearSummaryDirty.run(hour);
  });

  return {
    /**
     * Rebuilds the namespace summaries of hours whose roll-ups changed (at most `limit`); returns how many.
     * Run after refreshNodeHours: until then a summary may lag its hour's rows.
     */
    rebuildSummaries(limit: number): number {
      const hours = dirtySummaries.all(limit);
      for (const { hour } of hours) rebuildSummary(hour);
      return hours.length;
    },
    /** Per-namespace sums of one hour (and the idle row, namespace ''), with the properties all rows share. */
    readSummary(hour: number): { allocations: Allocation[]; idle: Allocation | null } {
      const labelsOf = labelCache();
      let idle: Allocation | null = null;
      const allocations: Allocation[] = [];
      for (const row of hourSummary.all(hour)) {
        const allocation = toAllocation(row, labelsOf, true);
        if (row[4] === 1) idle = allocation;
        else allocations.push(allocation);
      }
      return { allocations, idle };
    },
    /** Non-idle rows of one hour's ML jobs. */
    readJobRows(hour: number): Allocation[] {
      const labelsOf = labelCache();
      return hourJobRows.all(hour).map((row) => toAllocation(row, labelsOf));
    },
    /**
     * Own cost and idle per resource [cpu, ram, gpu] of one hour, for the whole cluster (scope '') or per node:
     * what sharing idle needs without reading every row.
     */
    scopeTotals(hour: number, byNode: boolean): Array<{ scope: string; own: number[]; idle: number[] }> {
      const scopes = new Map<string, { scope: string; own: number[]; idle: number[] }>();
      const rows = byNode
        ? nodeTotals.all(hour)
        : clusterTotals.all(hour).map((row) => ({ ...row, node: '' }));
      for (const row of rows) {
        let scope = scopes.get(row.node);
        if (!scope) {
          scope = { scope: row.node, own: [0, 0, 0], idle: [0, 0, 0] };
          scopes.set(row.node, scope);
        }
        const target = row.idle === 1 ? scope.idle : scope.own;
        target[0]! += row.cpu;
        target[1]! += row.ram;
        target[2]! += row.gpu;
      }
      return [...scopes.values()];
    },
    /** Dirty node-hours with hour in [from, to), oldest first. */
    dirtyNodeHours(from: number, to: number, limit: number): NodeHour[] {
      return dirtyIn.all(from, to, limit);
    },
    /** How many node-hours wait for a roll-up (in [from, to) when given). */
    pendingNodeHours(from?: number, to?: number): number {
      return from === undefined || to === undefined ? countDirty.get()!.n : countDirtyIn.get(from, to)!.n;
    },
    /** Forgets dirty marks of hours starting before `cutoff` (their raw windows are past retention). */
    dropDirtyBefore(cutoff: number): number {
      return dropDirtyBefore.run(cutoff).changes;
    },
    /** Marks every node-hour that still has raw windows dirty (after a pricing change). */
    markAllDirty(): number {
      return markAll.run().changes;
    },
    /** Nodes with a window starting in [start, end). */
    nodesWithWindows(start: number, end: number): string[] {
      return nodesIn.all(start, end).map((row) => row.node);
    },
    readWindows,
    refreshNodeHours,
    /** Hours in [start, end) that have a roll-up. */
    hoursWithRollups(start: number, end: number): number[] {
      return hoursIn.all({ from: start, to: end }).map((row) => row.hour);
    },
    readHour,
    /** GPU waste rows of one hour, every node. */
    readWaste(hour: number): HourlyGpuWaste[] {
      return hourWaste.all(hour).map((row) => ({
        node: row.node,
        hour: row.hour,
        kind: row.kind,
        gpuId: row.gpu_id,
        namespace: row.namespace,
        pod: row.pod,
        unitKind: row.unit_kind,
        uuid: row.uuid,
        model: row.model,
        migProfile: row.mig_profile,
        gpuHours: row.gpu_hours,
        cost: row.cost,
        activity: row.activity,
      }));
    },
    /** Non-idle allocation rows of one hour with their total cost: what budget spend sums. */
    spendRows(hour: number): SpendRow[] {
      return hourSpend.all(hour);
    },
    /**
     * Model windows with start in [start, end), summed per node, namespace, pod and model; each carries the
     * range as its start and end (the segment they are matched against).
     */
    modelWindowsSummed(start: number, end: number): StoredModelWindow[] {
      return modelSums.all(start, end).map((row) => ({
        node: row.node,
        start,
        end,
        namespace: row.namespace,
        pod: row.pod,
        model: row.model,
        server: row.server,
        requestsOk: row.requests_ok,
        requestsFailed: row.requests_failed,
        promptTokens: row.prompt_tokens,
        generatedTokens: row.generated_tokens,
      }));
    },
    /** The models each pod served in raw model windows starting in [start, end). */
    servedModels(
      start: number,
      end: number,
    ): Array<{ namespace: string; pod: string; model: string; server: string }> {
      return servedModels.all(start, end);
    },

    /**
     * The served-model rows of the whole hours in [start, end) summed per namespace and model (from
     * cost_hourly_model_sums), or per namespace, model and node when `byNode` (for sharing idle per node).
     */
    modelCostGroups(start: number, end: number, byNode: boolean): ModelCostGroupRow[] {
      return (byNode ? modelCostGroupsByNode : modelCostGroupsCluster).all(start, end);
    },
    /** The distinct pods with model records per namespace and model in the whole hours in [start, end). */
    modelPods(start: number, end: number): Array<{ namespace: string; model: string; pods: string[] }> {
      if (end <= start) return [];
      const firstDay = Math.floor(start / DAY_MS) * DAY_MS;
      const lastDay = Math.floor((end - 1) / DAY_MS) * DAY_MS;
      const firstMask = ALL_HOURS & ~((1 << ((start - firstDay) / HOUR_MS)) - 1);
      const lastMask = (1 << Math.ceil((end - lastDay) / HOUR_MS)) - 1;
      return modelPodsIn
        .all({ firstDay, lastDay, firstMask, lastMask })
        .map((row) => ({ namespace: row.namespace, model: row.model, pods: row.pods.split(',') }));
    },
    /** Serving pods' node-hours without model records of their own, in [start, end), in (hour, node, pod) order. */
    unmatchedPodHours(start: number, end: number): PodSumRow[] {
      return unmatchedIn.all(start, end);
    },
    /** A pod's rows summed per node-hour over the hours in [start, end) (for a pod not yet known as serving). */
    podHours(namespace: string, pod: string, start: number, end: number): PodSumRow[] {
      return podRowsIn.all({ namespace, pod, from: start, to: end });
    },
    /** The models a pod served in the rolled-up hours in [start, end), by model. */
    podServedModels(
      namespace: string,
      pod: string,
      start: number,
      end: number,
    ): Array<{ model: string; server: string }> {
      return podServedIn.all(namespace, pod, start, end);
    },
    /** True when the pod has a model record in some rolled-up hour. */
    podServedAnyHour(namespace: string, pod: string): boolean {
      return podKnown.get(namespace, pod) !== undefined;
    },
    /** Deletes roll-ups of hours starting before `cutoff`; returns the rows removed. */
    pruneRollupsBefore: db.transaction((cutoff: number): number => {
      let removed = 0;
      for (const statement of pruneTables) removed += statement.run(cutoff).changes;
      removed += deletePodDaysBefore.run(cutoff).changes;
      clearPodHoursBefore.run({ cutoff });
      removed += deleteEmptyPodDays.run().changes;
      return removed;
    }),
    getState(key: string): string | undefined {
      return getState.get(key)?.value;
    },
    setState(key: string, value: string): void {
      setState.run(key, value);
    },
  };
}

export type CostQueries = ReturnType<typeof createCostQueries>;

function allocationParams(hour: number, node: string, row: Allocation) {
  const p = row.properties;
  const idle = p.idle === true;
  return {
    hour,
    node,
    namespace: idle ? '' : (p.namespace ?? ''),
    pod: idle ? '' : (p.pod ?? ''),
    container: idle ? IDLE : (p.container ?? ''),
    idle: idle ? 1 : 0,
    start: row.start,
    end: row.end,
    node_pool: p.nodePool ?? null,
    instance_type: p.instanceType ?? null,
    capacity_type: p.capacityType ?? null,
    region: p.region ?? null,
    zone: p.zone ?? null,
    workload_kind: p.workloadKind ?? null,
    workload_name: p.workloadName ?? null,
    ml_job_kind: p.mlJobKind ?? null,
    ml_job_name: p.mlJobName ?? null,
    served_model: p.servedModel ?? null,
    served_model_kind: p.servedModelKind ?? null,
    gpu_model: p.gpuModel ?? null,
    discount: p.discount ?? null,
    labels: p.labels ? JSON.stringify(p.labels) : null,
    cpu_core_hours: row.cpuCoreHours,
    cpu_core_request_hours: row.cpuCoreRequestHours,
    cpu_core_usage_hours: row.cpuCoreUsageHours,
    ram_byte_hours: row.ramByteHours,
    ram_byte_request_hours: row.ramByteRequestHours,
    ram_byte_usage_hours: row.ramByteUsageHours,
    gpu_hours: row.gpuHours,
    gpu_active_hours: row.gpuActiveHours,
    gpu_measured_hours: row.gpuMeasuredHours,
    pv_byte_hours: row.pvByteHours,
    cpu_cost: row.cpuCost,
    ram_cost: row.ramCost,
    gpu_cost: row.gpuCost,
    pv_cost: row.pvCost,
  };
}

function toAllocation(
  row: RawRow,
  labelsOf: (text: string | null) => Record<string, string> | undefined,
  summary = false,
): Allocation {
  const text = (i: number) => row[i] as string | null;
  const idle = row[4] === 1;
  const properties: AllocationProperties = {};
  const node = text(0);
  if (node !== null) properties.node = node;
  if (text(7) !== null) properties.nodePool = text(7)!;
  if (text(8) !== null) properties.instanceType = text(8)!;
  if (text(9) !== null) properties.capacityType = text(9) as CapacityType;
  if (text(10) !== null) properties.region = text(10)!;
  if (text(11) !== null) properties.zone = text(11)!;
  if (!idle) {
    properties.namespace = text(1)!;
    if (!summary) {
      properties.pod = text(2)!;
      properties.container = text(3)!;
    }
  }
  if (text(12) !== null) properties.workloadKind = text(12)!;
  if (text(13) !== null) properties.workloadName = text(13)!;
  if (text(14) !== null) properties.mlJobKind = text(14)!;
  if (text(15) !== null) properties.mlJobName = text(15)!;
  if (text(16) !== null) properties.servedModel = text(16)!;
  if (text(17) !== null) properties.servedModelKind = text(17)!;
  const labels = labelsOf(text(20));
  if (labels) properties.labels = labels;
  if (text(18) !== null) properties.gpuModel = text(18)!;
  if (row[19] !== null) properties.discount = row[19] as number;
  if (idle) properties.idle = true;
  const name = idle ? IDLE : summary ? text(1)! : `${text(1)}/${text(2)}/${text(3)}`;
  const a = emptyAllocation(name, properties, row[5] as number, row[6] as number);
  a.cpuCoreHours = row[21] as number;
  a.cpuCoreRequestHours = row[22] as number;
  a.cpuCoreUsageHours = row[23] as number;
  a.ramByteHours = row[24] as number;
  a.ramByteRequestHours = row[25] as number;
  a.ramByteUsageHours = row[26] as number;
  a.gpuHours = row[27] as number;
  a.gpuActiveHours = row[28] as number;
  a.gpuMeasuredHours = row[29] as number;
  a.pvByteHours = row[30] as number;
  a.cpuCost = row[31] as number;
  a.ramCost = row[32] as number;
  a.gpuCost = row[33] as number;
  a.pvCost = row[34] as number;
  return finalize(a);
}

/** Label maps kept where every map agrees (OpenCost's merge); undefined when one of them is missing. */
function intersectLabels(
  maps: ReadonlyArray<Record<string, string> | undefined>,
): Record<string, string> | undefined {
  if (maps.length === 0 || maps.some((m) => m === undefined)) return undefined;
  const [first, ...rest] = maps as Array<Record<string, string>>;
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(first!))
    if (rest.every((m) => m[key] === value)) out[key] = value;
  return out;
}
