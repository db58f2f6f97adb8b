// The OTLP export of the cost and rightsizing gauges: when it is on (configuration, then the OTEL_* conventions),
// which gauges go, and, against a real HTTP receiver, that each export carries the gauges' series with the same
// names, attributes and values as the Prometheus registry, the configured headers, and only the current series.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { Counter, Gauge, Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../core/config/load.ts';
import { silentLogger } from '../core/logger.ts';
import {
  exportedGauges,
  type OtlpMetricsExport,
  planOtlpMetrics,
  startOtlpMetricsExport,
} from './otlp-metrics.ts';

const NONE = { metricsEndpoint: '', metricsInterval: 0, metricsHeaders: {} };

describe('planOtlpMetrics', () => {
  it('is off when neither configuration nor the environment names an endpoint', () => {
    expect(planOtlpMetrics(NONE, {})).toBeNull();
  });

  it('uses the configured endpoint as given, whatever the environment says', () => {
    const plan = planOtlpMetrics(
      { metricsEndpoint: 'http://otel:4318/v1/metrics', metricsInterval: 15_000, metricsHeaders: { a: 'b' } },
      {
        OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://elsewhere:4318/v1/metrics',
        OTEL_METRICS_EXPORTER: 'none',
      },
    );
    expect(plan).toMatchObject({
      url: 'http://otel:4318/v1/metrics',
      target: 'http://otel:4318/v1/metrics',
      intervalMs: 15_000,
      timeoutMs: 15_000, // the 30 s default timeout, clamped to the interval
      headers: { a: 'b' },
    });
    expect(plan?.resource['service.name']).toBe('mlcost-collector');
  });

  it('follows the OTel variables: the signal endpoint as is, else the generic one plus v1/metrics', () => {
    expect(
      planOtlpMetrics(NONE, {
        OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://a:4318/custom',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://b:4318',
      }),
    ).toMatchObject({ url: undefined, target: 'http://a:4318/custom' });
    expect(planOtlpMetrics(NONE, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://b:4318' })?.target).toBe(
      'http://b:4318/v1/metrics',
    );
    expect(planOtlpMetrics(NONE, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://b:4318/otlp/' })?.target).toBe(
      'http://b:4318/otlp/v1/metrics',
    );
  });

  it('honours OTEL_METRIC_EXPORT_INTERVAL/TIMEOUT, OTEL_SERVICE_NAME, OTEL_METRICS_EXPORTER and OTEL_SDK_DISABLED', () => {
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://b:4318' };
    expect(
      planOtlpMetrics(NONE, {
        ...env,
        OTEL_METRIC_EXPORT_INTERVAL: '10000',
        OTEL_METRIC_EXPORT_TIMEOUT: '4000',
        OTEL_SERVICE_NAME: 'costs',
        OTEL_RESOURCE_ATTRIBUTES: 'service.name=ignored,k8s.cluster.name=prod%20eu,broken',
      }),
    ).toMatchObject({
      intervalMs: 10_000,
      timeoutMs: 4_000,
      resource: { 'service.name': 'costs', 'k8s.cluster.name': 'prod eu' },
    });
    expect(planOtlpMetrics(NONE, env)).toMatchObject({ intervalMs: 60_000, timeoutMs: 30_000 });
    expect(planOtlpMetrics(NONE, { ...env, OTEL_METRICS_EXPORTER: 'none' })).toBeNull();
    expect(planOtlpMetrics(NONE, { ...env, OTEL_METRICS_EXPORTER: 'prometheus, otlp' })).not.toBeNull();
    expect(planOtlpMetrics(NONE, { ...env, OTEL_SDK_DISABLED: 'true' })).toBeNull();
  });
});

describe('otlp.* configuration keys', () => {
  it('default to no endpoint, no interval and no headers', () => {
    expect(loadConfig({ env: {}, file: '' }) as unknown as { otlp: unknown }).toMatchObject({
      otlp: { metricsEndpoint: '', metricsInterval: 0, metricsHeaders: {} },
    });
  });

  it('read the environment: URL, duration and OTEL-style header pairs with URL-encoded values', () => {
    const config = loadConfig({
      file: '',
      env: {
        MLCOST_OTLP_METRICS_ENDPOINT: 'https://otel.example:4318/v1/metrics',
        MLCOST_OTLP_METRICS_INTERVAL: '30s',
        MLCOST_OTLP_METRICS_HEADERS: 'authorization=Bearer%20abc, x-scope-orgid=ml',
      },
    }) as unknown as { otlp: unknown };
    expect(config.otlp).toEqual({
      metricsEndpoint: 'https://otel.example:4318/v1/metrics',
      metricsInterval: 30_000,
      metricsHeaders: { authorization: 'Bearer abc', 'x-scope-orgid': 'ml' },
    });
  });

  it('read mlcost.yaml: a mapping of headers and a duration', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mlcost-otlp-keys-'));
    try {
      const file = join(dir, 'mlcost.yaml');
      writeFileSync(
        file,
        'otlp:\n  metricsEndpoint: http://otel:4318/v1/metrics\n  metricsInterval: 15s\n  metricsHeaders:\n    authorization: Bearer abc\n',
      );
      expect((loadConfig({ file, env: {} }) as unknown as { otlp: unknown }).otlp).toEqual({
        metricsEndpoint: 'http://otel:4318/v1/metrics',
        metricsInterval: 15_000,
        metricsHeaders: { authorization: 'Bearer abc' },
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuse a non-URL endpoint and a header without a name', () => {
    expect(() => loadConfig({ file: '', env: { MLCOST_OTLP_METRICS_ENDPOINT: 'otel:4318' } })).toThrow(
      /otlp\.metricsEndpoint.*expected an http\(s\) URL/,
    );
    expect(() => loadConfig({ file: '', env: { MLCOST_OTLP_METRICS_HEADERS: '=x' } })).toThrow(
      /otlp\.metricsHeaders.*expected name=value pairs/,
    );
    expect(() => loadConfig({ file: '', env: { MLCOST_OTLP_METRICS_HEADERS: 'bad name=x' } })).toThrow(
      /otlp\.metricsHeaders.*expected name=value pairs/,
    );
    expect(() => loadConfig({ file: '', env: { MLCOST_OTLP_METRICS_INTERVAL: '0s' } })).toThrow(
      /otlp\.metricsInterval/,
    );
  });
});

interface OtlpValue {
  stringValue?: string;
  doubleValue?: number;
  intValue?: string | number;
}
interface OtlpBody {
  resourceMetrics: Array<{
    resource: { attributes: Array<{ key: string; value: OtlpValue }> };
    scopeMetrics: Array<{
      scope: { name: string };
      metrics: Array<{
        name: string;
        description?: string;
        gauge?: {
          dataPoints: Array<{
            attributes?: Array<{ key: string; value: OtlpValue }>;
            asDouble?: number;
            asInt?: string | number;
          }>;
        };
      }>;
    }>;
  }>;
}

/** Each metric's series as `name{k="v",…}` → value, sorted, from one OTLP JSON body. */
function seriesOf(body: OtlpBody): Record<string, number> {
  const out: Record<string, number> = {};
  for (const rm of body.resourceMetrics)
    for (const sm of rm.scopeMetrics)
      for (const metric of sm.metrics)
        for (const point of metric.gauge?.dataPoints ?? []) {
          const labels = (point.attributes ?? [])
            .map((a) => `${a.key}="${a.value.stringValue}"`)
            .sort()
            .join(',');
          out[`${metric.name}{${labels}}`] = point.asDouble ?? Number(point.asInt);
        }
  return out;
}

/** A receiver on loopback that keeps every POST /v1/metrics body and its headers; answers `status()`. */
async function receiver(status: () => number = () => 200) {
  const bodies: Array<{ headers: IncomingMessage['headers']; body: OtlpBody }> = [];
  const waiters: Array<() => void> = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (request.method !== 'POST' || request.url?.split('?')[0] !== '/v1/metrics') {
        response.writeHead(404).end();
        return;
      }
      bodies.push({ headers: request.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
      response.writeHead(status(), { 'content-type': 'application/json' }).end('{}');
      for (const waiter of waiters.splice(0)) waiter();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/v1/metrics`, bodies, close: () => server.close() };
}

let running: OtlpMetricsExport | null = null;
let closeServer: (() => void) | null = null;
afterEach(async () => {
  await running?.stop();
  running = null;
  closeServer?.();
  closeServer = null;
});

function registryWithSeries() {
  const registry = new Registry();
  const build = new Gauge({
    name: 'mlcost_build_info',
    help: 'build',
    labelNames: ['version', 'currency'],
    registers: [registry],
  });
  build.set({ version: '1', currency: 'EUR' }, 1);
  let namespaces: Array<[string, number]> = [
    ['ml', 1.25],
    ['web', 0.5],
  ];
  new Gauge({
    name: 'mlcost_namespace_cost',
    help: 'Cost per hour of each namespace.',
    labelNames: ['namespace', 'resource'],
    registers: [registry],
    async collect() {
      this.reset();
      await Promise.resolve();
      for (const [namespace, cost] of namespaces) this.set({ namespace, resource: 'gpu' }, cost);
    },
  });
  // Not exported: the collector's and agent's health series, and counters.
  new Gauge({ name: 'mlcost_collector_rollups_pending', help: 'x', registers: [registry] }).set(3);
  new Gauge({ name: 'mlcost_agent_spool_bytes', help: 'x', registers: [registry] }).set(3);
  new Counter({ name: 'mlcost_collector_series_dropped_total', help: 'x', registers: [registry] }).inc();
  return {
    registry,
    setNamespaces: (next: Array<[string, number]>) => {
      namespaces = next;
    },
  };
}

describe('startOtlpMetricsExport', () => {
  it('is not started without an endpoint', () => {
    expect(startOtlpMetricsExport(new Registry(), {}, silentLogger, {})).toBeNull();
  });

  it('exports the mlcost_ gauges but not the collector and agent health series', () => {
    expect(exportedGauges(registryWithSeries().registry).map((g) => g.name)).toEqual([
      'mlcost_build_info',
      'mlcost_namespace_cost',
    ]);
  });

  it('pushes the registry’s series with their labels and values, the headers and the resource; only current series', async () => {
    const sink = await receiver();
    closeServer = sink.close;
    const { registry, setNamespaces } = registryWithSeries();
    running = startOtlpMetricsExport(
      registry,
      {
        otlp: {
          metricsEndpoint: sink.url,
          metricsInterval: 3_600_000,
          metricsHeaders: { authorization: 'Bearer t0ken' },
        },
      },
      silentLogger,
      { OTEL_RESOURCE_ATTRIBUTES: 'k8s.cluster.name=prod' },
    );
    expect(running?.target).toBe(sink.url);
    await running!.flush();
    expect(sink.bodies).toHaveLength(1);
    const first = sink.bodies[0]!;
    expect(first.headers['authorization']).toBe('Bearer t0ken');
    expect(first.headers['content-type']).toBe('application/json');
    expect(seriesOf(first.body)).toEqual({
      'mlcost_build_info{currency="EUR",version="1"}': 1,
      'mlcost_namespace_cost{namespace="ml",resource="gpu"}': 1.25,
      'mlcost_namespace_cost{namespace="web",resource="gpu"}': 0.5,
    });
    const resource = Object.fromEntries(
      first.body.resourceMetrics[0]!.resource.attributes.map((a) => [a.key, a.value.stringValue]),
    );
    expect(resource).toMatchObject({ 'service.name': 'mlcost-collector', 'k8s.cluster.name': 'prod' });
    const metric = first.body.resourceMetrics[0]!.scopeMetrics[0]!.metrics.find(
      (m) => m.name === 'mlcost_namespace_cost',
    );
    expect(metric?.description).toBe('Cost per hour of each namespace.');

    // A namespace that left is not repeated at the next export.
    setNamespaces([['ml', 2]]);
    await running!.flush();
    expect(sink.bodies).toHaveLength(2);
    expect(seriesOf(sink.bodies[1]!.body)).toEqual({
      'mlcost_build_info{currency="EUR",version="1"}': 1,
      'mlcost_namespace_cost{namespace="ml",resource="gpu"}': 2,
    });

    // Stopping pushes nothing more.
    await running!.stop();
    expect(sink.bodies).toHaveLength(2);
  });

  it('logs a failing export once per run of failures, and the recovery once; never throws', async () => {
    let status = 400;
    const sink = await receiver(() => status);
    closeServer = sink.close;
    const lines: Array<{ level: number; msg: string; endpoint?: string }> = [];
    const logger = pino(
      { level: 'info' },
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          lines.push(JSON.parse(chunk.toString('utf8')));
          done();
        },
      }),
    );
    running = startOtlpMetricsExport(
      registryWithSeries().registry,
      { otlp: { metricsEndpoint: `${sink.url}?token=secret`, metricsInterval: 3_600_000 } },
      logger,
      {},
    );
    await running!.flush();
    await running!.flush();
    status = 200;
    await running!.flush();
    await running!.flush();
    expect(sink.bodies).toHaveLength(4);
    const base = sink.url;
    expect(lines.map((line) => [line.level, line.msg, line.endpoint])).toEqual([
      [30, 'exporting the cost and rightsizing series over OTLP', base],
      [40, 'OTLP metrics export failed; retrying at the next interval', base],
      [30, 'OTLP metrics export works again', base],
    ]);
  });
});
