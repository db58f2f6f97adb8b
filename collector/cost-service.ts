// The collector's cost service: the store's windows and hourly roll-ups, the pure cost model (collector/cost) and
// the pricing, budgets and GPU-idle configuration joined into what the API, the report and /metrics answer —
// allocation roll-ups, served-model and training-job costs, budgets, the FOCUS export — plus the roll-up step.
//
// Time ranges (`window`): a Prometheus duration `d` (`24h`, `7d`, `1h30m`) is [now − d, now); `start,end` is two
// RFC 3339 times (or two Unix times in seconds), [start, end); `today`, `yesterday`, `month` (month to date) and
// `lastmonth` are UTC calendar ranges. A window belongs to the range when its start does (as OpenCost places them).
//
// Memory stays bounded however long the range: it is read one hour at a time. Whole hours come from the hourly
// roll-ups (dirty ones are recomputed first); hours cut by the range's ends or by a step boundary are allocated
// from their raw windows one node at a time. Results are built by streaming accumulators that reproduce the pure
// model's aggregateAllocations / modelCosts / jobCosts exactly (sharing idle is linear in each row's own cost, so
// it is applied to the sums at the end), which collector/store/cost-queries.test.ts checks on generated history.
// Served models read whole hours from the hourly served-model roll-up instead (summed over the range in SQL; SPEC.md
// §10), which collector/store/model-costs.test.ts checks against reading every serving pod's rows hour by hour.
import { ConfigError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { parseDuration } from '../core/units.ts';
import { addInto, cloneAllocation, emptyAllocation, finalize } from './cost/allocation.ts';
import {
  type AggregateBy,
  type Allocation,
  type AllocationSet,
  aggregateKey,
  allocateWindow,
  type BudgetConfig,
  type BudgetStatus,
  DEFAULT_GENERATED_TOKEN_WEIGHT,
  DEFAULT_GPU_IDLE_THRESHOLD,
  evaluateBudget,
  focusCsv,
  focusRows,
  IDLE,
  inBudgetScope,
  type JobCost,
  type ModelCost,
  modelCostOf,
  monthBounds,
  type PricingConfig,
  pricesForWindow,
  pricingConfigSchema,
  rollupWindows,
  type SpendPoint,
  type StoredModelWindow,
  type StoredWindowInput,
  unionHours,
  type WindowAllocation,
} from './cost/index.ts';
import { ModelAccumulators } from './cost/model-accumulators.ts';
import {
  type CostQueries,
  createCostQueries,
  HOUR_MS,
  type HourlyGpuWaste,
  hourOf,
  type PodSumRow,
} from './store/cost-queries.ts';
import type { Store } from './store/store.ts';

const DAY_MS = 86_400_000;
/** Longest range a query may ask for (ten years of hours is still a bounded loop). */
export const MAX_RANGE_MS = 3_660 * DAY_MS;
/** Most allocation sets one answer may hold. */
export const MAX_STEPS = 10_000;

/** A query parameter that cannot be used: the API answers 400 naming `parameter` and what is `allowed`. */
export class CostParameterError extends Error {
  constructor(
    readonly parameter: string,
    readonly value: string,
    readonly allowed: string,
    reason?: string,
  ) {
    super(
      `invalid parameter ${parameter} = ${JSON.stringify(value)}${reason ? `: ${reason}` : ''}; allowed: ${allowed}`,
    );
    this.name = 'CostParameterError';
  }
}

/** The cost configuration is unusable (pricing.exchangeRate missing, say): cost answers are refused with this. */
export class CostUnavailableError extends Error {
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(message);
    this.name = 'CostUnavailableError';
  }
}

export interface TimeRange {
  /** Epoch ms, inclusive. */
  start: number;
  /** Epoch ms, exclusive. */
  end: number;
}

export const WINDOW_ALLOWED =
  'a duration such as 24h or 7d (the range [now - duration, now)), start,end as two RFC 3339 times (2026-11-01T00:00:00Z,2026-11-08T00:00:00Z) or two Unix times in seconds, or today, yesterday, month, lastmonth';

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i;

function parseInstant(text: string, whole: string): number {
  const trimmed = text.trim();
  if (/^\d{1,12}$/.test(trimmed)) return Number(trimmed) * 1000;
  if (RFC3339.test(trimmed)) {
    const ms = Date.parse(trimmed);
    if (Number.isFinite(ms)) return ms;
  }
  throw new CostParameterError('window', whole, WINDOW_ALLOWED, `${JSON.stringify(trimmed)} is not a time`);
}

/** Parses a `window` parameter into [start, end) epoch ms (see the file comment for the forms). */
export function parseWindow(text: string, now: number): TimeRange {
  const value = text.trim();
  let range: TimeRange;
  const day = Math.floor(now / DAY_MS) * DAY_MS;
  if (value === 'today') range = { start: day, end: now };
  else if (value === 'yesterday') range = { start: day - DAY_MS, end: day };
  else if (value === 'month') range = { start: monthBounds(now).start, end: now };
  else if (value === 'lastmonth') {
    const thisMonth = monthBounds(now).start;
    range = { start: monthBounds(thisMonth - 1).start, end: thisMonth };
  } else if (value.includes(',')) {
    const parts = value.split(',');
    if (parts.length !== 2)
      throw new CostParameterError('window', text, WINDOW_ALLOWED, 'expected two times');
    range = { start: parseInstant(parts[0]!, text), end: parseInstant(parts[1]!, text) };
  } else {
    let ms: number;
    try {
      ms = parseDuration(value);
    } catch {
      throw new CostParameterError('window', text, WINDOW_ALLOWED);
    }
    if (ms <= 0)
      throw new CostParameterError('window', text, WINDOW_ALLOWED, 'the duration must be positive');
    range = { start: now - ms, end: now };
  }
  if (!(range.end > range.start)) {
    throw new CostParameterError('window', text, WINDOW_ALLOWED, 'the end must be after the start');
  }
  if (range.end - range.start > MAX_RANGE_MS) {
    throw new CostParameterError('window', text, WINDOW_ALLOWED, 'at most 3660 days');
  }
  return range;
}

