// Cumulative counters for the live endpoints: the kubelet's CPU-seconds, the model servers' request and token
// totals. The simulator knows each slot's rate or amount; a counter is their sum since it started, computed
// incrementally and remembered per series, so a scrape costs only the slots since the previous one.
//
// A counter that started before --serve did (a pod up for days) is not summed from its start: its value at the
// serving anchor is estimated from the rate at the anchor, and exact sums run from there. Only increments are
// ever read (rates, deltas), and those are exact.
import { SLOT_MS, slotOf } from '../schedule.ts';

interface Running {
  origin: number;
  /** Integrated up to this instant. */
  done: number;
  total: number;
}

interface Summed {
  fromSlot: number;
  /** Summed the whole slots before this one. */
  doneSlot: number;
  totals: number[];
}

export class CumulativeCounters {
  private readonly running = new Map<string, Running>();
  private readonly summed = new Map<string, Summed>();

  /** Seconds-style counter: the integral from `origin` to `t` of a rate given per slot (per millisecond). */
  integral(key: string, origin: number, t: number, ratePerMs: (slot: number) => number): number {
    if (t <= origin) return 0;
    let entry = this.running.get(key);
    if (!entry || entry.origin !== origin || entry.done > t) {
      entry = { origin, done: origin, total: 0 };
      this.running.set(key, entry);
    }
    const currentSlotStart = slotOf(t) * SLOT_MS;
    while (entry.done < currentSlotStart) {
      const slot = slotOf(entry.done);
      const slotEnd = (slot + 1) * SLOT_MS;
      entry.total += ratePerMs(slot) * (slotEnd - entry.done);
      entry.done = slotEnd;
    }
    return entry.total + ratePerMs(slotOf(t)) * (t - entry.done);
  }

  /**
   * Count-style counters: whole-slot amounts summed from `fromSlot`, plus the part of the current slot that has
   * passed, rounded down (usage.ts partialCount: the same rule, so window increments match scrape deltas).
   */
  sum(key: string, fromSlot: number, t: number, amounts: (slot: number) => number[]): number[] {
    const current = slotOf(t);
    let entry = this.summed.get(key);
    if (!entry || entry.fromSlot !== fromSlot || entry.doneSlot > current) {
      entry = { fromSlot, doneSlot: fromSlot, totals: [] };
      this.summed.set(key, entry);
    }
    for (; entry.doneSlot < current; entry.doneSlot++) {
      const values = amounts(entry.doneSlot);
      values.forEach((value, i) => {
        entry.totals[i] = (entry.totals[i] ?? 0) + value;
      });
    }
    if (current < fromSlot) return [];
    const fraction = (t - current * SLOT_MS) / SLOT_MS;
    const now = amounts(current);
    return now.map((value, i) => (entry.totals[i] ?? 0) + Math.floor(value * fraction));
  }

  /** Forgets series not touched by `keep` (pods that are gone). */
  retain(keep: (key: string) => boolean): void {
    for (const key of this.running.keys()) if (!keep(key)) this.running.delete(key);
    for (const key of this.summed.keys()) if (!keep(key)) this.summed.delete(key);
  }
}
