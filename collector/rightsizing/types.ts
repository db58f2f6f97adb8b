// The rightsizing engine's edges: what the store hands in (per-workload series of stored windows, HPAs, prices)
// and what comes out (recommendations with current, proposed, saving, confidence, reason and a patch). Pure data.

/** Epoch milliseconds, UTC. */
export type Millis = number;

/**
 * The object a recommendation changes: the top controller of the pods (a PyTorchJob, not its pods; a Deployment,
 * not its ReplicaSet). The store picks `mlJob`, else `servedModel`, else `workload`, else the pod itself.
 */
export interface WorkloadRef {
  namespace: string;
  /** Kubernetes kind: Deployment, StatefulSet, PyTorchJob, Notebook, InferenceService, Pod, ... */
  kind: string;
  name: string;
}

/** What a recommendation names: the workload, and the container when it changes one. */
export interface Target extends WorkloadRef {
  container?: string;
}

/** One `container_windows` row: one container of one pod over one window. CPU in cores, memory in bytes. */
export interface ContainerWindow {
  start: Millis;
  end: Millis;
  pod: string;
  cpuAvg?: number;
  cpuP95?: number;
  cpuMax?: number;
  memAvg?: number;
  memMax?: number;
  requestCpu?: number;
  requestMemory?: number;
  limitCpu?: number;
  limitMemory?: number;
  /** GPUs (or slices, or shared replicas) requested, of `gpuResource`. */
  requestGpus?: number;
  gpuResource?: string;
  restarts?: number;
  /** The container's last termination, in or before this window, was an OOM kill (a sticky flag, not an event). */
  oomKilled?: boolean;
  /**
   * Share of the PriceLookup's prices this window's node pays (a spot node's discount); absent means 1. Every
   * saving is priced window by window with it, so a change on a spot node saves the spot price.
   */
  priceFactor?: number;
}

/** Every window of one container of one workload, across all its replicas (pods). */
export interface ContainerSeries {
  workload: WorkloadRef;
  container: string;
  /** Kubeflow replica type (`worker`, `Master`, ...; from the `training.kubeflow.org/replica-type` label). */
  replicaType?: string;
  windows: ContainerWindow[];
}

/** One GPU (or MIG slice) held by one pod over one window: a `gpu_windows` row seen from one of its holders. */
export interface GpuWindow {
  start: Millis;
  end: Millis;
  pod: string;
  container?: string;
  /** GPU UUID, or `<parent UUID>/<GI id>` for a MIG instance. */
  gpuId: string;
  /** Product string as the exporter wrote it: `NVIDIA H100 80GB HBM3`. */
  model?: string;
  /** `3g.40gb` when the device is a MIG instance. */
  migProfile?: string;
  /** 1 for a whole GPU or slice; 1/replicas when time-sliced or shared by MPS. Absent means 1. */
  share?: number;
  /** 0..1 of the device (of the slice, for a MIG instance): `DCGM_FI_PROF_GR_ENGINE_ACTIVE`. */
  activityAvg?: number;
  activityMax?: number;
  memoryUsedMax?: number;
  memoryTotal?: number;
  /** Share of the PriceLookup's prices this window's node pays (as ContainerWindow.priceFactor); absent means 1. */
  priceFactor?: number;
}

/** Every GPU window held by one container of one workload, across its pods. */
export interface GpuSeries {
  workload: WorkloadRef;
  container?: string;
  replicaType?: string;
  windows: GpuWindow[];
}

/** One `model_windows` row: increments over the window for one model served by one pod. */
export interface ModelWindow {
  start: Millis;
  end: Millis;
  pod: string;
  requestsOk: number;
  requestsFailed: number;
  promptTokens?: number;
  generatedTokens?: number;
  latencySum: number;
  latencyCount: number;
  queueMax?: number;
  /** 0..1 */
  kvCacheMax?: number;
}

/** Every window of one served model of one workload (its replicas are its pods). */
export interface ModelSeries {
  workload: WorkloadRef;
  model: string;
  server?: string;
  windows: ModelWindow[];
}

