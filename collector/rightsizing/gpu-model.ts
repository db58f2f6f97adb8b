// A cheaper GPU product for a single-GPU workload whose memory fits it and whose activity is low enough that the
// slower card still runs it with headroom; priced from the PriceLookup, chosen among products the cluster has.
import { confidenceOf } from './confidence.ts';
import { type Context, recommendationId } from './context.ts';
import { type GpuSpec, gpuSpecOf, slowdown } from './gpu-catalog.ts';
import { gpuUsage } from './gpu-usage.ts';
import { GIB } from './options.ts';
import { podSpecPatch } from './patch.ts';
import { priceFactorOf } from './pricing.ts';
import { gib, pct } from './quantities.ts';
import { cents, hoursOf, perMonth } from './stats.ts';
import type { GpuSeries, Recommendation, Target } from './types.ts';

export interface ModelChoice {
  spec: GpuSpec;
  hourly: number;
  projectedActivity: number;
}

/** The cheapest candidate whose memory holds the need and which runs the p95 activity at or under the ceiling. */
export function cheapestFit(
  current: GpuSpec,
  candidates: readonly GpuSpec[],
  memoryNeededBytes: number,
  activityP95: number,
  maxProjectedActivity: number,
  hourly: (spec: GpuSpec) => number,
): ModelChoice | undefined {
  let best: ModelChoice | undefined;
  for (const spec of candidates) {
    if (spec.key === current.key || spec.memoryGiB * GIB < memoryNeededBytes) continue;
    const projectedActivity = activityP95 * slowdown(current, spec);
    if (projectedActivity > maxProjectedActivity) continue;
    const price = hourly(spec);
    if (!best || price < best.hourly || (price === best.hourly && spec.memoryGiB > best.spec.memoryGiB)) {
      best = { spec, hourly: price, projectedActivity };
    }
  }
  return best;
}

/** Products a workload may move to: the configured list, else every product seen in the input. */
export function candidateSpecs(names: readonly string[]): GpuSpec[] {
  const specs = new Map<string, GpuSpec>();
  for (const name of names) {
    const spec = gpuSpecOf(name);
    if (spec) specs.set(spec.key, spec);
  }
  return [...specs.values()];
}

export function recommendGpuModel(
  series: GpuSeries,
  ctx: Context,
  candidates: readonly GpuSpec[],
): Recommendation | undefined {
  const o = ctx.options;
  const usage = gpuUsage(series, ctx.now, o.historyHours, o.gpuActivityPercentile, ctx.prices);
  const current = usage.spec;
  // Whole, single, unshared GPUs: multi-GPU jobs depend on their interconnect; slices are mig-profile's.
  if (!current || usage.maxDevicesPerPod !== 1 || usage.shared || usage.migProfile) return undefined;
  if (usage.points < o.minPoints || usage.historyHours < o.minHistoryHours) return undefined;
  if (usage.memoryPeak === undefined || usage.activityP95 === undefined) return undefined;

  const memoryNeeded = usage.memoryPeak * (1 + o.gpuMemoryMarginFraction);
  const currentHour = ctx.prices.gpuHour(usage.model);
  const choice = cheapestFit(
    current,
    candidates,
    memoryNeeded,
    usage.activityP95,
    o.modelMaxProjectedActivity,
    (spec) => ctx.prices.gpuHour(spec.name),
  );
  if (!choice || choice.hourly >= currentHour) return undefined;

  // Hours held, each weighed by its node's price factor (a spot node's discount applies to both models).
  const hours = usage.podSlots.reduce(
    (sum, slot) => sum + hoursOf(slot) * priceFactorOf(slot.devices[0]!),
    0,
  );
  const saving = perMonth(hours * (currentHour - choice.hourly), usage.spanHours);
  const target: Target = { ...series.workload, ...(series.container ? { container: series.container } : {}) };
  return {
    id: recommendationId('gpu-model', target),
    kind: 'gpu-model',
    action: 'change-gpu-model',
    target,
    current: { gpuModel: current.key, hourly: currentHour },
    proposed: { gpuModel: choice.spec.key, hourly: choice.hourly },
    monthlySaving: cents(saving),
    currency: ctx.prices.currency,
    confidence: confidenceOf(usage.historyHours, usage.points, o.fullConfidencePoints),
    reason:
      `Peak memory ${gib(usage.memoryPeak)} (+${pct(o.gpuMemoryMarginFraction)}) fits a ${choice.spec.key} ` +
      `(${choice.spec.memoryGiB} GiB), and its p95 activity ${pct(usage.activityP95)} on the ${current.key} would be ` +
      `about ${pct(choice.projectedActivity)} there, within the ${pct(o.modelMaxProjectedActivity)} ceiling.`,
    patch: podSpecPatch(
      series.workload,
      { nodeSelector: { 'nvidia.com/gpu.product': choice.spec.productLabel } },
      series.replicaType ? { replicaType: series.replicaType } : {},
    ),
    details: {
      memoryPeakBytes: usage.memoryPeak,
      activityP95: Math.round(usage.activityP95 * 10000) / 10000,
      slowdown: Math.round(slowdown(current, choice.spec) * 1000) / 1000,
      projectedActivity: Math.round(choice.projectedActivity * 10000) / 10000,
      historyHours: Math.round(usage.historyHours * 100) / 100,
      points: usage.points,
    },
  };
}
