// When a seat's pods run: every seat has a schedule, and the pod alive at any instant is found from the time alone
// (no replay of history). Two shapes:
//  - `always`: a long-running workload whose pod is replaced every `periodMs` (a rollout, a re-created notebook);
//  - `periodic`: a job that starts once per period at a per-period offset and runs for a per-period duration, with
//    the GPUs unallocated in between (training jobs, batch jobs, CronJobs).
// Every start and end lies on the hour grid, so a backfill window that divides an hour never sees a pod for only
// part of it: what a pod requests times the window's length is exactly what it held.
import { unitAt } from './random.ts';

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
/** The simulator's time step: every metric holds one value per slot (and --serve serves that value). */
export const SLOT_MS = MINUTE;

export type Schedule =
  | { type: 'always'; periodMs: number; phaseMs: number }
  | {
      type: 'periodic';
      periodMs: number;
      phaseMs: number;
      /** Earliest start after the period begins, and run length bounds, in whole hours. */
      maxOffsetHours: number;
      minRunHours: number;
      maxRunHours: number;
    };

export interface Run {
  /** Which period of the schedule (its pod's generation). */
  instance: number;
  start: number;
  end: number;
}

const OFFSET_SALT = 0x0ff5e7;
const RUN_SALT = 0x7a11;

function floorDiv(a: number, b: number): number {
  return Math.floor(a / b);
}

/** The run of period `instance`; `key` makes runs of different schedules differ (a training gang shares one key). */
export function runOf(schedule: Schedule, key: number, instance: number): Run {
  const periodStart = schedule.phaseMs + instance * schedule.periodMs;
  if (schedule.type === 'always')
    return { instance, start: periodStart, end: periodStart + schedule.periodMs };
  const periodHours = Math.round(schedule.periodMs / HOUR);
  const runHours =
    schedule.minRunHours +
    Math.floor(unitAt(key, instance, RUN_SALT) * (schedule.maxRunHours - schedule.minRunHours + 1));
  const room = Math.max(0, Math.min(schedule.maxOffsetHours, periodHours - runHours));
  const offsetHours = Math.floor(unitAt(key, instance, OFFSET_SALT) * (room + 1));
  const start = periodStart + offsetHours * HOUR;
  return { instance, start, end: start + Math.min(runHours, periodHours - offsetHours) * HOUR };
}

/** The run alive at instant `t`, if any. */
export function runAt(schedule: Schedule, key: number, t: number): Run | undefined {
  const instance = floorDiv(t - schedule.phaseMs, schedule.periodMs);
  const run = runOf(schedule, key, instance);
  return t >= run.start && t < run.end ? run : undefined;
}

/** Every run that overlaps [from, to), in time order. */
export function runsDuring(schedule: Schedule, key: number, from: number, to: number): Run[] {
  const first = floorDiv(from - schedule.phaseMs, schedule.periodMs);
  const last = floorDiv(to - 1 - schedule.phaseMs, schedule.periodMs);
  const runs: Run[] = [];
  for (let instance = first; instance <= last; instance++) {
    const run = runOf(schedule, key, instance);
    if (run.start < to && run.end > from) runs.push(run);
  }
  return runs;
}

/** The slot index holding instant `t`. */
export function slotOf(t: number): number {
  return Math.floor(t / SLOT_MS);
}
