// Runs every recommendation kind over the input and resolves overlaps: an abandoned workload's other findings
// become its alternatives, and each workload keeps one GPU/replica change (the largest saving, the rest listed as
// alternatives). Sorted by saving, largest first.
import { recommendAbandoned, type WorkloadView } from './abandoned.ts';
import { type Context, makeContext, recommendationId, workloadKey } from './context.ts';
import { recommendCpuMemory } from './cpu-memory.ts';
import { recommendGpuCount } from './gpu-count.ts';
import { recommendGpuIdle } from './gpu-idle.ts';
import { candidateSpecs, recommendGpuModel } from './gpu-model.ts';
import { existingPools, recommendGpuSharing } from './gpu-sharing.ts';
import { recommendMigProfile } from './mig-profile.ts';
import { type RightsizingOptions, resolveOptions } from './options.ts';
import { recommendReplicas, replicaHourCost } from './replicas.ts';
import type {
  GpuSeries,
  ModelSeries,
  NotEnoughData,
  Recommendation,
  RecommendationKind,
  RightsizingInput,
  RightsizingReport,
} from './types.ts';

/** Kinds that change a workload's GPUs or replica count: at most one of them per workload. */
const EXCLUSIVE: ReadonlySet<RecommendationKind> = new Set([
  'gpu-idle',
  'gpu-count',
  'mig-profile',
  'gpu-sharing',
  'gpu-model',
  'replicas',
]);

function views(input: RightsizingInput): Map<string, WorkloadView> {
  const out = new Map<string, WorkloadView>();
  const view = (workload: WorkloadView['workload']) => {
    const key = workloadKey(workload);
    let found = out.get(key);
    if (!found) {
      found = { workload, containers: [], gpus: [], models: [] };
      out.set(key, found);
    }
    return found;
  };
  for (const series of input.containers) view(series.workload).containers.push(series);
  for (const series of input.gpus ?? []) view(series.workload).gpus.push(series);
  for (const series of input.models ?? []) view(series.workload).models.push(series);
  return out;
}

function gpuRecommendations(input: RightsizingInput, ctx: Context, byWorkload: Map<string, WorkloadView>) {
  const out: Recommendation[] = [];
  const gpus = input.gpus ?? [];
  const modelOf = (series: GpuSeries): ModelSeries | undefined =>
    byWorkload.get(workloadKey(series.workload))?.models[0];
  const seenModels = [
    ...new Set(gpus.flatMap((series) => series.windows.map((window) => window.model ?? ''))),
  ];
  const candidates = candidateSpecs(ctx.options.availableGpuModels ?? seenModels.filter(Boolean));
  const takenByIsolation = new Set<GpuSeries>();
  // gpu-idle stops the whole workload, so it looks at all of a container's series at once: a training gang's
  // master and workers (one series per replica type) are one finding, priced for every pod.
  const byContainer = new Map<string, GpuSeries[]>();
  for (const series of gpus) {
    const key = `${workloadKey(series.workload)}\u0000${series.container ?? ''}`;
    const group = byContainer.get(key);
    if (group) group.push(series);
    else byContainer.set(key, [series]);
  }
  for (const group of byContainer.values()) {
    const merged: GpuSeries =
      group.length === 1
        ? group[0]!
        : {
            workload: group[0]!.workload,
            ...(group[0]!.container ? { container: group[0]!.container } : {}),
            windows: group.flatMap((series) => series.windows),
          };
    const idle = recommendGpuIdle(merged, ctx, modelOf(merged));
    if (!idle) continue;
    out.push(idle);
    // Reclaim beats sharing.
    for (const series of group) takenByIsolation.add(series);
  }
  for (const series of gpus) {
    const count = recommendGpuCount(series, ctx);
    const mig = recommendMigProfile(series, ctx);
    const model = recommendGpuModel(series, ctx, candidates);
    for (const rec of [count, mig, model]) if (rec) out.push(rec);
    // A MIG slice (isolated memory and SMs) beats time-slicing on boards that have it.
    if (mig) takenByIsolation.add(series);
  }
  out.push(
    ...recommendGpuSharing(
      gpus.filter((series) => !takenByIsolation.has(series)),
      ctx,
      (series) => modelOf(series) !== undefined,
      existingPools(gpus),
    ),
  );
  return out;
}

function resolve(recommendations: Recommendation[], exclusiveGpu: boolean): Recommendation[] {
  const byWorkload = new Map<string, Recommendation[]>();
  for (const rec of recommendations) {
    const key = workloadKey(rec.target);
    const list = byWorkload.get(key);
    if (list) list.push(rec);
    else byWorkload.set(key, [rec]);
  }
  const alternativeOf = (rec: Recommendation) => ({
    kind: rec.kind,
    action: rec.action,
    proposed: rec.proposed,
    monthlySaving: rec.monthlySaving,
  });
  const kept: Recommendation[] = [];
  for (const list of byWorkload.values()) {
    const abandoned = list.find((rec) => rec.kind === 'abandoned');
    if (abandoned) {
      const others = list.filter((rec) => rec !== abandoned);
      kept.push(others.length ? { ...abandoned, alternatives: others.map(alternativeOf) } : abandoned);
      continue;
    }
    const exclusive = exclusiveGpu ? list.filter((rec) => EXCLUSIVE.has(rec.kind)) : [];
    const rest = list.filter((rec) => !exclusive.includes(rec));
    if (exclusive.length > 0) {
      const [best, ...others] = [...exclusive].sort(
        (a, b) => b.monthlySaving - a.monthlySaving || a.id.localeCompare(b.id),
      );
      kept.push(others.length ? { ...best!, alternatives: others.map(alternativeOf) } : best!);
    }
    kept.push(...rest);
  }
  return kept;
}

/** Every recommendation and every target that had too little data to judge. */
export function analyze(
  input: RightsizingInput,
  options: Partial<RightsizingOptions> = {},
): RightsizingReport {
  const resolved = resolveOptions(options);
  const ctx = makeContext(input, resolved);
  const byWorkload = views(input);
  const all: Recommendation[] = [];
  const notEnoughData: NotEnoughData[] = [];

  for (const series of input.containers) {
    const result = recommendCpuMemory(series, ctx);
    if (!result) continue;
    if ('id' in result) all.push(result);
    else notEnoughData.push(result);
  }
  all.push(...gpuRecommendations(input, ctx, byWorkload));
  for (const model of input.models ?? []) {
    const view = byWorkload.get(workloadKey(model.workload));
    const cost = replicaHourCost(ctx, view?.containers ?? [], view?.gpus ?? []);
    const rec = recommendReplicas(model, ctx, cost);
    if (rec) all.push(rec);
  }
  for (const view of byWorkload.values()) {
    const rec = recommendAbandoned(view, ctx);
    if (rec) all.push(rec);
  }

  const recommendations = resolve(all, resolved.exclusiveGpu)
    .filter((rec) => rec.monthlySaving >= resolved.minMonthlySaving)
    .sort((a, b) => b.monthlySaving - a.monthlySaving || a.id.localeCompare(b.id));
  // By target, so the answer does not depend on the order the store handed the series over in.
  notEnoughData.sort((a, b) => {
    const x = recommendationId(a.kind, a.target);
    const y = recommendationId(b.kind, b.target);
    return x < y ? -1 : x > y ? 1 : 0;
  });
  return { recommendations, notEnoughData };
}

/** The recommendations alone, largest saving first. */
export function recommend(
  input: RightsizingInput,
  options: Partial<RightsizingOptions> = {},
): Recommendation[] {
  return analyze(input, options).recommendations;
}
