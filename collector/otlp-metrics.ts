// The collector's cost and rightsizing series over OTLP/HTTP (JSON bodies), for teams whose metrics pipeline is an
// OpenTelemetry Collector. Each OTLP gauge is read from the Prometheus gauge of the same name on the collector's
// registry at export time, so names, attributes and values are the ones /metrics shows. Off unless an endpoint is
// configured (otlp.metricsEndpoint) or the standard OTEL_EXPORTER_OTLP_[METRICS_]ENDPOINT variables name one.
import type { ObservableGauge } from '@opentelemetry/api';
import type { ExportResult } from '@opentelemetry/core';
import type { PushMetricExporter, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { Gauge, type Registry } from 'prom-client';
import type { Logger } from '../core/logger.ts';
import { VERSION } from '../core/version.ts';

export interface OtlpMetricsConfig {
  /** OTLP/HTTP metrics URL; empty leaves it to the OTEL_* variables. */
  metricsEndpoint: string;
  /** Milliseconds between exports; 0 leaves it to OTEL_METRIC_EXPORT_INTERVAL, else 60 s. */
  metricsInterval: number;
  /** Headers sent with every export, on top of the OTEL_EXPORTER_OTLP_[METRICS_]HEADERS ones. */
  metricsHeaders: Record<string, string>;
}

export const DEFAULT_OTLP_METRICS: OtlpMetricsConfig = {
  metricsEndpoint: '',
  metricsInterval: 0,
  metricsHeaders: {},
};

/** Where the series go and how often: null when nothing asks for an export. */
export interface OtlpMetricsPlan {
  /** The URL from configuration; undefined lets the exporter read OTEL_EXPORTER_OTLP_[METRICS_]ENDPOINT. */
  url: string | undefined;
  /** What the exporter will post to, for the start-up log line. */
  target: string;
  intervalMs: number;
  timeoutMs: number;
  headers: Record<string, string>;
  /** Resource attributes: service.name and service.version, then OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME. */
  resource: Record<string, string>;
}

const DEFAULT_INTERVAL_MS = 60_000;
const DEFAULT_TIMEOUT_MS = 30_000;

function envMillis(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  const value = Number(raw);
  return Number.isFinite(value) && value > 0 ? value : undefined;
}

/**
 * Whether and where to export. Configuration wins; without it the OTel conventions apply: the signal's endpoint
 * (used as is), else the generic endpoint plus `v1/metrics`, unless OTEL_SDK_DISABLED=true or OTEL_METRICS_EXPORTER
 * names no `otlp` exporter.
 */
export function planOtlpMetrics(
  config: OtlpMetricsConfig,
  env: NodeJS.ProcessEnv = process.env,
): OtlpMetricsPlan | null {
  let url: string | undefined;
  let target: string;
  if (config.metricsEndpoint) {
    url = config.metricsEndpoint;
    target = url;
  } else {
    if (env['OTEL_SDK_DISABLED']?.trim().toLowerCase() === 'true') return null;
    const exporters = env['OTEL_METRICS_EXPORTER']?.trim();
    if (exporters && !exporters.split(',').some((name) => name.trim() === 'otlp')) return null;
    const signal = env['OTEL_EXPORTER_OTLP_METRICS_ENDPOINT']?.trim();
    const generic = env['OTEL_EXPORTER_OTLP_ENDPOINT']?.trim();
    if (signal) target = signal;
    else if (generic) target = `${generic.endsWith('/') ? generic : `${generic}/`}v1/metrics`;
    else return null;
  }
  const intervalMs =
    config.metricsInterval > 0
      ? config.metricsInterval
      : (envMillis(env, 'OTEL_METRIC_EXPORT_INTERVAL') ?? DEFAULT_INTERVAL_MS);
  const timeoutMs = Math.min(envMillis(env, 'OTEL_METRIC_EXPORT_TIMEOUT') ?? DEFAULT_TIMEOUT_MS, intervalMs);
  return {
    url,
    target,
    intervalMs,
    timeoutMs,
    headers: { ...config.metricsHeaders },
    resource: resourceAttributes(env),
  };
}

/** The resource as the OTel SDK's environment detector builds it, over mlcost's own service name and version. */
function resourceAttributes(env: NodeJS.ProcessEnv): Record<string, string> {
  const attributes: Record<string, string> = {
    'service.name': 'mlcost-collector',
    'service.version': VERSION,
  };
  for (const pair of (env['OTEL_RESOURCE_ATTRIBUTES'] ?? '').split(',')) {
    const at = pair.indexOf('=');
    const key = pair.slice(0, at).trim();
    if (at <= 0 || key === '') continue;
    try {
      attributes[key] = decodeURIComponent(pair.slice(at + 1).trim());
    } catch {
      // A badly encoded value is left out, as the SDK's detector does.
    }
  }
  const serviceName = env['OTEL_SERVICE_NAME']?.trim();
  if (serviceName) attributes['service.name'] = serviceName;
  return attributes;
}

/** A Prometheus gauge the export reads: its name, help and current series. */
export interface ExportedGauge {
  name: string;
  help: string;
  /** The series as /metrics would show them now (runs the gauge's collect, as a scrape does). */
  series(): Promise<Array<{ attributes: Record<string, string>; value: number }>>;
}

/**
 * The Prometheus gauges that go over OTLP: mlcost_build_info (the currency), the cost series and the rightsizing
 * series; every `mlcost_` gauge on the registry except the collector's and agent's own health series.
 */
export function exportedGauges(registry: Registry): ExportedGauge[] {
  return registry
    .getMetricsAsArray()
    .filter(
      (metric) =>
        metric instanceof Gauge &&
        metric.name.startsWith('mlcost_') &&
        !metric.name.startsWith('mlcost_collector_') &&
        !metric.name.startsWith('mlcost_agent_'),
    )
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((metric) => ({
      name: metric.name,
      help: metric.help,
      async series() {
        const { values } = await (metric as unknown as Gauge).get();
        return values.map((v) => ({
          attributes: Object.fromEntries(
            Object.entries(v.labels).map(([name, value]) => [name, String(value)]),
          ),
          value: v.value,
        }));
      },
    }));
}

export interface OtlpMetricsExport {
  /** What the export posts to. */
  target: string;
  /** Collects and pushes once now (tests, and a flush on demand). */
  flush(): Promise<void>;
  /** Stops the export without a final push (the store closes right after); safe to call more than once. */
  stop(): Promise<void>;
}

/**
 * Starts the OTLP export of `registry`'s cost and rightsizing gauges when `config` or the environment asks for it;
 * returns null otherwise. The OpenTelemetry SDK is loaded only then, so a collector that exports nothing does not
 * carry it. Export failures are logged once per run of failures (and the recovery once), never thrown.
 */
export function startOtlpMetricsExport(
  registry: Registry,
  config: { otlp?: Partial<OtlpMetricsConfig> },
  logger: Logger,
  env: NodeJS.ProcessEnv = process.env,
): OtlpMetricsExport | null {
  // The otlp.* keys (core/config/keys.ts); a configuration built without them (tests) leaves the OTEL_* variables.
  const otlp = config.otlp;
  const plan = planOtlpMetrics({ ...DEFAULT_OTLP_METRICS, ...otlp }, env);
  if (!plan) return null;
  let stopped = false;
  const started = load(registry, plan, logger, () => stopped).catch((error: unknown) => {
    logger.error({ err: error }, 'starting the OTLP metrics export failed');
    return null;
  });
  logger.info(
    { endpoint: redactUrl(plan.target), intervalMs: plan.intervalMs },
    'exporting the cost and rightsizing series over OTLP',
  );
  return {
    target: plan.target,
    async flush() {
      const provider = await started;
      if (provider && !stopped) await provider.forceFlush();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      const provider = await started;
      await provider?.shutdown().catch(() => {});
    },
  };
}

/** The URL without user information or query (which may carry credentials), for logs. */
function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return '(not a URL)';
  }
}

