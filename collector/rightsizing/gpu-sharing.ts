// Low-activity pods that each hold a whole GPU can share one: by joining a time-sliced pool the cluster already
// runs for that product, or, several of one product and namespace together, by a new time-slicing or MPS pool.
// The ratio is what ANY members fit together (the scheduler packs by count, not by use): the busiest one's p95
// activity and the largest memory peak bound it.
import { stringify } from 'yaml';
import { confidenceOf } from './confidence.ts';
import { type Context, containerPlace, recommendationId } from './context.ts';
import { type GpuKey, gpuKeyOf } from './gpu-catalog.ts';
import { type GpuUsage, gpuUsage } from './gpu-usage.ts';
import { GIB, type RightsizingOptions } from './options.ts';
import { containerPatch, podSpecPatch, type ResourceMap } from './patch.ts';
import { gib, pct } from './quantities.ts';
import { cents, maxOf } from './stats.ts';
import type { GpuSeries, Patch, Recommendation, Target } from './types.ts';
import { kindInfo } from './workload-kinds.ts';

export type SharingMode = 'time-slicing' | 'mps';

interface Member {
  series: GpuSeries;
  usage: GpuUsage;
  pods: number;
  inference: boolean;
}

/**
 * Pods per GPU: min(ceiling, ⌊target activity / busiest p95⌋, ⌊GPU memory / (largest peak × (1 + margin))⌋,
 * pods in the group). The memory bound is the same for both modes: time-slicing isolates no memory, and MPS caps
 * each client at memory / replicas.
 */
export function sharingRatio(
  activities: readonly number[],
  memoryPeaks: readonly number[],
  gpuMemoryBytes: number,
  pods: number,
  options: { shareTargetActivity: number; shareMaxRatio: number; gpuMemoryMarginFraction: number },
): number {
  const busiest = maxOf(activities) ?? 0;
  const largest = (maxOf(memoryPeaks) ?? 0) * (1 + options.gpuMemoryMarginFraction);
  const byActivity =
    busiest > 0 ? Math.floor(options.shareTargetActivity / busiest + 1e-9) : options.shareMaxRatio;
  const byMemory = largest > 0 ? Math.floor(gpuMemoryBytes / largest + 1e-9) : options.shareMaxRatio;
  return Math.max(1, Math.min(options.shareMaxRatio, byActivity, byMemory, pods));
}

/** The NVIDIA device plugin's sharing config for the node pool of that product. */
export function deviceConfig(mode: SharingMode, replicas: number): string {
  const sharing = { renameByDefault: true, resources: [{ name: 'nvidia.com/gpu', replicas }] };
  return stringify({ version: 'v1', sharing: mode === 'mps' ? { mps: sharing } : { timeSlicing: sharing } });
}

/**
 * Time-sliced pools the input already shows: product → replicas per GPU (1 / the smallest share any holder of a
 * whole, shared device of that product has).
 */
export function existingPools(allSeries: readonly GpuSeries[]): Map<GpuKey, number> {
  const pools = new Map<GpuKey, number>();
  for (const series of allSeries) {
    for (const window of series.windows) {
      const share = window.share ?? 1;
      const key = gpuKeyOf(window.model);
      if (share >= 1 || window.migProfile || !key) continue;
      pools.set(key, Math.max(pools.get(key) ?? 1, Math.round(1 / share)));
    }
  }
  return pools;
}

const fitsWays = (member: Member, ways: number, gpuMemory: number, o: RightsizingOptions) =>
  member.usage.activityP95! <= o.shareTargetActivity / ways + 1e-12 &&
  member.usage.memoryPeak! * (1 + o.gpuMemoryMarginFraction) <= gpuMemory / ways;

function gpuMemoryOf(members: readonly Member[]): number {
  const seen = maxOf(members.map((member) => member.usage.memoryTotal ?? 0)) ?? 0;
  return seen > 0 ? seen : members[0]!.usage.spec!.memoryGiB * GIB;
}

