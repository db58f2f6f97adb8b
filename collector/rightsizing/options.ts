// Every rightsizing threshold and default in one place, with the anchor it comes from; SPEC.md explains each.

export const HOURS_PER_MONTH = 730;
export const MIB = 2 ** 20;
export const GIB = 2 ** 30;
export const HOUR_MS = 3_600_000;

export interface RightsizingOptions {
  // --- history (KRR) ---
  /** History looked at, hours. KRR: 336 (14 d). */
  historyHours: number;
  /** Below this much history, "not enough data". KRR: 3 h. */
  minHistoryHours: number;
  /** Below this many windows, "not enough data". KRR: 100 points. */
  minPoints: number;
  /** Points at which the confidence stops growing with points (≈ 17 h of one-minute windows). */
  fullConfidencePoints: number;

  // --- CPU and memory requests ---
  /** Percentile of per-window CPU use the request covers. KRR: 95. */
  cpuPercentile: number;
  /** Extra CPU headroom on top of the percentile. KRR: 0. */
  cpuMarginFraction: number;
  /** Half-life for weighting recent windows more (VPA: 24 h); undefined = every window weighs the same. */
  cpuHalfLifeHours: number | undefined;
  /** KRR: 10 m. */
  cpuFloorCores: number;
  /** Memory = peak × (1 + this). KRR and VPA: 0.15. */
  memoryMarginFraction: number;
  /** KRR: 100 MiB. */
  memoryFloorBytes: number;
  /** After an OOM kill the basis becomes max(limit + oomBumpMinBytes, limit × (1 + oomBumpFraction)). VPA. */
  oomBumpFraction: number;
  oomBumpMinBytes: number;
  /** Changes smaller than this share of the current request are noise, not recommendations. */
  minChangeFraction: number;

  // --- GPUs ---
  /** A GPU is idle in a window when its mean activity is below this (gpu-pruner 0.01, OpenCost PR #3497 0.05). */
  gpuIdleActivity: number;
  /** Held-idle means idle for at least this long, still held now. */
  gpuIdleHours: number;
  /** An inference server with no requests and idle GPUs for this long should scale to zero. */
  inferenceIdleHours: number;
  /**
   * A distributed training job (PyTorchJob, TFJob, MPIJob, ...) with every GPU idle this long is hung: no user
   * pauses it, and a rank stuck in a collective outlives torch.distributed's default 30-minute timeout only hung.
   */
  trainingIdleHours: number;
  /** A GPU counts as used in a window at this activity (max over the window)... */
  gpuUsedActivity: number;
  /** ...or with at least this much memory allocated (a rank waiting on a barrier still holds its tensors). */
  gpuUsedMemoryBytes: number;
  /** GPU memory needed = peak × (1 + this). Same margin as KRR's memory. */
  gpuMemoryMarginFraction: number;
  /** Compute a MIG slice needs = p95 activity × (1 + this); 0 because engine-active already overstates SMs. */
  migComputeMarginFraction: number;
  /** Percentile of per-window GPU activity used for sizing. */
  gpuActivityPercentile: number;
  /** A pod is a sharing candidate when its p95 activity is at most this. */
  shareMaxActivity: number;
  /** Packed pods' p95 activities may add up to at most this on one GPU. */
  shareTargetActivity: number;
  /** Most pods on one GPU (the time-slicing replicas ceiling). */
  shareMaxRatio: number;
  /** Let pods of different namespaces share a GPU (time-slicing isolates no memory). */
  shareAcrossNamespaces: boolean;
  /** A cheaper GPU must run the pod's p95 activity at or below this after the slowdown. */
  modelMaxProjectedActivity: number;
  /** GPU products a workload may move to; undefined = the products seen in the input (already in the cluster). */
  availableGpuModels: string[] | undefined;

  // --- model-server replicas ---
  /** A window keeps latency "where it was" when its mean latency ≤ baseline × (1 + this). */
  replicasLatencyTolerance: number;
  /** ...and its longest queue is at most this (requests waiting). */
  replicasQueueCeiling: number;
  /** ...and its KV cache was at most this full. */
  replicasKvCacheCeiling: number;

  // --- abandoned workloads ---
  /** No traffic and no CPU for this many days. Longer than a weekend. */
  abandonedDays: number;
  /** "No CPU": every window's mean use below this. KRR's floor. */
  abandonedCpuCores: number;

  // --- output ---
  /** Keep only recommendations saving at least this much a month; the default keeps all, increases too. */
  minMonthlySaving: number;
  /** One GPU recommendation per target (the largest saving); the others become its alternatives. */
  exclusiveGpu: boolean;
}

export const DEFAULT_OPTIONS: RightsizingOptions = {
  historyHours: 336,
  minHistoryHours: 3,
  minPoints: 100,
  fullConfidencePoints: 1000,
  cpuPercentile: 95,
  cpuMarginFraction: 0,
  cpuHalfLifeHours: undefined,
  cpuFloorCores: 0.01,
  memoryMarginFraction: 0.15,
  memoryFloorBytes: 100 * MIB,
  oomBumpFraction: 0.2,
  oomBumpMinBytes: 100 * MIB,
  minChangeFraction: 0.05,
  gpuIdleActivity: 0.05,
  gpuIdleHours: 4,
  inferenceIdleHours: 4,
  trainingIdleHours: 1,
  gpuUsedActivity: 0.05,
  gpuUsedMemoryBytes: GIB,
  gpuMemoryMarginFraction: 0.15,
  migComputeMarginFraction: 0,
  gpuActivityPercentile: 95,
  shareMaxActivity: 0.3,
  shareTargetActivity: 0.8,
  shareMaxRatio: 8,
  shareAcrossNamespaces: false,
  modelMaxProjectedActivity: 0.6,
  availableGpuModels: undefined,
  replicasLatencyTolerance: 0.1,
  replicasQueueCeiling: 0,
  replicasKvCacheCeiling: 0.9,
  abandonedDays: 3,
  abandonedCpuCores: 0.01,
  minMonthlySaving: Number.NEGATIVE_INFINITY,
  exclusiveGpu: true,
};

export function resolveOptions(options: Partial<RightsizingOptions> = {}): RightsizingOptions {
  const resolved = { ...DEFAULT_OPTIONS };
  for (const [key, value] of Object.entries(options)) {
    // An explicit undefined keeps the default, except where undefined is itself a setting.
    if (value !== undefined || key === 'cpuHalfLifeHours' || key === 'availableGpuModels') {
      (resolved as Record<string, unknown>)[key] = value;
    }
  }
  return resolved;
}
