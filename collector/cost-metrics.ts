// Cost series for dashboards and alerts, computed at scrape time from the latest complete hour's roll-ups (a
// gauge per hour of cost, in the currency of mlcost_build_info): cost by namespace and resource, GPU held-idle and
// free cost, efficiency by namespace, budget spend, forecast and limit, and served-model cost per 1M tokens.
// Label sets are bounded: each metric keeps at most `maxSeries` series (the costliest), and what it drops is
// counted in mlcost_collector_series_dropped_total{metric}.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from '../core/logger.ts';
import { IDLE } from './cost/index.ts';
import type { CostService } from './cost-service.ts';
import { HOUR_MS, hourOf } from './store/cost-queries.ts';

/** What the metrics read: the cost service, or anything shaped like it. */
export type CostMetricsSource = Pick<
  CostService,
  'allocation' | 'models' | 'budgets' | 'gpuWaste' | 'pendingNodeHours' | 'generation' | 'now' | 'unavailable'
>;

export interface CostMetricsOptions {
  /** Most series one cost metric exposes; the costliest are kept. Default 2000. */
  maxSeries?: number;
  /** How long one computed snapshot serves scrapes (ms); default 30 s. A new hour or roll-up recomputes it. */
  cacheMs?: number;
  /** Where a failed computation is logged (the series are then left empty for that scrape). */
  logger?: Logger;
}

interface Series {
  labels: Record<string, string>;
  value: number;
}

interface Snapshot {
  hour: number;
  namespaceCost: Series[];
  namespaceEfficiency: Series[];
  heldIdle: Series[];
  free: Series[];
  budgetSpend: Series[];
  budgetForecast: Series[];
  budgetLimit: Series[];
  modelCost: Series[];
}

const METRIC = {
  namespaceCost: 'mlcost_namespace_cost',
  namespaceEfficiency: 'mlcost_namespace_efficiency_ratio',
  heldIdle: 'mlcost_gpu_held_idle_cost',
  free: 'mlcost_gpu_free_cost',
  budgetSpend: 'mlcost_budget_spend',
  budgetForecast: 'mlcost_budget_forecast',
  budgetLimit: 'mlcost_budget_limit',
  modelCost: 'mlcost_model_cost_per_million_tokens',
} as const;

function sumInto(map: Map<string, Series>, labels: Record<string, string>, value: number): void {
  const key = JSON.stringify(labels);
  const known = map.get(key);
  if (known) known.value += value;
  else map.set(key, { labels, value });
}

/** Computes every cost series for the hour before the current one. */
export async function costSnapshot(source: CostMetricsSource, now = source.now()): Promise<Snapshot> {
  const hour = hourOf(now) - HOUR_MS;
  const window = { start: hour, end: hour + HOUR_MS };
  const [allocation, models, waste, budgets] = await Promise.all([
    source.allocation({ window, aggregate: ['namespace'], includeIdle: true }),
    source.models({ window }),
    source.gpuWaste(hour),
    source.budgets(now),
  ]);
  // Costs are per hour: the set spans one hour, so its costs are the hourly rate.
  const hours = (window.end - window.start) / HOUR_MS;
  const namespaceCost: Series[] = [];
  const namespaceEfficiency: Series[] = [];
  for (const row of allocation.sets[0]?.allocations ?? []) {
    const namespace = row.name === IDLE ? IDLE : row.name;
    const resources: Array<[string, number]> = [
      ['cpu', row.cpuCost],
      ['memory', row.ramCost],
      ['gpu', row.gpuCost],
      ['storage', row.pvCost],
    ];
    for (const [resource, cost] of resources) {
      if (cost !== 0 || resource !== 'storage')
        namespaceCost.push({ labels: { namespace, resource }, value: cost / hours });
    }
    if (row.name === IDLE) continue;
    namespaceEfficiency.push({ labels: { namespace, resource: 'cpu' }, value: row.cpuEfficiency });
    namespaceEfficiency.push({ labels: { namespace, resource: 'memory' }, value: row.ramEfficiency });
    if (row.gpuEfficiency !== null) {
      namespaceEfficiency.push({ labels: { namespace, resource: 'gpu' }, value: row.gpuEfficiency });
    }
    namespaceEfficiency.push({ labels: { namespace, resource: 'total' }, value: row.totalEfficiency });
  }
  const heldIdle = new Map<string, Series>();
  const free = new Map<string, Series>();
  for (const w of waste) {
    if (w.kind === 'free') sumInto(free, { node: w.node, gpu: w.gpuId }, w.cost / hours);
    else
      sumInto(heldIdle, { namespace: w.namespace, pod: w.pod, node: w.node, gpu: w.gpuId }, w.cost / hours);
  }
  const modelCost: Series[] = [];
  for (const m of models) {
    if (m.costPerMillionTokens !== null) {
      modelCost.push({ labels: { namespace: m.namespace, model: m.model }, value: m.costPerMillionTokens });
    }
  }
  return {
    hour,
    namespaceCost,
    namespaceEfficiency,
    heldIdle: [...heldIdle.values()],
    free: [...free.values()],
    budgetSpend: budgets.budgets.map((b) => ({ labels: { budget: b.name }, value: b.spent })),
    budgetForecast: budgets.budgets.map((b) => ({ labels: { budget: b.name }, value: b.forecast })),
    budgetLimit: budgets.budgets.map((b) => ({ labels: { budget: b.name }, value: b.budget })),
    modelCost,
  };
}

