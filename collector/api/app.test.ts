// The collector's HTTP API through app.request() (no port): health, readiness, /metrics, nodes, and ingest with
// every way a request can be refused. Each refusal is checked to have stored nothing.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config/load.ts';
import { silentLogger } from '../../core/logger.ts';
import { type Collector, createCollector } from '../collector.ts';

const PACKAGE_VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

const T0 = Date.UTC(2025, 5, 1, 12, 0, 0);
const GIB = 1024 ** 3;

const open: Array<{ collector: Collector; dir: string }> = [];
afterEach(() => {
  for (const { collector, dir } of open.splice(0)) {
    collector.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

function makeCollector(settings: Record<string, unknown> = {}): Collector {
  const dir = mkdtempSync(join(tmpdir(), 'mlcost-app-'));
  const config = loadConfig({ env: {}, flags: { dataDir: dir, ...settings } });
  const collector = createCollector(config, silentLogger);
  open.push({ collector, dir });
  return collector;
}

function batchBody(sequence = 0, overrides: Record<string, unknown> = {}) {
  return {
    schemaVersion: 1,
    agentId: 'agent-1',
    sequence,
    sentAt: new Date(T0).toISOString(),
    windows: [0, 1].map((i) => ({
      start: new Date(T0 + (sequence * 2 + i) * 60_000).toISOString(),
      end: new Date(T0 + (sequence * 2 + i + 1) * 60_000).toISOString(),
      node: {
        name: 'gpu-node-1',
        capacity: { cpuCores: 16, memoryBytes: 64 * GIB, gpus: 1 },
        cpuUsedCoresAvg: 2 + i,
        cpuUsedCoresMax: 4 + i,
        memoryUsedBytesAvg: 10 * GIB,
        memoryUsedBytesMax: 12 * GIB,
      },
      gpus: [{ id: 'GPU-aaaa', uuid: 'GPU-aaaa', index: 0, model: 'NVIDIA H100', activityAvg: 0.25 }],
    })),
    ...overrides,
  };
}

const JSON_HEADERS = { 'content-type': 'application/json' };

function post(
  collector: Collector,
  body: string | Uint8Array,
  headers: Record<string, string> = JSON_HEADERS,
) {
  return collector.app.request('/api/v1/ingest', { method: 'POST', body, headers });
}

const storedBatches = (collector: Collector) =>
  (collector.store.db.prepare('SELECT count(*) AS n FROM batches').get() as { n: number }).n;
const storedWindows = (collector: Collector) =>
  (collector.store.db.prepare('SELECT count(*) AS n FROM node_windows').get() as { n: number }).n;

async function expectProblem(response: Response, status: number, detail: RegExp) {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const problem = (await response.json()) as { status: number; title: string; detail: string };
  expect(problem.status).toBe(status);
  expect(problem.title).toEqual(expect.any(String));
  expect(problem.detail).toMatch(detail);
  return problem;
}

async function metricsText(collector: Collector): Promise<string> {
  const response = await collector.app.request('/metrics');
  expect(response.status).toBe(200);
  return response.text();
}

function metricValue(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('health', () => {
  it('/healthz answers 200', async () => {
    const response = await makeCollector().app.request('/healthz');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('/readyz answers 200 while the store answers, 503 problem+json once it is closed', async () => {
    const collector = makeCollector();
    const ready = await collector.app.request('/readyz');
    expect(ready.status).toBe(200);
    collector.store.db.close();
    await expectProblem(await collector.app.request('/readyz'), 503, /store/);
  });
});

describe('/metrics', () => {
  it('has mlcost_build_info with the package version and the currency', async () => {
    const text = await metricsText(makeCollector());
    expect(text).toContain(`mlcost_build_info{version="${PACKAGE_VERSION}",currency="USD"} 1\n`);
    expect(text).toMatch(/^# TYPE mlcost_build_info gauge$/m);
  });

  it('labels build_info with the configured currency', async () => {
    const text = await metricsText(makeCollector({ currency: 'EUR' }));
    expect(text).toContain(`mlcost_build_info{version="${PACKAGE_VERSION}",currency="EUR"} 1\n`);
  });

  it('counts accepted batches, windows and rejections', async () => {
    const collector = makeCollector();
    await post(collector, JSON.stringify(batchBody(0)));
    await post(collector, JSON.stringify(batchBody(0)));
    await post(collector, '{"schemaVersion":1,');
    const text = await metricsText(collector);
    expect(metricValue(text, 'mlcost_collector_batches_accepted_total')).toBe(1);
    expect(metricValue(text, 'mlcost_collector_windows_accepted_total')).toBe(2);
    expect(metricValue(text, 'mlcost_collector_batches_duplicate_total')).toBe(1);
    expect(metricValue(text, 'mlcost_collector_ingest_rejections_total{reason="malformed"}')).toBe(1);
    expect(metricValue(text, 'mlcost_collector_ingest_rejections_total{reason="too_large"}')).toBe(0);
  });
});

describe('/api/v1/nodes', () => {
  it('is empty before any ingest', async () => {
    const response = await makeCollector().app.request('/api/v1/nodes');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ currency: 'USD', simulated: false, nodes: [] });
    expect(response.headers.get('mlcost-simulated')).toBe('false');
  });

  it('lists the node with its latest window after an ingest', async () => {
    const collector = makeCollector();
    expect((await post(collector, JSON.stringify(batchBody(0)))).status).toBe(200);
    const body = (await (await collector.app.request('/api/v1/nodes')).json()) as {
      currency: string;
      nodes: Array<Record<string, unknown>>;
    };
    expect(body.currency).toBe('USD');
    expect(body.nodes).toHaveLength(1);
    expect(body.nodes[0]).toMatchObject({
      name: 'gpu-node-1',
      agentId: 'agent-1',
      capacity: { cpuCores: 16, memoryBytes: 64 * GIB, gpus: 1 },
      usage: {
        windowStart: '2025-06-01T12:01:00.000Z',
        windowEnd: '2025-06-01T12:02:00.000Z',
        cpuCores: 3,
        cpuCoresMax: 5,
        memoryBytes: 10 * GIB,
      },
      gpus: [{ id: 'GPU-aaaa', uuid: 'GPU-aaaa', index: 0, model: 'NVIDIA H100', activity: 0.25 }],
    });
  });
});

describe('POST /api/v1/ingest', () => {
  it('accepts plain JSON', async () => {
    const collector = makeCollector();
    const response = await post(collector, JSON.stringify(batchBody(0)));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      accepted: true,
      duplicate: false,
      agentId: 'agent-1',
      sequence: 0,
      windows: 2,
    });
    expect(storedBatches(collector)).toBe(1);
    expect(storedWindows(collector)).toBe(2);
  });

  it('accepts gzip JSON', async () => {
    const collector = makeCollector();
    const response = await post(collector, gzipSync(JSON.stringify(batchBody(5))), {
      ...JSON_HEADERS,
      'content-encoding': 'gzip',
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      accepted: true,
      duplicate: false,
      sequence: 5,
      windows: 2,
    });
    expect(storedWindows(collector)).toBe(2);
  });

  it('answers a batch already stored with 200 and duplicate:true, and stores it once', async () => {
    const collector = makeCollector();
    expect((await post(collector, JSON.stringify(batchBody(3)))).status).toBe(200);
    const again = await post(collector, gzipSync(JSON.stringify(batchBody(3))), {
      ...JSON_HEADERS,
      'content-encoding': 'gzip',
    });
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({
      accepted: true,
      duplicate: true,
      agentId: 'agent-1',
      sequence: 3,
      windows: 0,
    });
    expect(storedBatches(collector)).toBe(1);
    expect(storedWindows(collector)).toBe(2);
  });

  describe('with an ingest token configured', () => {
    const settings = { 'collector.ingestToken': 's3cret-token' };

    it('refuses a request without a token with 401 problem+json and stores nothing', async () => {
      const collector = makeCollector(settings);
      await expectProblem(await post(collector, JSON.stringify(batchBody(0))), 401, /missing bearer token/);
      expect(storedBatches(collector)).toBe(0);
    });

    it('refuses a wrong token (and one of another length, and a non-Bearer scheme) with 401', async () => {
      const collector = makeCollector(settings);
      for (const authorization of ['Bearer s3cret-tokeN', 'Bearer nope', 'Basic s3cret-token', 'Bearer ']) {
        const response = await post(collector, JSON.stringify(batchBody(0)), {
          ...JSON_HEADERS,
          authorization,
        });
        await expectProblem(response, 401, /token/);
      }
      expect(storedBatches(collector)).toBe(0);
      expect(storedWindows(collector)).toBe(0);
    });

    it('accepts the right token', async () => {
      const collector = makeCollector(settings);
      const response = await post(collector, JSON.stringify(batchBody(0)), {
        ...JSON_HEADERS,
        authorization: 'Bearer s3cret-token',
      });
      expect(response.status).toBe(200);
      expect(storedBatches(collector)).toBe(1);
    });
  });

  it('accepts a request without a token when none is configured', async () => {
    const collector = makeCollector();
    expect((await post(collector, JSON.stringify(batchBody(0)))).status).toBe(200);
  });

  it('refuses malformed JSON with 400 saying it is not valid JSON', async () => {
    const collector = makeCollector();
    await expectProblem(await post(collector, '{"schemaVersion": 1, "agentId": '), 400, /not valid JSON/);
    expect(storedBatches(collector)).toBe(0);
  });

  it('refuses a gzip body that does not decompress with 400', async () => {
    const collector = makeCollector();
    const response = await post(collector, 'this is not gzip', {
      ...JSON_HEADERS,
      'content-encoding': 'gzip',
    });
    await expectProblem(response, 400, /gzip/);
    expect(storedBatches(collector)).toBe(0);
  });

  it('refuses a schema violation with 400 naming the field path', async () => {
    const collector = makeCollector();
    const body = batchBody(0);
    body.windows[1]!.node.capacity.cpuCores = -4;
    const problem = await expectProblem(await post(collector, JSON.stringify(body)), 400, /schema/);
    expect(problem.detail).toContain('windows.1.node.capacity.cpuCores');
    expect(storedBatches(collector)).toBe(0);
    expect(storedWindows(collector)).toBe(0);
  });

  it('names a missing field by its path', async () => {
    const collector = makeCollector();
    const { agentId: _dropped, ...body } = batchBody(0);
    const problem = await expectProblem(await post(collector, JSON.stringify(body)), 400, /agentId/);
    expect(problem.detail).toMatch(/^batch does not match schema/);
    expect(storedBatches(collector)).toBe(0);
  });

  it('refuses an unsupported schemaVersion with 400 naming the version', async () => {
    const collector = makeCollector();
    const response = await post(collector, JSON.stringify(batchBody(0, { schemaVersion: 2 })));
    await expectProblem(response, 400, /schemaVersion 2 is not supported/);
    const missing = await post(collector, JSON.stringify({ ...batchBody(0), schemaVersion: undefined }));
    await expectProblem(missing, 400, /schemaVersion/);
    expect(storedBatches(collector)).toBe(0);
  });

  it('refuses a body over collector.maxBatchBytes with 413', async () => {
    const collector = makeCollector({ 'collector.maxBatchBytes': '4Ki' });
    const big = JSON.stringify(batchBody(0, { padding: 'x'.repeat(8 * 1024) }));
    await expectProblem(await post(collector, big), 413, /exceeds the limit of 4096 bytes/);
    expect(storedBatches(collector)).toBe(0);
  });

  it('refuses a small gzip body that decompresses past the limit with 413', async () => {
    const collector = makeCollector({ 'collector.maxBatchBytes': '4Ki' });
    const bomb = gzipSync(JSON.stringify(batchBody(0, { padding: ' '.repeat(64 * 1024) })));
    expect(bomb.byteLength).toBeLessThan(4096);
    const response = await post(collector, bomb, { ...JSON_HEADERS, 'content-encoding': 'gzip' });
    await expectProblem(response, 413, /exceeds the limit/);
    expect(storedBatches(collector)).toBe(0);
  });

  it('refuses a body that is not JSON by content type with 415', async () => {
    const collector = makeCollector();
    const response = await post(collector, JSON.stringify(batchBody(0)), { 'content-type': 'text/plain' });
    await expectProblem(response, 415, /text\/plain/);
    expect(storedBatches(collector)).toBe(0);
  });
});

describe('unknown routes', () => {
  it('answer 404 problem+json naming the method and path', async () => {
    const collector = makeCollector();
    await expectProblem(await collector.app.request('/api/v1/nope'), 404, /GET \/api\/v1\/nope/);
    await expectProblem(
      await collector.app.request('/healthz', { method: 'DELETE' }),
      404,
      /DELETE \/healthz/,
    );
  });
});
