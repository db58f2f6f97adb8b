// The agent's own Prometheus metrics: per-source health and duration, windows made and batches shipped.
import { Counter, Gauge, type Registry } from 'prom-client';

export interface AgentMetrics {
  sourceUp: Gauge<'source'>;
  sourceDuration: Gauge<'source'>;
  windowsMade: Counter;
  batchesShipped: Counter;
  shipFailures: Counter;
}

export function createAgentMetrics(registry: Registry): AgentMetrics {
  return {
    sourceUp: new Gauge({
      name: 'mlcost_agent_source_up',
      help: '1 when the source answered at its last collection, 0 when it failed or timed out.',
      labelNames: ['source'],
      registers: [registry],
    }),
    sourceDuration: new Gauge({
      name: 'mlcost_agent_source_duration_seconds',
      help: 'How long the source took at its last collection.',
      labelNames: ['source'],
      registers: [registry],
    }),
    windowsMade: new Counter({
      name: 'mlcost_agent_windows_total',
      help: 'Usage windows the agent closed.',
      registers: [registry],
    }),
    batchesShipped: new Counter({
      name: 'mlcost_agent_batches_shipped_total',
      help: 'Batches the collector accepted.',
      registers: [registry],
    }),
    shipFailures: new Counter({
      name: 'mlcost_agent_ship_failures_total',
      help: 'Attempts to ship a batch that failed and will be retried.',
      registers: [registry],
    }),
  };
}
