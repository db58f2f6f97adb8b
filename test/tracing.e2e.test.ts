// Issue 4, acceptance 5, with real processes: an OTLP/HTTP receiver on loopback (POST /v1/traces, JSON as
// @opentelemetry/exporter-trace-otlp-http sends it) and an `mlcost agent` and `mlcost collector` run with the
// standard OTEL_EXPORTER_OTLP_ENDPOINT and OTEL_SERVICE_NAME. The receiver must see one trace that runs from the
// agent's shipping of a batch (mlcost.agent.ship) to the collector's ingest of it (mlcost.collector.ingest, a
// child of the agent's span through the W3C traceparent header) and its store (mlcost.collector.store, a child
// of the ingest span).
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgent, startCollector, stopCleanly } from './support/delivery.ts';
import { freePort, killAll, pollUntil } from './support/mlcost-process.ts';

const TOKEN = 'tracing-test-token-0123456789abcdef';

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
  doubleValue?: number;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind?: number;
  attributes?: Array<{ key: string; value: OtlpValue }>;
}
interface OtlpRequest {
  resourceSpans?: Array<{
    resource?: { attributes?: Array<{ key: string; value: OtlpValue }> };
    scopeSpans?: Array<{ scope?: { name?: string }; spans?: OtlpSpan[] }>;
  }>;
}

/** A span as the receiver saw it, with the service that sent it and its attributes as a plain object. */
interface SeenSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  attributes: Record<string, string | number | boolean | undefined>;
}

const attributeValue = (value: OtlpValue) =>
  value.stringValue ??
  (value.intValue !== undefined ? Number(value.intValue) : undefined) ??
  value.boolValue ??
  value.doubleValue;

/** A minimal OTLP/HTTP trace receiver: accepts JSON (gzip or not) on POST /v1/traces and keeps every span. */
function otlpReceiver() {
  const spans: SeenSpan[] = [];
  const contentTypes = new Set<string>();
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (request.method !== 'POST' || request.url !== '/v1/traces') {
        response.writeHead(404).end();
        return;
      }
      contentTypes.add(String(request.headers['content-type']));
      let body = Buffer.concat(chunks);
      if (request.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      const parsed = JSON.parse(body.toString('utf8')) as OtlpRequest;
      for (const resourceSpans of parsed.resourceSpans ?? []) {
        const service = resourceSpans.resource?.attributes?.find((a) => a.key === 'service.name')?.value
          .stringValue;
        for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
          for (const span of scopeSpans.spans ?? []) {
            spans.push({
              service: service ?? '',
              traceId: span.traceId,
              spanId: span.spanId,
              parentSpanId: span.parentSpanId ?? '',
              name: span.name,
              attributes: Object.fromEntries(
                (span.attributes ?? []).map((a) => [a.key, attributeValue(a.value)]),
              ),
            });
          }
        }
      }
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{}');
    });
  });
  return { server, spans, contentTypes };
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'mlcost-tracing-'));
});
afterAll(async () => {
  await killAll();
  rmSync(dir, { recursive: true, force: true });
});

describe('tracing over OTLP', () => {
  it('exports one trace from the agent shipping a batch to the collector storing it', {
    timeout: 150_000,
  }, async () => {
    const receiver = otlpReceiver();
    await new Promise<void>((resolve) => receiver.server.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(receiver.server.address() as AddressInfo).port}`;
    try {
      const collector = await startCollector({
        cwd: dir,
        dataDir: join(dir, 'collector'),
        port: await freePort(),
        env: {
          MLCOST_COLLECTOR_INGEST_TOKEN: TOKEN,
          OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
          OTEL_SERVICE_NAME: 'mlcost-collector-e2e',
        },
      });
      const node = 'traced-node';
      const agent = await startAgent({
        cwd: dir,
        dataDir: join(dir, 'agent'),
        nodeName: node,
        collectorUrl: collector.url,
        listenPort: await freePort(),
        interval: '1s',
        window: '1s',
        env: {
          MLCOST_AGENT_TOKEN: TOKEN,
          OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
          OTEL_SERVICE_NAME: 'mlcost-agent-e2e',
        },
      });

      // Spans are exported in batches every second (core/tracing.ts), so a complete trace shows within a few.
      const seen = () =>
        [...new Set(receiver.spans.map((s) => `${s.service}/${s.name}`))].join(', ') || 'none';
      const trace = await pollUntil(
        async () => {
          const { spans } = receiver;
          for (const ship of spans.filter((s) => s.name === 'mlcost.agent.ship')) {
            const ingest = spans.find(
              (s) => s.name === 'mlcost.collector.ingest' && s.parentSpanId === ship.spanId,
            );
            const store =
              ingest &&
              spans.find((s) => s.name === 'mlcost.collector.store' && s.parentSpanId === ingest.spanId);
            if (ingest && store) return { ship, ingest, store };
          }
          return undefined;
        },
        {
          timeoutMs: 30_000,
          everyMs: 250,
          what: 'a trace from mlcost.agent.ship to mlcost.collector.store',
        },
      ).catch((error: unknown) => {
        throw new Error(`${(error as Error).message}; spans seen: ${seen()}`);
      });
      const { ship, ingest, store } = trace;
      // One trace: the same trace id from the agent's span through the collector's two.
      expect(ingest.traceId).toBe(ship.traceId);
      expect(store.traceId).toBe(ship.traceId);
      expect(ship.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(ship.traceId).not.toBe('0'.repeat(32));
      // Each process reports under the service name it was given.
      expect(ship.service).toBe('mlcost-agent-e2e');
      expect(ingest.service).toBe('mlcost-collector-e2e');
      expect(store.service).toBe('mlcost-collector-e2e');
      // The collector's ingest span names the batch it took: this agent's id (its node name and its sequence file's
      // instance) and a sequence.
      expect(ingest.attributes['mlcost.agent_id']).toMatch(new RegExp(`^${node}/[0-9a-f]{8}$`));
      expect(typeof ingest.attributes['mlcost.sequence']).toBe('number');
      expect([...receiver.contentTypes]).toEqual(['application/json']);

      await stopCleanly(agent.process, 'agent');
      await stopCleanly(collector.process, 'collector');
    } finally {
      receiver.server.closeAllConnections();
      await new Promise<void>((resolve) => receiver.server.close(() => resolve()));
    }
  });
});