function shareRecommendation(
  member: Member,
  ctx: Context,
  ratio: number,
  mode: SharingMode,
  how: { pool: boolean; groupPods: number; reason: string },
): Recommendation {
  const o = ctx.options;
  const { series, usage } = member;
  const container = series.container!;
  const target: Target = { ...series.workload, container };
  const spec = usage.spec!;
  let patch: Patch;
  if (how.pool) {
    // Join the existing pool: same `nvidia.com/gpu` request, on the nodes GPU feature discovery labels as shared
    // that many ways (it appends -SHARED to the product label there).
    patch = podSpecPatch(
      series.workload,
      {
        nodeSelector: {
          'nvidia.com/gpu.product': `${spec.productLabel}-SHARED`,
          'nvidia.com/gpu.replicas': String(ratio),
        },
      },
      series.replicaType ? { replicaType: series.replicaType } : {},
    );
  } else {
    const resources: ResourceMap = { 'nvidia.com/gpu': null, 'nvidia.com/gpu.shared': 1 };
    const change: { limits: ResourceMap; requests?: ResourceMap } = { limits: resources };
    if (kindInfo(series.workload.kind).builtin) change.requests = resources;
    patch = containerPatch(
      series.workload,
      container,
      change,
      containerPlace(ctx, series.workload, container, series.replicaType),
    );
  }
  return {
    id: recommendationId('gpu-sharing', target),
    kind: 'gpu-sharing',
    action: how.pool ? 'join-shared-pool' : 'share-gpu',
    target,
    current: { gpuResource: 'nvidia.com/gpu', gpuShare: 1 },
    proposed: {
      gpuResource: how.pool ? 'nvidia.com/gpu' : 'nvidia.com/gpu.shared',
      gpuShare: 1 / ratio,
      sharingMode: mode,
      replicasPerGpu: ratio,
    },
    // The cost model bills a shared holder its share (1/replicas) of the GPU.
    monthlySaving: cents(usage.costPerMonth * (1 - 1 / ratio)),
    currency: ctx.prices.currency,
    confidence: confidenceOf(usage.historyHours, usage.points, o.fullConfidencePoints),
    reason: how.reason,
    patch,
    details: {
      sharingMode: mode,
      replicasPerGpu: ratio,
      joinsExistingPool: how.pool,
      groupPods: how.groupPods,
      activityP95: Math.round(usage.activityP95! * 10000) / 10000,
      memoryPeakBytes: usage.memoryPeak!,
      ...(how.pool ? {} : { deviceConfig: deviceConfig(mode, ratio) }),
      historyHours: Math.round(usage.historyHours * 100) / 100,
    },
  };
}

/**
 * A candidate that fits an existing time-sliced pool of its product (p95 ≤ 0.8 / R, peak × 1.15 ≤ memory / R)
 * joins it; the others of a product and namespace form a new pool among themselves when at least two fit together.
 */
export function recommendGpuSharing(
  allSeries: readonly GpuSeries[],
  ctx: Context,
  isInference: (series: GpuSeries) => boolean,
  pools: Map<GpuKey, number> = existingPools(allSeries),
): Recommendation[] {
  const o = ctx.options;
  const groups = new Map<string, Member[]>();
  for (const series of allSeries) {
    if (!series.container) continue;
    const usage = gpuUsage(series, ctx.now, o.historyHours, o.gpuActivityPercentile, ctx.prices);
    if (!usage.spec || usage.maxDevicesPerPod !== 1 || usage.shared || usage.migProfile) continue;
    if (usage.points < o.minPoints || usage.historyHours < o.minHistoryHours) continue;
    if (usage.activityP95 === undefined || usage.memoryPeak === undefined) continue;
    if (usage.activityP95 > o.shareMaxActivity) continue;
    const lastEnd = maxOf(usage.podSlots.map((slot) => slot.end));
    const pods = usage.podSlots.filter((slot) => slot.end === lastEnd).length;
    const key = `${usage.spec.key}\u0000${o.shareAcrossNamespaces ? '' : series.workload.namespace}`;
    const member: Member = { series, usage, pods, inference: isInference(series) };
    const group = groups.get(key);
    if (group) group.push(member);
    else groups.set(key, [member]);
  }

  const out: Recommendation[] = [];
  for (const group of groups.values()) {
    const spec = group[0]!.usage.spec!;
    const gpuMemory = gpuMemoryOf(group);
    const pool = pools.get(spec.key);
    const joiners = pool && pool >= 2 ? group.filter((member) => fitsWays(member, pool, gpuMemory, o)) : [];
    for (const member of joiners) {
      out.push(
        shareRecommendation(member, ctx, pool!, 'time-slicing', {
          pool: true,
          groupPods: member.pods,
          reason:
            `Its p95 activity ${pct(member.usage.activityP95!)} and ${gib(member.usage.memoryPeak!)} peak fit a ` +
            `${pool}-way share of a ${spec.key}: move it to the cluster's time-sliced ${spec.key} nodes and pay 1/${pool}.`,
        }),
      );
    }
    const members = group.filter((member) => !joiners.includes(member));
    const pods = members.reduce((sum, member) => sum + member.pods, 0);
    if (pods < 2) continue;
    const activities = members.map((member) => member.usage.activityP95!);
    const peaks = members.map((member) => member.usage.memoryPeak!);
    const ratio = sharingRatio(activities, peaks, gpuMemory, pods, o);
    if (ratio < 2) continue;
    // MPS runs kernels of several servers at once (latency holds); time-slicing suits notebooks and dev pods.
    const mode: SharingMode = members.every((member) => member.inference) ? 'mps' : 'time-slicing';
    const where = o.shareAcrossNamespaces ? 'the cluster' : members[0]!.series.workload.namespace;
    for (const member of members) {
      out.push(
        shareRecommendation(member, ctx, ratio, mode, {
          pool: false,
          groupPods: pods,
          reason:
            `${pods} pods in ${where} on ${spec.key} each peak at ≤ ${pct(maxOf(activities) ?? 0)} activity and ` +
            `≤ ${gib(maxOf(peaks) ?? 0)}: share one GPU ${ratio} ways by ${mode === 'mps' ? 'MPS' : 'time-slicing'} ` +
            `and pay 1/${ratio} of it each.`,
        }),
      );
    }
  }
  return out;
}