/** A HorizontalPodAutoscaler that scales the workload on a resource metric. */
export interface HpaInfo {
  resource: 'cpu' | 'memory';
  /** 0..1 (the HPA's `averageUtilization` / 100). */
  targetUtilization: number;
  minReplicas?: number;
  maxReplicas?: number;
}

/** What the store knows about a workload beyond its windows. */
export interface WorkloadInfo {
  workload: WorkloadRef;
  hpa?: HpaInfo;
  /** Index of each container in the pod template, for JSON patches on custom resources (default 0). */
  containerIndex?: Record<string, number>;
}

/**
 * Prices, in one currency. The lead connects this to collector/cost; tests use a fixed table. Per hour; memory
 * per GiB (2^30 bytes), as OpenCost prices RAM.
 */
export interface PriceLookup {
  currency: string;
  cpuCoreHour: number;
  memGiBHour: number;
  /** A whole GPU of this product string (`NVIDIA H100 80GB HBM3`, `NVIDIA L4`), per hour. */
  gpuHour(model: string | undefined): number;
  /** A MIG instance of this profile on this product, per hour; when absent: gpuHour × compute slices / 7. */
  migSliceHour?(model: string | undefined, profile: string): number;
}

export interface RightsizingInput {
  /** The end of the history: recommendations describe the workloads as of this instant. */
  now: Millis;
  containers: ContainerSeries[];
  gpus?: GpuSeries[];
  models?: ModelSeries[];
  workloads?: WorkloadInfo[];
  prices: PriceLookup;
}

export type RecommendationKind =
  | 'cpu-memory'
  | 'gpu-idle'
  | 'gpu-count'
  | 'mig-profile'
  | 'gpu-sharing'
  | 'gpu-model'
  | 'replicas'
  | 'abandoned';

export type ConfidenceLabel = 'low' | 'medium' | 'high';

export interface Confidence {
  /** 0..1 */
  value: number;
  label: ConfidenceLabel;
}

/**
 * A ready-to-apply change. `strategic` for built-in kinds (containers merge by name); `merge` (RFC 7386) for
 * object-only changes to custom resources; `json` (RFC 6902) for container changes to custom resources, guarded
 * by a `test` of the container's name so a wrong index fails the whole patch and changes nothing; `delete` for
 * what cannot be stopped by a patch (a bare Pod): `body` is null and `command` is the `kubectl delete`.
 */
export interface Patch {
  type: 'strategic' | 'merge' | 'json' | 'delete';
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  /** The patch document: an object for strategic/merge, the operations array for json. */
  body: unknown;
  /** The same document as YAML. */
  yaml: string;
  /** `kubectl patch <resource> <name> -n <namespace> --type <type> -p '<json>'` (or `kubectl delete …`). */
  command: string;
}

/** Values before and after, in base units (cores, bytes, GPUs, replicas) or names (a MIG profile, a GPU model). */
export type Values = Record<string, number | string>;

/** Another kind that also applied to the same target and saved less; kept so no finding is lost. */
export interface Alternative {
  kind: RecommendationKind;
  action: string;
  proposed: Values;
  monthlySaving: number;
}

export interface Recommendation {
  /** Stable: `kind/namespace/workloadKind/name[/container]`. */
  id: string;
  kind: RecommendationKind;
  /** What to do: set-requests, reclaim, scale-to-zero, reduce-gpus, use-mig, share-gpu, change-gpu-model, ... */
  action: string;
  target: Target;
  current: Values;
  proposed: Values;
  /** Per month (730 h), in `currency`; negative when the change adds cost (e.g. more memory after OOM kills). */
  monthlySaving: number;
  currency: string;
  confidence: Confidence;
  /** One sentence. */
  reason: string;
  patch: Patch;
  /** The figures behind it (percentiles, peaks, hours, thresholds), for the API and the replay check. */
  details: Record<string, number | string | boolean>;
  alternatives?: Alternative[];
}

/** A target that was looked at and could not be judged: "not enough data", said plainly. */
export interface NotEnoughData {
  kind: RecommendationKind;
  target: Target;
  reason: string;
  historyHours: number;
  points: number;
}

export interface RightsizingReport {
  recommendations: Recommendation[];
  notEnoughData: NotEnoughData[];
}
