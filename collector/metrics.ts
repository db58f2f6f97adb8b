// The collector's own Prometheus metrics: build info, ingest outcomes and latency, and the store's size.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export type RejectionReason =
  | 'unauthorized'
  | 'too_large'
  | 'malformed'
  | 'schema'
  | 'unsupported_media'
  | 'store_error'
  | 'busy';

export interface CollectorMetrics {
  batchesAccepted: Counter;
  windowsAccepted: Counter;
  duplicates: Counter;
  rejections: Counter<'reason'>;
  ingestDuration: Histogram;
}

export function createCollectorMetrics(
  registry: Registry,
  info: {
    version: string;
    currency: string;
    storeSizeBytes: () => number;
    reportingNodes: () => Array<{ name: string; lastSeen: number }>;
  },
): CollectorMetrics {
  const buildInfo = new Gauge({
    name: 'mlcost_build_info',
    help: 'A constant 1 labelled with the running version and the currency every cost is in.',
    labelNames: ['version', 'currency'],
    registers: [registry],
  });
  buildInfo.set({ version: info.version, currency: info.currency }, 1);
  new Gauge({
    name: 'mlcost_collector_store_size_bytes',
    help: 'Bytes the SQLite store takes on disk, WAL included.',
    registers: [registry],
    collect() {
      this.set(info.storeSizeBytes());
    },
  });
  new Gauge({
    name: 'mlcost_collector_node_last_report_timestamp_seconds',
    help: 'End of the latest window stored for each node still reporting; a node marked gone has no series.',
    labelNames: ['node'],
    registers: [registry],
    collect() {
      this.reset();
      for (const node of info.reportingNodes()) this.set({ node: node.name }, node.lastSeen / 1000);
    },
  });
  const rejections = new Counter({
    name: 'mlcost_collector_ingest_rejections_total',
    help: 'Ingest requests refused, by reason.',
    labelNames: ['reason'],
    registers: [registry],
  });
  // Start every reason at zero so alerts and dashboards see the series before the first rejection.
  for (const reason of [
    'unauthorized',
    'too_large',
    'malformed',
    'schema',
    'unsupported_media',
    'store_error',
    'busy',
  ]) {
    rejections.inc({ reason }, 0);
  }
  return {
    batchesAccepted: new Counter({
      name: 'mlcost_collector_batches_accepted_total',
      help: 'Agent batches stored (duplicates not counted).',
      registers: [registry],
    }),
    windowsAccepted: new Counter({
      name: 'mlcost_collector_windows_accepted_total',
      help: 'Usage windows stored from agent batches.',
      registers: [registry],
    }),
    duplicates: new Counter({
      name: 'mlcost_collector_batches_duplicate_total',
      help: 'Agent batches received again after they were stored, answered as accepted and not stored twice.',
      registers: [registry],
    }),
    rejections,
    ingestDuration: new Histogram({
      name: 'mlcost_collector_ingest_duration_seconds',
      help: 'Time to validate and store one agent batch.',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
  };
}
