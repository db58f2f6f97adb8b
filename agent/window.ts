// Aggregates the samples of one window into usage records: averages, peaks and the 95th percentile per node,
// GPU (with the pods holding it), container (with its pod's requests and identity) and served model.
// Pure: it is handed samples and times, and returns a window.
import type {
  ContainerRecord,
  GpuRecord,
  Holder,
  ModelRecord,
  NodeRecord,
  UsageWindow,
} from '../core/protocol/batch.ts';
import { attributeGpus, replicasFromLabels } from './attribution.ts';
import type { GpuSample, ModelSample, NodeSample, PodInfo, Samples } from './samples.ts';

/** Most pod labels carried per container record: labels drive roll-ups (team, project) but must stay bounded. */
const MAX_LABELS_PER_POD = 32;

interface Series {
  sum: number;
  count: number;
  max: number;
}

function addTo(series: Series | undefined, value: number | undefined): Series | undefined {
  if (value === undefined || !Number.isFinite(value)) return series;
  if (!series) return { sum: value, count: 1, max: value };
  series.sum += value;
  series.count += 1;
  if (value > series.max) series.max = value;
  return series;
}

const mean = (series: Series | undefined) => (series ? series.sum / series.count : undefined);

/** Nearest-rank percentile of a small list (a window holds a handful of readings). */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

interface GpuAccumulator {
  last: GpuSample;
  activity?: Series;
  smActivity?: Series;
  tensorActivity?: Series;
  memoryUsed?: Series;
  power?: Series;
  temperature?: Series;
  smClock?: Series;
  holders: Map<string, Holder>;
}

interface ContainerAccumulator {
  namespace: string;
  pod: string;
  container: string;
  podUid?: string;
  cpu?: Series;
  cpuValues: number[];
  memory?: Series;
}

type ModelAccumulator = Omit<ModelSample, 'queueLength' | 'kvCacheUsage'> & {
  queueLengthMax?: number;
  kvCacheUsageMax?: number;
};

const containerKey = (namespace: string, pod: string, container: string) =>
  `${namespace}\u0000${pod}\u0000${container}`;
const holderKey = (holder: Holder) => `${holder.namespace}\u0000${holder.pod}\u0000${holder.container ?? ''}`;

const NO_HOLDERS: ReadonlyMap<string, Holder[]> = new Map();

export class WindowAccumulator {
  private node: NodeSample = {};
  private cpuUsed?: Series;
  private memoryUsed?: Series;
  private readonly gpus = new Map<string, GpuAccumulator>();
  private readonly containers = new Map<string, ContainerAccumulator>();
  /** The latest spec of every pod seen in the window, by namespace/name. */
  private readonly pods = new Map<string, PodInfo>();
  private readonly models = new Map<string, ModelAccumulator>();
  private sampleCount = 0;

  constructor(readonly start: number) {}

  get samples(): number {
    return this.sampleCount;
  }

  /**
   * Adds one collection's samples. Returns the holders of each GPU (by GPU id) it attributed them to, so that
   * the live GPU gauges show the same holders without attributing the GPUs a second time.
   */
  add(samples: Samples): ReadonlyMap<string, Holder[]> {
    this.sampleCount += 1;
    if (samples.node) {
      this.node = { ...this.node, ...definedOnly(samples.node) };
      this.cpuUsed = addTo(this.cpuUsed, samples.node.cpuUsedCores);
      this.memoryUsed = addTo(this.memoryUsed, samples.node.memoryUsedBytes);
    }
    for (const pod of samples.pods ?? []) this.pods.set(`${pod.namespace}/${pod.name}`, pod);
    const holders = this.addGpus(samples);
    for (const usage of samples.containers ?? []) {
      const key = containerKey(usage.namespace, usage.pod, usage.container);
      const acc = this.containers.get(key) ?? {
        namespace: usage.namespace,
        pod: usage.pod,
        container: usage.container,
        cpuValues: [],
      };
      acc.podUid = usage.podUid ?? acc.podUid;
      acc.cpu = addTo(acc.cpu, usage.cpuUsedCores);
      if (usage.cpuUsedCores !== undefined && Number.isFinite(usage.cpuUsedCores))
        acc.cpuValues.push(usage.cpuUsedCores);
      acc.memory = addTo(acc.memory, usage.memoryWorkingSetBytes);
      this.containers.set(key, acc);
    }
    for (const model of samples.models ?? []) this.addModel(model);
    return holders;
  }