async function load(registry: Registry, plan: OtlpMetricsPlan, logger: Logger, isStopped: () => boolean) {
  const [{ ExportResultCode }, { OTLPMetricExporter }, { resourceFromAttributes }, sdk] = await Promise.all([
    import('@opentelemetry/core'),
    import('@opentelemetry/exporter-metrics-otlp-http'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/sdk-metrics'),
  ]);
  const { AggregationTemporality, MeterProvider, PeriodicExportingMetricReader } = sdk;
  const otlp = new OTLPMetricExporter({
    ...(plan.url !== undefined ? { url: plan.url } : {}),
    headers: plan.headers,
    timeoutMillis: plan.timeoutMs,
  });
  let failing = false;
  const exporter: PushMetricExporter = {
    export(metrics: ResourceMetrics, done: (result: ExportResult) => void) {
      // Stopping pushes nothing more (the provider's shutdown would otherwise flush once).
      if (isStopped()) return done({ code: ExportResultCode.SUCCESS });
      otlp.export(metrics, (result) => {
        if (result.code !== ExportResultCode.SUCCESS && !failing) {
          failing = true;
          logger.warn(
            { endpoint: redactUrl(plan.target), err: result.error },
            'OTLP metrics export failed; retrying at the next interval',
          );
        } else if (result.code === ExportResultCode.SUCCESS && failing) {
          failing = false;
          logger.info({ endpoint: redactUrl(plan.target) }, 'OTLP metrics export works again');
        }
        done(result);
      });
    },
    forceFlush: () => otlp.forceFlush(),
    shutdown: () => otlp.shutdown(),
    // Every instrument here is a gauge; delta reports only the series observed at this collection (cumulative
    // would keep repeating a namespace or pod that has left), and a gauge carries no temporality on the wire.
    selectAggregationTemporality: () => AggregationTemporality.DELTA,
  };
  const provider = new MeterProvider({
    resource: resourceFromAttributes(plan.resource),
    readers: [
      new PeriodicExportingMetricReader({
        exporter,
        exportIntervalMillis: plan.intervalMs,
        exportTimeoutMillis: plan.timeoutMs,
        // The cost series cap themselves (mlcost_collector_series_dropped_total); never fold series here.
        cardinalityLimits: { default: 1_000_000 },
      }),
    ],
  });
  const meter = provider.getMeter('mlcost', VERSION);
  const pairs: Array<[ExportedGauge, ObservableGauge]> = exportedGauges(registry).map((gauge) => [
    gauge,
    meter.createObservableGauge(gauge.name, { description: gauge.help }),
  ]);
  meter.addBatchObservableCallback(
    async (result) => {
      if (isStopped()) return;
      for (const [gauge, instrument] of pairs) {
        for (const series of await gauge.series())
          result.observe(instrument, series.value, series.attributes);
      }
    },
    pairs.map(([, instrument]) => instrument),
  );
  return provider;
}
