// What the rightsizing engine reads from the store: every stored window of the history as per-workload series
// (collector/rightsizing/types.ts), downsampled in SQL to one point per pod, container (or GPU) and `pointMs`.
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
// Memory and latency: rows are read one hour at a time (the `start` index; the caller may yield in between), and
// what is kept is the points: at most history / pointMs per pod and container (4,032 for 14 days at 5 minutes),
// and as many per GPU holder and served model. Raw 1-minute windows would be 5× as many.
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

/** Rows are read this much history at a time. */
export const CHUNK_MS = 3_600_000;
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

/** The columns that say what a pod belongs to. */
export interface IdentityColumns {
  namespace: string;
  pod: string;
  workload_kind: string | null;
  workload_name: string | null;
  ml_job_kind: string | null;
  ml_job_name: string | null;
  served_model: string | null;
  /** JSON object of the pod's labels. */
  labels: string | null;
}

interface ContainerRow extends IdentityColumns {
  container: string;
  node: string | null;
  start: number;
  end: number;
  cpu_avg: number | null;
  cpu_p95: number | null;
  cpu_max: number | null;
  memory_avg: number | null;
  memory_max: number | null;
  request_cpu: number | null;
  request_memory: number | null;
  request_gpus: number | null;
  gpu_resource: string | null;
  limit_cpu: number | null;
  limit_memory: number | null;
  restarts: number | null;
  oom_killed: number | null;
}

interface GpuRow {
  gpu_id: string;
  node: string | null;
  start: number;
  end: number;
  namespace: string | null;
  pod: string | null;
  container: string | null;
  share: number | null;
  model: string | null;
  mig_profile: string | null;
  activity_avg: number | null;
  activity_max: number | null;
  memory_used_max: number | null;
  memory_total: number | null;
}

interface ModelRow {
  namespace: string;
  pod: string;
  model: string;
  server: string;
  start: number;
  end: number;
  requests_ok: number;
  requests_failed: number;
  prompt_tokens: number;
  generated_tokens: number;
  latency_sum: number;
  latency_count: number;
  queue_max: number | null;
  kv_cache_max: number | null;
}

interface PointParams {
  from: number;
  to: number;
  point: number;
}

// Each query's columns in order, and the row made from them (collector/store/raw-rows.ts).
export const CONTAINER_COLUMNS = [
  'namespace',
  'pod',
  'container',
  'node',
  'start',
  'end',
  'cpu_avg',
  'cpu_p95',
  'cpu_max',
  'memory_avg',
  'memory_max',
  'request_cpu',
  'request_memory',
  'request_gpus',
  'gpu_resource',
  'limit_cpu',
  'limit_memory',
  'restarts',
  'oom_killed',
  'workload_kind',
  'workload_name',
  'ml_job_kind',
  'ml_job_name',
  'served_model',
  'labels',
] as const;

export const containerRowOf = (v: unknown[]): ContainerRow => ({
  namespace: v[0] as string,
  pod: v[1] as string,
  container: v[2] as string,
  node: v[3] as string | null,
  start: v[4] as number,
  end: v[5] as number,
  cpu_avg: v[6] as number | null,
  cpu_p95: v[7] as number | null,
  cpu_max: v[8] as number | null,
  memory_avg: v[9] as number | null,
  memory_max: v[10] as number | null,
  request_cpu: v[11] as number | null,
  request_memory: v[12] as number | null,
  request_gpus: v[13] as number | null,
  gpu_resource: v[14] as string | null,
  limit_cpu: v[15] as number | null,
  limit_memory: v[16] as number | null,
  restarts: v[17] as number | null,
  oom_killed: v[18] as number | null,
  workload_kind: v[19] as string | null,
  workload_name: v[20] as string | null,
  ml_job_kind: v[21] as string | null,
  ml_job_name: v[22] as string | null,
  served_model: v[23] as string | null,
  labels: v[24] as string | null,
});

export const GPU_COLUMNS = [
  'gpu_id',
  'node',
  'start',
  'end',
  'namespace',
  'pod',
  'container',
  'share',
  'model',
  'mig_profile',
  'activity_avg',
  'activity_max',
  'memory_used_max',
  'memory_total',
] as const;

