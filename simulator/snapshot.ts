// A node at one instant (one slot): each pod's usage, each GPU's and MIG slice's readings with the pods holding it,
// and the node's totals. The one place GPU readings are derived from what pods do, so the window records
// (usage.ts) and the live endpoints (serve) cannot disagree:
//  - a whole GPU reads what its one holder does;
//  - a time-sliced GPU reads the sum of its sharers (dcgm-exporter reports the physical GPU);
//  - a MIG slice reads its holder; the MIG parent reads its slices weighted by their compute slices;
//  - power, temperature and clock are per physical GPU (DCGM has none per MIG instance), from its activity.
// The readings are computed into a flat array (`gpuValues`), which backfill sums over millions of windows
// without making objects; `snapshotOf` wraps them in objects for the live endpoints.
import { type PodSlot, podSlot } from './behaviour.ts';
import type { SimGpu, SimMigSlice, SimNode } from './cluster.ts';
import type { PodInstance } from './pods.ts';

export type GpuReadingKind = 'whole' | 'shared' | 'mig-parent' | 'mig-slice';

/** What a GPU reading is, fixed for the node: one per physical GPU, then one per MIG slice after its parent. */
export interface GpuSlot {
  kind: GpuReadingKind;
  gpu: SimGpu;
  slice?: SimMigSlice;
  /** GPU UUID, or `<parent UUID>/<GPU instance id>` for a MIG slice. */
  id: string;
  memoryTotalMiB: number;
  memoryReservedMiB: number;
  /** Whether the reading has power, temperature and clock (physical GPUs). */
  physical: boolean;
}

/** Values per reading in `gpuValues`, in this order. */
export const ACTIVITY = 0;
export const TENSOR = 1;
export const MEMORY_USED_MIB = 2;
export const POWER_WATTS = 3;
export const TEMPERATURE = 4;
export const SM_CLOCK = 5;
export const VALUES_PER_GPU = 6;

export interface PodReading {
  pod: PodInstance;
  usage: PodSlot;
}

export interface GpuHolder {
  pod: PodInstance;
  container: string;
  /** Time-slicing replica the container was given (`<uuid>::<replica>`). */
  replica?: number;
}

export interface GpuReading extends GpuSlot {
  activity: number;
  tensor: number;
  memoryUsedMiB: number;
  powerWatts?: number;
  temperatureCelsius?: number;
  smClockMhz?: number;
  holders: GpuHolder[];
}

export interface NodeSnapshot {
  slot: number;
  pods: PodReading[];
  gpus: GpuReading[];
  cpuCores: number;
  memoryBytes: number;
}

export interface NodeValues {
  pods: PodReading[];
  /** VALUES_PER_GPU numbers per entry of gpuSlots(node). */
  gpuValues: Float64Array;
  cpuCores: number;
  memoryBytes: number;
}

const ratio6 = (value: number) => Math.round(Math.min(1, Math.max(0, value)) * 1e6) / 1e6;

const gpuSlotCache = new WeakMap<SimNode, { slots: GpuSlot[]; positions: number[][] }>();

function layoutOf(node: SimNode): { slots: GpuSlot[]; positions: number[][] } {
  let layout = gpuSlotCache.get(node);
  if (layout) return layout;
  const slots: GpuSlot[] = [];
  const positions: number[][] = [];
  for (const gpu of node.gpus) {
    const m = gpu.model;
    const at = [slots.length];
    slots.push({
      kind: gpu.slices.length > 0 ? 'mig-parent' : gpu.replicas > 1 ? 'shared' : 'whole',
      gpu,
      id: gpu.uuid,
      memoryTotalMiB: m.memoryMiB,
      memoryReservedMiB: m.reservedMiB,
      physical: true,
    });
    for (const slice of gpu.slices) {
      at.push(slots.length);
      slots.push({
        kind: 'mig-slice',
        gpu,
        slice,
        id: slice.id,
        memoryTotalMiB: slice.profile.memoryMiB,
        memoryReservedMiB: 0,
        physical: false,
      });
    }
    positions.push(at);
  }
  layout = { slots, positions };
  gpuSlotCache.set(node, layout);
  return layout;
}

/** The node's GPU readings, in the order snapshots and window records list them. */
export function gpuSlots(node: SimNode): GpuSlot[] {
  return layoutOf(node).slots;
}

/** Position in gpuSlots(node) of a GPU (`slice` undefined) or of one of its MIG slices. */
export function gpuSlotPosition(node: SimNode, gpu: number, slice?: number): number {
  return layoutOf(node).positions[gpu]![slice === undefined ? 0 : slice + 1]!;
}

