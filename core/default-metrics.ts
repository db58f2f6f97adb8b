// Node.js process metrics for mlcost's own /metrics, without the three prom-client gauges whose names end in
// `_total` (active handles, requests, resources): Prometheus naming reserves that suffix for counters, and
// `promtool check metrics` rejects them.
import { collectDefaultMetrics, type Registry } from 'prom-client';

const MISNAMED_GAUGES = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

export function collectProcessMetrics(registry: Registry, prefix: string): void {
  collectDefaultMetrics({ register: registry, prefix });
  for (const name of MISNAMED_GAUGES) registry.removeSingleMetric(`${prefix}${name}`);
}