export const gpuRowOf = (v: unknown[]): GpuRow => ({
  gpu_id: v[0] as string,
  node: v[1] as string | null,
  start: v[2] as number,
  end: v[3] as number,
  namespace: v[4] as string | null,
  pod: v[5] as string | null,
  container: v[6] as string | null,
  share: v[7] as number | null,
  model: v[8] as string | null,
  mig_profile: v[9] as string | null,
  activity_avg: v[10] as number | null,
  activity_max: v[11] as number | null,
  memory_used_max: v[12] as number | null,
  memory_total: v[13] as number | null,
});

export const MODEL_COLUMNS = [
  'namespace',
  'pod',
  'model',
  'server',
  'start',
  'end',
  'requests_ok',
  'requests_failed',
  'prompt_tokens',
  'generated_tokens',
  'latency_sum',
  'latency_count',
  'queue_max',
  'kv_cache_max',
] as const;

export const modelRowOf = (v: unknown[]): ModelRow => ({
  namespace: v[0] as string,
  pod: v[1] as string,
  model: v[2] as string,
  server: v[3] as string,
  start: v[4] as number,
  end: v[5] as number,
  requests_ok: v[6] as number,
  requests_failed: v[7] as number,
  prompt_tokens: v[8] as number,
  generated_tokens: v[9] as number,
  latency_sum: v[10] as number,
  latency_count: v[11] as number,
  queue_max: v[12] as number | null,
  kv_cache_max: v[13] as number | null,
});

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

/** The identity columns alone, kept per pod (not the whole row with its numbers). */
const identityColumnsOf = ({
  namespace,
  pod,
  workload_kind,
  workload_name,
  ml_job_kind,
  ml_job_name,
  served_model,
  labels,
}: IdentityColumns): IdentityColumns => ({
  namespace,
  pod,
  workload_kind,
  workload_name,
  ml_job_kind,
  ml_job_name,
  served_model,
  labels,
});
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

/** Aligned chunks of at most CHUNK_MS covering [from, to). */
function* chunks(from: number, to: number): Generator<[number, number]> {
  for (let start = from; start < to; start += CHUNK_MS) yield [start, Math.min(to, start + CHUNK_MS)];
}