/** The node at slot `slot` with `pods` running (the caller decides which pods are alive), as numbers. */
export function nodeValues(node: SimNode, slot: number, pods: readonly PodInstance[]): NodeValues {
  const { slots, positions } = layoutOf(node);
  const values = new Float64Array(slots.length * VALUES_PER_GPU);
  const readings: PodReading[] = [];
  let cpuCores = node.systemCpuCores;
  let memoryBytes = node.systemMemoryBytes;

  for (const pod of pods) {
    const usage = podSlot(pod, slot);
    readings.push({ pod, usage });
    for (const cpu of usage.cpu) cpuCores += cpu;
    for (const memory of usage.memory) memoryBytes += memory;
    let d = 0;
    for (const container of pod.seat.containers) {
      for (const claim of container.devices) {
        const use = usage.devices[d++]!;
        const at = positions[claim.gpu]![claim.slice === undefined ? 0 : claim.slice + 1]! * VALUES_PER_GPU;
        values[at + ACTIVITY] = values[at + ACTIVITY]! + use.activity;
        values[at + TENSOR] = values[at + TENSOR]! + use.tensor;
        values[at + MEMORY_USED_MIB] = values[at + MEMORY_USED_MIB]! + use.memoryMiB;
      }
    }
  }

  for (let r = 0; r < slots.length; r++) {
    const s = slots[r]!;
    const at = r * VALUES_PER_GPU;
    if (s.kind === 'mig-parent') continue; // after its slices, below
    values[at + ACTIVITY] = ratio6(values[at + ACTIVITY]!);
    values[at + TENSOR] = ratio6(values[at + TENSOR]!);
    values[at + MEMORY_USED_MIB] = Math.min(
      s.memoryTotalMiB - s.memoryReservedMiB,
      values[at + MEMORY_USED_MIB]!,
    );
  }
  for (let g = 0; g < positions.length; g++) {
    const at = positions[g]!;
    const parent = at[0]! * VALUES_PER_GPU;
    const gpu = slots[at[0]!]!.gpu;
    if (at.length > 1) {
      const computeSlices = gpu.model.migSlices ?? 7;
      let activity = 0;
      let tensor = 0;
      let memory = 0;
      for (let s = 1; s < at.length; s++) {
        const slice = slots[at[s]!]!.slice!;
        const v = at[s]! * VALUES_PER_GPU;
        activity += (values[v + ACTIVITY]! * slice.profile.computeSlices) / computeSlices;
        tensor += (values[v + TENSOR]! * slice.profile.computeSlices) / computeSlices;
        memory += values[v + MEMORY_USED_MIB]!;
      }
      values[parent + ACTIVITY] = ratio6(activity);
      values[parent + TENSOR] = ratio6(tensor);
      values[parent + MEMORY_USED_MIB] = memory;
    }
    const activity = values[parent + ACTIVITY]!;
    const m = gpu.model;
    values[parent + POWER_WATTS] =
      Math.round((m.idleWatts + (m.maxWatts - m.idleWatts) * activity) * 1000) / 1000;
    values[parent + TEMPERATURE] = Math.round(30 + 45 * activity) + gpu.temperatureOffset;
    values[parent + SM_CLOCK] = activity > 0.02 ? m.maxSmClockMhz : m.idleSmClockMhz;
  }
  return { pods: readings, gpuValues: values, cpuCores, memoryBytes };
}

/** The node at slot `slot` with `pods` running, with each GPU reading as an object naming its holders. */
export function snapshotOf(node: SimNode, slot: number, pods: readonly PodInstance[]): NodeSnapshot {
  const { slots, positions } = layoutOf(node);
  const values = nodeValues(node, slot, pods);
  const holders: GpuHolder[][] = slots.map(() => []);
  for (const pod of pods) {
    for (const container of pod.seat.containers) {
      for (const claim of container.devices) {
        const holder: GpuHolder = { pod, container: container.name };
        if (claim.replica !== undefined) holder.replica = claim.replica;
        holders[positions[claim.gpu]![claim.slice === undefined ? 0 : claim.slice + 1]!]!.push(holder);
      }
    }
  }
  const gpus = slots.map((s, r): GpuReading => {
    const v = values.gpuValues;
    const at = r * VALUES_PER_GPU;
    const reading: GpuReading = {
      ...s,
      activity: v[at + ACTIVITY]!,
      tensor: v[at + TENSOR]!,
      memoryUsedMiB: v[at + MEMORY_USED_MIB]!,
      holders: holders[r]!,
    };
    if (s.physical) {
      reading.powerWatts = v[at + POWER_WATTS]!;
      reading.temperatureCelsius = v[at + TEMPERATURE]!;
      reading.smClockMhz = v[at + SM_CLOCK]!;
    }
    return reading;
  });
  return { slot, pods: values.pods, gpus, cpuCores: values.cpuCores, memoryBytes: values.memoryBytes };
}
