// A pod holding several GPUs that never uses all of them at once: request the most it used (Kubecost's
// "Optimize" card, with the number to request and the patch).
import { confidenceOf } from './confidence.ts';
import { type Context, containerPlace, recommendationId } from './context.ts';
import { gpuUsage, type PodSlot } from './gpu-usage.ts';
import { containerPatch, type ResourceMap } from './patch.ts';
import { deviceHour } from './pricing.ts';
import { gib, pct } from './quantities.ts';
import { cents, hoursOf, maxOf, perMonth } from './stats.ts';
import type { GpuSeries, GpuWindow, Recommendation, Target } from './types.ts';
import { kindInfo } from './workload-kinds.ts';

/** A GPU is in use in a window when it was busy at all or holds real memory (a rank at a barrier keeps tensors). */
export function deviceUsed(device: GpuWindow, usedActivity: number, usedMemoryBytes: number): boolean {
  const activity = device.activityMax ?? device.activityAvg ?? 0;
  return activity >= usedActivity || (device.memoryUsedMax ?? 0) >= usedMemoryBytes;
}

export function recommendGpuCount(series: GpuSeries, ctx: Context): Recommendation | undefined {
  const o = ctx.options;
  const usage = gpuUsage(series, ctx.now, o.historyHours, o.gpuActivityPercentile, ctx.prices);
  // Whole, unshared GPUs only: slices and shares are sized by mig-profile and gpu-sharing.
  if (!series.container || usage.maxDevicesPerPod < 2 || usage.shared || usage.migProfile) return undefined;
  if (usage.points < o.minPoints || usage.historyHours < o.minHistoryHours) return undefined;

  const usedIn = (slot: PodSlot) =>
    slot.devices.filter((device) => deviceUsed(device, o.gpuUsedActivity, o.gpuUsedMemoryBytes)).length;
  const used = maxOf(usage.podSlots.map(usedIn)) ?? 0;
  const held = usage.maxDevicesPerPod;
  // Nothing used at all is an idle GPU, not an oversized request: gpu-idle speaks for it.
  if (used === 0 || used >= held) return undefined;

  let extraCost = 0;
  for (const slot of usage.podSlots) {
    const spare = slot.devices.length - used;
    if (spare > 0) extraCost += spare * hoursOf(slot) * deviceHour(ctx.prices, slot.devices[0]!);
  }
  const saving = perMonth(extraCost, usage.spanHours);
  const target: Target = { ...series.workload, ...(series.container ? { container: series.container } : {}) };
  const container = series.container;
  // Extended resources: limits, and requests when the kind merges safely (they must be equal when both are set).
  const change: { limits: ResourceMap; requests?: ResourceMap } = { limits: { 'nvidia.com/gpu': used } };
  if (kindInfo(series.workload.kind).builtin) change.requests = { 'nvidia.com/gpu': used };
  const days = (usage.historyHours / 24).toFixed(1);

  return {
    id: recommendationId('gpu-count', target),
    kind: 'gpu-count',
    action: 'reduce-gpus',
    target,
    current: { gpusPerPod: held },
    proposed: { gpusPerPod: used },
    monthlySaving: cents(saving),
    currency: ctx.prices.currency,
    confidence: confidenceOf(usage.historyHours, usage.points, o.fullConfidencePoints),
    reason:
      `Each pod holds ${held} ${usage.model ?? 'GPUs'} but in ${days} days never used more than ${used} at once ` +
      `(≥ ${pct(o.gpuUsedActivity)} activity or ≥ ${gib(o.gpuUsedMemoryBytes)}), so request ${used} ` +
      `(and match the processes per node).`,
    patch: containerPatch(
      series.workload,
      container,
      change,
      containerPlace(ctx, series.workload, series.container, series.replicaType),
    ),
    details: {
      gpusHeld: held,
      gpusUsedMax: used,
      usedActivityThreshold: o.gpuUsedActivity,
      usedMemoryBytes: o.gpuUsedMemoryBytes,
      historyHours: Math.round(usage.historyHours * 100) / 100,
      points: usage.points,
    },
  };
}
