// Served models: what each model costs per 1M tokens (prompt and generated) and per 1k requests, per model and
// namespace, counting its serving pods' CPU, memory, GPU and volumes (and, optionally, their share of idle). Pure.

import { shareIdle } from './aggregate.ts';
import type { WindowAllocation } from './allocate.ts';
import { type Allocation, addInto, emptyAllocation, finalize } from './allocation.ts';
import type { StoredModelWindow } from './input.ts';
import { type ModelAccumulator, ModelAccumulators } from './model-accumulators.ts';

/**
 * Weight of a generated token against a prompt token when one cost is split between them: OpenCost's inference
 * cost method falls back to output = 2.5 × input when it cannot time prefill and decode apart, nor can we.
 */
export const DEFAULT_GENERATED_TOKEN_WEIGHT = 2.5;

export interface ModelCostOptions {
  /** Add each serving pod's share of idle (shared per resource by cost, across all windows given). */
  shareIdle?: boolean;
  idleByNode?: boolean;
  generatedTokenWeight?: number;
}

export interface ModelCost {
  model: string;
  namespace: string;
  /** Runtime from the model windows (`vllm`, `triton`, …); null for a model only known from pod identity. */
  server: string | null;
  pods: number;
  start: number;
  end: number;
  cpuCost: number;
  ramCost: number;
  gpuCost: number;
  pvCost: number;
  /** Share of idle included in the costs above (0 unless shareIdle). */
  idleCost: number;
  totalCost: number;
  gpuHours: number;
  gpuEfficiency: number | null;
  totalEfficiency: number;
  promptTokens: number;
  generatedTokens: number;
  /** Requests served, failed ones included: they used the GPU too. */
  requests: number;
  failedRequests: number;
  costPerMillionTokens: number | null;
  costPerMillionPromptTokens: number | null;
  costPerMillionGeneratedTokens: number | null;
  costPer1kRequests: number | null;
}

const podWindowKey = (node: string, start: number, namespace: string, pod: string) =>
  `${node}|${start}|${namespace}|${pod}`;

/**
 * Cost per served model. A pod's cost in a window goes to the models it served in that window in proportion to
 * their tokens (else requests, else evenly); a serving pod with no model window then goes to the models it served
 * in other windows, else to its served-model identity (InferenceService, Knative service) with zero tokens.
 */
