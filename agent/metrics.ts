// The agent's own Prometheus metrics: per-source health and duration, windows made and batches shipped.
import { Counter, Gauge, type Registry } from 'prom-client';

export interface AgentMetrics {
  sourceUp: Gauge<'source'>;
  sourceDuration: Gauge<'source'>;
  windowsMade: Counter;
  batchesShipped: Counter;
  shipFailures: Counter;
  deadLetters: Counter;
  spoolDroppedWindows: Counter<'reason'>;
  spoolBatches: Gauge;
  spoolBytes: Gauge;
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
    deadLetters: new Counter({
      name: 'mlcost_agent_dead_letter_batches_total',
      help: 'Batches the collector rejected as invalid, moved aside to the dead-letter folder and not retried.',
      registers: [registry],
    }),
    spoolDroppedWindows: droppedWindows(registry),
    spoolBatches: new Gauge({
      name: 'mlcost_agent_spool_batches',
      help: 'Batches waiting in the on-disk spool for the collector.',
      registers: [registry],
    }),
    spoolBytes: new Gauge({
      name: 'mlcost_agent_spool_bytes',
      help: 'Bytes the on-disk spool holds.',
      registers: [registry],
    }),
  };
}

function droppedWindows(registry: Registry): Counter<'reason'> {
  const counter = new Counter({
    name: 'mlcost_agent_spool_dropped_windows_total',
    help: 'Usage windows dropped from a full spool (reason bytes) or one kept past its age limit (reason age).',
    labelNames: ['reason'],
    registers: [registry],
  });
  // Both series exist from the start so an alert on increase() sees the first drop.
  counter.inc({ reason: 'bytes' }, 0);
  counter.inc({ reason: 'age' }, 0);
  return counter;
}
