// The collector's real app (createApp) over a store, for reading its API in process: a silent logger, a fresh
// registry, and an ingest service no request here uses (a shared empty token, 8 MiB batches).
import type { Hono } from 'hono';
import { Registry } from 'prom-client';
import { createApp } from '../../collector/api/app.ts';
import type { CostService } from '../../collector/cost-service.ts';
import { createSharedTokenAuthenticator } from '../../collector/ingest/auth.ts';
import { IngestService } from '../../collector/ingest/ingest.ts';
import { createCollectorMetrics } from '../../collector/metrics.ts';
import type { RightsizingService } from '../../collector/rightsizing-service.ts';
import type { Store } from '../../collector/store/store.ts';
import { silentLogger } from '../../core/logger.ts';

const MAX_BATCH_BYTES = 8 * 2 ** 20;

export function queryApp(
  store: Store,
  services: { cost: CostService; rightsizing?: RightsizingService; version: string },
): Hono {
  const registry = new Registry();
  const metrics = createCollectorMetrics(registry, {
    version: services.version,
    currency: 'USD',
    storeSizeBytes: () => store.sizeBytes(),
    reportingNodes: () => [],
  });
  return createApp({
    store,
    registry,
    ingest: new IngestService(store, metrics, {
      authenticator: createSharedTokenAuthenticator(''),
      maxBatchBytes: MAX_BATCH_BYTES,
    }),
    logger: silentLogger,
    version: services.version,
    currency: 'USD',
    maxBatchBytes: MAX_BATCH_BYTES,
    ...(services.rightsizing ? { rightsizing: services.rightsizing } : {}),
    cost: services.cost,
  });
}
