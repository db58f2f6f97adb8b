// Ingest through a listening collector, where the body is read straight from Node's request (read-body.ts): every
// answer — acceptance and each refusal — is the same, status and problem+json alike, as through app.request(),
// where hono's bodyLimit reads it. And readBody itself: the limit exactly, one byte over (announced or streamed),
// a client that goes away.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config/load.ts';
import { silentLogger } from '../../core/logger.ts';
import { listen, type RunningServer } from '../api/server.ts';
import { type Collector, createCollector } from '../collector.ts';
import { BodyTooLargeError, nodeRequestOf, readBody } from './read-body.ts';

const T0 = Date.UTC(2025, 5, 1, 12, 0, 0);
const TOKEN = 'read-body-token';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startCollector(
  settings: Record<string, unknown> = {},
): Promise<{ collector: Collector; url: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'mlcost-read-body-'));
  const config = loadConfig({ env: {}, flags: { dataDir: dir, ...settings } });
  const collector = createCollector(config, silentLogger);
  const server: RunningServer = await listen(collector.app, '127.0.0.1:0');
  cleanups.push(() => {
    collector.close();
    rmSync(dir, { recursive: true, force: true });
  });
  cleanups.push(() => server.close());
  return { collector, url: server.url };
}

function batch(sequence: number, extra: Record<string, unknown> = {}) {
  return {
    schemaVersion: 1,
    agentId: 'agent-1',
    sequence,
    sentAt: new Date(T0).toISOString(),
    windows: [
      {
        start: new Date(T0 + sequence * 60_000).toISOString(),
        end: new Date(T0 + (sequence + 1) * 60_000).toISOString(),
        node: { name: 'gpu-node-1', capacity: { cpuCores: 16, memoryBytes: 2 ** 36 } },
        gpus: [{ id: 'GPU-a', uuid: 'GPU-a', activityAvg: 0.5 }],
      },
    ],
    ...extra,
  };
}

interface Answer {
  status: number;
  contentType: string | undefined;
  retryAfter: string | undefined;
  body: unknown;
}

