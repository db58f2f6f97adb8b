// Assembles a collector from configuration: the store, its metrics, the ingest service and the HTTP app.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Hono } from 'hono';
import { Registry } from 'prom-client';
import type { Config } from '../core/config/config.ts';
import { collectProcessMetrics } from '../core/default-metrics.ts';
import { ConfigError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { VERSION } from '../core/version.ts';
import { createApp } from './api/app.ts';
import { registerCostMetrics } from './cost-metrics.ts';
import { type CostService, costServiceFromConfig } from './cost-service.ts';
import { type AgentAuthenticator, createSharedTokenAuthenticator } from './ingest/auth.ts';
import { IngestService } from './ingest/ingest.ts';
import { createTokenReviewAuthenticator } from './ingest/token-review.ts';
import { createCollectorMetrics } from './metrics.ts';
import { startOtlpMetricsExport } from './otlp-metrics.ts';
import { registerRightsizingMetrics } from './rightsizing-metrics.ts';
import { createRightsizingService } from './rightsizing-service.ts';
import { openStore, type Store } from './store/store.ts';

export interface Collector {
  app: Hono;
  store: Store;
  ingest: IngestService;
  registry: Registry;
  cost: CostService;
  close(): void;
}

export function databasePath(config: Config): string {
  return config.collector.database || join(config.dataDir, 'mlcost.db');
}

export function createCollector(config: Config, logger: Logger, registry = new Registry()): Collector {
  const store = openStore(databasePath(config));
  collectProcessMetrics(registry, 'mlcost_collector_process_');
  const metrics = createCollectorMetrics(registry, {
    version: VERSION,
    currency: config.currency,
    storeSizeBytes: () => store.sizeBytes(),
    reportingNodes: () => store.nodes.reportingNodes(),
  });
  const rightsizing = createRightsizingService(store, {
    currency: config.currency,
    pricing: config.pricing,
    logger,
  });
  registerRightsizingMetrics(registry, rightsizing);
  const cost = costServiceFromConfig(store, config, logger);
  registerCostMetrics(registry, cost, { logger });
  const otlp = startOtlpMetricsExport(registry, config, logger);
  const ingest = new IngestService(store, metrics, {
    authenticator: createAuthenticator(config),
    maxBatchBytes: config.collector.maxBatchBytes,
    maxInFlight: config.collector.maxInFlight,
  });
  const app = createApp({
    store,
    registry,
    ingest,
    logger,
    version: VERSION,
    currency: config.currency,
    maxBatchBytes: config.collector.maxBatchBytes,
    rightsizing,
    cost,
  });
  const sweep = setInterval(
    () => {
      markGoneNodes(store, config.collector.nodeGoneAfter, logger);
      pruneOldWindows(store, config.collector.retention, logger);
    },
    Math.min(30_000, Math.max(1_000, config.collector.nodeGoneAfter / 4)),
  );
  sweep.unref();
  return {
    app,
    store,
    ingest,
    registry,
    cost,
    close: () => {
      clearInterval(sweep);
      void otlp?.stop();
      cost.close();
      store.close();
    },
  };
}

/** The agent authenticator the configuration asks for: a shared token, or TokenReview against the API server. */
export function createAuthenticator(
  config: Config,
  env: NodeJS.ProcessEnv = process.env,
): AgentAuthenticator {
  const { auth, kubernetes } = config.collector;
  if (auth.mode === 'token') return createSharedTokenAuthenticator(config.collector.ingestToken);
  const host = env['KUBERNETES_SERVICE_HOST'];
  const apiServer =
    kubernetes.apiServer ||
    (host
      ? `https://${host.includes(':') ? `[${host}]` : host}:${env['KUBERNETES_SERVICE_PORT'] ?? 443}`
      : '');
  if (!apiServer) {
    throw new ConfigError(
      'collector.kubernetes.apiServer',
      'invalid configuration: collector.kubernetes.apiServer = "" (from default): tokenreview auth needs the API server; allowed: an https URL, or run in a cluster',
    );
  }
  return createTokenReviewAuthenticator({
    apiServer,
    reviewerToken: () => readFileSync(kubernetes.tokenFile, 'utf8').trim(),
    caFile: apiServer.startsWith('https:') ? kubernetes.caFile : undefined,
    audience: auth.audience,
    allowedServiceAccounts: auth.serviceAccounts,
  });
}

/** Marks nodes silent for longer than `goneAfterMs` as gone, so their series stop and the API says so. */
export function markGoneNodes(store: Store, goneAfterMs: number, logger: Logger, now = Date.now()): number {
  const marked = store.nodes.markGone(now - goneAfterMs, now);
  if (marked > 0)
    logger.warn({ nodes: marked, goneAfterMs }, `${marked} node(s) stopped reporting and are marked gone`);
  return marked;
}

/** Deletes window records older than the retention; runs with the gone-node sweep. */
export function pruneOldWindows(store: Store, retentionMs: number, logger: Logger, now = Date.now()): number {
  const removed = store.pruneBefore(now - retentionMs);
  if (removed > 0) logger.info({ rows: removed, retentionMs }, 'deleted window records past the retention');
  return removed;
}
