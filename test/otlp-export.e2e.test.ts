// Issue 6, the OTLP half, with real processes: `mlcost simulate --backfill` writes two days of a simulated GPU
// cluster into a store, a real `mlcost collector` serves it with otlp.metricsEndpoint pointing at an OTLP/HTTP
// receiver on loopback (POST /v1/metrics, JSON as @opentelemetry/exporter-metrics-otlp-http sends it), and every
// cost and rightsizing series the receiver decodes must be the one the collector's /metrics shows: same metric
// names, same attributes (labels), same values, to the last bit. The configured header reaches the receiver, the
// resource names the service, and the collector's own health series stay on /metrics only.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VERSION } from '../core/version.ts';
import { stopCleanly } from './support/delivery.ts';
import { cleanEnv, killAll, type MlcostProcess, pollUntil } from './support/mlcost-process.ts';
import { backfillSimulated, serveStore } from './support/simulated-store.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** The series OTLP carries: the build info (currency), the cost series, the rightsizing series. */
const EXPORTED = [
  'mlcost_build_info',
  'mlcost_budget_forecast',
  'mlcost_budget_limit',
  'mlcost_budget_spend',
  'mlcost_gpu_free_cost',
  'mlcost_gpu_held_idle_cost',
  'mlcost_model_cost_per_million_tokens',
  'mlcost_namespace_cost',
  'mlcost_namespace_efficiency_ratio',
  'mlcost_rightsizing_recommendations',
  'mlcost_rightsizing_savings',
];

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
}
interface OtlpAttribute {
  key: string;
  value: OtlpValue;
}
interface OtlpMetricsRequest {
  resourceMetrics?: Array<{
    resource?: { attributes?: OtlpAttribute[] };
    scopeMetrics?: Array<{
      scope?: { name?: string };
      metrics?: Array<{
        name: string;
        gauge?: {
          dataPoints?: Array<{ attributes?: OtlpAttribute[]; asDouble?: number; asInt?: string | number }>;
        };
        sum?: unknown;
        histogram?: unknown;
      }>;
    }>;
  }>;
}

/** One export as the receiver decoded it: series key `name{k="v",…}` (labels sorted) → value. */
interface Export {
  at: number;
  headers: IncomingHttpHeaders;
  resource: Record<string, string | undefined>;
  scopes: string[];
  kinds: string[];
  series: Map<string, number>;
}

const seriesKey = (name: string, labels: Array<[string, string]>) =>
  `${name}{${labels
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(',')}}`;

function decode(body: OtlpMetricsRequest, headers: IncomingHttpHeaders): Export {
  const series = new Map<string, number>();
  const scopes: string[] = [];
  const kinds: string[] = [];
  let resource: Record<string, string | undefined> = {};
  for (const rm of body.resourceMetrics ?? []) {
    resource = Object.fromEntries((rm.resource?.attributes ?? []).map((a) => [a.key, a.value.stringValue]));
    for (const sm of rm.scopeMetrics ?? []) {
      scopes.push(sm.scope?.name ?? '');
      for (const metric of sm.metrics ?? []) {
        kinds.push(metric.gauge ? 'gauge' : metric.sum ? 'sum' : metric.histogram ? 'histogram' : 'other');
        for (const point of metric.gauge?.dataPoints ?? []) {
          const labels = (point.attributes ?? []).map((a): [string, string] => [
            a.key,
            a.value.stringValue ?? '',
          ]);
          series.set(seriesKey(metric.name, labels), point.asDouble ?? Number(point.asInt));
        }
      }
    }
  }
  return { at: Date.now(), headers, resource, scopes, kinds, series };
}

/** Minimal OTLP/HTTP metrics receiver: JSON (gzip or not) on POST /v1/metrics; keeps every export decoded. */
function otlpReceiver() {
  const exports: Export[] = [];
  const contentTypes = new Set<string>();
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (request.method !== 'POST' || request.url !== '/v1/metrics') {
        response.writeHead(404).end();
        return;
      }
      contentTypes.add(String(request.headers['content-type']));
      let body = Buffer.concat(chunks);
      if (request.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      exports.push(decode(JSON.parse(body.toString('utf8')) as OtlpMetricsRequest, request.headers));
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  return { server, exports, contentTypes };
}

/** The Prometheus text exposition's samples of `names`, keyed like decode() keys OTLP series. */
function scrapeSeries(text: string, names: readonly string[]): Map<string, number> {
  const wanted = new Set(names);
  const series = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || !wanted.has(match[1]!)) continue;
    const labels: Array<[string, string]> = [];
    const labelPattern = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
    for (const label of (match[2] ?? '').matchAll(labelPattern)) {
      labels.push([label[1]!, label[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c))]);
    }
    series.set(seriesKey(match[1]!, labels), Number(match[3]));
  }
  return series;
}

const namesIn = (series: Map<string, number>) =>
  new Set([...series.keys()].map((key) => key.slice(0, key.indexOf('{'))));

let dir: string;
let base: string;
let collector: MlcostProcess;
const receiver = otlpReceiver();

