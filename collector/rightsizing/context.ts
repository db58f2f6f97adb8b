// What every recommendation kind is handed besides its own series: the time, the options, the prices, and what
// the store knows about each workload (its HPA, its containers' indexes).
import type { RightsizingOptions } from './options.ts';
import type {
  PriceLookup,
  RecommendationKind,
  RightsizingInput,
  Target,
  WorkloadInfo,
  WorkloadRef,
} from './types.ts';

export interface Context {
  now: number;
  /** The earliest window start in the input (when the store's history begins), if any window. */
  dataFrom: number | undefined;
  options: RightsizingOptions;
  prices: PriceLookup;
  info(workload: WorkloadRef): WorkloadInfo | undefined;
}

export const workloadKey = (ref: WorkloadRef) => `${ref.namespace}/${ref.kind}/${ref.name}`;

export const recommendationId = (kind: RecommendationKind, target: Target) =>
  `${kind}/${workloadKey(target)}${target.container ? `/${target.container}` : ''}`;

export function makeContext(input: RightsizingInput, options: RightsizingOptions): Context {
  const infos = new Map((input.workloads ?? []).map((info) => [workloadKey(info.workload), info]));
  let dataFrom: number | undefined;
  const earliest = (windows: ReadonlyArray<{ start: number }>) => {
    for (const window of windows)
      if (dataFrom === undefined || window.start < dataFrom) dataFrom = window.start;
  };
  for (const series of input.containers) earliest(series.windows);
  for (const series of input.gpus ?? []) earliest(series.windows);
  for (const series of input.models ?? []) earliest(series.windows);
  return {
    now: input.now,
    dataFrom,
    options,
    prices: input.prices,
    info: (workload) => infos.get(workloadKey(workload)),
  };
}

/** The container's place in the pod template, for JSON patches on custom resources. */
export function containerPlace(
  ctx: Context,
  workload: WorkloadRef,
  container: string | undefined,
  replicaType?: string,
) {
  const index = container ? ctx.info(workload)?.containerIndex?.[container] : undefined;
  return {
    ...(replicaType ? { replicaType } : {}),
    ...(index !== undefined ? { containerIndex: index } : {}),
  };
}