/** A POST with node:http, so the test says exactly how the body goes: with a Content-Length, or chunked. */
function post(
  url: string,
  body: Uint8Array | string,
  headers: Record<string, string>,
  options: { chunked?: boolean } = {},
): Promise<Answer> {
  const bytes = typeof body === 'string' ? Buffer.from(body) : Buffer.from(body);
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}/api/v1/ingest`,
      {
        method: 'POST',
        headers: options.chunked ? headers : { ...headers, 'content-length': String(bytes.byteLength) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            contentType: res.headers['content-type'],
            retryAfter: res.headers['retry-after'],
            body: text ? JSON.parse(text) : undefined,
          });
        });
      },
    );
    // A refusal may come before the whole body is sent, and the server may then close the connection.
    req.on('error', reject);
    if (options.chunked) {
      for (let at = 0; at < bytes.byteLength; at += 1000) req.write(bytes.subarray(at, at + 1000));
      req.end();
    } else {
      req.end(bytes);
    }
  });
}

/** The same request through app.request(): the answer hono's own body path gives. */
async function viaApp(
  collector: Collector,
  body: Uint8Array | string,
  headers: Record<string, string>,
): Promise<Answer> {
  const response = await collector.app.request('/api/v1/ingest', { method: 'POST', body, headers });
  const text = await response.text();
  return {
    status: response.status,
    contentType: response.headers.get('content-type') ?? undefined,
    retryAfter: response.headers.get('retry-after') ?? undefined,
    body: text ? JSON.parse(text) : undefined,
  };
}

const JSON_GZIP = { 'content-type': 'application/json', 'content-encoding': 'gzip' };

describe('POST /api/v1/ingest on a listening collector', () => {
  it('answers every request as app.request() does, refusals included, and stores only the valid ones', async () => {
    const settings = { 'collector.maxBatchBytes': '4Ki', 'collector.ingestToken': TOKEN };
    const served = await startCollector(settings);
    const inProcess = await startCollector(settings);
    // Every request names its content type: app.request() would call a string body text/plain.
    const json = { 'content-type': 'application/json' };
    const auth = { ...json, authorization: `Bearer ${TOKEN}` };
    const schemaBroken = batch(3);
    schemaBroken.windows[0]!.gpus[0]!.activityAvg = 1.5;
    const cases: Array<[string, Uint8Array | string, Record<string, string>, number]> = [
      ['plain JSON', JSON.stringify(batch(0)), auth, 200],
      ['gzip JSON', gzipSync(JSON.stringify(batch(1))), { ...auth, ...JSON_GZIP }, 200],
      ['a duplicate', gzipSync(JSON.stringify(batch(1))), { ...auth, ...JSON_GZIP }, 200],
      ['no token', JSON.stringify(batch(2)), json, 401],
      ['a wrong token', JSON.stringify(batch(2)), { ...json, authorization: 'Bearer nope' }, 401],
      ['a schema violation', JSON.stringify(schemaBroken), auth, 400],
      ['a missing field', JSON.stringify({ ...batch(2), agentId: undefined }), auth, 400],
      ['schemaVersion 2', JSON.stringify(batch(2, { schemaVersion: 2 })), auth, 400],
      ['not JSON', '{"schemaVersion": 1, "agentId": ', auth, 400],
      ['not gzip', 'this is not gzip', { ...auth, ...JSON_GZIP }, 400],
      ['text/plain', JSON.stringify(batch(2)), { ...auth, 'content-type': 'text/plain' }, 415],
      ['brotli', JSON.stringify(batch(2)), { ...auth, 'content-encoding': 'br' }, 415],
      ['a body over the limit', JSON.stringify(batch(2, { padding: 'x'.repeat(8192) })), auth, 413],
      [
        'a gzip bomb',
        gzipSync(JSON.stringify(batch(2, { padding: ' '.repeat(64 * 1024) }))),
        { ...auth, ...JSON_GZIP },
        413,
      ],
    ];
    for (const [what, body, headers, status] of cases) {
      const answer = await post(served.url, body, headers);
      expect(answer.status, what).toBe(status);
      expect(answer, what).toEqual(await viaApp(inProcess.collector, body, headers));
      if (status !== 200) expect(answer.contentType, what).toMatch(/^application\/problem\+json/);
    }
    for (const { collector } of [served, inProcess]) {
      const count = (table: string) =>
        (collector.store.db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
      expect(count('batches')).toBe(2);
      expect(count('node_windows')).toBe(2);
    }
  });

  it('refuses a chunked body that grows past the limit with 413, and one just under it is read whole', async () => {
    const { collector, url } = await startCollector({ 'collector.maxBatchBytes': '4Ki' });
    const over = await post(
      url,
      JSON.stringify(batch(0, { padding: 'x'.repeat(8192) })),
      {},
      { chunked: true },
    );
    expect(over.status).toBe(413);
    expect(over.body).toMatchObject({
      status: 413,
      detail: 'request body exceeds the limit of 4096 bytes (collector.maxBatchBytes)',
    });
    const unpadded = JSON.stringify(batch(1, { padding: '' }));
    const padded = JSON.stringify(batch(1, { padding: 'x'.repeat(4096 - unpadded.length) }));
    expect(Buffer.byteLength(padded)).toBe(4096);
    const ok = await post(url, padded, { 'content-type': 'application/json' }, { chunked: true });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ accepted: true, sequence: 1, windows: 1 });
    // The collector still answers after a refused body it did not read to the end.
    expect((await post(url, JSON.stringify(batch(2)), {})).status).toBe(200);
    expect((collector.store.db.prepare('SELECT count(*) AS n FROM batches').get() as { n: number }).n).toBe(
      2,
    );
  });
});

describe('readBody', () => {
  async function serve(handle: (incoming: IncomingMessage) => Promise<string>): Promise<string> {
    const server: Server = createServer((incoming, res) => {
      handle(incoming).then(
        (text) => res.end(text),
        (error: Error) => res.end(`${error.name}: ${error.message}`),
      );
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    cleanups.push(
      () =>
        new Promise<void>((done) => {
          server.closeAllConnections();
          server.close(() => done());
        }),
    );
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  const send = (url: string, body: string, chunked: boolean) =>
    new Promise<string>((resolve, reject) => {
      const req = request(url, {
        method: 'POST',
        headers: chunked ? {} : { 'content-length': String(Buffer.byteLength(body)) },
      });
      req.on('response', (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => resolve(text));
      });
      req.on('error', reject);
      if (chunked) for (const char of body) req.write(char);
      req.end(chunked ? undefined : body);
    });

  it('reads a body of exactly the limit, announced or streamed, and refuses one byte more', async () => {
    const url = await serve(async (incoming) => {
      expect(nodeRequestOf({ incoming })).toBe(incoming);
      return (await readBody(incoming, 10)).toString('utf8');
    });
    for (const chunked of [false, true]) {
      expect(await send(url, '0123456789', chunked)).toBe('0123456789');
      expect(await send(url, '', chunked)).toBe('');
      expect(await send(url, '0123456789a', chunked)).toBe(
        'BodyTooLargeError: request body exceeds 10 bytes',
      );
    }
  });

  it('refuses an announced length over the limit before reading a byte', async () => {
    let read = -1;
    const url = await serve(async (incoming) => {
      const error = await readBody(incoming, 4).catch((e: unknown) => e);
      read = incoming.readableDidRead ? 1 : 0;
      expect(error).toBeInstanceOf(BodyTooLargeError);
      return 'refused';
    });
    expect(await send(url, 'x'.repeat(100), false)).toBe('refused');
    expect(read).toBe(0);
  });

  it('rejects when the client goes away before the body ends', async () => {
    let outcome: Promise<unknown> | undefined;
    let arrived!: () => void;
    const started = new Promise<void>((done) => {
      arrived = done;
    });
    const server = createServer((incoming) => {
      outcome = readBody(incoming, 1000).catch((e: unknown) => e);
      arrived();
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    cleanups.push(() => new Promise<void>((done) => server.close(() => done())));
    const req = request(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, {
      method: 'POST',
      headers: { 'content-length': '100' },
    });
    req.on('error', () => undefined);
    req.write('partial');
    await started;
    req.destroy();
    const error = await outcome;
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(BodyTooLargeError);
  });

  it('is not used without a Node request (app.request(), HTTP/2)', () => {
    expect(nodeRequestOf(undefined)).toBeUndefined();
    expect(nodeRequestOf({})).toBeUndefined();
    expect(nodeRequestOf({ incoming: { headers: {} } })).toBeUndefined();
  });
});
