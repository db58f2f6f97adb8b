// Rightsizing on /metrics, for alerts and dashboards: the monthly saving and the number of recommendations by
// namespace and recommendation kind, computed at scrape time from the rightsizing service's cached report. A scrape
// never waits for the engine (a large history takes longer than a scrape timeout): when the report is missing or
// stale the service recomputes it in the background, and the series follow at a later scrape.
import { Gauge, type Registry } from 'prom-client';
import type { Recommendation } from './rightsizing/index.ts';
import type { RightsizingResult, RightsizingService } from './rightsizing-service.ts';

/** Sums per (namespace, kind): the monthly saving (net: safety fixes that add cost count negative) and a count. */
export function rightsizingTotals(
  recommendations: readonly Recommendation[],
): Map<string, { namespace: string; kind: string; saving: number; count: number }> {
  const totals = new Map<string, { namespace: string; kind: string; saving: number; count: number }>();
  for (const rec of recommendations) {
    const key = `${rec.target.namespace}\u0000${rec.kind}`;
    let total = totals.get(key);
    if (!total) {
      total = { namespace: rec.target.namespace, kind: rec.kind, saving: 0, count: 0 };
      totals.set(key, total);
    }
    total.saving += rec.monthlySaving;
    total.count += 1;
  }
  return totals;
}

export function registerRightsizingMetrics(
  registry: Registry,
  service: Pick<RightsizingService, 'snapshot'>,
): void {
  new Gauge({
    name: 'mlcost_rightsizing_savings',
    help: 'Monthly saving (730 h, in the currency of mlcost_build_info) of the current rightsizing recommendations, by namespace and recommendation kind.',
    labelNames: ['namespace', 'kind'],
    registers: [registry],
    collect() {
      this.reset();
      for (const total of totalsOf(service.snapshot())) {
        this.set({ namespace: total.namespace, kind: total.kind }, Math.round(total.saving * 100) / 100);
      }
    },
  });
  new Gauge({
    name: 'mlcost_rightsizing_recommendations',
    help: 'Current rightsizing recommendations, by namespace and recommendation kind.',
    labelNames: ['namespace', 'kind'],
    registers: [registry],
    collect() {
      this.reset();
      for (const total of totalsOf(service.snapshot())) {
        this.set({ namespace: total.namespace, kind: total.kind }, total.count);
      }
    },
  });
}

const totalsOf = (result: RightsizingResult | undefined) =>
  rightsizingTotals(result?.report.recommendations ?? []).values();