/**
 * Registers the cost gauges on `registry`. They are filled at scrape time from one snapshot shared by all of them
 * (recomputed when the hour or the roll-ups change, or after `cacheMs`).
 */
export function registerCostMetrics(
  registry: Registry,
  source: CostMetricsSource,
  options: CostMetricsOptions = {},
): void {
  const maxSeries = options.maxSeries ?? 2000;
  const cacheMs = options.cacheMs ?? 30_000;
  const dropped = new Counter({
    name: 'mlcost_collector_series_dropped_total',
    help: 'Series a cost metric left out, each time the cost series were computed, because it had reached its maximum number of series (the costliest are kept).',
    labelNames: ['metric'],
    registers: [registry],
    // The drops are counted when the snapshot is computed: make sure that happened before this is read.
    async collect() {
      await snapshot();
    },
  });
  for (const metric of Object.values(METRIC)) dropped.inc({ metric }, 0);

  /** Keeps the costliest `maxSeries` of each metric and counts the rest as dropped. */
  const capped = (full: Snapshot): Snapshot => {
    const out = { ...full };
    for (const [field, name] of Object.entries(METRIC) as Array<[keyof typeof METRIC, string]>) {
      const series = full[field];
      if (series.length <= maxSeries) continue;
      out[field] = [...series].sort((a, b) => b.value - a.value).slice(0, maxSeries);
      dropped.inc({ metric: name }, series.length - maxSeries);
    }
    return out;
  };

  let cached: { key: string; at: number; snapshot: Promise<Snapshot | null> } | null = null;
  const snapshot = (): Promise<Snapshot | null> => {
    if (source.unavailable) return Promise.resolve(null);
    const now = source.now();
    const keyNow = () => `${hourOf(now)}:${source.generation()}`;
    if (cached && cached.key === keyNow() && now - cached.at < cacheMs) return cached.snapshot;
    const pending = costSnapshot(source, now).then(capped, (error: unknown) => {
      options.logger?.error({ err: error }, 'computing the cost series failed');
      return null;
    });
    const entry = { key: keyNow(), at: now, snapshot: pending };
    cached = entry;
    // Computing refreshes roll-ups (a new generation): the snapshot stands for the state it left behind.
    void pending.then(() => {
      entry.key = keyNow();
    });
    return pending;
  };

  const gauge = (name: string, help: string, labelNames: string[], pick: (s: Snapshot) => Series[]) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        this.reset();
        const current = await snapshot();
        if (current) for (const s of pick(current)) this.set(s.labels, s.value);
      },
    });

  gauge(
    METRIC.namespaceCost,
    'Cost per hour of each namespace by resource (cpu, memory, gpu, storage) over the latest complete hour, idle as namespace "__idle__", in the currency of mlcost_build_info.',
    ['namespace', 'resource'],
    (s) => s.namespaceCost,
  );
  gauge(
    METRIC.namespaceEfficiency,
    'Efficiency of each namespace over the latest complete hour: usage over request for cpu and memory, mean activity of held GPUs, and total weighted by cost with GPUs in.',
    ['namespace', 'resource'],
    (s) => s.namespaceEfficiency,
  );
  gauge(
    METRIC.heldIdle,
    'Cost per hour of GPUs (or slices) held by a pod whose activity stayed below cost.gpuIdleThreshold over the latest complete hour; shared GPUs split by share.',
    ['namespace', 'pod', 'node', 'gpu'],
    (s) => s.heldIdle,
  );
  gauge(
    METRIC.free,
    'Cost per hour of GPU capacity nobody held over the latest complete hour (whole GPUs, MIG slices, uncarved MIG capacity).',
    ['node', 'gpu'],
    (s) => s.free,
  );
  gauge(
    METRIC.budgetSpend,
    'Spend this calendar month (UTC) of each budget in mlcost.yaml, to the end of the latest complete hour.',
    ['budget'],
    (s) => s.budgetSpend,
  );
  gauge(
    METRIC.budgetForecast,
    'End-of-month forecast of each budget: spend so far plus the trailing 7-day rate for the hours left.',
    ['budget'],
    (s) => s.budgetForecast,
  );
  gauge(
    METRIC.budgetLimit,
    'Monthly amount of each budget in mlcost.yaml.',
    ['budget'],
    (s) => s.budgetLimit,
  );
  gauge(
    METRIC.modelCost,
    'Cost per million tokens (prompt and generated) of each served model over the latest complete hour, counting its pods CPU, memory, GPU and volumes.',
    ['namespace', 'model'],
    (s) => s.modelCost,
  );
  new Gauge({
    name: 'mlcost_collector_rollups_pending',
    help: 'Hourly cost roll-ups (one per node and hour) waiting to be recomputed after new or late windows.',
    registers: [registry],
    collect() {
      this.set(source.pendingNodeHours());
    },
  });
}
