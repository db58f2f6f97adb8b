// What the rightsizing engine reads from the store: every stored window of the history as per-workload series
// (collector/rightsizing/types.ts), downsampled to one point per pod, container (or GPU) and `pointMs`
// (rightsizing-points.ts).
//
// Target of a row: `ml_job_kind/ml_job_name`, else the served model (`served_model`; its kind read back from the
// pod's labels as the agent derived it, InferenceService when they say nothing), else `workload_kind/name`, else
// ('Pod', pod). GPU and model windows take the workload of their pod (from its container windows), and a GPU
// holder without a container takes the pod's container that requests GPUs.
//
// Downsampling: a point stands for the busiest window in it. CPU, memory and GPU activity are the MAX of the
// windows' values (of their means for `cpu_avg` and `activity_avg`), so a percentile of points is never below the
// same percentile of the raw windows, a CPU request at the p95 of points is exceeded in at most 5% of raw
// windows, the memory peak is the raw peak, and a point is GPU-idle only when every window in it is. Model
// counters (requests, tokens, latency sums) are summed; queue and KV cache are maxima; requests and limits are
// maxima (a change within a point shows from the next one). A point spans its first window's start to its last
// window's end. With windows at least `pointMs` long nothing is merged.
//
// Prices: a point carries its node (`node`), and, when the caller gives a `nodePriceFactor`, the share of the
// engine's flat prices that node pays (`priceFactor`, e.g. a spot node's discount), read from the node's labels.
//
// Memory and latency: rows are read a node-day at a time, each as a range of the tables' primary keys (node,
// start, …), and points are made as they stream by (the caller may yield between reads); what is kept is the
// points: at most history / pointMs per pod and container (4,032 for 14 days at 5 minutes), and as many per GPU
// holder and served model. Raw 1-minute windows would be 5× as many. A pod seen on two nodes within one point's
// time (deleted and recreated under its name) gives a point per node.
import type {
  ContainerSeries,
  ContainerWindow,
  GpuSeries,
  GpuWindow,
  ModelSeries,
  ModelWindow,
  WorkloadRef,
} from '../rightsizing/types.ts';
import type { Db } from './database.ts';
import { rawRowReader } from './raw-rows.ts';
import {
  containerPointKey,
  gpuPointKey,
  holderRows,
  mergeContainerRow,
  mergeGpuRow,
  mergeModelRow,
  modelPointKey,
  pointsOf,
} from './rightsizing-points.ts';
import {
  CONTAINER_COLUMNS,
  type ContainerRow,
  containerRowOf,
  GPU_WINDOW_COLUMNS,
  type GpuRow,
  type GpuWindowRow,
  gpuWindowRowOf,
  type IdentityColumns,
  MODEL_COLUMNS,
  type ModelRow,
  modelRowOf,
} from './rightsizing-rows.ts';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** The default point: 5 minutes (KRR's 100 points are then 8.3 h of history). */
export const DEFAULT_POINT_MS = 300_000;
/** Kubeflow training operators label each pod with its replica type (`worker`, `master`, `ps`). */
export const REPLICA_TYPE_LABEL = 'training.kubeflow.org/replica-type';

export interface RightsizingSeries {
  containers: ContainerSeries[];
  gpus: GpuSeries[];
  models: ModelSeries[];
}

export interface ReadStats {
  /** Points read (after downsampling), per table. */
  containerPoints: number;
  gpuPoints: number;
  modelPoints: number;
  pods: number;
}

export type { IdentityColumns } from './rightsizing-rows.ts';

interface NodeRange {
  node: string;
  from: number;
  to: number;
}

type WindowTable = 'container_windows' | 'gpu_windows' | 'model_windows';

/**
 * One node's rows of a window table with a start in [from, to), as `make` makes them: a day at a time, each day's
 * in start order, so a reader can let other work run between days (a node's 14 days of one-minute windows are
 * about 600,000 container rows). Days count from `from`: with `from` on a point, no point straddles two of them.
 * Days before the node's first row or after its last are not asked for.
 */
function nodeWindowsReader<R>(
  db: Db,
  table: WindowTable,
  columns: readonly string[],
  make: (values: unknown[]) => R,
) {
  const sql = `SELECT ${columns.join(', ')} FROM ${table}
    WHERE node = :node AND start >= :from AND start < :to ORDER BY start`;
  const rows = rawRowReader<NodeRange, R>(db, sql, columns, make);
  const firstStart = db
    .prepare<[string], number | null>(`SELECT min(start) FROM ${table} WHERE node = ?`)
    .pluck();
  const lastStart = db
    .prepare<[string], number | null>(`SELECT max(start) FROM ${table} WHERE node = ?`)
    .pluck();
  return function* days(node: string, from: number, to: number): Generator<Iterable<R>, void, void> {
    const first = firstStart.get(node) ?? null;
    const last = lastStart.get(node) ?? null;
    if (first === null || last === null) return;
    const firstDay = from + Math.max(0, Math.floor((first - from) / DAY_MS)) * DAY_MS;
    for (let day = firstDay; day < to && day <= last; day += DAY_MS) {
      yield rows.iterate({ node, from: day, to: Math.min(to, day + DAY_MS) });
    }
  };
}

/** The nodes a window table has rows of: one step down its primary key per node, not a scan of the table. */
function distinctNodes(db: Db, table: WindowTable) {
  const first = db.prepare<[], string | null>(`SELECT min(node) FROM ${table}`).pluck();
  const next = db.prepare<[string], string | null>(`SELECT min(node) FROM ${table} WHERE node > ?`).pluck();
  return function* (): Generator<string> {
    for (let node = first.get() ?? null; node !== null; node = next.get(node) ?? null) yield node;
  };
}

/** What a pod is part of, as the engine names it. */
interface PodInfo {
  workload: WorkloadRef;
  replicaType: string | undefined;
  /** Containers that requested GPUs, in the order first seen. */
  gpuContainers: string[];
}

const opt = <T>(value: T | null): T | undefined => (value === null ? undefined : value);

function parseLabels(json: string | null): Record<string, string> {
  if (!json) return {};
  try {
    const value = JSON.parse(json) as unknown;
    return value && typeof value === 'object' ? (value as Record<string, string>) : {};
  } catch {
    return {};
  }
}

/** The served model's kind, read back from the labels the agent derived it from (pod-identity.ts). */
export function servedModelKind(name: string, labels: Record<string, string>): string {
  if (labels['serving.kserve.io/inferenceservice'] === name) return 'InferenceService';
  if (
    labels['ray.io/originated-from-crd'] === 'RayService' &&
    labels['ray.io/originated-from-cr-name'] === name
  ) {
    return 'RayService';
  }
  if (labels['serving.knative.dev/service'] === name) return 'KnativeService';
  if (labels['serving.knative.dev/revision'] === name) return 'KnativeRevision';
  return 'InferenceService';
}

/** The top controller of a stored row: ML job, else served model, else workload, else the pod itself. */
export function workloadOf(row: IdentityColumns, labels = parseLabels(row.labels)): WorkloadRef {
  const namespace = row.namespace;
  if (row.ml_job_kind && row.ml_job_name) {
    return { namespace, kind: row.ml_job_kind, name: row.ml_job_name };
  }
  if (row.served_model) {
    return { namespace, kind: servedModelKind(row.served_model, labels), name: row.served_model };
  }
  if (row.workload_kind && row.workload_name) {
    return { namespace, kind: row.workload_kind, name: row.workload_name };
  }
  return { namespace, kind: 'Pod', name: row.pod };
}

/** Whether a row names its pod's owner and labels as `known` did (namespace and pod are the lookup key). */
const sameIdentity = (known: IdentityColumns, row: IdentityColumns) =>
  known.workload_kind === row.workload_kind &&
  known.workload_name === row.workload_name &&
  known.ml_job_kind === row.ml_job_kind &&
  known.ml_job_name === row.ml_job_name &&
  known.served_model === row.served_model &&
  known.labels === row.labels;

const podKey = (namespace: string, pod: string) => `${namespace}\u0000${pod}`;
const workloadKeyOf = (ref: WorkloadRef) => `${ref.namespace}\u0000${ref.kind}\u0000${ref.name}`;

const byStart = (a: { start: number }, b: { start: number }) => a.start - b.start;

export function createRightsizingQueries(db: Db) {
  // One node's windows in [from, to), in the order of the tables' primary keys (node, start, …): a range scan of
  // the table itself, where reading by the `start` index looked every row up again. Points are made in JS
  // (pointsOf), which was also cheaper than SQL's GROUP BY with its sorts.
  const containerDays = nodeWindowsReader(db, 'container_windows', CONTAINER_COLUMNS, containerRowOf);
  const gpuDays = nodeWindowsReader(db, 'gpu_windows', GPU_WINDOW_COLUMNS, gpuWindowRowOf);
  const modelDays = nodeWindowsReader(db, 'model_windows', MODEL_COLUMNS, modelRowOf);
  const nodesOf = {
    container_windows: distinctNodes(db, 'container_windows'),
    gpu_windows: distinctNodes(db, 'gpu_windows'),
    model_windows: distinctNodes(db, 'model_windows'),
  };

  const nodeLabels = db.prepare<[], { name: string; labels: string | null }>(
    'SELECT name, labels FROM nodes',
  );

  /**
   * Every container, GPU and model window that starts in [from, to), as series per workload, one point per
   * `pointMs` (which must divide an hour), each series' points in time order. Rows are read a node-day at a time; the
   * generator yields after each, so a caller can let other work run in between, and returns the series.
   * `nodePriceFactor` (from a node's labels) sets each point's `priceFactor` where it is not 1.
   */
  function* readSeriesSteps(
    range: { from: number; to: number },
    pointMs = DEFAULT_POINT_MS,
    nodePriceFactor?: NodePriceFactor,
  ): Generator<void, RightsizingSeries & { stats: ReadStats }, void> {
    if (!Number.isInteger(pointMs) || pointMs <= 0 || HOUR_MS % pointMs !== 0) {
      throw new RangeError(`pointMs ${pointMs} must be a whole number of milliseconds that divides an hour`);
    }
    // Aligned to points, so the first point is whole and no point straddles two days of a node's reads.
    const from = range.from - (((range.from % pointMs) + pointMs) % pointMs);
    const stats: ReadStats = { containerPoints: 0, gpuPoints: 0, modelPoints: 0, pods: 0 };
    const intern = interner();
    const factors = new Map<string, number>();
    if (nodePriceFactor) {
      for (const row of nodeLabels.iterate()) factors.set(row.name, nodePriceFactor(parseLabels(row.labels)));
    }
    const factorOf = (node: string | null) => (node === null ? undefined : factors.get(node));

    const pods = new Map<string, PodInfo>();
    // A pod's identity columns as last seen, with what they gave, so its labels are parsed once, not once per point.
    const identities = new Map<string, { columns: IdentityColumns; info: PodInfo }>();
    const podOf = (row: ContainerRow): PodInfo => {
      const key = podKey(row.namespace, row.pod);
      const known = identities.get(key);
      if (known && sameIdentity(known.columns, row)) return known.info;
      const labels = parseLabels(row.labels);
      const info: PodInfo = {
        workload: workloadOf(row, labels),
        replicaType: labels[REPLICA_TYPE_LABEL] || undefined,
        gpuContainers: pods.get(key)?.gpuContainers ?? [],
      };
      identities.set(key, { columns: row, info });
      pods.set(key, info);
      return info;
    };

    const containers = new Map<string, ContainerSeries>();
    for (const node of nodesOf.container_windows())
      for (const rows of containerDays(node, from, range.to)) {
        for (const row of pointsOf(rows, pointMs, containerPointKey, mergeContainerRow)) {
          stats.containerPoints++;
          const pod = podOf(row);
          if ((row.request_gpus ?? 0) > 0 && !pod.gpuContainers.includes(row.container)) {
            pod.gpuContainers.push(row.container);
          }
          const key = `${workloadKeyOf(pod.workload)}\u0000${row.container}\u0000${pod.replicaType ?? ''}`;
          let series = containers.get(key);
          if (!series) {
            series = {
              workload: pod.workload,
              container: row.container,
              ...(pod.replicaType ? { replicaType: pod.replicaType } : {}),
              windows: [],
            };
            containers.set(key, series);
          }
          series.windows.push(containerWindow(row, factorOf(row.node), intern));
        }
        yield;
      }
    stats.pods = pods.size;

    const gpus = new Map<string, GpuSeries>();
    for (const node of nodesOf.gpu_windows())
      for (const windows of gpuDays(node, from, range.to)) {
        const rows = holderRows(windows);
        for (const row of pointsOf(rows, pointMs, gpuPointKey, mergeGpuRow)) {
          if (!row.namespace || !row.pod) continue;
          stats.gpuPoints++;
          const pod = pods.get(podKey(row.namespace, row.pod));
          const workload = pod?.workload ?? { namespace: row.namespace, kind: 'Pod', name: row.pod };
          const container = row.container ?? pod?.gpuContainers[0];
          const key = `${workloadKeyOf(workload)}\u0000${container ?? ''}\u0000${pod?.replicaType ?? ''}`;
          let series = gpus.get(key);
          if (!series) {
            series = {
              workload,
              ...(container ? { container } : {}),
              ...(pod?.replicaType ? { replicaType: pod.replicaType } : {}),
              windows: [],
            };
            gpus.set(key, series);
          }
          series.windows.push(gpuWindow(row, container, factorOf(row.node), intern));
        }
        yield;
      }

    const models = new Map<string, ModelSeries>();
    for (const node of nodesOf.model_windows())
      for (const rows of modelDays(node, from, range.to)) {
        for (const row of pointsOf(rows, pointMs, modelPointKey, mergeModelRow)) {
          stats.modelPoints++;
          const workload = pods.get(podKey(row.namespace, row.pod))?.workload ?? {
            namespace: row.namespace,
            kind: 'Pod',
            name: row.pod,
          };
          const key = `${workloadKeyOf(workload)}\u0000${row.model}`;
          let series = models.get(key);
          if (!series) {
            series = { workload, model: row.model, server: row.server, windows: [] };
            models.set(key, series);
          }
          series.windows.push(modelWindow(row, intern));
        }
        yield;
      }

    // Nodes were read one after another: a workload on several nodes gets its points in time order here.
    for (const series of [...containers.values(), ...gpus.values(), ...models.values()]) {
      series.windows.sort(byStart);
    }
    return {
      containers: [...containers.values()],
      gpus: [...gpus.values()],
      models: [...models.values()],
      stats,
    };
  }

  return {
    readSeriesSteps,
    /** readSeriesSteps run to the end at once. */
    readSeries(
      range: { from: number; to: number },
      pointMs = DEFAULT_POINT_MS,
      nodePriceFactor?: NodePriceFactor,
    ) {
      const steps = readSeriesSteps(range, pointMs, nodePriceFactor);
      for (;;) {
        const step = steps.next();
        if (step.done) return step.value;
      }
    },
  };
}

export type RightsizingQueries = ReturnType<typeof createRightsizingQueries>;

/** The share of the engine's flat prices a node pays, from its labels (1 = the flat prices). */
export type NodePriceFactor = (labels: Record<string, string>) => number;

type Intern = (text: string) => string;

/**
 * One copy of each text the points repeat (pod names, GPU ids, product strings): SQLite hands over a new string
 * for every row, and a history's points would each hold their own copies.
 */
function interner(): Intern {
  const seen = new Map<string, string>();
  return (text) => {
    const known = seen.get(text);
    if (known !== undefined) return known;
    seen.set(text, text);
    return text;
  };
}

const withFactor = (factor: number | undefined) =>
  factor !== undefined && factor !== 1 ? { priceFactor: factor } : {};

function containerWindow(row: ContainerRow, factor: number | undefined, intern: Intern): ContainerWindow {
  return {
    start: row.start,
    end: row.end,
    pod: intern(row.pod),
    cpuAvg: opt(row.cpu_avg),
    cpuP95: opt(row.cpu_p95),
    cpuMax: opt(row.cpu_max),
    memAvg: opt(row.memory_avg),
    memMax: opt(row.memory_max),
    requestCpu: opt(row.request_cpu),
    requestMemory: opt(row.request_memory),
    limitCpu: opt(row.limit_cpu),
    limitMemory: opt(row.limit_memory),
    requestGpus: opt(row.request_gpus),
    gpuResource: row.gpu_resource === null ? undefined : intern(row.gpu_resource),
    restarts: opt(row.restarts),
    oomKilled: row.oom_killed === null ? undefined : row.oom_killed > 0,
    ...withFactor(factor),
  };
}

function gpuWindow(
  row: GpuRow,
  container: string | undefined,
  factor: number | undefined,
  intern: Intern,
): GpuWindow {
  return {
    start: row.start,
    end: row.end,
    pod: intern(row.pod as string),
    container: container === undefined ? undefined : intern(container),
    gpuId: intern(row.gpu_id),
    model: row.model === null ? undefined : intern(row.model),
    migProfile: row.mig_profile === null ? undefined : intern(row.mig_profile),
    share: opt(row.share),
    activityAvg: opt(row.activity_avg),
    activityMax: opt(row.activity_max),
    memoryUsedMax: opt(row.memory_used_max),
    memoryTotal: opt(row.memory_total),
    ...withFactor(factor),
  };
}

function modelWindow(row: ModelRow, intern: Intern): ModelWindow {
  return {
    start: row.start,
    end: row.end,
    pod: intern(row.pod),
    requestsOk: row.requests_ok,
    requestsFailed: row.requests_failed,
    promptTokens: row.prompt_tokens,
    generatedTokens: row.generated_tokens,
    latencySum: row.latency_sum,
    latencyCount: row.latency_count,
    queueMax: opt(row.queue_max),
    kvCacheMax: opt(row.kv_cache_max),
  };
}
