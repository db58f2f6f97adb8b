// Monthly budgets per namespace or label (`budgets:` in mlcost.yaml): spend so far this calendar month (UTC) and
// the end-of-month forecast at the recent run rate. Pure; SPEC.md §10.
import { z } from 'zod';
import type { AllocationSet } from './aggregate.ts';
import type { AllocationProperties } from './allocation.ts';

export const budgetConfigSchema = z
  .object({
    name: z.string().min(1),
    /** Scope: one namespace… */
    namespace: z.string().min(1).optional(),
    /** …or one label value, written `key=value` (`team=ml`). */
    label: z
      .string()
      .regex(/^[^=\s]+=.*$/, 'expected key=value')
      .optional(),
    /** Budget per calendar month, in the configured currency. */
    monthly: z.number().finite().positive(),
    /** Forecast / budget ratio from which the state is `warning`. */
    warnAt: z.number().finite().positive().default(1),
  })
  .refine((b) => (b.namespace === undefined) !== (b.label === undefined), {
    message: 'set exactly one of namespace or label',
  });

export const budgetsConfigSchema = z.array(budgetConfigSchema).default([]);

export type BudgetConfig = z.input<typeof budgetConfigSchema>;

/** Days of spend the run rate is taken over (fewer at the start of a month or of the data). */
export const RUN_RATE_DAYS = 7;

/** Spend over [start, end), epoch ms. */
export interface SpendPoint {
  start: number;
  end: number;
  cost: number;
}

export interface BudgetStatus {
  name: string;
  /** `namespace:<ns>` or `label:<key>=<value>`. */
  scope: string;
  /** `YYYY-MM`, UTC. */
  month: string;
  monthStart: number;
  monthEnd: number;
  budget: number;
  spent: number;
  /** Spend per hour over the run-rate span. */
  runRatePerHour: number;
  forecast: number;
  spentRatio: number;
  forecastRatio: number;
  /** `over`: spent above budget; `warning`: forecast at or above warnAt × budget; else `ok`. */
  state: 'ok' | 'warning' | 'over';
}

function labelOf(budget: BudgetConfig): [string, string] | undefined {
  if (!budget.label) return undefined;
  const at = budget.label.indexOf('=');
  return [budget.label.slice(0, at), budget.label.slice(at + 1)];
}

export function budgetScope(budget: BudgetConfig): string {
  return budget.namespace !== undefined ? `namespace:${budget.namespace}` : `label:${budget.label}`;
}

/** True when an allocation row (or aggregated row) is inside the budget's scope. */
export function inBudgetScope(budget: BudgetConfig, properties: AllocationProperties): boolean {
  if (properties.idle) return false;
  if (budget.namespace !== undefined) return properties.namespace === budget.namespace;
  const label = labelOf(budget);
  return label !== undefined && properties.labels?.[label[0]] === label[1];
}

/**
 * One spend point per allocation set: the rows in scope, summed. Feed it sets aggregated by `namespace` (for a
 * namespace budget) or by `label:<key>` (for a label budget), so that rows keep the property the scope needs.
 */
export function budgetSpend(budget: BudgetConfig, sets: readonly AllocationSet[]): SpendPoint[] {
  return sets.map((set) => ({
    start: set.start,
    end: set.end,
    cost: set.allocations.reduce(
      (sum, row) => sum + (inBudgetScope(budget, row.properties) ? row.totalCost : 0),
      0,
    ),
  }));
}

/** First instant of the UTC month containing `time`, and of the next. */
export function monthBounds(time: number): { start: number; end: number } {
  const date = new Date(time);
  return {
    start: Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1),
    end: Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1),
  };
}

/** Spend of the points inside [from, to), a point straddling an edge counted pro rata. */
function spendIn(points: readonly SpendPoint[], from: number, to: number): number {
  let total = 0;
  for (const p of points) {
    const overlap = Math.min(p.end, to) - Math.max(p.start, from);
    if (overlap <= 0 || p.end <= p.start) continue;
    total += p.cost * (overlap / (p.end - p.start));
  }
  return total;
}

/**
 * Spent = spend from the month's start to `now`. Forecast = spent + run rate × hours left, where run rate =
 * spend over the last RUN_RATE_DAYS (from the month's start, or the first data, when later) / that span's hours.
 */
export function evaluateBudget(
  budget: BudgetConfig,
  points: readonly SpendPoint[],
  now: number,
): BudgetStatus {
  const { start: monthStart, end: monthEnd } = monthBounds(now);
  const spent = spendIn(points, monthStart, now);
  let firstData = Number.POSITIVE_INFINITY;
  for (const p of points) if (p.end > monthStart && p.start < firstData) firstData = p.start;
  const rateFrom = Math.max(monthStart, now - RUN_RATE_DAYS * 86_400_000, firstData);
  const rateHours = (now - rateFrom) / 3_600_000;
  const runRatePerHour = rateHours > 0 ? spendIn(points, rateFrom, now) / rateHours : 0;
  const forecast = spent + runRatePerHour * Math.max(0, (monthEnd - now) / 3_600_000);
  const warnAt = budget.warnAt ?? 1;
  const month = new Date(monthStart).toISOString().slice(0, 7);
  return {
    name: budget.name,
    scope: budgetScope(budget),
    month,
    monthStart,
    monthEnd,
    budget: budget.monthly,
    spent,
    runRatePerHour,
    forecast,
    spentRatio: spent / budget.monthly,
    forecastRatio: forecast / budget.monthly,
    state: spent > budget.monthly ? 'over' : forecast >= warnAt * budget.monthly ? 'warning' : 'ok',
  };
}
