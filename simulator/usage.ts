// The usage windows of the simulated cluster: `windowsAt(cluster, windowStart, windowMs)` gives, for every node, the
// exact protocol record the agent would send for that window (node, GPUs and MIG slices with their holders,
// containers with requests and identity, served models with request and token increments), marked simulated.
// A pure function of (seed, time): backfill writes these, --serve serves the instants they are made of, and
// the end-to-end test checks that the real agent, reading --serve, reports the same.
//
// How a window is summarised from the one-minute slots (behaviour.ts):
//  - up to MAX_SAMPLES slots: every slot, weighted by how much of it the window covers (exact);
//  - longer windows (history at 1h): MAX_SAMPLES slots spread evenly, equally weighted; averages, peaks and
//    percentiles come from those, and counters are their mean times the window's slot count. The record is what
//    the simulator says happened; the coarser the window, the fewer minutes it looked at.
//
// This runs for every node-window of a backfill (1.68 million for 14 days of 5,000 nodes at 1h), so the hot path
// is plain loops over arrays: no closures made per window (tsx keeps function names, which makes each one costly).
import type {
  ContainerRecord,
  GpuRecord,
  Holder,
  ModelRecord,
  NodeRecord,
  UsageWindow,
} from '../core/protocol/batch.ts';
import type { Cluster, SimNode } from './cluster.ts';
import { type PodInstance, podsDuring } from './pods.ts';
import { SLOT_MS } from './schedule.ts';
import {
  ACTIVITY,
  type GpuSlot,
  gpuSlotPosition,
  gpuSlots,
  MEMORY_USED_MIB,
  nodeValues,
  POWER_WATTS,
  SM_CLOCK,
  TEMPERATURE,
  TENSOR,
  VALUES_PER_GPU,
} from './snapshot.ts';
import { type InferenceProfile, servingProfile } from './workloads.ts';

/** Most slots a window is summarised from: every 10 minutes of an hour window, every slot of a 5-minute one. */
export const MAX_SAMPLES = 6;
/** Most pod labels the agent carries per container record (agent/window.ts). */
const MAX_LABELS_PER_POD = 32;
const MIB = 2 ** 20;

export interface SamplePoint {
  slot: number;
  /** The instant whose pods count (the start of the slot's part inside the window). */
  time: number;
  weight: number;
}

/** The slots a window is summarised from, and whether they cover it exactly. */
export function samplePoints(
  start: number,
  end: number,
): { points: SamplePoint[]; exact: boolean; slots: number } {
  const first = Math.floor(start / SLOT_MS);
  const last = Math.ceil(end / SLOT_MS) - 1;
  const slots = last - first + 1;
  const points: SamplePoint[] = [];
  if (slots <= MAX_SAMPLES) {
    for (let slot = first; slot <= last; slot++) {
      const from = Math.max(start, slot * SLOT_MS);
      const to = Math.min(end, (slot + 1) * SLOT_MS);
      if (to > from) points.push({ slot, time: from, weight: to - from });
    }
    return { points, exact: true, slots };
  }
  for (let i = 0; i < MAX_SAMPLES; i++) {
    const slot = first + Math.floor(((i + 0.5) * slots) / MAX_SAMPLES);
    points.push({ slot, time: Math.max(start, slot * SLOT_MS), weight: 1 });
  }
  return { points, exact: false, slots };
}

/** A weighted series: sum, weight and peak, and the values themselves where a percentile is wanted. */
interface Series {
  weighted: number;
  weight: number;
  max: number;
  values?: number[];
}

function series(keepValues: boolean): Series {
  return keepValues
    ? { weighted: 0, weight: 0, max: Number.NEGATIVE_INFINITY, values: [] }
    : { weighted: 0, weight: 0, max: Number.NEGATIVE_INFINITY };
}

function observe(s: Series, value: number, weight: number): void {
  s.weighted += value * weight;
  s.weight += weight;
  if (value > s.max) s.max = value;
  s.values?.push(value);
}

function mean(s: Series): number | undefined {
  return s.weight > 0 ? s.weighted / s.weight : undefined;
}

function peak(s: Series): number | undefined {
  return s.weight > 0 ? s.max : undefined;
}

function ascending(a: number, b: number): number {
  return a - b;
}

