// Held-but-idle GPUs: a workload still holding GPUs whose activity has stayed under the idle threshold for at least
// the idle duration (notebooks are the usual case) should give them back; an inference server that also had no
// requests for that long should scale to zero. A workload that held its GPUs idle that long until it stopped (a hung
// training run, killed at its deadline) is reported too: the waste happened, and runs like it should be stopped
// once idle.
import { labelled } from './confidence.ts';
import { type Context, recommendationId } from './context.ts';
import { gpuUsage, type PodSlot } from './gpu-usage.ts';
import { HOUR_MS } from './options.ts';
import { scalePatch, stopPatch } from './patch.ts';
import { deviceHour } from './pricing.ts';
import { pct } from './quantities.ts';
import { cents, hoursOf, maxOf, perMonth } from './stats.ts';
import type { GpuSeries, ModelSeries, Recommendation, Target } from './types.ts';
import { RUN_TO_COMPLETION_KINDS, TRAINING_KINDS } from './workload-kinds.ts';

interface Run {
  pod: string;
  start: number;
  end: number;
  slots: PodSlot[];
}

/** Consecutive idle windows of each pod; a gap longer than one window ends a run. */
function idleRuns(slots: readonly PodSlot[], isIdle: (slot: PodSlot) => boolean): Run[] {
  const byPod = new Map<string, PodSlot[]>();
  for (const slot of slots) {
    const list = byPod.get(slot.pod);
    if (list) list.push(slot);
    else byPod.set(slot.pod, [slot]);
  }
  const runs: Run[] = [];
  for (const [pod, list] of byPod) {
    list.sort((a, b) => a.start - b.start);
    let run: Run | undefined;
    for (const slot of list) {
      const contiguous = run !== undefined && slot.start <= run.end + (slot.end - slot.start);
      if (!isIdle(slot)) {
        run = undefined;
        continue;
      }
      if (run && contiguous) {
        run.end = slot.end;
        run.slots.push(slot);
      } else {
        run = { pod, start: slot.start, end: slot.end, slots: [slot] };
        runs.push(run);
      }
    }
  }
  return runs;
}