export const STEP_ALLOWED = 'a duration such as 1h or 1d, at most 10000 steps in the window';

/** Parses a `step` parameter (ms) for a range: positive, and at most MAX_STEPS sets. */
export function parseStep(text: string, range: TimeRange): number {
  let ms: number;
  try {
    ms = parseDuration(text);
  } catch {
    throw new CostParameterError('step', text, STEP_ALLOWED);
  }
  if (ms < 1000) throw new CostParameterError('step', text, STEP_ALLOWED, 'at least 1s');
  if (Math.ceil((range.end - range.start) / ms) > MAX_STEPS) {
    throw new CostParameterError('step', text, STEP_ALLOWED, 'too many steps for the window');
  }
  return ms;
}

export interface AllocationQuery {
  window: TimeRange;
  /** One property or several (keys joined with `/`). */
  aggregate: readonly AggregateBy[];
  /** Milliseconds per set; default one set for the whole window. */
  step?: number;
  /** Keep the `__idle__` rows (what is left of idle after sharing). */
  includeIdle?: boolean;
  shareIdle?: boolean;
  idleByNode?: boolean;
  /** Only rows of these namespaces (idle is still shared over every row; idle rows are left out). */
  namespaces?: readonly string[];
}

export interface AllocationResult {
  currency: string;
  window: TimeRange;
  step: number;
  sets: AllocationSet[];
}

export interface ModelQuery {
  window: TimeRange;
  namespaces?: readonly string[];
  shareIdle?: boolean;
  idleByNode?: boolean;
  generatedTokenWeight?: number;
}

export interface JobQuery {
  window: TimeRange;
  namespaces?: readonly string[];
  /** mlJob kinds to keep; default every kind. */
  kinds?: readonly string[];
  shareIdle?: boolean;
  idleByNode?: boolean;
}

export interface FocusQuery {
  window: TimeRange;
  billingAccountId: string;
  billingAccountName?: string;
  includeIdle?: boolean;
}

export interface BudgetReport {
  currency: string;
  /** Budgets are evaluated at the end of the latest complete hour. */
  asOf: number;
  budgets: BudgetStatus[];
}

export interface CostServiceOptions {
  /** The `pricing:` section as written (validated here against the top-level currency). */
  pricing?: PricingConfig;
  /** Top-level `currency`; pricing.currency, when set, must agree. */
  currency?: string;
  budgets?: readonly BudgetConfig[];
  gpuIdleThreshold?: number;
  /** collector.retention: dirty hours older than this have lost raw windows and are not recomputed. */
  rawRetention?: number;
  /** cost.rollupRetention: roll-ups older than this are deleted. */
  rollupRetention?: number;
  /** How often the roll-up step runs (ms); 0 = never on a timer (tests call refreshRollups). Default 60 s. */
  refreshInterval?: number;
  /** How long after an hour ends the timer rolls it up (late windows re-dirty it anyway). Default 2 min. */
  settleAfter?: number;
  /** Most node-hours recomputed per transaction before yielding to the event loop. Default 64. */
  chunkNodeHours?: number;
  /** Time (ms) one roll-up transaction may take before yielding (it finishes the node-hour it is on). Default 50. */
  sliceMs?: number;
  now?: () => number;
  logger?: Logger;
}

const RESOURCES = [
  { cost: 'cpuCost', idle: 'cpuIdleCost', hours: 'cpuCoreHours' },
  { cost: 'ramCost', idle: 'ramIdleCost', hours: 'ramByteHours' },
  { cost: 'gpuCost', idle: 'gpuIdleCost', hours: 'gpuHours' },
] as const;

/**
 * Idle pools and weights per sharing scope (the whole set, or a node with idleByNode): SPEC.md §6.1. A row's share
 * of idle is `own cost × pool / Σ own costs` per resource, so it can be added to any sum of rows afterwards.
 */
class IdleScopes {
  private readonly weights = new Map<string, number[]>();
  private readonly pools = new Map<string, number[]>();
  constructor(readonly byNode: boolean) {}

  scopeOf(row: Allocation): string {
    return this.byNode ? (row.properties.node ?? '') : '';
  }

  addRow(row: Allocation): void {
    const w = entry(this.weights, this.scopeOf(row));
    for (let i = 0; i < 3; i++) w[i]! += row[RESOURCES[i]!.cost] - row[RESOURCES[i]!.idle];
  }

  addIdle(row: Allocation): void {
    const p = entry(this.pools, this.scopeOf(row));
    for (let i = 0; i < 3; i++) p[i]! += row[RESOURCES[i]!.cost];
  }

  /** Adds a scope's summed own costs and idle [cpu, ram, gpu] (from the store, instead of row by row). */
  addTotals(scope: string, own: readonly number[], idle: readonly number[]): void {
    const w = entry(this.weights, scope);
    const p = entry(this.pools, scope);
    for (let i = 0; i < 3; i++) {
      w[i]! += own[i]!;
      p[i]! += idle[i]!;
    }
  }

  /** True when the scope's rows had some own cost of resource i (so its idle is shared away). */
  shares(scope: string, i: number): boolean {
    return (this.weights.get(scope)?.[i] ?? 0) > 0;
  }

  factor(scope: string, i: number): number {
    const weight = this.weights.get(scope)?.[i] ?? 0;
    return weight > 0 ? (this.pools.get(scope)?.[i] ?? 0) / weight : 0;
  }
}

function entry(map: Map<string, number[]>, key: string): number[] {
  let value = map.get(key);
  if (!value) {
    value = [0, 0, 0];
    map.set(key, value);
  }
  return value;
}

/** A sum of rows that can take its share of idle at the end: own costs are tracked per scope. */
class Group {
  private readonly own = new Map<string, number[]>();
  constructor(readonly row: Allocation) {}

  /** A group that starts as a copy of `row` (as groupRows does), named `name`. */
  static of(name: string, row: Allocation, scope: string): Group {
    const group = new Group({ ...cloneAllocation(row), name });
    group.track(row, 1, scope);
    return group;
  }

