// The agent's own /metrics and /healthz, served with node:http.
import { Counter, Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { type AgentMetricsServer, listenForMetrics } from './metrics-server.ts';

describe('agent metrics server', () => {
  let server: AgentMetricsServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('serves the registry at /metrics, ok at /healthz, and 404 elsewhere', async () => {
    const registry = new Registry();
    new Counter({ name: 'mlcost_test_things_total', help: 'Things.', registers: [registry] }).inc(3);
    server = await listenForMetrics(registry, '127.0.0.1:0');
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    const metrics = await fetch(`${server.url}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toBe(registry.contentType);
    expect(await metrics.text()).toContain('mlcost_test_things_total 3');

    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });

    const head = await fetch(`${server.url}/metrics`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');

    expect((await fetch(`${server.url}/nope`)).status).toBe(404);
    expect((await fetch(`${server.url}/metrics`, { method: 'POST', body: 'x' })).status).toBe(404);
  });

  it('rejects when the address is taken', async () => {
    server = await listenForMetrics(new Registry(), '127.0.0.1:0');
    const port = new URL(server.url).port;
    await expect(listenForMetrics(new Registry(), `127.0.0.1:${port}`)).rejects.toThrow(/EADDRINUSE/);
  });
});
