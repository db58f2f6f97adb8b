// Budgets worked by hand: spend to date and the end-of-month forecast at the trailing 7-day run rate; config checks.
import { describe, expect, it } from 'vitest';
import { emptyAllocation, finalize } from './allocation.ts';
import { budgetConfigSchema, budgetSpend, evaluateBudget, monthBounds, type SpendPoint } from './budgets.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const NOV = Date.UTC(2026, 10, 1); // November 2026: 30 days

/** One point per day from `from` (day index) to `to` (exclusive) at `perDay`. */
function daily(from: number, to: number, perDay: number): SpendPoint[] {
  const points: SpendPoint[] = [];
  for (let d = from; d < to; d++)
    points.push({ start: NOV + d * DAY, end: NOV + (d + 1) * DAY, cost: perDay });
  return points;
}

describe('evaluateBudget', () => {
  it('forecasts spent + the trailing 7-day run rate × the hours left', () => {
    // Days 1–10 at 100/day, days 11–20 at 200/day; now = start of day 21 (Nov 21, 00:00).
    const points = [...daily(0, 10, 100), ...daily(10, 20, 200)];
    const now = NOV + 20 * DAY;
    const status = evaluateBudget({ name: 'ml', namespace: 'ml', monthly: 6000 }, points, now);
    // Spent: 10 × 100 + 10 × 200 = 3000.
    expect(status.spent).toBeCloseTo(3000, 9);
    // Run rate: last 7 days all at 200/day = 1400 / 168 h = 8.3333/h.
    expect(status.runRatePerHour).toBeCloseTo(1400 / 168, 9);
    // Hours left: 10 days = 240 h; forecast = 3000 + 240 × 8.3333 = 3000 + 2000 = 5000.
    expect(status.forecast).toBeCloseTo(5000, 9);
    expect(status.forecastRatio).toBeCloseTo(5000 / 6000, 12);
    expect(status.state).toBe('ok');
    expect(status.month).toBe('2026-11');
  });

  it('takes the run rate from the first data when it started less than 7 days ago, pro rata on edges', () => {
    // mlcost started on Nov 19: 120 spent that day, 240 on Nov 20 (a daily point; now is mid-way through it).
    const points: SpendPoint[] = [
      { start: NOV + 18 * DAY, end: NOV + 19 * DAY, cost: 120 },
      { start: NOV + 19 * DAY, end: NOV + 20 * DAY, cost: 240 },
    ];
    const status = evaluateBudget({ name: 't', label: 'team=nlp', monthly: 1000 }, points, NOV + 19.5 * DAY);
    // now = Nov 20 12:00: spent = 120 + 240 × 12/24 (the straddling point pro rata) = 240.
    expect(status.spent).toBeCloseTo(240, 9);
    // Rate span from the first data (Nov 19 00:00, later than now − 7 d) to now = 36 h: 240 / 36 = 6.6667/h.
    expect(status.runRatePerHour).toBeCloseTo(240 / 36, 9);
    // Left: Nov 30 24:00 − Nov 20 12:00 = 10.5 days = 252 h; forecast 240 + 252 × 6.6667 = 240 + 1680 = 1920.
    expect(status.forecast).toBeCloseTo(1920, 9);
    expect(status.state).toBe('warning'); // forecast 1920 ≥ 1000
    expect(status.scope).toBe('label:team=nlp');
  });

  it('is over once spend passes the budget', () => {
    const status = evaluateBudget(
      { name: 'x', namespace: 'x', monthly: 100 },
      daily(0, 2, 60),
      NOV + 2 * DAY,
    );
    expect(status.spent).toBeCloseTo(120, 9);
    expect(status.state).toBe('over');
  });

  it('sums the in-scope rows of allocation sets', () => {
    const row = (namespace: string, cost: number) => {
      const r = emptyAllocation(namespace, { namespace }, NOV, NOV + HOUR);
      r.cpuCost = cost;
      return finalize(r);
    };
    const spend = budgetSpend({ name: 'ml', namespace: 'ml', monthly: 10 }, [
      { start: NOV, end: NOV + HOUR, allocations: [row('ml', 2), row('web', 5)] },
    ]);
    expect(spend).toEqual([{ start: NOV, end: NOV + HOUR, cost: 2 }]);
  });

  it('validates budget config: exactly one scope, key=value labels', () => {
    expect(budgetConfigSchema.safeParse({ name: 'a', namespace: 'a', monthly: 1 }).success).toBe(true);
    expect(budgetConfigSchema.safeParse({ name: 'a', monthly: 1 }).success).toBe(false);
    expect(
      budgetConfigSchema.safeParse({ name: 'a', namespace: 'a', label: 'k=v', monthly: 1 }).success,
    ).toBe(false);
    expect(budgetConfigSchema.safeParse({ name: 'a', label: 'team', monthly: 1 }).success).toBe(false);
  });

  it('bounds UTC months', () => {
    expect(monthBounds(Date.UTC(2026, 11, 31, 23))).toEqual({
      start: Date.UTC(2026, 11, 1),
      end: Date.UTC(2027, 0, 1),
    });
  });
});