  private addGpus(samples: Samples): ReadonlyMap<string, Holder[]> {
    const gpus = samples.gpus ?? [];
    if (gpus.length === 0) return NO_HOLDERS;
    const replicas = replicasFromLabels(samples.node?.labels ?? this.node.labels);
    const holders = attributeGpus(gpus, samples.devices ?? [], { replicasPerGpu: replicas });
    for (const gpu of gpus) {
      const acc: GpuAccumulator = this.gpus.get(gpu.id) ?? { last: gpu, holders: new Map() };
      acc.last = { ...acc.last, ...definedOnly(gpu) };
      acc.activity = addTo(acc.activity, gpu.activity);
      acc.smActivity = addTo(acc.smActivity, gpu.smActivity);
      acc.tensorActivity = addTo(acc.tensorActivity, gpu.tensorActivity);
      acc.memoryUsed = addTo(acc.memoryUsed, gpu.memoryUsedBytes);
      acc.power = addTo(acc.power, gpu.powerWatts);
      acc.temperature = addTo(acc.temperature, gpu.temperatureCelsius);
      acc.smClock = addTo(acc.smClock, gpu.smClockMhz);
      for (const holder of holders.get(gpu.id) ?? []) acc.holders.set(holderKey(holder), holder);
      this.gpus.set(gpu.id, acc);
    }
    return holders;
  }

  private addModel(model: ModelSample): void {
    const key = `${model.namespace}\u0000${model.pod}\u0000${model.model}\u0000${model.server}`;
    const acc = this.models.get(key);
    if (!acc) {
      const { queueLength, kvCacheUsage, ...counters } = model;
      this.models.set(key, { ...counters, queueLengthMax: queueLength, kvCacheUsageMax: kvCacheUsage });
      return;
    }
    acc.requestsOk += model.requestsOk;
    acc.requestsFailed += model.requestsFailed;
    acc.promptTokens += model.promptTokens;
    acc.generatedTokens += model.generatedTokens;
    acc.latencySecondsSum += model.latencySecondsSum;
    acc.latencyCount += model.latencyCount;
    acc.queueLengthMax = maxOf(acc.queueLengthMax, model.queueLength);
    acc.kvCacheUsageMax = maxOf(acc.kvCacheUsageMax, model.kvCacheUsage);
  }

  /** Closes the window at `end`; undefined when no source told us the node's size (nothing to report). */
  close(end: number, nodeName: string, simulated = false): UsageWindow | undefined {
    if (this.node.cpuCores === undefined || this.node.memoryBytes === undefined) return undefined;
    const node: NodeRecord = {
      name: nodeName,
      capacity: {
        cpuCores: this.node.cpuCores,
        memoryBytes: this.node.memoryBytes,
        gpus: this.node.gpus ?? (this.gpus.size || undefined),
      },
      allocatable: this.node.allocatable,
      labels: this.node.labels ?? {},
      cpuUsedCoresAvg: mean(this.cpuUsed),
      cpuUsedCoresMax: this.cpuUsed?.max,
      memoryUsedBytesAvg: mean(this.memoryUsed),
      memoryUsedBytesMax: this.memoryUsed?.max,
      load1: this.node.load1,
      // the simulator labels what it makes, so an agent reading simulated endpoints marks its windows too
      ...(simulated || this.node.labels?.['mlcost.io/simulated'] === 'true' ? { simulated: true } : {}),
    };
    return {
      start: new Date(this.start).toISOString(),
      end: new Date(end).toISOString(),
      node,
      gpus: [...this.gpus.values()].map(toGpuRecord),
      containers: this.containerRecords(),
      models: [...this.models.values()].map(toModelRecord),
    };
  }

