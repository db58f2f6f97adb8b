// What sources return from one collection: instantaneous readings of the node, its GPUs, containers and model
// servers. The window aggregator turns a window's worth of these into usage records.

export interface NodeSample {
  cpuCores?: number;
  memoryBytes?: number;
  cpuUsedCores?: number;
  memoryUsedBytes?: number;
  load1?: number;
  labels?: Record<string, string>;
  allocatable?: { cpuCores: number; memoryBytes: number; gpus?: number };
  gpus?: number;
}

export interface GpuSample {
  /** GPU UUID, or `<parent UUID>/<GPU instance id>` for a MIG instance. */
  id: string;
  /** The physical GPU's UUID (`GPU-...`); for a MIG instance, its parent's. */
  uuid: string;
  /** A MIG instance's own UUID (`MIG-...`), when the source knows it. */
  migUuid?: string;
  index?: number;
  /** PCI bus id, another key device plugins and exporters use for a GPU. */
  pciBusId?: string;
  model?: string;
  migProfile?: string;
  migInstanceId?: number;
  /** 0..1: share of time the GPU (or slice) was busy. */
  activity?: number;
  smActivity?: number;
  tensorActivity?: number;
  memoryUsedBytes?: number;
  memoryTotalBytes?: number;
  powerWatts?: number;
  /** Cumulative energy counter, joules since driver load. */
  energyJoules?: number;
  temperatureCelsius?: number;
  smClockMhz?: number;
  lastXid?: number;
  holder?: { namespace: string; pod: string; container?: string };
}

/** CPU, memory or GPU amounts as a pod spec states them, already parsed from quantities. */
export interface ResourceAmounts {
  cpuCores?: number;
  memoryBytes?: number;
  /** Count of the GPU-like extended resource named in `gpuResource` (whole GPUs, MIG slices, shared replicas). */
  gpus?: number;
  /** `nvidia.com/gpu`, `nvidia.com/mig-1g.10gb`, `nvidia.com/gpu.shared`, ... */
  gpuResource?: string;
}

export interface ContainerSpec {
  name: string;
  requests: ResourceAmounts;
  limits: ResourceAmounts;
  ports?: number[];
}

/** What a workload is, as cost roll-ups see it: the top of the owner chain, and any ML identity. */
export interface WorkloadRef {
  kind: string;
  name: string;
}

export interface PodInfo {
  uid: string;
  namespace: string;
  name: string;
  nodeName?: string;
  phase?: string;
  qosClass?: string;
  podIP?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  containers: ContainerSpec[];
  /** Owner chain resolved to the workload: ReplicaSet → Deployment, Job → CronJob, StatefulSet, DaemonSet. */
  workload?: WorkloadRef;
  /** Kubeflow training job, TrainJob, KServe InferenceService, Knative service, pipeline run or Ray cluster. */
  mlJob?: WorkloadRef;
  servedModel?: WorkloadRef;
  /** Last termination reason per container (`OOMKilled`), and restarts. */
  containerStatus?: Record<string, { restarts: number; lastTerminationReason?: string }>;
}

/** One container's usage at one instant, from the kubelet. */
export interface ContainerUsageSample {
  namespace: string;
  pod: string;
  podUid?: string;
  container: string;
  /** CPU cores in use, from the delta of usageCoreNanoSeconds between two readings. */
  cpuUsedCores?: number;
  memoryWorkingSetBytes?: number;
}

/** Devices the kubelet gave a container (pod-resources API). */
export interface DeviceAssignment {
  namespace: string;
  pod: string;
  container: string;
  /** Resource name: `nvidia.com/gpu`, `nvidia.com/mig-3g.40gb`, `nvidia.com/gpu.shared`. */
  resource: string;
  /** Device ids as the device plugin named them: GPU UUIDs, indexes, `MIG-...`, `<id>::<replica>`. */
  deviceIds: string[];
}

/** A model server's readings since the previous collection: counters as increments (resets handled), gauges as is. */
export interface ModelSample {
  namespace: string;
  pod: string;
  model: string;
  server: 'vllm' | 'ray-vllm' | 'triton' | 'tgi' | 'torchserve' | 'kserve' | 'other';
  requestsOk: number;
  requestsFailed: number;
  promptTokens: number;
  generatedTokens: number;
  latencySecondsSum: number;
  latencyCount: number;
  queueLength?: number;
  /** 0..1 */
  kvCacheUsage?: number;
}

export interface Samples {
  node?: NodeSample;
  gpus?: GpuSample[];
  pods?: PodInfo[];
  containers?: ContainerUsageSample[];
  devices?: DeviceAssignment[];
  models?: ModelSample[];
}
