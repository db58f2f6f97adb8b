// The smallest MIG profile a single-GPU workload fits in: usable memory ≥ its peak × (1 + margin) and a share of
// the board's SMs ≥ its p95 activity, from the A100 40GB/80GB, H100 and H200 profile tables.
import { confidenceOf } from './confidence.ts';
import { type Context, containerPlace, recommendationId } from './context.ts';
import type { GpuSpec } from './gpu-catalog.ts';
import { gpuUsage } from './gpu-usage.ts';
import { MIG_PROFILES, type MigProfileSpec } from './mig-profiles.ts';
import { GIB } from './options.ts';
import { containerPatch, type ResourceMap } from './patch.ts';
import { deviceHour, migSliceHour, priceFactorOf } from './pricing.ts';
import { gib, pct } from './quantities.ts';
import { cents, hoursOf, perMonth } from './stats.ts';
import type { GpuSeries, Recommendation, Target } from './types.ts';
import { kindInfo } from './workload-kinds.ts';

/** The smallest profile (fewest compute slices, then least memory) meeting both needs; undefined if none. */
export function smallestFittingProfile(
  spec: GpuSpec,
  memoryNeededBytes: number,
  computeNeeded: number,
): MigProfileSpec | undefined {
  const profiles = [...(MIG_PROFILES[spec.key] ?? [])].sort(
    (a, b) => a.computeSlices - b.computeSlices || a.memoryGiB - b.memoryGiB,
  );
  const boardSms = spec.sms ?? 1;
  return profiles.find(
    (profile) => profile.memoryGiB * GIB >= memoryNeededBytes && profile.sms / boardSms >= computeNeeded,
  );
}

export function recommendMigProfile(series: GpuSeries, ctx: Context): Recommendation | undefined {
  const o = ctx.options;
  const usage = gpuUsage(series, ctx.now, o.historyHours, o.gpuActivityPercentile, ctx.prices);
  const spec = usage.spec;
  if (!series.container || !spec || !MIG_PROFILES[spec.key]) return undefined;
  // One device per pod, not time-sliced: a shared GPU's activity is the whole board's, not this pod's.
  if (usage.maxDevicesPerPod !== 1 || usage.shared) return undefined;
  if (usage.points < o.minPoints || usage.historyHours < o.minHistoryHours) return undefined;
  if (usage.memoryPeak === undefined || usage.activityP95 === undefined) return undefined;

  const memoryNeeded = usage.memoryPeak * (1 + o.gpuMemoryMarginFraction);
  const computeNeeded = usage.activityP95 * (1 + o.migComputeMarginFraction);
  const profile = smallestFittingProfile(spec, memoryNeeded, computeNeeded);
  if (!profile) return undefined;
  const latest = usage.windows.reduce((best, window) => (window.start > best.start ? window : best));
  const currentHour = deviceHour(ctx.prices, latest);
  const proposedHour = migSliceHour(ctx.prices, usage.model, profile.name);
  if (proposedHour >= currentHour - 1e-12 || profile.name === usage.migProfile) return undefined;

  let delta = 0;
  for (const slot of usage.podSlots)
    delta +=
      hoursOf(slot) *
      (deviceHour(ctx.prices, slot.devices[0]!) - proposedHour * priceFactorOf(slot.devices[0]!));
  const saving = perMonth(delta, usage.spanHours);
  const target: Target = { ...series.workload, container: series.container };
  const currentResource = usage.migProfile ? `nvidia.com/mig-${usage.migProfile}` : 'nvidia.com/gpu';
  const resources: ResourceMap = { [currentResource]: null, [`nvidia.com/mig-${profile.name}`]: 1 };
  const change: { limits: ResourceMap; requests?: ResourceMap } = { limits: resources };
  if (kindInfo(series.workload.kind).builtin) change.requests = resources;
  const computeShare = profile.sms / (spec.sms ?? 1);

  return {
    id: recommendationId('mig-profile', target),
    kind: 'mig-profile',
    action: 'use-mig',
    target,
    current: { gpu: usage.migProfile ? `${spec.key} ${usage.migProfile}` : `${spec.key} (whole)` },
    proposed: { gpu: `${spec.key} ${profile.name}`, migProfile: profile.name },
    monthlySaving: cents(saving),
    currency: ctx.prices.currency,
    confidence: confidenceOf(usage.historyHours, usage.points, o.fullConfidencePoints),
    reason:
      `Peak GPU memory ${gib(usage.memoryPeak)} (+${pct(o.gpuMemoryMarginFraction)} = ${gib(memoryNeeded)}) and p95 ` +
      `activity ${pct(usage.activityP95)} fit a ${profile.name} slice (${profile.memoryGiB} GiB, ` +
      `${pct(computeShare)} of the SMs), the smallest ${spec.key} profile that does.`,
    patch: containerPatch(
      series.workload,
      series.container,
      change,
      containerPlace(ctx, series.workload, series.container, series.replicaType),
    ),
    details: {
      memoryPeakBytes: usage.memoryPeak,
      memoryNeededBytes: Math.round(memoryNeeded),
      activityP95: Math.round(usage.activityP95 * 10000) / 10000,
      profileMemoryGiB: profile.memoryGiB,
      profileComputeShare: Math.round(computeShare * 10000) / 10000,
      historyHours: Math.round(usage.historyHours * 100) / 100,
      points: usage.points,
    },
  };
}