  /** One record per container seen in usage or in a running pod's spec: usage joined with requests and identity. */
  private containerRecords(): ContainerRecord[] {
    const records = new Map<string, ContainerRecord>();
    for (const pod of this.pods.values()) {
      if (pod.phase === 'Succeeded' || pod.phase === 'Failed') continue;
      for (const spec of pod.containers) {
        records.set(containerKey(pod.namespace, pod.name, spec.name), {
          ...identityOf(pod, spec.name),
          requests: spec.requests,
          limits: spec.limits,
        });
      }
    }
    for (const [key, acc] of this.containers) {
      const pod = this.pods.get(`${acc.namespace}/${acc.pod}`);
      const base = records.get(key) ?? {
        ...(pod
          ? identityOf(pod, acc.container)
          : { namespace: acc.namespace, pod: acc.pod, container: acc.container }),
        requests: pod?.containers.find((c) => c.name === acc.container)?.requests ?? {},
        limits: pod?.containers.find((c) => c.name === acc.container)?.limits ?? {},
      };
      records.set(key, {
        ...base,
        podUid: base.podUid ?? acc.podUid,
        cpuCoresAvg: mean(acc.cpu),
        cpuCoresMax: acc.cpu?.max,
        cpuCoresP95: percentile(acc.cpuValues, 95),
        memoryBytesAvg: mean(acc.memory),
        memoryBytesMax: acc.memory?.max,
      });
    }
    return [...records.values()];
  }
}

function identityOf(pod: PodInfo, container: string): Omit<ContainerRecord, 'requests' | 'limits'> {
  const status = pod.containerStatus?.[container];
  const labels = Object.fromEntries(Object.entries(pod.labels).slice(0, MAX_LABELS_PER_POD));
  return {
    namespace: pod.namespace,
    pod: pod.name,
    container,
    podUid: pod.uid,
    qosClass: pod.qosClass,
    workload: pod.workload,
    mlJob: pod.mlJob,
    servedModel: pod.servedModel,
    restarts: status?.restarts,
    oomKilled: status ? status.lastTerminationReason === 'OOMKilled' : undefined,
    labels,
  };
}

function toGpuRecord(acc: GpuAccumulator): GpuRecord {
  return {
    id: acc.last.id,
    uuid: acc.last.uuid,
    index: acc.last.index,
    model: acc.last.model,
    migProfile: acc.last.migProfile,
    migInstanceId: acc.last.migInstanceId,
    activityAvg: clampRatio(mean(acc.activity)),
    activityMax: clampRatio(acc.activity?.max),
    smActivityAvg: clampRatio(mean(acc.smActivity)),
    tensorActivityAvg: clampRatio(mean(acc.tensorActivity)),
    memoryUsedBytesMax: acc.memoryUsed?.max,
    memoryTotalBytes: acc.last.memoryTotalBytes,
    powerWattsAvg: mean(acc.power),
    energyJoules: acc.last.energyJoules,
    temperatureCelsiusMax: acc.temperature?.max,
    smClockMhzAvg: mean(acc.smClock),
    lastXid: acc.last.lastXid,
    holders: [...acc.holders.values()],
  };
}

function toModelRecord(acc: ModelAccumulator): ModelRecord {
  return {
    namespace: acc.namespace,
    pod: acc.pod,
    model: acc.model,
    server: acc.server,
    requestsOk: acc.requestsOk,
    requestsFailed: acc.requestsFailed,
    promptTokens: acc.promptTokens,
    generatedTokens: acc.generatedTokens,
    latencySecondsSum: acc.latencySecondsSum,
    latencyCount: acc.latencyCount,
    queueLengthMax: acc.queueLengthMax,
    kvCacheUsageMax: clampRatio(acc.kvCacheUsageMax),
  };
}

function maxOf(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.max(a, b);
}

function clampRatio(value: number | undefined): number | undefined {
  return value === undefined ? undefined : Math.min(1, Math.max(0, value));
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Merges what several sources returned in one collection into one set of samples. */
export function mergeSamples(all: readonly Samples[]): Samples {
  const merged: Samples = {};
  for (const samples of all) {
    if (samples.node) merged.node = { ...merged.node, ...definedOnly(samples.node) };
    for (const field of ['gpus', 'pods', 'containers', 'devices', 'models'] as const) {
      const list = samples[field];
      if (list) (merged[field] as unknown[]) = [...((merged[field] as unknown[] | undefined) ?? []), ...list];
    }
  }
  return merged;
}
