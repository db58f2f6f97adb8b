// OpenTelemetry tracing: spans are always made through @opentelemetry/api (no-ops that cost nothing), and are
// exported over OTLP/HTTP only when the standard OTEL_* variables ask for it. Trace context crosses from agent
// to collector as a W3C traceparent header.
import { context, propagation, type Span, SpanStatusCode, trace } from '@opentelemetry/api';
import { VERSION } from './version.ts';

export const tracer = trace.getTracer('mlcost', VERSION);

/** True when the environment asks for traces to be exported (the OTel SDK's own variables). */
export function tracingRequested(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env['OTEL_SDK_DISABLED'] === 'true') return false;
  const exporter = env['OTEL_TRACES_EXPORTER'];
  if (exporter !== undefined && exporter !== 'otlp') return false;
  return Boolean(env['OTEL_EXPORTER_OTLP_ENDPOINT'] || env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT']);
}

/**
 * Starts exporting spans when asked to; returns a shutdown that flushes what is buffered. The SDK is loaded only
 * then, so a process that exports nothing does not carry it.
 */
export async function setupTracing(
  serviceName: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<() => Promise<void>> {
  if (!tracingRequested(env)) return async () => {};
  const [{ W3CTraceContextPropagator }, { OTLPTraceExporter }, { resourceFromAttributes }, sdk] =
    await Promise.all([
      import('@opentelemetry/core'),
      import('@opentelemetry/exporter-trace-otlp-http'),
      import('@opentelemetry/resources'),
      import('@opentelemetry/sdk-trace-node'),
    ]);
  const { BatchSpanProcessor, NodeTracerProvider } = sdk;
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({
      'service.name': env['OTEL_SERVICE_NAME'] || serviceName,
      'service.version': VERSION,
    }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter(), { scheduledDelayMillis: 1000 })],
  });
  provider.register({ propagator: new W3CTraceContextPropagator() });
  return () => provider.shutdown();
}

/** Runs `work` inside a span that ends when it settles and records a thrown error. */
export async function inSpan<T>(
  name: string,
  attributes: Record<string, string | number>,
  work: (span: Span) => Promise<T> | T,
): Promise<T> {
  return tracer.startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await work(span);
    } catch (error) {
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
      throw error;
    } finally {
      span.end();
    }
  });
}

/** The W3C headers (traceparent, tracestate) of the active span, for an outgoing request. */
export function traceHeaders(): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier;
}

/** Runs `work` in the trace context carried by incoming request headers. */
export function withRemoteContext<T>(headers: Record<string, string | undefined>, work: () => T): T {
  const parent = propagation.extract(context.active(), headers, {
    get: (carrier, key) => carrier[key.toLowerCase()],
    keys: (carrier) => Object.keys(carrier),
  });
  return context.with(parent, work);
}
