// What the cost model reads: plain mirrors of the stored rows (one node window with its GPU and container windows,
// model windows, and persistent volume claims), so the store maps rows in without the model knowing SQL.

/** A node in one window: `node_windows` (capacity) joined with `nodes` (labels, physical GPU count). */
export interface StoredNode {
  name: string;
  labels: Record<string, string>;
  /** Capacity, as OpenCost prices a node: not allocatable. */
  cpuCores: number;
  memoryBytes: number;
  /** Physical GPUs on the node (`nodes.gpus`), when the agent knew them; GPUs beyond those seen are priced too. */
  gpus?: number | null;
}

/** A pod holding a GPU or MIG slice: one element of `gpu_windows.holders`. */
export interface StoredHolder {
  namespace: string;
  pod: string;
  container?: string;
  /** 1 for a whole GPU or slice, 1/replicas for a time-sliced or MPS replica; absent means 1. */
  share?: number;
  via?: string;
}

/** One `gpu_windows` row: a whole GPU (`gpuId` = UUID) or a MIG instance (`<parent UUID>/<GI id>`). */
export interface StoredGpu {
  gpuId: string;
  /** Physical board UUID; MIG instances carry their parent's. */
  uuid: string;
  model?: string | null;
  migProfile?: string | null;
  /** 0..1, mean share of time the engine (or slice) was busy. */
  activityAvg?: number | null;
  holders: StoredHolder[];
}

/** One `container_windows` row. */
export interface StoredContainer {
  namespace: string;
  pod: string;
  container: string;
  cpuAvg?: number | null;
  memoryAvg?: number | null;
  requestCpu?: number | null;
  requestMemory?: number | null;
  /** Count of `gpuResource` units requested (whole GPUs, shared replicas or MIG slices). */
  requestGpus?: number | null;
  gpuResource?: string | null;
  workloadKind?: string | null;
  workloadName?: string | null;
  mlJobKind?: string | null;
  mlJobName?: string | null;
  /** The served-model identity's name (InferenceService, Knative service, RayService). */
  servedModel?: string | null;
  /** Its kind, when the store keeps it (it does not yet: `KnativeService` is then read from the pod's labels). */
  servedModelKind?: string | null;
  labels?: Record<string, string> | null;
}

/**
 * A persistent volume claim in the window. The agent does not ship PVCs yet: this is the shape the cost model
 * prices once it does (from the pod's volumes and the PVC's `spec.resources.requests.storage`).
 */
export interface StoredPvc {
  namespace: string;
  name: string;
  /** The pod that mounts it in this window; absent: unmounted (priced to `__unmounted__`). */
  pod?: string | null;
  storageClass?: string | null;
  requestedBytes: number;
}

/** One node's window: the unit the cost model allocates. Times are epoch milliseconds, UTC. */
export interface StoredWindowInput {
  start: number;
  end: number;
  node: StoredNode;
  gpus: StoredGpu[];
  containers: StoredContainer[];
  pvcs?: StoredPvc[];
}

/** One `model_windows` row: increments over the window for one model served by one pod. */
export interface StoredModelWindow {
  node: string;
  start: number;
  end: number;
  namespace: string;
  pod: string;
  model: string;
  server: string;
  requestsOk: number;
  requestsFailed: number;
  promptTokens: number;
  generatedTokens: number;
}