  add(row: Allocation, weight: number, scope: string): void {
    addInto(this.row, row, weight);
    this.track(row, weight, scope);
  }

  private track(row: Allocation, weight: number, scope: string): void {
    const own = entry(this.own, scope);
    for (let i = 0; i < 3; i++) own[i]! += weight * (row[RESOURCES[i]!.cost] - row[RESOURCES[i]!.idle]);
  }

  /** Adds the group's share of idle (when sharing) and fills the derived fields. */
  finish(scopes: IdleScopes | null): Allocation {
    if (scopes) {
      for (const [scope, own] of this.own) {
        for (let i = 0; i < 3; i++) {
          const add = own[i]! * scopes.factor(scope, i);
          if (add === 0) continue;
          this.row[RESOURCES[i]!.cost] += add;
          this.row[RESOURCES[i]!.idle] += add;
        }
      }
    }
    return finalize(this.row);
  }
}

/** One set of aggregateAllocations, fed row by row. */
class AllocationBucket {
  readonly groups = new Map<string, Group>();
  readonly idle = new Map<string, Group>();
  readonly scopes: IdleScopes;
  constructor(private readonly query: AllocationQuery) {
    this.scopes = new IdleScopes(query.idleByNode ?? false);
  }

  /** One node's window (or one hour's namespace sums): its rows and its idle row. */
  addRows(
    allocations: readonly Allocation[],
    idle: Allocation | null,
    keep: ((row: Allocation) => boolean) | null,
  ): void {
    const by = this.query.aggregate;
    for (const row of allocations) {
      const scope = this.scopes.scopeOf(row);
      this.scopes.addRow(row);
      if (keep && !keep(row)) continue;
      const key = by.length === 1 ? aggregateKey(row, by[0]!) : by.map((b) => aggregateKey(row, b)).join('/');
      const group = this.groups.get(key);
      if (group) group.add(row, 1, scope);
      else this.groups.set(key, Group.of(key, row, scope));
    }
    if (!idle) return;
    this.scopes.addIdle(idle);
    if (this.query.includeIdle && !keep) {
      const key = this.query.idleByNode ? `${idle.properties.node}/${IDLE}` : IDLE;
      const group = this.idle.get(key);
      if (group) group.add(idle, 1, '');
      else this.idle.set(key, Group.of(key, idle, ''));
    }
  }

  finish(start: number, end: number): AllocationSet {
    const share = this.query.shareIdle ? this.scopes : null;
    const rows = [...this.groups.values()]
      .map((g) => g.finish(share))
      .sort((a, b) => b.totalCost - a.totalCost);
    if (this.query.includeIdle) {
      for (const group of this.idle.values()) {
        const row = group.row;
        if (share) {
          const scope = this.scopes.scopeOf(row);
          for (let i = 0; i < 3; i++) {
            if (!this.scopes.shares(scope, i)) continue;
            row[RESOURCES[i]!.cost] = 0;
            row[RESOURCES[i]!.hours] = 0;
          }
        }
        finalize(row);
        if (row.totalCost !== 0 || row.gpuHours !== 0) rows.push(row);
      }
      rows.sort((a, b) => b.totalCost - a.totalCost);
    }
    return { start, end, allocations: rows };
  }
}

/** A piece of the range read as one: a whole hour from the roll-ups, or a cut hour from raw windows. */
export interface Segment {
  start: number;
  end: number;
  /** Index of the set (step) it belongs to. */
  bucket: number;
  rollup: boolean;
}

/** Splits [start, end) into hours, cutting hours at the range's ends and at step boundaries (SPEC.md §9). */
export function planSegments(range: TimeRange, step: number): Segment[] {
  const segments: Segment[] = [];
  const bucketOf = (t: number) => Math.floor((t - range.start) / step);
  for (let hour = hourOf(range.start); hour < range.end; hour += HOUR_MS) {
    const from = Math.max(hour, range.start);
    const to = Math.min(hour + HOUR_MS, range.end);
    if (from === hour && to === hour + HOUR_MS && bucketOf(hour) === bucketOf(hour + HOUR_MS - 1)) {
      segments.push({ start: hour, end: to, bucket: bucketOf(hour), rollup: true });
      continue;
    }
    for (let at = from; at < to; ) {
      const bucket = bucketOf(at);
      const cut = Math.min(to, range.start + (bucket + 1) * step);
      segments.push({ start: at, end: cut, bucket, rollup: false });
      at = cut;
    }
  }
  return segments;
}

/** What walks a range: every node's window of a cut hour, and whole hours (its own way, or node by node). */
interface Consumer {
  segment?: (segment: Segment) => void;
  window: (w: WindowAllocation, segment: Segment) => void;
  /** Reads a whole hour from the roll-ups its own way; false (or absent) to be given its node windows instead. */
  rollupHour?: ((hour: number, segment: Segment) => boolean) | undefined;
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export interface CostService {
  readonly currency: string;
  readonly budgetsConfig: readonly BudgetConfig[];
  /** Why cost answers are refused, when the configuration is unusable; null when fine. */
  readonly unavailable: CostUnavailableError | null;
  now(): number;
  allocation(query: AllocationQuery): Promise<AllocationResult>;
  models(query: ModelQuery): Promise<ModelCost[]>;
  jobs(query: JobQuery): Promise<JobCost[]>;
  /** Monthly budgets at the end of the latest complete hour before `now`. */
  budgets(now?: number): Promise<BudgetReport>;
  /** FOCUS 1.1 CSV of the whole hours the window overlaps, one hour at a time (header first). */
  focus(query: FocusQuery): AsyncGenerator<string>;
  /** GPU waste (free and held-idle) of one hour, per unit and holder. */
  gpuWaste(hour: number): Promise<HourlyGpuWaste[]>;
  /**
   * Recomputes dirty node-hours with hour in [from, to) (default: every hour that ended `settleAfter` ago), in
   * transactions of at most `chunkNodeHours` and about `sliceMs`, yielding between them, for at most `budgetMs`
   * (default: until none is left); then rebuilds the namespace sums of the hours written. Returns how many
   * node-hours were written.
   */
  refreshRollups(range?: { from?: number; to?: number; budgetMs?: number }): Promise<number>;
  /** Node-hours waiting for their roll-up. */
  pendingNodeHours(): number;
  /** Counter bumped whenever a roll-up is written (for caches). */
  generation(): number;
  close(): void;
}

/** Pricing as the cost model takes it, with the currency from the top-level key unless pricing names one. */
export function effectivePricing(
  pricing: PricingConfig | undefined,
  currency: string,
): { pricing: PricingConfig; error: CostUnavailableError | null } {
  const raw: PricingConfig = { ...(pricing ?? {}) };
  if (raw.currency !== undefined && raw.currency !== currency) {
    return {
      pricing: raw,
      error: new CostUnavailableError(
        'pricing.currency',
        `invalid configuration: pricing.currency = ${raw.currency} differs from currency = ${currency}; allowed: leave pricing.currency out, or set both to the same ISO 4217 code`,
      ),
    };
  }
  raw.currency = currency;
  const parsed = pricingConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = `pricing${issue?.path.length ? `.${issue.path.join('.')}` : ''}`;
    return {
      pricing: raw,
      error: new CostUnavailableError(
        key,
        `invalid configuration: ${key}: ${issue?.message ?? 'invalid'} (currency = ${currency}); costs are not computed until it is set`,
      ),
    };
  }
  return { pricing: raw, error: null };
}

