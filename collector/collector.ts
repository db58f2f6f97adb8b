// Assembles a collector from configuration: the store, its metrics, the ingest service and the HTTP app.
import { join } from 'node:path';
import type { Hono } from 'hono';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { Config } from '../core/config/config.ts';
import type { Logger } from '../core/logger.ts';
import { VERSION } from '../core/version.ts';
import { createApp } from './api/app.ts';
import { IngestService } from './ingest/ingest.ts';
import { createCollectorMetrics } from './metrics.ts';
import { openStore, type Store } from './store/store.ts';

export interface Collector {
  app: Hono;
  store: Store;
  ingest: IngestService;
  registry: Registry;
  close(): void;
}

export function databasePath(config: Config): string {
  return config.collector.database || join(config.dataDir, 'mlcost.db');
}

export function createCollector(config: Config, logger: Logger, registry = new Registry()): Collector {
  const store = openStore(databasePath(config));
  collectDefaultMetrics({ register: registry, prefix: 'mlcost_collector_process_' });
  const metrics = createCollectorMetrics(registry, {
    version: VERSION,
    currency: config.currency,
    storeSizeBytes: () => store.sizeBytes(),
  });
  const ingest = new IngestService(store, metrics, {
    token: config.collector.ingestToken,
    maxBatchBytes: config.collector.maxBatchBytes,
  });
  const app = createApp({
    store,
    registry,
    ingest,
    logger,
    version: VERSION,
    currency: config.currency,
    maxBatchBytes: config.collector.maxBatchBytes,
  });
  return { app, store, ingest, registry, close: () => store.close() };
}
