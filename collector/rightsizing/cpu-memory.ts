// CPU and memory requests for one container of one workload, across its replicas: CPU from a high percentile of
// use, memory from the peak plus a margin (bumped after OOM kills), floors, HPA-aware, with a confidence from
// history and points, or "not enough data" said plainly.
import { confidenceOf } from './confidence.ts';
import { type Context, containerPlace, recommendationId } from './context.ts';
import { hpaFloor, hpaReplicas } from './hpa.ts';
import { killedAt, oomEvents } from './oom.ts';
import { HOUR_MS } from './options.ts';
import { containerPatch, type ResourceMap } from './patch.ts';
import { priceFactorOf, requestHour } from './pricing.ts';
import { formatCpu, formatMemory, pct, roundCpu, roundMemory } from './quantities.ts';
import {
  bySlot,
  cents,
  historyHoursOf,
  hoursOf,
  inHistory,
  maxOf,
  percentile,
  perMonth,
  present,
  spanHours,
  weightedPercentile,
} from './stats.ts';
import type {
  ContainerSeries,
  ContainerWindow,
  HpaInfo,
  NotEnoughData,
  Recommendation,
  Target,
} from './types.ts';

/** The CPU use a window stands for: its mean (as KRR's rate over a short timeframe), else its p95, else its max. */
export const cpuUse = (window: ContainerWindow) => window.cpuAvg ?? window.cpuP95 ?? window.cpuMax;

/** The memory a window stands for: its peak. */
export const memoryUse = (window: ContainerWindow) => window.memMax ?? window.memAvg;

export interface CpuMemorySizing {
  cpu: number | undefined;
  memory: number | undefined;
  cpuBasis: number | undefined;
  memoryPeak: number | undefined;
  oomKills: number;
  oomBasis: number | undefined;
}

/** The numbers alone (no prices, no patch): what the replay and the KRR comparison re-use. */
export function sizeCpuMemory(
  windows: readonly ContainerWindow[],
  ctx: Context,
  hpa?: HpaInfo,
): CpuMemorySizing {
  const o = ctx.options;
  const samples = windows
    .map((window) => ({ value: cpuUse(window), end: window.end }))
    .filter((sample): sample is { value: number; end: number } => sample.value !== undefined);
  // VPA weighs recent windows more when asked; by default every window counts the same (see SPEC: replay).
  const halfLife = o.cpuHalfLifeHours;
  const cpuBasis =
    halfLife === undefined
      ? percentile(
          samples.map((sample) => sample.value),
          o.cpuPercentile,
        )
      : weightedPercentile(
          samples.map((sample) => ({
            value: sample.value,
            weight: 0.5 ** ((ctx.now - sample.end) / (halfLife * HOUR_MS)),
          })),
          o.cpuPercentile,
        );
  let cpu: number | undefined;
  if (cpuBasis !== undefined) {
    cpu = hpa?.resource === 'cpu' ? hpaFloor(cpuBasis, hpa) : cpuBasis * (1 + o.cpuMarginFraction);
    cpu = roundCpu(Math.max(o.cpuFloorCores, cpu));
  }

  const memoryPeak = maxOf(present(windows.map(memoryUse)));
  const events = oomEvents(windows);
  const oomBasis = maxOf(events.map(killedAt));
  // VPA's OOM sample: the memory it died at, plus the larger of 100 MiB and 20%; the margin then applies on top.
  const bumped =
    oomBasis === undefined ? 0 : Math.max(oomBasis + o.oomBumpMinBytes, oomBasis * (1 + o.oomBumpFraction));
  let memory: number | undefined;
  if (memoryPeak !== undefined || oomBasis !== undefined) {
    memory = Math.max(memoryPeak ?? 0, bumped) * (1 + o.memoryMarginFraction);
    if (hpa?.resource === 'memory') {
      // The HPA reads mean working set per pod; its percentile (the CPU one) over the target is the floor.
      const perPod = percentile(
        present(windows.map((window) => window.memAvg ?? window.memMax)),
        o.cpuPercentile,
      );
      if (perPod !== undefined) memory = Math.max(memory, hpaFloor(perPod, hpa));
    }
    memory = roundMemory(Math.max(o.memoryFloorBytes, memory));
  }
  return { cpu, memory, cpuBasis, memoryPeak, oomKills: events.length, oomBasis };
}

/** The latest window: the spec as it is now. */
function latestOf(windows: readonly ContainerWindow[]): ContainerWindow | undefined {
  return windows.reduce<ContainerWindow | undefined>(
    (best, w) => (!best || w.start > best.start ? w : best),
    undefined,
  );
}

const changed = (current: number, proposed: number, threshold: number) =>
  current > 0 ? Math.abs(proposed - current) / current >= threshold : proposed > 0;

/**
 * Monthly saving of moving every replica from (cpu, memory) now to the proposal, window by window: replicas as
 * observed, or as the HPA would run them at the new request when one scales on that resource.
 */
