// One GPU series summarised the way every GPU kind needs it: per pod and window the devices held, the p95 of
// activity (in whole-board units, so a MIG slice's 50% on a 1g slice is ~7% of the board), the memory peak, and
// what holding them costs.
import { parseMigProfile } from '../cost/mig.ts';
import { type GpuSpec, gpuSpecOf } from './gpu-catalog.ts';
import { migProfileOf } from './mig-profiles.ts';
import { deviceHour } from './pricing.ts';
import {
  bySlot,
  historyHoursOf,
  hoursOf,
  inHistory,
  maxOf,
  percentile,
  perMonth,
  present,
  spanHours,
} from './stats.ts';
import type { GpuSeries, GpuWindow, Millis, PriceLookup } from './types.ts';

/** The devices one pod held in one window. */
export interface PodSlot {
  pod: string;
  start: Millis;
  end: Millis;
  devices: GpuWindow[];
}

export interface GpuUsage {
  windows: GpuWindow[];
  podSlots: PodSlot[];
  /** Pod-windows seen. */
  points: number;
  historyHours: number;
  spanHours: number;
  /** The latest window's product string and spec. */
  model: string | undefined;
  spec: GpuSpec | undefined;
  /** Set when the pods hold MIG instances (the latest window's profile). */
  migProfile: string | undefined;
  /** True when any holder shares its device (time-slicing, MPS). */
  shared: boolean;
  /** Most devices one pod held in one window. */
  maxDevicesPerPod: number;
  /** p95 of per-window mean activity, in whole-board units. */
  activityP95: number | undefined;
  /** Highest memory any one device had allocated. */
  memoryPeak: number | undefined;
  /** Memory of the device held (the latest window's). */
  memoryTotal: number | undefined;
  /** What holding these devices costs a month at the observed duty cycle. */
  costPerMonth: number;
}

/** Activity of a window in whole-board units: a MIG slice's activity scaled by its share of the board's SMs. */
export function boardActivity(window: GpuWindow, value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!window.migProfile) return value;
  const spec = gpuSpecOf(window.model);
  const profile = migProfileOf(spec?.key, window.migProfile);
  if (spec?.sms && profile) return (value * profile.sms) / spec.sms;
  // A board or profile without a table entry: its GPU instance's compute slices over 7.
  const slices = parseMigProfile(window.migProfile)?.computeSlices;
  return slices ? (value * slices) / 7 : value;
}

export function podSlotsOf(windows: readonly GpuWindow[]): PodSlot[] {
  const slots: PodSlot[] = [];
  for (const { items } of bySlot(windows)) {
    const byPod = new Map<string, GpuWindow[]>();
    for (const item of items) {
      const list = byPod.get(item.pod);
      if (list) list.push(item);
      else byPod.set(item.pod, [item]);
    }
    for (const [pod, devices] of byPod) {
      // One device seen twice in a window (two exporters) is still one device.
      const unique = [...new Map(devices.map((device) => [device.gpuId, device])).values()];
      const first = unique[0]!;
      slots.push({ pod, start: first.start, end: first.end, devices: unique });
    }
  }
  return slots;
}

/**
 * Five recommendation kinds look at each GPU series with the same arguments: the summary is computed once per
 * series and argument set (it was a quarter of the engine's time on a simulated cluster). The series and its
 * windows are not changed after they are handed to the engine.
 */
const summaries = new WeakMap<GpuSeries, { key: readonly unknown[]; usage: GpuUsage }>();

export function gpuUsage(
  series: GpuSeries,
  now: Millis,
  historyHours: number,
  percentileOf: number,
  prices: PriceLookup,
): GpuUsage {
  const key = [now, historyHours, percentileOf, prices, series.windows.length] as const;
  const cached = summaries.get(series);
  if (cached?.key.every((value, i) => value === key[i])) return cached.usage;
  const usage = summarize(series, now, historyHours, percentileOf, prices);
  summaries.set(series, { key, usage });
  return usage;
}

function summarize(
  series: GpuSeries,
  now: Millis,
  historyHours: number,
  percentileOf: number,
  prices: PriceLookup,
): GpuUsage {
  const windows = inHistory(series.windows, now, historyHours);
  const podSlots = podSlotsOf(windows);
  const latest = windows.reduce<GpuWindow | undefined>(
    (best, window) => (!best || window.start > best.start ? window : best),
    undefined,
  );
  const span = spanHours(windows, now, historyHours);
  const heldCost = windows.reduce((sum, window) => sum + hoursOf(window) * deviceHour(prices, window), 0);
  return {
    windows,
    podSlots,
    points: podSlots.length,
    historyHours: historyHoursOf(windows),
    spanHours: span,
    model: latest?.model,
    spec: gpuSpecOf(latest?.model),
    migProfile: latest?.migProfile,
    shared: windows.some((window) => (window.share ?? 1) < 1),
    maxDevicesPerPod: maxOf(podSlots.map((slot) => slot.devices.length)) ?? 0,
    activityP95: percentile(
      present(windows.map((window) => boardActivity(window, window.activityAvg))),
      percentileOf,
    ),
    memoryPeak: maxOf(present(windows.map((window) => window.memoryUsedMax))),
    memoryTotal: latest?.memoryTotal,
    costPerMonth: perMonth(heldCost, span),
  };
}
