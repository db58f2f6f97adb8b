// Small statistics over window series: nearest-rank percentiles (plain and weighted), grouping by time slot,
// the analysed span and the monthly projection every saving uses.
import { HOUR_MS, HOURS_PER_MONTH } from './options.ts';
import type { Millis } from './types.ts';

/** Nearest-rank percentile (p in 0..100): the smallest value with at least p% of values at or below it. */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/** Weighted nearest-rank percentile: the smallest value whose cumulative weight reaches p% of the total. */
export function weightedPercentile(
  samples: ReadonlyArray<{ value: number; weight: number }>,
  p: number,
): number | undefined {
  const usable = samples.filter((sample) => sample.weight > 0);
  if (usable.length === 0) return undefined;
  const sorted = [...usable].sort((a, b) => a.value - b.value);
  const total = sorted.reduce((sum, sample) => sum + sample.weight, 0);
  const needed = (p / 100) * total;
  let cumulative = 0;
  for (const sample of sorted) {
    cumulative += sample.weight;
    // A relative tolerance so p=100 is reached despite rounding in the running sum.
    if (cumulative >= needed - total * 1e-12) return sample.value;
  }
  return sorted[sorted.length - 1]?.value;
}

export function maxOf(values: readonly number[]): number | undefined {
  let best: number | undefined;
  for (const value of values) if (best === undefined || value > best) best = value;
  return best;
}

export function minOf(values: readonly number[]): number | undefined {
  let best: number | undefined;
  for (const value of values) if (best === undefined || value < best) best = value;
  return best;
}

export function median(values: readonly number[]): number | undefined {
  return percentile(values, 50);
}

/** Values that are present, dropping undefined. */
export function present(values: ReadonlyArray<number | undefined>): number[] {
  return values.filter((value): value is number => value !== undefined && Number.isFinite(value));
}

/** Groups records by window start, in time order: one slot holds every pod's record of that window. */
export function bySlot<T extends { start: Millis }>(
  records: readonly T[],
): Array<{ start: Millis; items: T[] }> {
  const slots = new Map<Millis, T[]>();
  for (const record of records) {
    const slot = slots.get(record.start);
    if (slot) slot.push(record);
    else slots.set(record.start, [record]);
  }
  return [...slots.entries()].sort((a, b) => a[0] - b[0]).map(([start, items]) => ({ start, items }));
}

/** Records inside the history: ending after `now − history` and starting before `now`. */
export function inHistory<T extends { start: Millis; end: Millis }>(
  records: readonly T[],
  now: Millis,
  historyHours: number,
): T[] {
  const from = now - historyHours * HOUR_MS;
  return records.filter((record) => record.end > from && record.start < now);
}

/**
 * The span a series is judged over, in hours: from the later of (now − history) and its first window, to now.
 * Savings project what happened in this span onto a month, so a job that ran a third of the span saves a third.
 */
export function spanHours(
  records: ReadonlyArray<{ start: Millis; end: Millis }>,
  now: Millis,
  historyHours: number,
) {
  const first = minOf(records.map((record) => record.start));
  if (first === undefined) return 0;
  const from = Math.max(now - historyHours * HOUR_MS, first);
  const last = maxOf(records.map((record) => record.end)) ?? now;
  return Math.max(now, last) / HOUR_MS - from / HOUR_MS;
}

/** How much history a series has: its first window to its last, hours (for confidence and the minimum). */
export function historyHoursOf(records: ReadonlyArray<{ start: Millis; end: Millis }>): number {
  const first = minOf(records.map((record) => record.start));
  const last = maxOf(records.map((record) => record.end));
  return first === undefined || last === undefined ? 0 : (last - first) / HOUR_MS;
}

export const hoursOf = (record: { start: Millis; end: Millis }) => (record.end - record.start) / HOUR_MS;

/** Hours observed in the span, scaled to a 730-hour month. */
export function perMonth(hoursInSpan: number, span: number): number {
  return span > 0 ? (hoursInSpan * HOURS_PER_MONTH) / span : 0;
}

/** Rounds money to cents for display and comparison. */
export const cents = (amount: number) => Math.round(amount * 100) / 100;
