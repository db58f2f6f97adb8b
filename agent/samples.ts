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
  uuid: string;
  index?: number;
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

export interface Samples {
  node?: NodeSample;
  gpus?: GpuSample[];
}