export function requestSaving(
  windows: readonly ContainerWindow[],
  ctx: Context,
  current: { cpu: number; memory: number },
  proposed: { cpu: number; memory: number },
  hpa?: HpaInfo,
): number {
  const span = spanHours(windows, ctx.now, ctx.options.historyHours);
  let delta = 0;
  for (const { items } of bySlot(windows)) {
    const hours = hoursOf(items[0]!);
    const observed = new Set(items.map((item) => item.pod)).size;
    let replicas = observed;
    if (hpa) {
      const use = items.reduce(
        (sum, item) =>
          sum +
          ((hpa.resource === 'cpu' ? (item.cpuAvg ?? cpuUse(item)) : (item.memAvg ?? item.memMax)) ?? 0),
        0,
      );
      replicas = hpaReplicas(use, hpa.resource === 'cpu' ? proposed.cpu : proposed.memory, hpa, observed);
    }
    // The replicas' mean node price factor (a spot node pays less for the same request).
    const factor = items.reduce((sum, item) => sum + priceFactorOf(item), 0) / items.length;
    const before = observed * factor * requestHour(ctx.prices, current.cpu, current.memory);
    const after = replicas * factor * requestHour(ctx.prices, proposed.cpu, proposed.memory);
    delta += hours * (before - after);
  }
  return perMonth(delta, span);
}

export function recommendCpuMemory(
  series: ContainerSeries,
  ctx: Context,
): Recommendation | NotEnoughData | undefined {
  const o = ctx.options;
  const target: Target = { ...series.workload, container: series.container };
  const windows = inHistory(series.windows, ctx.now, o.historyHours);
  const points = windows.length;
  const history = historyHoursOf(windows);
  if (points < o.minPoints || history < o.minHistoryHours) {
    return {
      kind: 'cpu-memory',
      target,
      historyHours: history,
      points,
      reason:
        `Not enough data: ${history.toFixed(1)} h of history and ${points} windows; ` +
        `a CPU and memory recommendation needs at least ${o.minHistoryHours} h and ${o.minPoints} windows.`,
    };
  }
  const latest = latestOf(windows)!;
  const hpa = ctx.info(series.workload)?.hpa;
  const sizing = sizeCpuMemory(windows, ctx, hpa);
  const current = { cpu: latest.requestCpu ?? 0, memory: latest.requestMemory ?? 0 };
  const proposed = { cpu: sizing.cpu ?? current.cpu, memory: sizing.memory ?? current.memory };
  const cpuChanges = sizing.cpu !== undefined && changed(current.cpu, proposed.cpu, o.minChangeFraction);
  const memoryChanges =
    sizing.memory !== undefined && changed(current.memory, proposed.memory, o.minChangeFraction);
  if (!cpuChanges && !memoryChanges) return undefined;

  const saving = requestSaving(windows, ctx, current, proposed, hpa);
  const requests: ResourceMap = { cpu: formatCpu(proposed.cpu), memory: formatMemory(proposed.memory) };
  // KRR: memory limit = request (a container's memory is not compressible); CPU limit only raised if now too low.
  const limits: ResourceMap = { memory: formatMemory(proposed.memory) };
  if (latest.limitCpu !== undefined && latest.limitCpu < proposed.cpu) limits.cpu = formatCpu(proposed.cpu);

  const days = (history / 24).toFixed(1);
  const cpuPart =
    hpa?.resource === 'cpu'
      ? `CPU ${formatCpu(current.cpu)} → ${formatCpu(proposed.cpu)} is the per-pod p${o.cpuPercentile} ` +
        `(${formatCpu(sizing.cpuBasis ?? 0)}) over the HPA's ${pct(hpa.targetUtilization)} target, so it scales at the same load`
      : `CPU ${formatCpu(current.cpu)} → ${formatCpu(proposed.cpu)} covers the p${o.cpuPercentile} of ${days} days of use`;
  const memoryPart =
    sizing.oomKills > 0
      ? `memory ${formatMemory(current.memory)} → ${formatMemory(proposed.memory)} after ${sizing.oomKills} OOM kill(s) ` +
        `at ${formatMemory(sizing.oomBasis ?? 0)} (+${pct(o.oomBumpFraction)}, then +${pct(o.memoryMarginFraction)})`
      : `memory ${formatMemory(current.memory)} → ${formatMemory(proposed.memory)} is the ` +
        `${formatMemory(sizing.memoryPeak ?? 0)} peak plus ${pct(o.memoryMarginFraction)}`;

  return {
    id: recommendationId('cpu-memory', target),
    kind: 'cpu-memory',
    action: 'set-requests',
    target,
    current: { cpuCores: current.cpu, memoryBytes: current.memory },
    proposed: { cpuCores: proposed.cpu, memoryBytes: proposed.memory },
    monthlySaving: cents(saving),
    currency: ctx.prices.currency,
    confidence: confidenceOf(history, points, o.fullConfidencePoints),
    reason: `${cpuPart}, and ${memoryPart}.`,
    patch: containerPatch(
      series.workload,
      series.container,
      { requests, limits },
      containerPlace(ctx, series.workload, series.container, series.replicaType),
    ),
    details: {
      cpuPercentile: o.cpuPercentile,
      cpuBasisCores: sizing.cpuBasis ?? 0,
      memoryPeakBytes: sizing.memoryPeak ?? 0,
      memoryMarginFraction: o.memoryMarginFraction,
      oomKills: sizing.oomKills,
      ...(sizing.oomBasis !== undefined ? { oomBasisBytes: sizing.oomBasis } : {}),
      ...(hpa ? { hpaResource: hpa.resource, hpaTargetUtilization: hpa.targetUtilization } : {}),
      historyHours: Math.round(history * 100) / 100,
      points,
    },
  };
}