/** Nearest-rank percentile, as the agent computes it (sorts `values` in place: they are the window's own). */
function percentile(values: number[] | undefined, p: number): number | undefined {
  if (!values || values.length === 0) return undefined;
  values.sort(ascending);
  const rank = Math.ceil((p / 100) * values.length);
  return values[Math.min(values.length, Math.max(1, rank)) - 1];
}

interface ModelSums {
  requestsOk: number;
  requestsFailed: number;
  promptTokens: number;
  generatedTokens: number;
  latencyMicros: number;
  queueMax?: number;
  kvMax?: number;
}

/** What one pod did in the window: per container CPU and memory, per served model counters and gauges. */
interface PodAcc {
  seen: boolean;
  cpu: Series[];
  memory: Series[];
  restarts: number[];
  models: ModelSums[];
}

function servedBy(pod: PodInstance): InferenceProfile | undefined {
  return servingProfile(pod.seat);
}

function podAcc(pod: PodInstance): PodAcc {
  const n = pod.seat.containers.length;
  const acc: PodAcc = { seen: false, cpu: [], memory: [], restarts: [], models: [] };
  for (let c = 0; c < n; c++) {
    acc.cpu.push(series(true));
    acc.memory.push(series(false));
    acc.restarts.push(0);
  }
  const models = servedBy(pod)?.models.length ?? 0;
  for (let m = 0; m < models; m++) {
    acc.models.push({
      requestsOk: 0,
      requestsFailed: 0,
      promptTokens: 0,
      generatedTokens: 0,
      latencyMicros: 0,
    });
  }
  return acc;
}

/** The protocol's holder for a container holding a GPU reading, as the agent attributes it (agent/attribution.ts). */
export function holderOf(reading: GpuSlot, pod: PodInstance, container: string): Holder {
  // Whole GPUs and MIG slices carry the exporter's pod labels; a time-sliced GPU's replicas are found by device id,
  // each holding 1/replicas of it.
  const shared = reading.kind === 'shared';
  return {
    namespace: pod.seat.namespace,
    pod: pod.name,
    container,
    share: shared ? 1 / reading.gpu.replicas : 1,
    via: shared ? 'device-id' : 'exporter',
  };
}

/** A counter's amount in the first `fraction` of a slot, as the served counter reports it mid-slot. */
export function partialCount(amount: number, fraction: number): number {
  return Math.floor(amount * fraction);
}

/** The pod's labels as the agent carries them (the first 32), made once per pod. */
const labelsCache = new WeakMap<PodInstance, Record<string, string>>();

function recordLabels(pod: PodInstance): Record<string, string> {
  let labels = labelsCache.get(pod);
  if (!labels) {
    const entries = Object.entries(pod.labels);
    labels =
      entries.length <= MAX_LABELS_PER_POD
        ? pod.labels
        : Object.fromEntries(entries.slice(0, MAX_LABELS_PER_POD));
    labelsCache.set(pod, labels);
  }
  return labels;
}

/** The node record (its usage aside) is the same in every window: made once per node. */
const nodeRecordCache = new WeakMap<SimNode, Omit<NodeRecord, 'cpuUsedCoresAvg' | 'cpuUsedCoresMax'>>();

function nodeRecordBase(node: SimNode): Omit<NodeRecord, 'cpuUsedCoresAvg' | 'cpuUsedCoresMax'> {
  let base = nodeRecordCache.get(node);
  if (!base) {
    base = {
      name: node.name,
      capacity: { cpuCores: node.cpuCores, memoryBytes: node.memoryBytes, gpus: node.gpuCount },
      allocatable: {
        cpuCores: node.allocatableCpuCores,
        memoryBytes: node.allocatableMemoryBytes,
        ...(node.allocatableGpus === undefined ? {} : { gpus: node.allocatableGpus }),
      },
      labels: node.labels,
    };
    nodeRecordCache.set(node, base);
  }
  return base;
}