async function scrape(): Promise<string> {
  const response = await fetch(`${base}/metrics`);
  expect(response.status).toBe(200);
  return response.text();
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mlcost-otlp-'));
  const { db, end } = backfillSimulated(dir, { seed: 3, nodes: 4, days: 2 });
  await new Promise<void>((resolve) => receiver.server.listen(0, '127.0.0.1', resolve));
  const otlpPort = (receiver.server.address() as AddressInfo).port;
  const served = await serveStore(
    dir,
    db,
    cleanEnv({
      MLCOST_OTLP_METRICS_ENDPOINT: `http://127.0.0.1:${otlpPort}/v1/metrics`,
      MLCOST_OTLP_METRICS_INTERVAL: '1s',
      MLCOST_OTLP_METRICS_HEADERS: 'x-scope-orgid=ml%20costs',
      MLCOST_BUDGETS: JSON.stringify([
        { name: 'everything-ml', label: 'app.kubernetes.io/part-of=ml', monthly: 5000 },
        { name: 'idle', namespace: '__idle__', monthly: 100 },
      ]),
      OTEL_RESOURCE_ATTRIBUTES: 'k8s.cluster.name=sim',
    }),
  );
  collector = served.process;
  base = served.url;
  // Roll every hour up and fill the rightsizing cache before comparing anything.
  const all = `${new Date(end - 3 * DAY).toISOString()},${new Date(end + 2 * HOUR).toISOString()}`;
  for (const path of [`/api/v1/allocation?window=${encodeURIComponent(all)}`, '/api/v1/rightsizing']) {
    const response = await fetch(`${base}${path}`);
    expect(response.status, path).toBe(200);
  }
}, 240_000);

afterAll(async () => {
  await killAll();
  await new Promise<void>((resolve) => receiver.server.close(() => resolve()));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('cost and rightsizing series over OTLP', () => {
  it('exports the same series names, attributes and values as /metrics', async () => {
    // The series move only when the hour turns or the rightsizing cache refreshes: take a scrape, the next export
    // after it, and a second scrape; when both scrapes agree, the export between them must match them exactly.
    const { scraped, exported } = await pollUntil(
      async () => {
        const before = scrapeSeries(await scrape(), EXPORTED);
        const since = Date.now();
        const next = await pollUntil(async () => receiver.exports.find((e) => e.at > since), {
          timeoutMs: 30_000,
          what: 'an OTLP export after the scrape',
        });
        const after = scrapeSeries(await scrape(), EXPORTED);
        if (JSON.stringify([...before]) !== JSON.stringify([...after])) return undefined;
        return { scraped: after, exported: next };
      },
      { timeoutMs: 90_000, everyMs: 500, what: 'two agreeing scrapes around an export' },
    );

    // The comparison is worth something: cost, efficiency, GPU idle, budget and rightsizing series are all there.
    for (const name of [
      'mlcost_build_info',
      'mlcost_namespace_cost',
      'mlcost_namespace_efficiency_ratio',
      'mlcost_gpu_free_cost',
      'mlcost_budget_spend',
      'mlcost_budget_forecast',
      'mlcost_budget_limit',
      'mlcost_rightsizing_savings',
      'mlcost_rightsizing_recommendations',
    ]) {
      expect(namesIn(scraped), name).toContain(name);
    }
    expect(scraped.size).toBeGreaterThan(20);
    expect(scraped.get('mlcost_budget_limit{budget="everything-ml"}')).toBe(5000);
    expect(scraped.get('mlcost_budget_limit{budget="idle"}')).toBe(100);
    expect(scraped.get(`mlcost_build_info{currency="USD",version=${JSON.stringify(VERSION)}}`)).toBe(1);
    expect(
      [...scraped.keys()].filter(
        (key) => key.startsWith('mlcost_namespace_cost{') && key.includes('"__idle__"'),
      ),
    ).not.toEqual([]);

    // Same series, same values, to the last bit.
    expect(Object.fromEntries([...exported.series].sort())).toEqual(Object.fromEntries([...scraped].sort()));

    // Only gauges, from mlcost's meter, with the resource and header asked for.
    expect(new Set(exported.kinds)).toEqual(new Set(['gauge']));
    expect(exported.scopes).toEqual(['mlcost']);
    expect(exported.resource['service.name']).toBe('mlcost-collector');
    expect(exported.resource['service.version']).toBe(VERSION);
    expect(exported.resource['k8s.cluster.name']).toBe('sim');
    expect(exported.headers['x-scope-orgid']).toBe('ml costs');
    expect(receiver.contentTypes).toEqual(new Set(['application/json']));
  });

  it('leaves the collector’s own health series to /metrics', async () => {
    const text = await scrape();
    expect(text).toContain('mlcost_collector_rollups_pending');
    const names = new Set(receiver.exports.flatMap((e) => [...namesIn(e.series)]));
    expect([...names].filter((name) => name.startsWith('mlcost_collector_'))).toEqual([]);
    expect([...names].sort()).toEqual([...names].filter((name) => EXPORTED.includes(name)).sort());
  });

  it('stops with the collector: a clean exit on SIGTERM, no export error logged', async () => {
    await stopCleanly(collector, 'the collector');
    const logged = collector.stderr
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { level: string; msg: string });
    expect(logged.filter((event) => event.level === 'error' || /OTLP/.test(event.msg))).toEqual([]);
  });
});
