// The agent's own HTTP endpoints on port 9495: /metrics and /healthz.
import { Hono } from 'hono';
import type { Registry } from 'prom-client';

export function createAgentApp(registry: Registry): Hono {
  const app = new Hono();
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/metrics', async (c) =>
    c.body(await registry.metrics(), 200, { 'content-type': registry.contentType }),
  );
  return app;
}
