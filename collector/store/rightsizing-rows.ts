// The rows rightsizing reads from the window tables, as collector/store/raw-rows.ts makes them: each query's columns
// in order and the row object made from them. A GPU window's holders are expanded into one GpuRow per holder
// (rightsizing-points.ts).

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

export interface ContainerRow extends IdentityColumns {
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

/** One holder of a GPU in one window, or in one point. */
export interface GpuRow {
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

export interface ModelRow {
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

/** Container windows, as stored and as points (the same columns). */
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

/** A GPU window as stored: its holders a JSON array of { namespace, pod, container, share }. */
export interface GpuWindowRow {
  gpu_id: string;
  node: string;
  start: number;
  end: number;
  model: string | null;
  mig_profile: string | null;
  activity_avg: number | null;
  activity_max: number | null;
  memory_used_max: number | null;
  memory_total: number | null;
  holders: string;
}

export const GPU_WINDOW_COLUMNS = [
  'gpu_id',
  'node',
  'start',
  'end',
  'model',
  'mig_profile',
  'activity_avg',
  'activity_max',
  'memory_used_max',
  'memory_total',
  'holders',
] as const;

export const gpuWindowRowOf = (v: unknown[]): GpuWindowRow => ({
  gpu_id: v[0] as string,
  node: v[1] as string,
  start: v[2] as number,
  end: v[3] as number,
  model: v[4] as string | null,
  mig_profile: v[5] as string | null,
  activity_avg: v[6] as number | null,
  activity_max: v[7] as number | null,
  memory_used_max: v[8] as number | null,
  memory_total: v[9] as number | null,
  holders: v[10] as string,
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