/** Bumped when a change to the cost model changes stored roll-ups, so they are recomputed. */
const MODEL_REVISION = 1;

export function createCostService(store: Store, options: CostServiceOptions = {}): CostService {
  const queries: CostQueries = createCostQueries(store.db);
  const currency = options.currency ?? options.pricing?.currency ?? 'USD';
  const { pricing, error: unavailable } = effectivePricing(options.pricing, currency);
  const threshold = options.gpuIdleThreshold ?? DEFAULT_GPU_IDLE_THRESHOLD;
  const budgetsConfig = options.budgets ?? [];
  const now = options.now ?? Date.now;
  const settleAfter = options.settleAfter ?? 120_000;
  const chunk = Math.max(1, options.chunkNodeHours ?? 64);
  const sliceMs = options.sliceMs ?? 50;
  const logger = options.logger;

  const allocate = (window: StoredWindowInput): WindowAllocation =>
    allocateWindow(window, pricesForWindow(window, pricing), { gpuIdleThreshold: threshold });

  // Prices or the model changed since the roll-ups were written: recompute every hour that still has raw windows.
  if (!unavailable) {
    const fingerprint = JSON.stringify({
      pricing: pricingConfigSchema.parse(pricing),
      threshold,
      MODEL_REVISION,
    });
    const stored = queries.getState('fingerprint');
    if (stored !== fingerprint) {
      if (stored !== undefined) {
        const marked = queries.markAllDirty();
        logger?.info({ nodeHours: marked }, 'pricing changed: hourly cost roll-ups will be recomputed');
      }
      queries.setState('fingerprint', fingerprint);
    }
  } else {
    logger?.error({ key: unavailable.key }, unavailable.message);
  }

  let generation = 0;
  /** When each hour's roll-ups were last written (generation), for the budget cache. */
  const writtenAt = new Map<number, number>();
  let running: Promise<unknown> = Promise.resolve();
  /** Set by close(): a roll-up in flight stops at its next slice, before the store closes under it. */
  let closed = false;

  const ensureAvailable = () => {
    if (unavailable) throw unavailable;
  };

  function refreshRollups(range: { from?: number; to?: number; budgetMs?: number } = {}): Promise<number> {
    const task = running.then(async () => {
      if (unavailable || closed) return 0;
      const at = now();
      // Hours past either retention are not recomputed: their raw windows are gone, or their roll-ups would be.
      const cutoff = Math.max(
        options.rawRetention ? at - options.rawRetention : Number.MIN_SAFE_INTEGER,
        options.rollupRetention ? at - options.rollupRetention : Number.MIN_SAFE_INTEGER,
      );
      queries.dropDirtyBefore(cutoff);
      if (options.rollupRetention) queries.pruneRollupsBefore(at - options.rollupRetention);
      const from = range.from ?? Number.MIN_SAFE_INTEGER;
      const to = range.to ?? hourOf(at - settleAfter);
      let written = 0;
      const stopAt = performance.now() + (range.budgetMs ?? Number.POSITIVE_INFINITY);
      while (!closed && performance.now() < stopAt) {
        const pairs = queries.dirtyNodeHours(from, to, chunk);
        if (pairs.length === 0) break;
        // One transaction per ~50 ms of work, then let ingest and scrapes in.
        const done = queries.refreshNodeHours(pairs, allocate, threshold, performance.now() + sliceMs);
        written += done;
        generation++;
        for (const { hour } of pairs.slice(0, done)) writtenAt.set(hour, generation);
        await yieldToEventLoop();
      }
      while (!closed && queries.rebuildSummaries(16) > 0) await yieldToEventLoop();
      return written;
    });
    running = task.catch(() => undefined);
    return task;
  }

  /**
   * Walks the segments one hour at a time: whole hours from the roll-ups (refreshed first) — through
   * `consumer.rollupHour` when it reads them its own way, else one node's WindowAllocation at a time — and cut hours
   * allocated from raw windows, node by node.
   */
  async function walk(segments: readonly Segment[], consumer: Consumer): Promise<void> {
    const rollupSegments = segments.filter((s) => s.rollup);
    let withRollups = new Set<number>();
    if (rollupSegments.length > 0) {
      const from = rollupSegments[0]!.start;
      const to = rollupSegments.at(-1)!.end;
      await refreshRollups({ from, to });
      withRollups = new Set(queries.hoursWithRollups(from, to));
    }
    let lastYield = performance.now();
    for (const segment of segments) {
      consumer.segment?.(segment);
      if (segment.rollup) {
        if (withRollups.has(segment.start) && !consumer.rollupHour?.(segment.start, segment)) {
          for (const w of queries.readHour(segment.start)) consumer.window(w, segment);
        }
      } else {
        for (const node of queries.nodesWithWindows(segment.start, segment.end)) {
          const windows = queries.readWindows(node, segment.start, segment.end).map(allocate);
          for (const w of rollupWindows(windows, HOUR_MS)) consumer.window(w, segment);
        }
      }
      if (performance.now() - lastYield > 20) {
        await yieldToEventLoop();
        lastYield = performance.now();
      }
    }
  }

  async function allocation(query: AllocationQuery): Promise<AllocationResult> {
    ensureAvailable();
    const { window } = query;
    const step = query.step && query.step > 0 ? query.step : window.end - window.start;
    const count = Math.ceil((window.end - window.start) / step);
    const buckets = Array.from({ length: count }, () => new AllocationBucket(query));
    const namespaces = query.namespaces && query.namespaces.length > 0 ? new Set(query.namespaces) : null;
    const keep = namespaces ? (row: Allocation) => namespaces.has(row.properties.namespace ?? '') : null;
    // aggregate=namespace or cluster, idle shared (if at all) cluster-wide: whole hours from the namespace sums.
    const bySummary =
      !query.idleByNode && query.aggregate.every((by) => by === 'namespace' || by === 'cluster');
    await walk(planSegments(window, step), {
      window: (w, segment) => buckets[segment.bucket]!.addRows(w.allocations, w.idle, keep),
      rollupHour: bySummary
        ? (hour, segment) => {
            const { allocations, idle } = queries.readSummary(hour);
            buckets[segment.bucket]!.addRows(allocations, idle, keep);
            return true;
          }
        : undefined,
    });
    return {
      currency,
      window,
      step,
      sets: buckets.map((bucket, index) =>
        bucket.finish(window.start + index * step, Math.min(window.end, window.start + (index + 1) * step)),
      ),
    };
  }

  async function models(query: ModelQuery): Promise<ModelCost[]> {
    ensureAvailable();
    const { window } = query;
    const weight = query.generatedTokenWeight ?? DEFAULT_GENERATED_TOKEN_WEIGHT;
    const scopes = new IdleScopes(query.idleByNode ?? false);
    const share = query.shareIdle ? scopes : null;
    const namespaces = query.namespaces && query.namespaces.length > 0 ? new Set(query.namespaces) : null;
    // Accumulators are made in the order the model is first met (segments in time order; in an hour, its model
    // records before its pods' rows), which orders models of equal cost in the answer.
    const accs = new ModelAccumulators<Group>(
      (model, start, end) => new Group(emptyAllocation(model, {}, start, end)),
    );
    const accumulator = accs.of.bind(accs);
    const segments = planSegments(window, window.end - window.start);
    const rollupSegments = segments.filter((segment) => segment.rollup);
    const firstHour = rollupSegments[0]?.start;
    const lastHourEnd = rollupSegments.at(-1)?.end;
    if (firstHour !== undefined && lastHourEnd !== undefined) {
      await refreshRollups({ from: firstHour, to: lastHourEnd });
    }
    const cutSegments = segments.filter((segment) => !segment.rollup);

    // What each pod served anywhere in the range, for a pod-hour without a model record of its own: whole hours
    // from the hourly model sums (kept as long as the roll-ups), cut hours from the raw model windows.
    const servedInCuts = new Map<string, Array<{ model: string; server: string }>>();
    for (const segment of cutSegments) {
      for (const s of queries.servedModels(segment.start, segment.end)) {
        const key = `${s.namespace}/${s.pod}`;
        const list = servedInCuts.get(key);
        if (list) list.push(s);
        else servedInCuts.set(key, [s]);
      }
    }
    const servedCache = new Map<string, Map<string, string> | null>();
    const servedBy = (namespace: string, pod: string): Map<string, string> | null => {
      const key = `${namespace}/${pod}`;
      let served = servedCache.get(key);
      if (served === undefined) {
        const map = new Map<string, string>();
        if (firstHour !== undefined && lastHourEnd !== undefined) {
          for (const s of queries.podServedModels(namespace, pod, firstHour, lastHourEnd))
            map.set(s.model, s.server);
        }
        for (const s of servedInCuts.get(key) ?? []) map.set(s.model, s.server);
        served = map.size > 0 ? map : null;
        servedCache.set(key, served);
      }
      return served;
    };

    // Cut hours: every node's raw windows, allocated; a pod's cost in a node-window goes to the models it served
    // there (SPEC.md §10).
    let segmentModels = new Map<string, StoredModelWindow[]>();
    const onSegment = (segment: Segment) => {
      segmentModels = new Map();
      for (const m of queries.modelWindowsSummed(segment.start, segment.end)) {
        const key = `${m.node}|${m.namespace}|${m.pod}`;
        const list = segmentModels.get(key);
        if (list) list.push(m);
        else segmentModels.set(key, [m]);
        const acc = accumulator(m.model, m.namespace, m.server, m.start, m.end);
        acc.promptTokens += m.promptTokens;
        acc.generatedTokens += m.generatedTokens;
        acc.requestsOk += m.requestsOk;
        acc.requestsFailed += m.requestsFailed;
        acc.pods.add(`${m.namespace}/${m.pod}`);
      }
    };
    const addPodRows = (allocations: readonly Allocation[]) => {
      const pods = new Map<string, Allocation[]>();
      for (const row of allocations) {
        const p = row.properties;
        if (!p.node || !p.namespace || !p.pod) continue;
        const key = `${p.node}|${p.namespace}|${p.pod}`;
        const list = pods.get(key);
        if (list) list.push(row);
        else pods.set(key, [row]);
      }
      for (const [key, rows] of pods) {
        const { namespace, pod } = rows[0]!.properties as { namespace: string; pod: string };
        const podName = `${namespace}/${pod}`;
        let served: Array<{ model: string; server: string | null; tokens: number; requests: number }>;
        const inWindow = segmentModels.get(key);
        const servedModel = rows.every((r) => r.properties.servedModel === rows[0]!.properties.servedModel)
          ? rows[0]!.properties.servedModel
          : undefined;
        const elsewhere = inWindow ? null : servedBy(namespace, pod);
        if (inWindow) {
          served = inWindow.map((m) => ({
            model: m.model,
            server: m.server,
            tokens: m.promptTokens + m.generatedTokens,
            requests: m.requestsOk + m.requestsFailed,
          }));
        } else if (elsewhere) {
          served = [...elsewhere].map(([model, server]) => ({ model, server, tokens: 0, requests: 0 }));
        } else if (servedModel) {
          served = [{ model: servedModel, server: null, tokens: 0, requests: 0 }];
        } else {
          continue; // not a serving pod
        }
        const tokens = served.reduce((sum, s) => sum + s.tokens, 0);
        const requests = served.reduce((sum, s) => sum + s.requests, 0);
        let start = Number.POSITIVE_INFINITY;
        let end = Number.NEGATIVE_INFINITY;
        for (const row of rows) {
          start = Math.min(start, row.start);
          end = Math.max(end, row.end);
        }
        for (const s of served) {
          const share =
            tokens > 0 ? s.tokens / tokens : requests > 0 ? s.requests / requests : 1 / served.length;
          const acc = accumulator(s.model, namespace, s.server, start, end);
          for (const row of rows) acc.sums.add(row, share, scopes.scopeOf(row));
          acc.pods.add(podName);
        }
      }
    };
    const cutHour = (segment: Segment) =>
      walk([segment], {
        segment: onSegment,
        window: (w) => {
          for (const row of w.allocations) scopes.addRow(row);
          scopes.addIdle(w.idle);
          addPodRows(w.allocations);
        },
      });

    for (const segment of cutSegments) if (segment.start < (firstHour ?? window.end)) await cutHour(segment);
    if (firstHour !== undefined && lastHourEnd !== undefined) {
      addRolledUpHours(firstHour, lastHourEnd);
    }
    for (const segment of cutSegments) if (segment.start >= (firstHour ?? window.end)) await cutHour(segment);

    /**
     * Whole hours, from the hourly served-model rows (cost_hourly_model_costs: each pod's share per model and
     * node-hour, summed over the range in SQL) and the serving pods' node-hours without records of their own
     * (cost_hourly_model_unmatched), shared out here among the models the pod served in the range, else its
     * identity. Idle comes from each hour's totals.
     */
    function addRolledUpHours(from: number, to: number): void {
      if (share) {
        for (const hour of queries.hoursWithRollups(from, to)) {
          for (const t of queries.scopeTotals(hour, scopes.byNode)) scopes.addTotals(t.scope, t.own, t.idle);
        }
      }
      const byNode = share !== null && scopes.byNode;
      const groups = queries.modelCostGroups(from, to, byNode);
      // A pod first seen serving in a cut hour has no rows kept for it in whole hours: read its rows there.
      const late = [...servedInCuts.keys()].filter((name) => {
        const [namespace, pod] = splitPod(name);
        return !queries.podServedAnyHour(namespace, pod);
      });
      const lateSet = new Set(late);
      const lateRows = late
        .flatMap((name) => queries.podHours(...splitPod(name), from, to))
        .sort(compareHourRows);
      // The order models are first met: per hour, records (node, namespace, pod, model) before pod rows.
      interface First {
        hour: number;
        node: string;
        pod: string;
        namespace: string;
        model: string;
        server: string;
      }
      const firsts = new Map<string, First>();
      for (const g of groups) {
        const [hour, node, pod, server] = g.first_key.split('\x1f') as [string, string, string, string];
        const first: First = {
          hour: Number(hour),
          node,
          pod,
          namespace: g.namespace,
          model: g.model,
          server,
        };
        const key = `${g.namespace}|${g.model}`;
        const known = firsts.get(key);
        if (!known || compareFirst(first, known) < 0) firsts.set(key, first);
      }
      const recordFirsts = [...firsts.values()].sort(compareFirst);
      let next = 0;
      const metRecordsUpTo = (hour: number) => {
        for (; next < recordFirsts.length && recordFirsts[next]!.hour <= hour; next++) {
          const f = recordFirsts[next]!;
          accumulator(f.model, f.namespace, f.server, f.hour, f.hour + HOUR_MS);
        }
      };
      const addUnmatched = (row: PodSumRow) => {
        metRecordsUpTo(row.hour);
        const elsewhere = servedBy(row.namespace, row.pod);
        let served: Array<{ model: string; server: string | null }>;
        if (elsewhere) served = [...elsewhere].map(([model, server]) => ({ model, server }));
        else if (row.served_model !== null) served = [{ model: row.served_model, server: null }];
        else return;
        const allocation = sumsAllocation(row.start, row.end, row);
        const scope = scopes.byNode ? row.node : '';
        for (const s of served) {
          const acc = accumulator(s.model, row.namespace, s.server, row.start, row.end);
          acc.sums.add(allocation, 1 / served.length, scope);
          acc.pods.add(`${row.namespace}/${row.pod}`);
        }
      };
      // In (hour, node, namespace, pod) order, a day at a time, a late pod's rows merged in.
      let nextLate = 0;
      for (let day = from; day < to; day += DAY_MS) {
        for (const row of queries.unmatchedPodHours(day, Math.min(to, day + DAY_MS))) {
          if (lateSet.has(`${row.namespace}/${row.pod}`)) continue;
          while (nextLate < lateRows.length && compareHourRows(lateRows[nextLate]!, row) < 0) {
            addUnmatched(lateRows[nextLate++]!);
          }
          addUnmatched(row);
        }
      }
      while (nextLate < lateRows.length) addUnmatched(lateRows[nextLate++]!);
      metRecordsUpTo(Number.POSITIVE_INFINITY);
      for (const g of groups) {
        const acc = accs.find(g.namespace, g.model)!;
        acc.promptTokens += g.prompt_tokens;
        acc.generatedTokens += g.generated_tokens;
        acc.requestsOk += g.requests_ok;
        acc.requestsFailed += g.requests_failed;
        const allocation = sumsAllocation(
          g.start ?? Number.POSITIVE_INFINITY,
          g.end ?? Number.NEGATIVE_INFINITY,
          g,
        );
        acc.sums.add(allocation, 1, g.node);
      }
      for (const { namespace, model, pods } of queries.modelPods(from, to)) {
        const acc = accs.find(namespace, model)!;
        for (const pod of pods) acc.pods.add(`${namespace}/${pod}`);
      }
    }

    return [...accs.values()]
      .filter((acc) => !namespaces || namespaces.has(acc.namespace))
      .map((acc) => modelCostOf(acc, acc.sums.finish(share), weight))
      .sort((a, b) => b.totalCost - a.totalCost);
  }

  async function jobs(query: JobQuery): Promise<JobCost[]> {
    ensureAvailable();
    const { window } = query;
    const kinds = query.kinds && query.kinds.length > 0 ? new Set(query.kinds) : null;
    const namespaces = query.namespaces && query.namespaces.length > 0 ? new Set(query.namespaces) : null;
    const scopes = new IdleScopes(query.idleByNode ?? false);
    interface Acc {
      group: Group;
      pods: Set<string>;
      nodes: Set<string>;
      intervals: Array<[number, number]>;
    }
    const accs = new Map<string, Acc>();
    const addJobRow = (row: Allocation) => {
      const { namespace, mlJobKind, mlJobName, pod, node } = row.properties;
      if (!namespace || !mlJobKind || !mlJobName) return;
      if ((kinds && !kinds.has(mlJobKind)) || (namespaces && !namespaces.has(namespace))) return;
      const key = `${namespace}/${mlJobKind}/${mlJobName}`;
      let acc = accs.get(key);
      if (!acc) {
        acc = {
          group: new Group(emptyAllocation(key, { namespace, mlJobKind, mlJobName }, row.start, row.end)),
          pods: new Set(),
          nodes: new Set(),
          intervals: [],
        };
        accs.set(key, acc);
      }
      acc.group.add(row, 1, scopes.scopeOf(row));
      if (pod) acc.pods.add(pod);
      if (node) acc.nodes.add(node);
      acc.intervals.push([row.start, row.end]);
      // Keep the interval list short on long ranges: the union of what is there so far is all that matters.
      if (acc.intervals.length > 4096) acc.intervals = mergeIntervals(acc.intervals);
    };
    await walk(planSegments(window, window.end - window.start), {
      window: (w) => {
        for (const row of w.allocations) {
          scopes.addRow(row);
          addJobRow(row);
        }
        scopes.addIdle(w.idle);
      },
      // Whole hours: the jobs' rows only, and idle from the hour's totals.
      rollupHour: (hour) => {
        for (const t of queries.scopeTotals(hour, scopes.byNode)) scopes.addTotals(t.scope, t.own, t.idle);
        for (const row of queries.readJobRows(hour)) addJobRow(row);
        return true;
      },
    });
    const share = query.shareIdle ? scopes : null;
    return [...accs.values()]
      .map(({ group, pods, nodes, intervals }) => {
        const row = group.finish(share);
        // SPEC.md §11, as jobCosts.
        const job: JobCost = {
          namespace: row.properties.namespace!,
          kind: row.properties.mlJobKind!,
          name: row.properties.mlJobName!,
          start: row.start,
          end: row.end,
          durationHours: (row.end - row.start) / HOUR_MS,
          runningHours: unionHours(intervals),
          pods: pods.size,
          nodes: nodes.size,
          cpuCoreHours: row.cpuCoreHours,
          ramByteHours: row.ramByteHours,
          gpuHours: row.gpuHours,
          cpuCost: row.cpuCost,
          ramCost: row.ramCost,
          gpuCost: row.gpuCost,
          pvCost: row.pvCost,
          idleCost: row.cpuIdleCost + row.ramIdleCost + row.gpuIdleCost,
          totalCost: row.totalCost,
          cpuEfficiency: row.cpuEfficiency,
          ramEfficiency: row.ramEfficiency,
          gpuEfficiency: row.gpuEfficiency,
          totalEfficiency: row.totalEfficiency,
        };
        return job;
      })
      .sort((a, b) => b.totalCost - a.totalCost);
  }

  // Budget spend per hour, per budget: complete hours are cached until their roll-up is rewritten.
  const budgetCache = new Map<number, { generation: number; points: Array<SpendPoint | null> }>();

  function hourSpend(hour: number): Array<SpendPoint | null> {
    const stamp = writtenAt.get(hour) ?? 0;
    const cached = budgetCache.get(hour);
    if (cached && cached.generation === stamp) return cached.points;
    const points: Array<SpendPoint | null> = budgetsConfig.map(() => null);
    const labels = new Map<string, Record<string, string>>();
    for (const row of queries.spendRows(hour)) {
      let parsed: Record<string, string> | undefined;
      if (row.labels !== null) {
        parsed = labels.get(row.labels);
        if (!parsed) {
          parsed = JSON.parse(row.labels) as Record<string, string>;
          labels.set(row.labels, parsed);
        }
      }
      const properties = { namespace: row.namespace, labels: parsed };
      budgetsConfig.forEach((budget, i) => {
        if (!inBudgetScope(budget, properties)) return;
        const point = points[i];
        if (point) {
          point.cost += row.cost;
          point.start = Math.min(point.start, row.start);
          point.end = Math.max(point.end, row.end);
        } else {
          points[i] = { start: row.start, end: row.end, cost: row.cost };
        }
      });
    }
    budgetCache.set(hour, { generation: stamp, points });
    return points;
  }

  async function budgets(at = now()): Promise<BudgetReport> {
    ensureAvailable();
    const asOf = hourOf(at);
    if (budgetsConfig.length === 0) return { currency, asOf, budgets: [] };
    const month = monthBounds(asOf);
    await refreshRollups({ from: month.start, to: asOf });
    for (const hour of budgetCache.keys()) if (hour < month.start || hour >= asOf) budgetCache.delete(hour);
    const points: SpendPoint[][] = budgetsConfig.map(() => []);
    for (const hour of queries.hoursWithRollups(month.start, asOf)) {
      hourSpend(hour).forEach((point, i) => {
        if (point) points[i]!.push(point);
      });
    }
    return {
      currency,
      asOf,
      budgets: budgetsConfig.map((budget, i) => evaluateBudget(budget, points[i]!, asOf)),
    };
  }

  async function* focus(query: FocusQuery): AsyncGenerator<string> {
    ensureAvailable();
    const header = focusCsv([]);
    const from = hourOf(query.window.start);
    const to = query.window.end;
    await refreshRollups({ from, to });
    yield header;
    for (const hour of queries.hoursWithRollups(from, to)) {
      const rows = focusRows(queries.readHour(hour), {
        billingAccountId: query.billingAccountId,
        ...(query.billingAccountName !== undefined ? { billingAccountName: query.billingAccountName } : {}),
        includeIdle: query.includeIdle ?? true,
      });
      if (rows.length > 0) yield focusCsv(rows).slice(header.length);
      await yieldToEventLoop();
    }
  }

  async function gpuWaste(hour: number): Promise<HourlyGpuWaste[]> {
    ensureAvailable();
    await refreshRollups({ from: hour, to: hour + HOUR_MS });
    return queries.readWaste(hour);
  }

  let timer: NodeJS.Timeout | undefined;
  const interval = options.refreshInterval ?? 60_000;
  if (interval > 0 && !unavailable) {
    // Each tick works at most 10 s (in 50 ms slices), so a backlog (after a pricing change) never keeps a query
    // waiting long; a tick is skipped while the previous one still runs.
    let ticking = false;
    timer = setInterval(() => {
      if (ticking) return;
      ticking = true;
      refreshRollups({ budgetMs: 10_000 })
        .catch((error: unknown) => logger?.error({ err: error }, 'hourly cost roll-up failed'))
        .finally(() => {
          ticking = false;
        });
    }, interval);
    timer.unref();
  }

  return {
    currency,
    budgetsConfig,
    unavailable,
    now,
    allocation,
    models,
    jobs,
    budgets,
    focus,
    gpuWaste,
    refreshRollups,
    pendingNodeHours: () => queries.pendingNodeHours(),
    generation: () => generation,
    close() {
      closed = true;
      if (timer) clearInterval(timer);
    },
  };
}

