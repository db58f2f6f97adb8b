// The collector's rightsizing service: the store's history (collector/store/rightsizing-queries.ts) turned into the
// pure engine's input (collector/rightsizing), priced with the cost model's flat prices, and the report cached for
// a short time so the API and /metrics share one computation. A request may ask for a fresh one.
//
// Prices: the engine's PriceLookup is flat: the prices of a node no label or rule describes — the `pricing:`
// section's per-resource prices (else the built-in table) less the default capacity type's discount. A GPU is priced
// by its product string exactly as collector/cost prices it. Each point then carries its node's price factor: the
// share of those prices the node pays after its own capacity type's discount (a spot node's), as collector/cost
// resolves it from the node's labels and `nodes` rules, so a saving on a spot node is a spot-priced saving.
import type { Logger } from '../core/logger.ts';
import { type PricingConfig, resolveNodePrices } from './cost/index.ts';
import { type CostUnavailableError, effectivePricing } from './cost-service.ts';
import {
  analyze,
  type PriceLookup,
  type RightsizingOptions,
  type RightsizingReport,
  resolveOptions,
} from './rightsizing/index.ts';
import { createRightsizingQueries, DEFAULT_POINT_MS, type ReadStats } from './store/rightsizing-queries.ts';
import type { Store } from './store/store.ts';

const HOUR_MS = 3_600_000;
/** How long a computed report is served before the next request recomputes it. */
export const DEFAULT_CACHE_MS = 5 * 60_000;

export interface RightsizingServiceOptions {
  /** Top-level `currency`; pricing.currency, when set, must agree (as for costs). */
  currency?: string;
  /** The `pricing:` section; the built-in table when absent. */
  pricing?: PricingConfig;
  /** Engine options (history, percentiles, thresholds); SPEC.md defaults otherwise. */
  engine?: Partial<RightsizingOptions>;
  /** Default 5 minutes. */
  cacheMs?: number;
  /** One point per pod and container per this many ms (default 5 minutes); see rightsizing-queries.ts. */
  pointMs?: number;
  clock?: () => number;
  logger?: Logger;
}

export interface RightsizingResult {
  /** The instant the report describes (epoch ms): the end of the history. */
  now: number;
  currency: string;
  historyHours: number;
  pointMs: number;
  /** Milliseconds the computation took. */
  computeMs: number;
  report: RightsizingReport;
  stats: ReadStats & { containerSeries: number; gpuSeries: number; modelSeries: number };
}

export interface RightsizingService {
  readonly currency: string;
  /** Why answers are refused (pricing unusable), or null. */
  readonly unavailable: CostUnavailableError | null;
  /** The cached report while fresh, else a new one; `refresh` forces a new one. Concurrent calls share one. */
  current(options?: { refresh?: boolean }): Promise<RightsizingResult>;
  /** The last report computed, however old, without computing. */
  cached(): RightsizingResult | undefined;
  /**
   * The last report without waiting (undefined before the first), starting a new computation in the background
   * when it is missing or stale: for /metrics, which must answer within a scrape timeout.
   */
  snapshot(): RightsizingResult | undefined;
}

/** A flat PriceLookup from the pricing configuration: what a node with no labels would be charged. */
export function priceLookupFrom(pricing: PricingConfig = {}): PriceLookup {
  const base = resolveNodePrices({}, [], pricing);
  const keep = 1 - base.discount;
  const byModel = new Map<string, number>();
  return {
    currency: base.currency,
    cpuCoreHour: base.cpuCoreHour * keep,
    memGiBHour: base.memGiBHour * keep,
    gpuHour(model) {
      const key = model ?? '';
      let price = byModel.get(key);
      if (price === undefined) {
        const prices = model ? resolveNodePrices({}, [model], pricing) : base;
        price =
          (model ? (prices.gpuHourByModel[model] ?? prices.gpuHourDefault) : prices.gpuHourDefault) * keep;
        byModel.set(key, price);
      }
      return price;
    },
  };
}

/**
 * The share of priceLookupFrom's flat prices a node pays: (1 − its capacity type's discount) / (1 − the default
 * one's), from its labels and the `nodes` rules, as collector/cost resolves a node's discount.
 */
export function nodePriceFactorFrom(pricing: PricingConfig = {}): (labels: Record<string, string>) => number {
  const keep = 1 - resolveNodePrices({}, [], pricing).discount;
  return (labels) => (1 - resolveNodePrices(labels, [], pricing).discount) / keep;
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export function createRightsizingService(
  store: Store,
  options: RightsizingServiceOptions = {},
): RightsizingService {
  const queries = createRightsizingQueries(store.db);
  const currency = options.currency ?? options.pricing?.currency ?? 'USD';
  const { pricing, error: unavailable } = effectivePricing(options.pricing, currency);
  const prices = unavailable ? undefined : priceLookupFrom(pricing);
  const nodePriceFactor = unavailable ? undefined : nodePriceFactorFrom(pricing);
  const engine = resolveOptions(options.engine);
  const cacheMs = options.cacheMs ?? DEFAULT_CACHE_MS;
  const pointMs = options.pointMs ?? DEFAULT_POINT_MS;
  const clock = options.clock ?? Date.now;
  let last: { result: RightsizingResult; at: number } | undefined;
  let inFlight: Promise<RightsizingResult> | undefined;

  async function compute(): Promise<RightsizingResult> {
    if (!prices) throw unavailable ?? new Error('rightsizing has no prices');
    const began = performance.now();
    const now = clock();
    const steps = queries.readSeriesSteps(
      { from: now - engine.historyHours * HOUR_MS, to: now },
      pointMs,
      nodePriceFactor,
    );
    let step = steps.next();
    while (!step.done) {
      // Ingest and other requests run between hours of history.
      await yieldToEventLoop();
      step = steps.next();
    }
    const { stats, ...series } = step.value;
    const report = analyze({ now, prices, ...series }, engine);
    const result: RightsizingResult = {
      now,
      currency: prices.currency,
      historyHours: engine.historyHours,
      pointMs,
      computeMs: Math.round(performance.now() - began),
      report,
      stats: {
        ...stats,
        containerSeries: series.containers.length,
        gpuSeries: series.gpus.length,
        modelSeries: series.models.length,
      },
    };
    options.logger?.debug(
      {
        computeMs: result.computeMs,
        recommendations: report.recommendations.length,
        notEnoughData: report.notEnoughData.length,
        ...result.stats,
      },
      'rightsizing computed',
    );
    return result;
  }

  const fresh = () => last !== undefined && clock() - last.at < cacheMs;
  const current = ({ refresh = false } = {}): Promise<RightsizingResult> => {
    if (!refresh && last && fresh()) return Promise.resolve(last.result);
    if (inFlight) return inFlight;
    inFlight = compute()
      .then((result) => {
        last = { result, at: clock() };
        return result;
      })
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  };

  return {
    currency,
    unavailable,
    current,
    cached: () => last?.result,
    snapshot() {
      if (!unavailable && !fresh() && !inFlight) {
        current().catch((error: unknown) => {
          options.logger?.warn({ err: error }, 'rightsizing could not be computed');
        });
      }
      return last?.result;
    },
  };
}
