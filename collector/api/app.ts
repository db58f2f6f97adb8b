// The collector's HTTP API as a hono app: health, metrics, nodes and ingest. createApp takes every dependency,
// so tests call app.request() without a port and server.ts only listens. Every answer with figures carries the
// `simulated` label (./simulated.ts).
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { Registry } from 'prom-client';
import type { Logger } from '../../core/logger.ts';
import { inSpan, withRemoteContext } from '../../core/tracing.ts';
import type { CostService } from '../cost-service.ts';
import type { IngestService } from '../ingest/ingest.ts';
import { BodyTooLargeError, headerRecord, nodeRequestOf, readBody } from '../ingest/read-body.ts';
import { registerReportRoutes } from '../report/routes.ts';
import type { RightsizingService } from '../rightsizing-service.ts';
import type { Store } from '../store/store.ts';
import { registerCostRoutes } from './cost-routes.ts';
import { HttpProblem, problemResponse } from './problem.ts';
import { registerRightsizingRoutes } from './rightsizing-routes.ts';
import { SIMULATED_HEADER } from './simulated.ts';

export interface AppDeps {
  store: Store;
  registry: Registry;
  ingest: IngestService;
  logger: Logger;
  version: string;
  currency: string;
  maxBatchBytes: number;
  /** Shared with /metrics; made from the store when absent. */
  rightsizing?: RightsizingService;
  /** Allocation, models, jobs, budgets and the FOCUS export (collector/cost-service.ts). */
  cost: CostService;
}

export function createApp(deps: AppDeps): Hono {
  const app = new Hono();

  app.onError((error, c) => {
    if (error instanceof HttpProblem) return problemResponse(error, c.req.path);
    deps.logger.error({ err: error, path: c.req.path }, 'request failed');
    return problemResponse(
      new HttpProblem(500, 'Internal Server Error', 'the collector failed to answer; see its log'),
      c.req.path,
    );
  });
  app.notFound((c) =>
    problemResponse(
      new HttpProblem(404, 'Not Found', `no route for ${c.req.method} ${c.req.path}`),
      c.req.path,
    ),
  );

  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', (c) => {
    if (!deps.store.ping()) throw new HttpProblem(503, 'Service Unavailable', 'the store does not answer');
    return c.json({ status: 'ready' });
  });

  app.get('/metrics', async (c) => {
    const body = await deps.registry.metrics();
    return c.body(body, 200, { 'content-type': deps.registry.contentType });
  });

  app.get('/api/v1/nodes', (c) => {
    const nodes = deps.store.nodes.listNodes();
    // The answer is simulated when any node in it is; each node says so itself.
    const simulated = nodes.some((node) => node.simulated);
    return c.json({ currency: deps.currency, simulated, nodes }, 200, {
      [SIMULATED_HEADER]: String(simulated),
    });
  });
  registerCostRoutes(app, deps);
  registerRightsizingRoutes(app, deps);
  registerReportRoutes(app, deps);

  // Ingest reads its body straight from Node's request when there is one (collector/ingest/read-body.ts): hono's
  // web Request, its stream body and bodyLimit cost about a millisecond a request, and an agent sends a request a
  // window. Without one (app.request() in tests) bodyLimit counts the bytes. Either way a body over the limit is 413.
  const limitBody = bodyLimit({
    maxSize: deps.maxBatchBytes,
    onError: () => {
      throw deps.ingest.tooLargeProblem('request body');
    },
  });
  app.post(
    '/api/v1/ingest',
    async (c, next) => {
      const release = deps.ingest.admit();
      try {
        await deps.ingest.authenticate(c.req.header('authorization'));
        await next();
      } finally {
        release();
      }
    },
    (c, next) => (nodeRequestOf(c.env) ? next() : limitBody(c, next)),
    async (c) => {
      const incoming = nodeRequestOf(c.env);
      let body: Uint8Array;
      if (incoming) {
        try {
          body = await readBody(incoming, deps.maxBatchBytes);
        } catch (error) {
          if (error instanceof BodyTooLargeError) throw deps.ingest.tooLargeProblem('request body');
          throw error;
        }
      } else {
        body = new Uint8Array(await c.req.arrayBuffer());
      }
      const headers = incoming ? headerRecord(incoming) : c.req.header();
      return withRemoteContext(headers, () =>
        inSpan('mlcost.collector.ingest', { 'http.route': '/api/v1/ingest' }, (span) => {
          const batch = deps.ingest.decode(body, headers['content-encoding'], headers['content-type']);
          span.setAttributes({ 'mlcost.agent_id': batch.agentId, 'mlcost.sequence': batch.sequence });
          const result = deps.ingest.store(batch);
          span.setAttribute('mlcost.duplicate', result.duplicate);
          if (!result.duplicate) {
            deps.logger.debug(
              { agentId: result.agentId, sequence: result.sequence, windows: result.windows },
              'batch stored',
            );
          }
          return c.json(result, 200);
        }),
      );
    },
  );

  return app;
}