/** One node's window [start, end): the record the agent on that node would send. */
export function nodeWindow(node: SimNode, start: number, end: number): UsageWindow {
  const { points, exact, slots } = samplePoints(start, end);
  const pods: PodInstance[] = [];
  for (const seat of node.seats) for (const pod of podsDuring(seat, node, start, end)) pods.push(pod);
  const accs: PodAcc[] = [];
  for (const pod of pods) accs.push(podAcc(pod));
  const nodeCpu = series(false);
  const nodeMemory = series(false);
  const readings = gpuSlots(node);
  const gpuSum = new Float64Array(readings.length * VALUES_PER_GPU);
  const gpuMax = new Float64Array(readings.length * VALUES_PER_GPU).fill(Number.NEGATIVE_INFINITY);
  let gpuWeight = 0;

  const alive: PodInstance[] = [];
  const aliveAt: number[] = [];
  for (const point of points) {
    alive.length = 0;
    aliveAt.length = 0;
    for (let p = 0; p < pods.length; p++) {
      const pod = pods[p]!;
      if (point.time >= pod.run.start && point.time < pod.run.end) {
        alive.push(pod);
        aliveAt.push(p);
      }
    }
    const values = nodeValues(node, point.slot, alive);
    observe(nodeCpu, values.cpuCores, point.weight);
    observe(nodeMemory, values.memoryBytes, point.weight);
    // Counters: when sampled, each sample stands for slots/MAX_SAMPLES slots; when exact, a window edge inside a
    // slot gets only its part (the served counters grow through the slot).
    const slotStart = point.slot * SLOT_MS;
    const before = exact ? (Math.max(start, slotStart) - slotStart) / SLOT_MS : 0;
    const after = exact ? (Math.min(end, slotStart + SLOT_MS) - slotStart) / SLOT_MS : 1;
    const scale = slots / MAX_SAMPLES;
    for (let j = 0; j < alive.length; j++) {
      const usage = values.pods[j]!.usage;
      const acc = accs[aliveAt[j]!]!;
      acc.seen = true;
      for (let c = 0; c < acc.cpu.length; c++) {
        observe(acc.cpu[c]!, usage.cpu[c]!, point.weight);
        observe(acc.memory[c]!, usage.memory[c]!, point.weight);
        acc.restarts[c] = usage.restarts[c]!;
      }
      for (let m = 0; m < acc.models.length; m++) {
        const sums = acc.models[m]!;
        const slot = usage.models[m]!;
        if (exact) {
          sums.requestsOk += partialCount(slot.requestsOk, after) - partialCount(slot.requestsOk, before);
          sums.requestsFailed +=
            partialCount(slot.requestsFailed, after) - partialCount(slot.requestsFailed, before);
          sums.promptTokens +=
            partialCount(slot.promptTokens, after) - partialCount(slot.promptTokens, before);
          sums.generatedTokens +=
            partialCount(slot.generatedTokens, after) - partialCount(slot.generatedTokens, before);
          sums.latencyMicros +=
            partialCount(slot.latencyMicros, after) - partialCount(slot.latencyMicros, before);
        } else {
          sums.requestsOk += slot.requestsOk * scale;
          sums.requestsFailed += slot.requestsFailed * scale;
          sums.promptTokens += slot.promptTokens * scale;
          sums.generatedTokens += slot.generatedTokens * scale;
          sums.latencyMicros += slot.latencyMicros * scale;
        }
        sums.queueMax = Math.max(sums.queueMax ?? 0, slot.waiting);
        if (slot.kvCache !== undefined) sums.kvMax = Math.max(sums.kvMax ?? 0, slot.kvCache);
      }
    }
    const gpuValues = values.gpuValues;
    for (let i = 0; i < gpuValues.length; i++) {
      const value = gpuValues[i]!;
      gpuSum[i] = gpuSum[i]! + value * point.weight;
      if (value > gpuMax[i]!) gpuMax[i] = value;
    }
    gpuWeight += point.weight;
  }

  // Holders: every container that held the GPU or slice at any sampled instant of the window. Each claim names a
  // different device and each pod has its own name, so no holder repeats.
  const holders: Holder[][] = [];
  for (let r = 0; r < readings.length; r++) holders.push([]);
  const containers: ContainerRecord[] = [];
  const models: ModelRecord[] = [];
  for (let p = 0; p < pods.length; p++) {
    const acc = accs[p]!;
    if (!acc.seen) continue;
    const pod = pods[p]!;
    const { seat } = pod;
    const labels = recordLabels(pod);
    const oomKills = seat.profile.kind === 'leaky-service';
    for (let c = 0; c < seat.containers.length; c++) {
      const spec = seat.containers[c]!;
      for (const claim of spec.devices) {
        const r = gpuSlotPosition(node, claim.gpu, claim.slice);
        holders[r]!.push(holderOf(readings[r]!, pod, spec.name));
      }
      const cpu = acc.cpu[c]!;
      const memory = acc.memory[c]!;
      containers.push({
        namespace: seat.namespace,
        pod: pod.name,
        container: spec.name,
        cpuCoresAvg: mean(cpu),
        cpuCoresMax: peak(cpu),
        cpuCoresP95: percentile(cpu.values, 95),
        memoryBytesAvg: mean(memory),
        memoryBytesMax: peak(memory),
        requests: spec.requestAmounts,
        limits: spec.limitAmounts,
        podUid: pod.uid,
        qosClass: pod.qosClass,
        workload: pod.workload,
        mlJob: pod.mlJob,
        servedModel: pod.servedModel,
        restarts: acc.restarts[c],
        oomKilled: oomKills && acc.restarts[c]! > 0,
        labels,
      });
    }
    const served = servedBy(pod);
    for (let m = 0; m < acc.models.length; m++) {
      const sums = acc.models[m]!;
      models.push({
        namespace: seat.namespace,
        pod: pod.name,
        model: served!.models[m]!,
        server: served!.server,
        requestsOk: Math.round(sums.requestsOk),
        requestsFailed: Math.round(sums.requestsFailed),
        promptTokens: Math.round(sums.promptTokens),
        generatedTokens: Math.round(sums.generatedTokens),
        latencySecondsSum: Math.round(sums.latencyMicros) / 1e6,
        latencyCount: Math.round(sums.requestsOk),
        queueLengthMax: sums.queueMax,
        kvCacheUsageMax: sums.kvMax,
      });
    }
  }

  const gpus: GpuRecord[] = [];
  for (let r = 0; r < readings.length; r++) {
    const reading = readings[r]!;
    const at = r * VALUES_PER_GPU;
    const some = gpuWeight > 0;
    gpus.push({
      id: reading.id,
      uuid: reading.gpu.uuid,
      index: reading.gpu.index,
      model: reading.gpu.model.name,
      migProfile: reading.slice?.profile.name,
      migInstanceId: reading.slice?.instanceId,
      activityAvg: some ? gpuSum[at + ACTIVITY]! / gpuWeight : undefined,
      activityMax: some ? gpuMax[at + ACTIVITY] : undefined,
      tensorActivityAvg: some ? gpuSum[at + TENSOR]! / gpuWeight : undefined,
      memoryUsedBytesMax: some ? gpuMax[at + MEMORY_USED_MIB]! * MIB : undefined,
      memoryTotalBytes: reading.memoryTotalMiB * MIB,
      powerWattsAvg: some && reading.physical ? gpuSum[at + POWER_WATTS]! / gpuWeight : undefined,
      temperatureCelsiusMax: some && reading.physical ? gpuMax[at + TEMPERATURE] : undefined,
      smClockMhzAvg: some && reading.physical ? gpuSum[at + SM_CLOCK]! / gpuWeight : undefined,
      lastXid: 0,
      holders: holders[r]!,
    });
  }

  return {
    start: new Date(start).toISOString(),
    end: new Date(end).toISOString(),
    node: {
      ...nodeRecordBase(node),
      cpuUsedCoresAvg: mean(nodeCpu),
      cpuUsedCoresMax: peak(nodeCpu),
      memoryUsedBytesAvg: mean(nodeMemory),
      memoryUsedBytesMax: peak(nodeMemory),
      simulated: true,
    },
    gpus,
    containers,
    models,
  };
}

/** Every node's usage window for [windowStart, windowStart + windowMs). */
export function windowsAt(cluster: Cluster, windowStart: number, windowMs: number): UsageWindow[] {
  if (!(windowMs > 0)) throw new Error('windowMs must be positive');
  const windows: UsageWindow[] = [];
  for (const node of cluster.nodes) windows.push(nodeWindow(node, windowStart, windowStart + windowMs));
  return windows;
}