export function recommendGpuIdle(
  series: GpuSeries,
  ctx: Context,
  model?: ModelSeries,
): Recommendation | undefined {
  const o = ctx.options;
  const usage = gpuUsage(series, ctx.now, o.historyHours, o.gpuActivityPercentile, ctx.prices);
  if (usage.podSlots.length === 0) return undefined;
  const inference = model !== undefined;
  const thresholdHours = inference
    ? o.inferenceIdleHours
    : TRAINING_KINDS.has(series.workload.kind)
      ? o.trainingIdleHours
      : o.gpuIdleHours;

  // Requests per pod and window, for servers: idle means no requests too.
  const requests = new Map<string, number>();
  for (const window of model?.windows ?? []) {
    const key = `${window.pod}\u0000${window.start}`;
    requests.set(key, (requests.get(key) ?? 0) + window.requestsOk + window.requestsFailed);
  }
  const isIdle = (slot: PodSlot) =>
    slot.devices.every(
      (device) => device.activityAvg !== undefined && device.activityAvg < o.gpuIdleActivity,
    ) && (requests.get(`${slot.pod}\u0000${slot.start}`) ?? 0) === 0;

  const runs = idleRuns(usage.podSlots, isIdle);
  const long = runs.filter((run) => (run.end - run.start) / HOUR_MS >= thresholdHours);
  // Idle to the end: the run reaches the series' last window. Still held when that window is recent; otherwise it
  // stopped while idle (a hung run that was killed or timed out).
  const lastEnd = maxOf(usage.podSlots.map((slot) => slot.end)) ?? 0;
  const windowMs = usage.podSlots[0]!.end - usage.podSlots[0]!.start;
  const recent = lastEnd >= ctx.now - 2 * windowMs;
  const current = long.filter((run) => run.end === lastEnd);
  if (current.length === 0) return undefined;
  const ended = !recent;

  const idleCost = long.reduce(
    (sum, run) =>
      sum +
      run.slots.reduce(
        (slotSum, slot) =>
          slotSum +
          slot.devices.reduce(
            (deviceSum, device) => deviceSum + hoursOf(device) * deviceHour(ctx.prices, device),
            0,
          ),
        0,
      ),
    0,
  );
  // A stopped workload will not come back under its name, and a job's next run is another object: their idle hours
  // are a one-off, spread over the whole history looked at (from the input's first data), not over their own short
  // life, which would project one hung run as if it hung again every run-length.
  const oneOff = ended || RUN_TO_COMPLETION_KINDS.has(series.workload.kind);
  const span =
    oneOff && ctx.dataFrom !== undefined
      ? Math.max(
          usage.spanHours,
          (ctx.now - Math.max(ctx.dataFrom, ctx.now - o.historyHours * HOUR_MS)) / HOUR_MS,
        )
      : usage.spanHours;
  const saving = perMonth(idleCost, span);
  const idleHoursNow = maxOf(current.map((run) => (run.end - run.start) / HOUR_MS)) ?? 0;
  const heldNow = usage.podSlots.filter((slot) => slot.end === lastEnd);
  const gpusNow = heldNow.reduce((sum, slot) => sum + slot.devices.length, 0);
  const target: Target = { ...series.workload, ...(series.container ? { container: series.container } : {}) };
  const what = `${gpusNow} ${usage.model ?? 'GPU'}${usage.migProfile ? ` (${usage.migProfile})` : ''}`;
  const heldCost = span > 0 ? (usage.costPerMonth * usage.spanHours) / span : 0;
  const idleShare = heldCost > 0 ? saving / heldCost : 0;
  const reason = ended
    ? `It held ${what} under ${pct(o.gpuIdleActivity)} activity for ${idleHoursNow.toFixed(1)} h until it stopped ` +
      `at ${new Date(lastEnd).toISOString()} (idle ${pct(idleShare)} of its held time; a hung run holds its GPUs ` +
      `until it is killed): stop runs like it once idle for ${thresholdHours} h.`
    : inference
      ? `It has served no requests and its ${what} stayed under ${pct(o.gpuIdleActivity)} activity for ` +
        `${idleHoursNow.toFixed(1)} h (idle ${pct(idleShare)} of its held time): scale it to zero until traffic returns.`
      : `It holds ${what} that stayed under ${pct(o.gpuIdleActivity)} activity for ${idleHoursNow.toFixed(1)} h ` +
        `(idle ${pct(idleShare)} of its held time): stop it and give the GPUs back.`;

  return {
    id: recommendationId('gpu-idle', target),
    kind: 'gpu-idle',
    action: inference ? 'scale-to-zero' : 'reclaim',
    target,
    current: {
      gpus: gpusNow,
      replicas: heldNow.length,
      idleHours: Math.round(idleHoursNow * 100) / 100,
      ...(ended ? { stoppedAt: new Date(lastEnd).toISOString() } : {}),
    },
    proposed: { gpus: 0, replicas: 0 },
    monthlySaving: cents(saving),
    currency: ctx.prices.currency,
    // Grows with how long it has been idle, in units of the threshold: 1× → 0.5, 3× → 0.75, 9× → 0.9.
    confidence: labelled(idleHoursNow / (idleHoursNow + thresholdHours)),
    reason,
    patch: inference ? scalePatch(series.workload, 0) : stopPatch(series.workload),
    details: {
      idleActivityThreshold: o.gpuIdleActivity,
      idleHoursThreshold: thresholdHours,
      idleHoursNow: Math.round(idleHoursNow * 100) / 100,
      idleShareOfHeldCost: Math.round(idleShare * 1000) / 1000,
      heldCostPerMonth: cents(heldCost),
      stillHeld: !ended,
      model: usage.model ?? '',
    },
  };
}
