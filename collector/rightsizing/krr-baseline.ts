// A KRR-style baseline (the `simple` strategy: CPU = p95 of 14 days, memory = max × 1.15, floors 10m/100Mi, at
// least 100 points and 3 h, no answer for HPA'd workloads) and the side-by-side comparison with mlcost's CPU and
// memory rule (acceptance 3): total monthly saving and would-be OOM kills of each, priced and counted the same way.
import { type Context, makeContext, workloadKey } from './context.ts';
import { cpuUse, memoryUse, recommendCpuMemory, requestSaving } from './cpu-memory.ts';
import { MIB, type RightsizingOptions, resolveOptions } from './options.ts';
import { roundCpu, roundMemory } from './quantities.ts';
import { cpuExceedWindows, wouldBeOomKills } from './replay.ts';
import { historyHoursOf, inHistory, maxOf, percentile, present } from './stats.ts';
import type { ContainerSeries, ContainerWindow, HpaInfo, RightsizingInput } from './types.ts';

export interface KrrOptions {
  historyHours: number;
  cpuPercentile: number;
  memoryBufferFraction: number;
  cpuMinCores: number;
  memoryMinBytes: number;
  pointsRequired: number;
  minHistoryHours: number;
  /** KRR answers "?" for HPA'd workloads unless `--allow-hpa`. */
  allowHpa: boolean;
}

export const KRR_DEFAULTS: KrrOptions = {
  historyHours: 336,
  cpuPercentile: 95,
  memoryBufferFraction: 0.15,
  cpuMinCores: 0.01,
  memoryMinBytes: 100 * MIB,
  pointsRequired: 100,
  minHistoryHours: 3,
  allowHpa: false,
};

export interface Proposal {
  cpuCores: number;
  memoryBytes: number;
}

/** KRR's simple strategy over one container's windows (all its pods pooled); undefined where KRR says "?". */
export function krrProposal(
  windows: readonly ContainerWindow[],
  now: number,
  hpa: HpaInfo | undefined,
  options: KrrOptions = KRR_DEFAULTS,
): Proposal | undefined {
  if (hpa && !options.allowHpa) return undefined;
  const inRange = inHistory(windows, now, options.historyHours);
  if (inRange.length < options.pointsRequired || historyHoursOf(inRange) < options.minHistoryHours)
    return undefined;
  const cpu = percentile(present(inRange.map(cpuUse)), options.cpuPercentile);
  const memory = maxOf(present(inRange.map(memoryUse)));
  if (cpu === undefined || memory === undefined) return undefined;
  return {
    cpuCores: roundCpu(Math.max(options.cpuMinCores, cpu)),
    memoryBytes: roundMemory(Math.max(options.memoryMinBytes, memory * (1 + options.memoryBufferFraction))),
  };
}

export interface SideFigures {
  /** Containers given a proposal. */
  recommended: number;
  monthlySaving: number;
  wouldBeOomKills: number;
  /** Windows whose CPU use exceeded the CPU request in force. */
  cpuExceedWindows: number;
}

export interface ContainerComparison {
  key: string;
  krr: Proposal | undefined;
  mlcost: Proposal | undefined;
  krrSaving: number;
  mlcostSaving: number;
  krrOomKills: number;
  mlcostOomKills: number;
}

export interface KrrComparison {
  containers: number;
  evaluationWindows: number;
  krr: SideFigures;
  mlcost: SideFigures;
  perContainer: ContainerComparison[];
}

const latestOf = (windows: readonly ContainerWindow[]) =>
  windows.reduce<ContainerWindow | undefined>(
    (best, w) => (!best || w.start > best.start ? w : best),
    undefined,
  );

/** What stays in force without a proposal: the current request, and the limit (else request) as the OOM line. */
function inForce(windows: readonly ContainerWindow[]): Proposal {
  const latest = latestOf(windows);
  return {
    cpuCores: latest?.requestCpu ?? 0,
    memoryBytes: latest?.limitMemory ?? latest?.requestMemory ?? Number.POSITIVE_INFINITY,
  };
}

const seriesKey = (series: ContainerSeries) => `${workloadKey(series.workload)}/${series.container}`;

/**
 * Recommends with both on `input` and scores both on `evaluation` (default: the same history; pass a later period
 * to score out of sample). Savings use one formula for both (cpu-memory's requestSaving: Δrequest × replica-hours,
 * with the HPA's replicas where one scales the workload); OOM kills use replay's wouldBeOomKills.
 */
export function compareWithKrr(
  input: RightsizingInput,
  evaluation: readonly ContainerSeries[] = input.containers,
  options: Partial<RightsizingOptions> = {},
  krrOptions: KrrOptions = KRR_DEFAULTS,
): KrrComparison {
  const ctx: Context = makeContext(input, resolveOptions(options));
  const evaluationByKey = new Map(evaluation.map((series) => [seriesKey(series), series]));
  const figures = (): SideFigures => ({
    recommended: 0,
    monthlySaving: 0,
    wouldBeOomKills: 0,
    cpuExceedWindows: 0,
  });
  const krr = figures();
  const mlcost = figures();
  const perContainer: ContainerComparison[] = [];
  let evaluationWindows = 0;

  for (const series of input.containers) {
    const windows = inHistory(series.windows, ctx.now, ctx.options.historyHours);
    const hpa = ctx.info(series.workload)?.hpa;
    const current = inForce(windows);
    const currentRequest = { cpu: current.cpuCores, memory: latestOf(windows)?.requestMemory ?? 0 };
    const scored = evaluationByKey.get(seriesKey(series))?.windows ?? [];
    evaluationWindows += scored.length;

    const krrProposed = krrProposal(windows, ctx.now, hpa, krrOptions);
    const rec = recommendCpuMemory(series, ctx);
    const mlcostProposed =
      rec && 'id' in rec
        ? { cpuCores: Number(rec.proposed.cpuCores), memoryBytes: Number(rec.proposed.memoryBytes) }
        : undefined;

    const saving = (proposal: Proposal | undefined, withHpa: HpaInfo | undefined) =>
      proposal
        ? requestSaving(
            windows,
            ctx,
            currentRequest,
            { cpu: proposal.cpuCores, memory: proposal.memoryBytes },
            withHpa,
          )
        : 0;
    // KRR does not model the HPA: where it answers anyway (--allow-hpa), its saving is still counted with it.
    const krrSaving = saving(krrProposed, hpa);
    const mlcostSaving = saving(mlcostProposed, hpa);
    const krrOom = wouldBeOomKills(scored, (krrProposed ?? current).memoryBytes);
    const mlcostOom = wouldBeOomKills(scored, (mlcostProposed ?? current).memoryBytes);

    for (const [side, proposal, amount, ooms] of [
      [krr, krrProposed, krrSaving, krrOom],
      [mlcost, mlcostProposed, mlcostSaving, mlcostOom],
    ] as const) {
      if (proposal) side.recommended += 1;
      side.monthlySaving += amount;
      side.wouldBeOomKills += ooms;
      side.cpuExceedWindows += cpuExceedWindows(scored, (proposal ?? current).cpuCores);
    }
    perContainer.push({
      key: seriesKey(series),
      krr: krrProposed,
      mlcost: mlcostProposed,
      krrSaving,
      mlcostSaving,
      krrOomKills: krrOom,
      mlcostOomKills: mlcostOom,
    });
  }
  const round = (side: SideFigures) => ({
    ...side,
    monthlySaving: Math.round(side.monthlySaving * 100) / 100,
  });
  return {
    containers: input.containers.length,
    evaluationWindows,
    krr: round(krr),
    mlcost: round(mlcost),
    perContainer,
  };
}