const splitPod = (name: string): [string, string] => {
  const at = name.indexOf('/');
  return [name.slice(0, at), name.slice(at + 1)];
};

const compareStrings = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Rows in (hour, node, namespace, pod) order. */
function compareHourRows(a: PodSumRow, b: PodSumRow): number {
  return (
    a.hour - b.hour ||
    compareStrings(a.node, b.node) ||
    compareStrings(a.namespace, b.namespace) ||
    compareStrings(a.pod, b.pod)
  );
}

/** Model records in the order an hour's are read: (hour, node, namespace, pod, model). */
function compareFirst(
  a: { hour: number; node: string; namespace: string; pod: string; model: string },
  b: { hour: number; node: string; namespace: string; pod: string; model: string },
): number {
  return (
    a.hour - b.hour ||
    compareStrings(a.node, b.node) ||
    compareStrings(a.namespace, b.namespace) ||
    compareStrings(a.pod, b.pod) ||
    compareStrings(a.model, b.model)
  );
}

/** An allocation holding stored sums (snake_case columns) over [start, end). */
function sumsAllocation(start: number, end: number, row: Record<SumColumnName, number>): Allocation {
  const a = emptyAllocation('', {}, start, end);
  a.cpuCoreHours = row.cpu_core_hours;
  a.cpuCoreRequestHours = row.cpu_core_request_hours;
  a.cpuCoreUsageHours = row.cpu_core_usage_hours;
  a.ramByteHours = row.ram_byte_hours;
  a.ramByteRequestHours = row.ram_byte_request_hours;
  a.ramByteUsageHours = row.ram_byte_usage_hours;
  a.gpuHours = row.gpu_hours;
  a.gpuActiveHours = row.gpu_active_hours;
  a.gpuMeasuredHours = row.gpu_measured_hours;
  a.pvByteHours = row.pv_byte_hours;
  a.cpuCost = row.cpu_cost;
  a.ramCost = row.ram_cost;
  a.gpuCost = row.gpu_cost;
  a.pvCost = row.pv_cost;
  return a;
}

