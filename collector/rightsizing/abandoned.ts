// Abandoned workloads: still running, but with no requests, no CPU worth a request and no GPU activity for days.
// Everything they hold is waste; stop them (scale to zero, suspend) and delete them once their owner agrees.
import { labelled } from './confidence.ts';
import { type Context, recommendationId } from './context.ts';
import { HOUR_MS, HOURS_PER_MONTH } from './options.ts';
import { stopPatch } from './patch.ts';
import { deviceHour, priceFactorOf, requestHour } from './pricing.ts';
import { formatCpu, pct } from './quantities.ts';
import { cents, hoursOf, maxOf, minOf } from './stats.ts';
import type { ContainerSeries, GpuSeries, ModelSeries, Recommendation, WorkloadRef } from './types.ts';

/** Every series of one workload. */
export interface WorkloadView {
  workload: WorkloadRef;
  containers: ContainerSeries[];
  gpus: GpuSeries[];
  models: ModelSeries[];
}

interface Timed {
  start: number;
  end: number;
}

export function recommendAbandoned(view: WorkloadView, ctx: Context): Recommendation | undefined {
  const o = ctx.options;
  const containerWindows = view.containers.flatMap((series) => series.windows);
  const gpuWindows = view.gpus.flatMap((series) => series.windows);
  const modelWindows = view.models.flatMap((series) => series.windows);
  const all: Timed[] = [...containerWindows, ...gpuWindows, ...modelWindows];
  const first = minOf(all.map((window) => window.start));
  const last = maxOf(all.map((window) => window.end));
  if (first === undefined || last === undefined) return undefined;
  const windowMs = all[0]!.end - all[0]!.start;
  // Still running now (else there is nothing left to save) and watched for the whole quiet period.
  if (last < ctx.now - 2 * windowMs) return undefined;
  const periodStart = ctx.now - o.abandonedDays * 24 * HOUR_MS;
  if (first > periodStart) return undefined;

  // The time of the latest sign of life: CPU worth a request, a request served, a busy GPU.
  const busy = (window: { cpuAvg?: number; cpuP95?: number; cpuMax?: number }) =>
    (window.cpuAvg ?? window.cpuP95 ?? window.cpuMax ?? 0) >= o.abandonedCpuCores;
  const signs = [
    ...containerWindows.filter(busy),
    ...modelWindows.filter((window) => window.requestsOk + window.requestsFailed > 0),
    ...gpuWindows.filter((window) => (window.activityMax ?? window.activityAvg ?? 0) >= o.gpuIdleActivity),
  ];
  const lastSign = maxOf(signs.map((window) => window.end));
  const quietSince = lastSign === undefined ? first : lastSign;
  const quietHours = (ctx.now - quietSince) / HOUR_MS;
  if (quietHours < o.abandonedDays * 24) return undefined;

  // What it cost over the quiet period, projected to a month: requests of every container and the GPUs held.
  const period = (window: Timed) => window.end > periodStart;
  let cost = 0;
  for (const window of containerWindows.filter(period)) {
    cost +=
      hoursOf(window) *
      priceFactorOf(window) *
      requestHour(ctx.prices, window.requestCpu ?? 0, window.requestMemory ?? 0);
  }
  for (const window of gpuWindows.filter(period)) cost += hoursOf(window) * deviceHour(ctx.prices, window);
  const periodHours = (ctx.now - periodStart) / HOUR_MS;
  const saving = (cost / periodHours) * HOURS_PER_MONTH;
  const lastWindows = containerWindows.filter((window) => window.end === last);
  const replicas = new Set(lastWindows.map((window) => window.pod)).size;
  const gpusNow = gpuWindows.filter((window) => window.end === last).length;
  const days = quietHours / 24;
  const traffic = view.models.length > 0 ? 'no requests, ' : '';

  return {
    id: recommendationId('abandoned', view.workload),
    kind: 'abandoned',
    action: 'stop',
    target: { ...view.workload },
    current: { replicas, gpus: gpusNow },
    proposed: { replicas: 0 },
    monthlySaving: cents(saving),
    currency: ctx.prices.currency,
    // Grows with the quiet time in days: 3 days → 0.75, 9 days → 0.9.
    confidence: labelled(days / (days + 1)),
    reason:
      `It has had ${traffic}no CPU above ${formatCpu(o.abandonedCpuCores)} and no GPU above ` +
      `${pct(o.gpuIdleActivity)} activity for ${days.toFixed(1)} days: stop it, and delete it if its owner agrees.`,
    patch: stopPatch(view.workload),
    details: {
      quietDays: Math.round(days * 100) / 100,
      thresholdDays: o.abandonedDays,
      cpuThresholdCores: o.abandonedCpuCores,
    },
  };
}
