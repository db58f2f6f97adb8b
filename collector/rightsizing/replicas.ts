// Replicas for model servers from their own metrics: the fewest replicas that carry the busiest window at a load
// per replica the server already carried with latency at its baseline, no queue and KV cache below its ceiling.
// It never extrapolates past a load per replica it has been seen to handle.
import { confidenceOf } from './confidence.ts';
import { type Context, recommendationId, workloadKey } from './context.ts';
import { scalePatch } from './patch.ts';
import { deviceHour, priceFactorOf, requestHour } from './pricing.ts';
import { money, pct } from './quantities.ts';
import { bySlot, cents, historyHoursOf, inHistory, maxOf, median, perMonth, spanHours } from './stats.ts';
import type { ContainerSeries, GpuSeries, ModelSeries, Recommendation, Target } from './types.ts';

export interface ServingSlot {
  start: number;
  hours: number;
  replicas: number;
  /** Requests per second across replicas. */
  rate: number;
  /** Mean latency, seconds; undefined when nothing completed. */
  latency: number | undefined;
  queueMax: number | undefined;
  kvCacheMax: number | undefined;
}

export function servingSlots(model: ModelSeries, now: number, historyHours: number): ServingSlot[] {
  return bySlot(inHistory(model.windows, now, historyHours)).map(({ start, items }) => {
    const seconds = (items[0]!.end - items[0]!.start) / 1000;
    const requests = items.reduce((sum, item) => sum + item.requestsOk + item.requestsFailed, 0);
    const latencySum = items.reduce((sum, item) => sum + item.latencySum, 0);
    const latencyCount = items.reduce((sum, item) => sum + item.latencyCount, 0);
    const queues = items.flatMap((item) => (item.queueMax === undefined ? [] : [item.queueMax]));
    const caches = items.flatMap((item) => (item.kvCacheMax === undefined ? [] : [item.kvCacheMax]));
    return {
      start,
      hours: seconds / 3600,
      replicas: new Set(items.map((item) => item.pod)).size,
      rate: seconds > 0 ? requests / seconds : 0,
      latency: latencyCount > 0 ? latencySum / latencyCount : undefined,
      queueMax: maxOf(queues),
      kvCacheMax: maxOf(caches),
    };
  });
}

/** What one replica costs an hour: its containers' latest requests and the GPUs one pod holds. */
export function replicaHourCost(
  ctx: Context,
  containers: readonly ContainerSeries[],
  gpus: readonly GpuSeries[],
): number {
  let cost = 0;
  for (const series of containers) {
    const latest = series.windows.reduce<(typeof series.windows)[number] | undefined>(
      (best, w) => (!best || w.start > best.start ? w : best),
      undefined,
    );
    if (latest) {
      cost +=
        priceFactorOf(latest) * requestHour(ctx.prices, latest.requestCpu ?? 0, latest.requestMemory ?? 0);
    }
  }
  for (const series of gpus) {
    const lastStart = maxOf(series.windows.map((window) => window.start));
    const latest = series.windows.filter((window) => window.start === lastStart);
    const pods = new Set(latest.map((window) => window.pod)).size || 1;
    cost += latest.reduce((sum, window) => sum + deviceHour(ctx.prices, window), 0) / pods;
  }
  return cost;
}

export function recommendReplicas(
  model: ModelSeries,
  ctx: Context,
  perReplicaHour: number,
): Recommendation | undefined {
  const o = ctx.options;
  const hpa = ctx.info(model.workload)?.hpa;
  // An HPA already owns the count; lowering its minReplicas is left to it (see SPEC).
  if (hpa) return undefined;
  const windows = inHistory(model.windows, ctx.now, o.historyHours);
  const slots = servingSlots(model, ctx.now, o.historyHours);
  const history = historyHoursOf(windows);
  if (slots.length < o.minPoints || history < o.minHistoryHours) return undefined;

  const baseline = median(slots.flatMap((slot) => (slot.latency === undefined ? [] : [slot.latency])));
  if (baseline === undefined) return undefined;
  const good = slots.filter(
    (slot) =>
      slot.rate > 0 &&
      slot.latency !== undefined &&
      slot.latency <= baseline * (1 + o.replicasLatencyTolerance) &&
      (slot.queueMax ?? 0) <= o.replicasQueueCeiling &&
      (slot.kvCacheMax ?? 0) <= o.replicasKvCacheCeiling,
  );
  const capacity = maxOf(good.map((slot) => slot.rate / slot.replicas));
  const peak = maxOf(slots.map((slot) => slot.rate)) ?? 0;
  if (capacity === undefined || capacity <= 0) return undefined;
  const needed = Math.max(1, Math.ceil(peak / capacity - 1e-9));
  const current = slots[slots.length - 1]!.replicas;
  if (needed >= current) return undefined;

  const span = spanHours(windows, ctx.now, o.historyHours);
  const extraHours = slots.reduce((sum, slot) => sum + Math.max(0, slot.replicas - needed) * slot.hours, 0);
  const saving = perMonth(extraHours * perReplicaHour, span);
  const target: Target = { ...model.workload };
  return {
    id: recommendationId('replicas', target),
    kind: 'replicas',
    action: 'set-replicas',
    target,
    current: { replicas: current },
    proposed: { replicas: needed },
    monthlySaving: cents(saving),
    currency: ctx.prices.currency,
    confidence: confidenceOf(history, slots.length, o.fullConfidencePoints),
    reason:
      `Up to ${capacity.toFixed(2)} req/s per replica kept mean latency within ${pct(o.replicasLatencyTolerance)} of its ` +
      `${baseline.toFixed(3)} s baseline with no queue and KV cache ≤ ${pct(o.replicasKvCacheCeiling)}; the busiest ` +
      `window had ${peak.toFixed(2)} req/s, so ${needed} replicas carry it instead of ${current} ` +
      `(${money(perReplicaHour, ctx.prices.currency)} per replica-hour).`,
    patch: scalePatch(model.workload, needed),
    details: {
      model: model.model,
      baselineLatencySeconds: Math.round(baseline * 1e6) / 1e6,
      capacityPerReplica: Math.round(capacity * 1e4) / 1e4,
      peakRate: Math.round(peak * 1e4) / 1e4,
      replicaHourCost: Math.round(perReplicaHour * 1e4) / 1e4,
      goodWindows: good.length,
      historyHours: Math.round(history * 100) / 100,
      workload: workloadKey(model.workload),
    },
  };
}