type SumColumnName =
  | 'cpu_core_hours'
  | 'cpu_core_request_hours'
  | 'cpu_core_usage_hours'
  | 'ram_byte_hours'
  | 'ram_byte_request_hours'
  | 'ram_byte_usage_hours'
  | 'gpu_hours'
  | 'gpu_active_hours'
  | 'gpu_measured_hours'
  | 'pv_byte_hours'
  | 'cpu_cost'
  | 'ram_cost'
  | 'gpu_cost'
  | 'pv_cost';

function mergeIntervals(intervals: Array<[number, number]>): Array<[number, number]> {
  const sorted = [...intervals].sort((a, b) => a[0] - b[0]);
  const out: Array<[number, number]> = [];
  for (const [start, end] of sorted) {
    const last = out.at(-1);
    if (last && start <= last[1]) last[1] = Math.max(last[1], end);
    else out.push([start, end]);
  }
  return out;
}

/** The service as the collector configures it: pricing, budgets and thresholds from mlcost.yaml. */
export function costServiceFromConfig(
  store: Store,
  config: {
    currency: string;
    pricing: PricingConfig;
    budgets: readonly BudgetConfig[];
    cost: { gpuIdleThreshold: number; rollupRetention: number };
    collector: { retention: number };
  },
  logger?: Logger,
): CostService {
  return createCostService(store, {
    currency: config.currency,
    pricing: config.pricing,
    budgets: config.budgets,
    gpuIdleThreshold: config.cost.gpuIdleThreshold,
    rawRetention: config.collector.retention,
    rollupRetention: config.cost.rollupRetention,
    ...(logger ? { logger } : {}),
  });
}

/** A ConfigError for a cost configuration that cannot be used (for callers that prefer to stop at start). */
export function costConfigError(error: CostUnavailableError): ConfigError {
  return new ConfigError(error.key, error.message);
}