export function createRightsizingQueries(db: Db) {
  // `start - start % :point` is the point's slot (`%` works on integers, whatever way the number was bound).
  const containerPoints = rawRowReader<PointParams, ContainerRow>(
    db,
    `
    SELECT namespace, pod, container, max(node) AS node,
      min(start) AS start, max(end) AS end,
      max(cpu_avg) AS cpu_avg, max(cpu_p95) AS cpu_p95, max(cpu_max) AS cpu_max,
      max(memory_avg) AS memory_avg, max(memory_max) AS memory_max,
      max(request_cpu) AS request_cpu, max(request_memory) AS request_memory,
      max(request_gpus) AS request_gpus, max(gpu_resource) AS gpu_resource,
      max(limit_cpu) AS limit_cpu, max(limit_memory) AS limit_memory,
      max(restarts) AS restarts, max(oom_killed) AS oom_killed,
      workload_kind, workload_name, ml_job_kind, ml_job_name, served_model, labels
    FROM container_windows
    WHERE start >= :from AND start < :to
    GROUP BY namespace, pod, container, start - start % :point
    ORDER BY min(start)`,
    CONTAINER_COLUMNS,
    containerRowOf,
  );
  // One row per GPU (or MIG slice), holder and point: gpu_windows × json_each(holders).
  const gpuPoints = rawRowReader<PointParams, GpuRow>(
    db,
    `
    SELECT g.gpu_id AS gpu_id, max(g.node) AS node,
      min(g.start) AS start, max(g.end) AS end,
      json_extract(h.value, '$.namespace') AS namespace,
      json_extract(h.value, '$.pod') AS pod,
      json_extract(h.value, '$.container') AS container,
      max(json_extract(h.value, '$.share')) AS share,
      max(g.model) AS model, max(g.mig_profile) AS mig_profile,
      max(g.activity_avg) AS activity_avg, max(g.activity_max) AS activity_max,
      max(g.memory_used_max) AS memory_used_max, max(g.memory_total) AS memory_total
    FROM gpu_windows g, json_each(g.holders) h
    WHERE g.start >= :from AND g.start < :to
    GROUP BY g.gpu_id, json_extract(h.value, '$.namespace'), json_extract(h.value, '$.pod'),
      json_extract(h.value, '$.container'), g.start - g.start % :point
    ORDER BY min(g.start)`,
    GPU_COLUMNS,
    gpuRowOf,
  );
  const modelPoints = rawRowReader<PointParams, ModelRow>(
    db,
    `
    SELECT namespace, pod, model, max(server) AS server,
      min(start) AS start, max(end) AS end,
      sum(requests_ok) AS requests_ok, sum(requests_failed) AS requests_failed,
      sum(prompt_tokens) AS prompt_tokens, sum(generated_tokens) AS generated_tokens,
      sum(latency_sum) AS latency_sum, sum(latency_count) AS latency_count,
      max(queue_max) AS queue_max, max(kv_cache_max) AS kv_cache_max
    FROM model_windows
    WHERE start >= :from AND start < :to
    GROUP BY namespace, pod, model, start - start % :point
    ORDER BY min(start)`,
    MODEL_COLUMNS,
    modelRowOf,
  );

  const nodeLabels = db.prepare<[], { name: string; labels: string | null }>(
    'SELECT name, labels FROM nodes',
  );

  /**
   * Every container, GPU and model window that starts in [from, to), as series per workload, one point per
   * `pointMs` (which must divide an hour). Rows are read an hour at a time; the generator yields after each hour, so a
   * caller can let other work run in between, and returns the series. `nodePriceFactor` (from a node's labels) sets
   * each point's `priceFactor` where it is not 1.
   */
  function* readSeriesSteps(
    range: { from: number; to: number },
    pointMs = DEFAULT_POINT_MS,
    nodePriceFactor?: NodePriceFactor,
  ): Generator<void, RightsizingSeries & { stats: ReadStats }, void> {
    if (!Number.isInteger(pointMs) || pointMs <= 0 || CHUNK_MS % pointMs !== 0) {
      throw new RangeError(`pointMs ${pointMs} must be a whole number of milliseconds that divides an hour`);
    }
    // Chunks align to points, so no point straddles two chunks.
    const from = range.from - (((range.from % pointMs) + pointMs) % pointMs);
    const stats: ReadStats = { containerPoints: 0, gpuPoints: 0, modelPoints: 0, pods: 0 };
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
      identities.set(key, { columns: identityColumnsOf(row), info });
      pods.set(key, info);
      return info;
    };

    const containers = new Map<string, ContainerSeries>();
    for (const [start, end] of chunks(from, range.to)) {
      for (const row of containerPoints.iterate({ from: start, to: end, point: pointMs })) {
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
        series.windows.push(containerWindow(row, factorOf(row.node)));
      }
      yield;
    }
    stats.pods = pods.size;

    const gpus = new Map<string, GpuSeries>();
    for (const [start, end] of chunks(from, range.to)) {
      for (const row of gpuPoints.iterate({ from: start, to: end, point: pointMs })) {
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
        series.windows.push(gpuWindow(row, container, factorOf(row.node)));
      }
      yield;
    }

    const models = new Map<string, ModelSeries>();
    for (const [start, end] of chunks(from, range.to)) {
      for (const row of modelPoints.iterate({ from: start, to: end, point: pointMs })) {
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
        series.windows.push(modelWindow(row));
      }
      yield;
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

const withFactor = (factor: number | undefined) =>
  factor !== undefined && factor !== 1 ? { priceFactor: factor } : {};

function containerWindow(row: ContainerRow, factor: number | undefined): ContainerWindow {
  return {
    start: row.start,
    end: row.end,
    pod: row.pod,
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
    gpuResource: opt(row.gpu_resource),
    restarts: opt(row.restarts),
    oomKilled: row.oom_killed === null ? undefined : row.oom_killed > 0,
    ...withFactor(factor),
  };
}

function gpuWindow(row: GpuRow, container: string | undefined, factor: number | undefined): GpuWindow {
  return {
    start: row.start,
    end: row.end,
    pod: row.pod as string,
    container,
    gpuId: row.gpu_id,
    model: opt(row.model),
    migProfile: opt(row.mig_profile),
    share: opt(row.share),
    activityAvg: opt(row.activity_avg),
    activityMax: opt(row.activity_max),
    memoryUsedMax: opt(row.memory_used_max),
    memoryTotal: opt(row.memory_total),
    ...withFactor(factor),
  };
}

function modelWindow(row: ModelRow): ModelWindow {
  return {
    start: row.start,
    end: row.end,
    pod: row.pod,
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
