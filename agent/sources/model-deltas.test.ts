// CounterDeltas: increments between readings, counter resets, forgetting and the series cap, worked by hand.
import { describe, expect, it } from 'vitest';
import { CounterDeltas, type CounterReading, counterIncrease, type SeriesKey } from './model-deltas.ts';
import { type CounterValues, zeroCounters } from './model-metrics.ts';

const key = (pod: string, model = 'm', instance = ''): SeriesKey => ({
  namespace: 'ns',
  pod,
  model,
  instance,
});
const reading = (k: SeriesKey, counters: Partial<CounterValues>): CounterReading => ({
  key: k,
  counters: { ...zeroCounters(), ...counters },
});

describe('counterIncrease', () => {
  it('is the difference while the counter grows, the new value after a reset', () => {
    expect(counterIncrease(10, 15)).toBe(5);
    expect(counterIncrease(15, 15)).toBe(0);
    expect(counterIncrease(15, 3)).toBe(3); // reset: 3 counted since the restart
    expect(counterIncrease(15, 0)).toBe(0);
  });

  it('treats a float-noise drop as no change, not as a reset', () => {
    expect(counterIncrease(0.30000000000000004, 0.3)).toBe(0);
  });

  it('gives zero for non-finite readings', () => {
    expect(counterIncrease(Number.NaN, 3)).toBe(0);
    expect(counterIncrease(3, Number.POSITIVE_INFINITY)).toBe(0);
  });
});

describe('CounterDeltas', () => {
  it('first reading zero, then differences, a reset counted from zero, per field', () => {
    const deltas = new CounterDeltas();
    const a = key('a');
    // promptTokens: 10 → 15 → 3 (restart) → 7 gives 0, 5, 3, 4.
    // latencySecondsSum: 1.5 → 2.25 → 0.5 (restart) → 0.75 gives 0, 0.75, 0.5, 0.25.
    // requestsOk: 4 → 6 → 9 (grew across the "reset" of the others: each series is judged on its own) → 9.
    const steps = [
      { promptTokens: 10, latencySecondsSum: 1.5, requestsOk: 4 },
      { promptTokens: 15, latencySecondsSum: 2.25, requestsOk: 6 },
      { promptTokens: 3, latencySecondsSum: 0.5, requestsOk: 9 },
      { promptTokens: 7, latencySecondsSum: 0.75, requestsOk: 9 },
    ].map((counters) => deltas.step([reading(a, counters)]).increments[0]);
    expect(steps.map((s) => s?.promptTokens)).toEqual([0, 5, 3, 4]);
    expect(steps.map((s) => s?.latencySecondsSum)).toEqual([0, 0.75, 0.5, 0.25]);
    expect(steps.map((s) => s?.requestsOk)).toEqual([0, 2, 3, 0]);
  });

  it('keeps series apart by namespace, pod, model and instance', () => {
    const deltas = new CounterDeltas();
    const keys = [key('a'), key('b'), key('a', 'other'), key('a', 'm', 'engine=1')];
    deltas.step(keys.map((k) => reading(k, { generatedTokens: 100 })));
    const { increments } = deltas.step(keys.map((k, i) => reading(k, { generatedTokens: 100 + i + 1 })));
    expect(increments.map((i) => i.generatedTokens)).toEqual([1, 2, 3, 4]);
  });

  it('forgets a series missing from a step, so it starts over at zero when it comes back', () => {
    const deltas = new CounterDeltas();
    deltas.step([reading(key('a'), { requestsOk: 5 }), reading(key('b'), { requestsOk: 5 })]);
    deltas.step([reading(key('a'), { requestsOk: 6 })]);
    expect(deltas.size).toBe(1);
    const { increments } = deltas.step([
      reading(key('a'), { requestsOk: 7 }),
      reading(key('b'), { requestsOk: 9 }),
    ]);
    expect(increments.map((i) => i.requestsOk)).toEqual([1, 0]);
  });

  it('keeps a missing series that retain() asks for, so the next reading still has its baseline', () => {
    const deltas = new CounterDeltas();
    deltas.step([reading(key('a'), { requestsOk: 5 })]);
    deltas.step([], (k) => k.pod === 'a');
    const { increments } = deltas.step([reading(key('a'), { requestsOk: 12 })]);
    expect(increments[0]?.requestsOk).toBe(7);
  });

  it('tracks at most maxSeries series: extra new ones report zero and are counted as untracked', () => {
    const deltas = new CounterDeltas({ maxSeries: 2 });
    const first = deltas.step([
      reading(key('a'), { requestsOk: 1 }),
      reading(key('b'), { requestsOk: 1 }),
      reading(key('c'), { requestsOk: 1 }),
    ]);
    expect(first.untracked).toBe(1);
    expect(deltas.size).toBe(2);
    const second = deltas.step([
      reading(key('a'), { requestsOk: 2 }),
      reading(key('b'), { requestsOk: 3 }),
      reading(key('c'), { requestsOk: 4 }),
    ]);
    expect(second.increments.map((i) => i.requestsOk)).toEqual([1, 2, 0]);
    expect(second.untracked).toBe(1);
    // Once b disappears, its room goes to c (first reading: zero), in the same step.
    const third = deltas.step([reading(key('a'), { requestsOk: 2 }), reading(key('c'), { requestsOk: 5 })]);
    expect(third.untracked).toBe(0);
    const fourth = deltas.step([reading(key('a'), { requestsOk: 2 }), reading(key('c'), { requestsOk: 8 })]);
    expect(fourth.increments.map((i) => i.requestsOk)).toEqual([0, 3]);
  });

  it('rejects the same series twice in one step and a bad cap', () => {
    const deltas = new CounterDeltas();
    expect(() => deltas.step([reading(key('a'), {}), reading(key('a'), {})])).toThrow(/ns\/a .* given twice/);
    expect(() => new CounterDeltas({ maxSeries: 0 })).toThrow(/maxSeries must be a positive integer/);
  });

  it('is not changed by a caller that mutates the readings it passed', () => {
    const deltas = new CounterDeltas();
    const r = reading(key('a'), { promptTokens: 10 });
    deltas.step([r]);
    r.counters.promptTokens = 1_000;
    expect(deltas.step([reading(key('a'), { promptTokens: 12 })]).increments[0]?.promptTokens).toBe(2);
  });
});
