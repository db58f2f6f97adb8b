// Aggregates the samples of one window into usage records: averages, peaks and the 95th percentile, per node and
// per GPU. Pure: it is handed samples and times, and returns a window.
import type { GpuRecord, NodeRecord, UsageWindow } from '../core/protocol/batch.ts';
import type { GpuSample, NodeSample, Samples } from './samples.ts';

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

interface GpuAccumulator {
  last: GpuSample;
  activity?: Series;
  smActivity?: Series;
  tensorActivity?: Series;
  memoryUsed?: Series;
  power?: Series;
  temperature?: Series;
  smClock?: Series;
}

export class WindowAccumulator {
  private node: NodeSample = {};
  private cpuUsed?: Series;
  private memoryUsed?: Series;
  private readonly gpus = new Map<string, GpuAccumulator>();
  private sampleCount = 0;

  constructor(readonly start: number) {}

  get samples(): number {
    return this.sampleCount;
  }

  add(samples: Samples): void {
    this.sampleCount += 1;
    if (samples.node) {
      this.node = { ...this.node, ...definedOnly(samples.node) };
      this.cpuUsed = addTo(this.cpuUsed, samples.node.cpuUsedCores);
      this.memoryUsed = addTo(this.memoryUsed, samples.node.memoryUsedBytes);
    }
    for (const gpu of samples.gpus ?? []) {
      const acc = this.gpus.get(gpu.id) ?? { last: gpu };
      acc.last = { ...acc.last, ...definedOnly(gpu) };
      acc.activity = addTo(acc.activity, gpu.activity);
      acc.smActivity = addTo(acc.smActivity, gpu.smActivity);
      acc.tensorActivity = addTo(acc.tensorActivity, gpu.tensorActivity);
      acc.memoryUsed = addTo(acc.memoryUsed, gpu.memoryUsedBytes);
      acc.power = addTo(acc.power, gpu.powerWatts);
      acc.temperature = addTo(acc.temperature, gpu.temperatureCelsius);
      acc.smClock = addTo(acc.smClock, gpu.smClockMhz);
      this.gpus.set(gpu.id, acc);
    }
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
      ...(simulated ? { simulated: true } : {}),
    };
    const gpus: GpuRecord[] = [...this.gpus.values()].map((acc) => ({
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
      holder: acc.last.holder,
    }));
    return {
      start: new Date(this.start).toISOString(),
      end: new Date(end).toISOString(),
      node,
      gpus,
      containers: [],
      models: [],
    };
  }
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
    if (samples.gpus) merged.gpus = [...(merged.gpus ?? []), ...samples.gpus];
  }
  return merged;
}
