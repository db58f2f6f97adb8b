// Replays a workload's history against a CPU and memory proposal (acceptance 2): the memory must never be below
// an observed peak, and CPU use may exceed the CPU request in no more windows than the stated percentile allows.
// Also counts would-be OOM kills, the measure the KRR comparison uses.
import { cpuUse, memoryUse } from './cpu-memory.ts';
import { killedAt, oomEvents } from './oom.ts';
import { maxOf, present } from './stats.ts';
import type { ContainerSeries, ContainerWindow, Recommendation } from './types.ts';

export interface ReplayResult {
  windows: number;
  memoryPeakBytes: number | undefined;
  proposedMemoryBytes: number;
  /** True when the proposal is below some observed peak: must never happen. */
  memoryBelowPeak: boolean;
  cpuPercentile: number;
  proposedCpuCores: number;
  /** Windows whose CPU use exceeded the proposed request. */
  cpuExceedWindows: number;
  cpuExceedShare: number;
  /** 1 − percentile/100: the most the share may be. */
  allowedCpuExceedShare: number;
  wouldBeOomKills: number;
  ok: boolean;
}

/**
 * Windows that would have been OOM-killed with `memoryBytes` as the limit: those whose peak use exceeds it, plus
 * each recorded OOM kill at a limit not below it (it died at that limit; a proposal no higher dies again).
 */
export function wouldBeOomKills(windows: readonly ContainerWindow[], memoryBytes: number): number {
  const overPeak = windows.filter((window) => (memoryUse(window) ?? 0) > memoryBytes).length;
  const recorded = oomEvents(windows).filter(
    (event) => killedAt(event) >= memoryBytes && (memoryUse(event) ?? 0) <= memoryBytes,
  ).length;
  return overPeak + recorded;
}

/** Windows whose CPU use exceeded `cpuCores`. */
export const cpuExceedWindows = (windows: readonly ContainerWindow[], cpuCores: number) =>
  windows.filter((window) => (cpuUse(window) ?? 0) > cpuCores + 1e-12).length;

export function replay(
  windows: readonly ContainerWindow[],
  proposal: { cpuCores: number; memoryBytes: number },
  cpuPercentile: number,
): ReplayResult {
  const peak = maxOf(present(windows.map(memoryUse)));
  const withCpu = windows.filter((window) => cpuUse(window) !== undefined);
  const exceed = cpuExceedWindows(withCpu, proposal.cpuCores);
  const share = withCpu.length > 0 ? exceed / withCpu.length : 0;
  const allowed = 1 - cpuPercentile / 100;
  const memoryBelowPeak = peak !== undefined && proposal.memoryBytes < peak;
  return {
    windows: windows.length,
    memoryPeakBytes: peak,
    proposedMemoryBytes: proposal.memoryBytes,
    memoryBelowPeak,
    cpuPercentile,
    proposedCpuCores: proposal.cpuCores,
    cpuExceedWindows: exceed,
    cpuExceedShare: share,
    allowedCpuExceedShare: allowed,
    wouldBeOomKills: wouldBeOomKills(windows, proposal.memoryBytes),
    ok: !memoryBelowPeak && share <= allowed + 1e-12,
  };
}

/** Replays a cpu-memory recommendation against the series it was made from (or any other history of it). */
export function replayRecommendation(series: ContainerSeries, rec: Recommendation): ReplayResult {
  if (rec.kind !== 'cpu-memory') throw new Error(`replay checks cpu-memory recommendations, not ${rec.kind}`);
  return replay(
    series.windows,
    { cpuCores: Number(rec.proposed.cpuCores), memoryBytes: Number(rec.proposed.memoryBytes) },
    Number(rec.details.cpuPercentile),
  );
}
