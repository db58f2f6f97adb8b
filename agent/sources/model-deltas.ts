// Turns model servers' cumulative counters into increments since the previous collection, per series
// (namespace, pod, model, instance), the way Prometheus' rate()/increase() read counters:
//   - the first reading of a series gives zero increments (there is nothing to difference it with);
//   - a value lower than the previous one means the counter was reset (server restart), and the new value
//     is the increment (everything counted since the reset);
//   - a series that disappears is forgotten, unless the caller says to keep it (its target failed this time).
// The only state is the last reading per series, capped at `maxSeries` entries so memory stays bounded even
// when pods churn or a server invents label values: once full, new series are not tracked (they report zero
// increments and are counted in `untracked`) until forgotten series make room. Existing series keep their
// place, so a flood of new series cannot disturb the accounting of the ones already tracked.

import { COUNTER_FIELDS, type CounterValues, zeroCounters } from './model-metrics.ts';

export interface SeriesKey {
  namespace: string;
  pod: string;
  model: string;
  /** Distinguishes several series sets of one model in one pod (target port, engine, worker, version). */
  instance: string;
}

export interface CounterReading {
  key: SeriesKey;
  counters: CounterValues;
}

export interface DeltaStep {
  /** Increments per reading, in the order of the readings given. */
  increments: CounterValues[];
  /** Readings that were not tracked because `maxSeries` series were already tracked. */
  untracked: number;
}

/**
 * Default cap on tracked series: a node runs at most a few hundred serving pods' worth of (model, instance)
 * pairs even with Triton hosting many models per pod; 10,000 entries of six numbers is well under 2 MB.
 */
export const DEFAULT_MAX_TRACKED_SERIES = 10_000;

/**
 * A drop smaller than this share of the previous value is float noise (sums over label sets added in a
 * different order, µs→s division), not a reset: treated as no change rather than as a whole new count.
 */
const RESET_TOLERANCE = 1e-9;

export class CounterDeltas {
  private readonly maxSeries: number;
  /** The last reading of each tracked series, by series id. */
  private readonly last = new Map<string, CounterReading>();

  constructor(options: { maxSeries?: number } = {}) {
    const maxSeries = options.maxSeries ?? DEFAULT_MAX_TRACKED_SERIES;
    if (!Number.isInteger(maxSeries) || maxSeries < 1) {
      throw new RangeError(`CounterDeltas maxSeries must be a positive integer, got ${maxSeries}`);
    }
    this.maxSeries = maxSeries;
  }

  /** Number of series currently tracked. */
  get size(): number {
    return this.last.size;
  }

  /**
   * Feeds one collection's readings and returns each one's increments since the previous collection.
   * Tracked series absent from `readings` are forgotten unless `retain(key)` returns true (use it for
   * targets that failed this time, so one failed scrape does not cost the next one its baseline).
   * A key given twice in one step is a caller bug and throws.
   */
  step(readings: readonly CounterReading[], retain?: (key: SeriesKey) => boolean): DeltaStep {
    const ids = readings.map((reading) => seriesId(reading.key));
    const seen = new Set<string>();
    for (const [index, id] of ids.entries()) {
      if (seen.has(id)) {
        const { namespace, pod, model, instance } = readings[index]!.key;
        throw new Error(
          `CounterDeltas.step: series ${namespace}/${pod} model ${JSON.stringify(model)} instance ${JSON.stringify(instance)} given twice in one step`,
        );
      }
      seen.add(id);
    }
    // Forget first, so room freed by vanished series is available to new ones in this same step.
    for (const [id, previous] of this.last) {
      if (!seen.has(id) && !(retain?.(previous.key) ?? false)) this.last.delete(id);
    }

    let untracked = 0;
    const increments = readings.map((reading, index) => {
      const id = ids[index]!;
      const previous = this.last.get(id);
      if (previous === undefined) {
        if (this.last.size >= this.maxSeries) untracked += 1;
        else this.last.set(id, copyReading(reading));
        return zeroCounters();
      }
      const increment = zeroCounters();
      for (const field of COUNTER_FIELDS) {
        increment[field] = counterIncrease(previous.counters[field], reading.counters[field]);
      }
      this.last.set(id, copyReading(reading));
      return increment;
    });
    return { increments, untracked };
  }
}

/** How much a counter grew from `previous` to `current`, a reset counting as growth from zero. */
export function counterIncrease(previous: number, current: number): number {
  if (!Number.isFinite(previous) || !Number.isFinite(current)) return 0;
  if (current >= previous) return current - previous;
  if (previous - current <= RESET_TOLERANCE * previous) return 0;
  return current;
}

function seriesId(key: SeriesKey): string {
  return JSON.stringify([key.namespace, key.pod, key.model, key.instance]);
}

// Copied so a caller that reuses its objects cannot change what was stored.
function copyReading(reading: CounterReading): CounterReading {
  return { key: { ...reading.key }, counters: { ...reading.counters } };
}