export function modelCosts(
  windows: readonly WindowAllocation[],
  modelWindows: readonly StoredModelWindow[],
  options: ModelCostOptions = {},
): ModelCost[] {
  const weight = options.generatedTokenWeight ?? DEFAULT_GENERATED_TOKEN_WEIGHT;
  const { allocations } = shareIdle(windows, {
    share: options.shareIdle ?? false,
    idleByNode: options.idleByNode ?? false,
  });

  // The pods' cost per window.
  const podCosts = new Map<string, Allocation>();
  for (const row of allocations) {
    const p = row.properties;
    if (!p.node || !p.namespace || !p.pod) continue;
    const key = podWindowKey(p.node, row.start, p.namespace, p.pod);
    const existing = podCosts.get(key);
    if (existing) addInto(existing, row);
    else {
      const pod = emptyAllocation(key, { ...p }, row.start, row.end);
      addInto(pod, row);
      podCosts.set(key, pod);
    }
  }

  const accumulators = new ModelAccumulators<Allocation>((model, start, end) =>
    emptyAllocation(model, {}, start, end),
  );
  const accumulator = accumulators.of.bind(accumulators);

  const byPodWindow = new Map<string, StoredModelWindow[]>();
  const modelsOfPod = new Map<string, Map<string, string>>();
  for (const m of modelWindows) {
    const key = podWindowKey(m.node, m.start, m.namespace, m.pod);
    const list = byPodWindow.get(key) ?? [];
    list.push(m);
    byPodWindow.set(key, list);
    const served = modelsOfPod.get(`${m.namespace}/${m.pod}`) ?? new Map<string, string>();
    served.set(m.model, m.server);
    modelsOfPod.set(`${m.namespace}/${m.pod}`, served);
    const acc = accumulator(m.model, m.namespace, m.server, m.start, m.end);
    acc.promptTokens += m.promptTokens;
    acc.generatedTokens += m.generatedTokens;
    acc.requestsOk += m.requestsOk;
    acc.requestsFailed += m.requestsFailed;
    acc.pods.add(`${m.namespace}/${m.pod}`);
  }

  for (const [key, pod] of podCosts) {
    const namespace = pod.properties.namespace!;
    const podName = `${namespace}/${pod.properties.pod}`;
    let served: Array<{ model: string; server: string | null; tokens: number; requests: number }>;
    const inWindow = byPodWindow.get(key);
    if (inWindow) {
      served = inWindow.map((m) => ({
        model: m.model,
        server: m.server,
        tokens: m.promptTokens + m.generatedTokens,
        requests: m.requestsOk + m.requestsFailed,
      }));
    } else if (modelsOfPod.has(podName)) {
      served = [...modelsOfPod.get(podName)!].map(([model, server]) => ({
        model,
        server,
        tokens: 0,
        requests: 0,
      }));
    } else if (pod.properties.servedModel) {
      served = [{ model: pod.properties.servedModel, server: null, tokens: 0, requests: 0 }];
    } else {
      continue; // not a serving pod
    }
    const tokens = served.reduce((sum, s) => sum + s.tokens, 0);
    const requests = served.reduce((sum, s) => sum + s.requests, 0);
    for (const s of served) {
      const share = tokens > 0 ? s.tokens / tokens : requests > 0 ? s.requests / requests : 1 / served.length;
      const acc = accumulator(s.model, namespace, s.server, pod.start, pod.end);
      addInto(acc.sums, pod, share);
      acc.pods.add(podName);
    }
  }

  return [...accumulators.values()]
    .map((acc) => toModelCost(acc, weight))
    .sort((a, b) => b.totalCost - a.totalCost);
}

function toModelCost(acc: ModelAccumulator<Allocation>, generatedWeight: number): ModelCost {
  return modelCostOf(acc, finalize(acc.sums), generatedWeight);
}

/** What a served model cost, from its summed allocation and token/request counts (SPEC.md §10). */
export function modelCostOf(
  acc: Pick<
    ModelAccumulator<unknown>,
    'model' | 'namespace' | 'server' | 'promptTokens' | 'generatedTokens' | 'requestsOk' | 'requestsFailed'
  > & {
    pods: { size: number };
  },
  sums: Allocation,
  generatedWeight: number,
): ModelCost {
  const cost = sums.totalCost;
  const tokens = acc.promptTokens + acc.generatedTokens;
  const requests = acc.requestsOk + acc.requestsFailed;
  // One cost, split so that a generated token costs `generatedWeight` prompt tokens.
  const weighted = acc.promptTokens + generatedWeight * acc.generatedTokens;
  const perWeightedToken = weighted > 0 ? cost / weighted : null;
  return {
    model: acc.model,
    namespace: acc.namespace,
    server: acc.server,
    pods: acc.pods.size,
    start: sums.start,
    end: sums.end,
    cpuCost: sums.cpuCost,
    ramCost: sums.ramCost,
    gpuCost: sums.gpuCost,
    pvCost: sums.pvCost,
    idleCost: sums.cpuIdleCost + sums.ramIdleCost + sums.gpuIdleCost,
    totalCost: cost,
    gpuHours: sums.gpuHours,
    gpuEfficiency: sums.gpuEfficiency,
    totalEfficiency: sums.totalEfficiency,
    promptTokens: acc.promptTokens,
    generatedTokens: acc.generatedTokens,
    requests,
    failedRequests: acc.requestsFailed,
    costPerMillionTokens: tokens > 0 ? (cost / tokens) * 1e6 : null,
    costPerMillionPromptTokens:
      acc.promptTokens > 0 && perWeightedToken !== null ? perWeightedToken * 1e6 : null,
    costPerMillionGeneratedTokens:
      acc.generatedTokens > 0 && perWeightedToken !== null ? perWeightedToken * generatedWeight * 1e6 : null,
    costPer1kRequests: requests > 0 ? (cost / requests) * 1e3 : null,
  };
}
