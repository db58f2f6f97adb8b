// A real HTTP server on 127.0.0.1 standing in for a model server's /metrics endpoint in tests: it serves a
// given text, and the text, status, delay and delivery (Content-Length or chunked) can be changed between
// scrapes, so a test can move counters forward, break the endpoint or make it slow or oversized.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeModelServerOptions {
  /** The body served at `path`. */
  text: string;
  /** Path answered; any other gets 404. Default `/metrics`. */
  path?: string;
  /** Status for `path`; default 200. */
  status?: number;
  /** Sends the body without Content-Length, in `chunkBytes` pieces, so only streaming can bound it. */
  chunked?: boolean;
  /** Piece size when chunked; default 16 KiB. */
  chunkBytes?: number;
  /** Waits this long before answering. */
  delayMs?: number;
  /** Content-Type header; default the Prometheus text format. */
  contentType?: string;
  /** Paths answered with a 307 to the given Location (relative or absolute). */
  redirects?: Record<string, string>;
}

export interface FakeModelServer {
  readonly port: number;
  /** `http://127.0.0.1:<port>`. */
  readonly origin: string;
  /** `origin` + the served path. */
  readonly url: string;
  /** Requests received so far, any path. */
  readonly requests: number;
  /** Responses whose client went away before the whole body was sent (a client that gave up mid-body). */
  readonly responsesCutShort: number;
  /** Replaces the served text from the next request on. */
  setText(text: string): void;
  /** Changes any option from the next request on. */
  update(options: Partial<FakeModelServerOptions>): void;
  close(): Promise<void>;
}

const PROMETHEUS_TEXT = 'text/plain; version=0.0.4; charset=utf-8';

export async function startFakeModelServer(initial: FakeModelServerOptions): Promise<FakeModelServer> {
  let options: FakeModelServerOptions = { ...initial };
  let requests = 0;
  let responsesCutShort = 0;
  const timers = new Set<NodeJS.Timeout>();

  const respond = (req: IncomingMessage, res: ServerResponse): void => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const redirect = options.redirects?.[path];
    if (redirect !== undefined) {
      res.writeHead(307, { location: redirect }).end();
      return;
    }
    if (path !== (options.path ?? '/metrics')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    const body = Buffer.from(options.text, 'utf8');
    const headers: Record<string, string | number> = {
      'content-type': options.contentType ?? PROMETHEUS_TEXT,
    };
    res.on('close', () => {
      if (!res.writableFinished) responsesCutShort += 1;
    });
    if (!options.chunked) {
      headers['content-length'] = body.byteLength;
      res.writeHead(options.status ?? 200, headers).end(body);
      return;
    }
    res.writeHead(options.status ?? 200, headers);
    const chunkBytes = options.chunkBytes ?? 16 * 1024;
    let offset = 0;
    // One piece per event-loop turn, honouring backpressure, so a client that stops reading stops us.
    const writeMore = (): void => {
      if (res.destroyed) return;
      if (offset >= body.byteLength) {
        res.end();
        return;
      }
      const piece = body.subarray(offset, offset + chunkBytes);
      offset += piece.byteLength;
      if (res.write(piece)) setImmediate(writeMore);
      else res.once('drain', writeMore);
    };
    writeMore();
  };

  const server = createServer((req, res) => {
    requests += 1;
    const delayMs = options.delayMs ?? 0;
    if (delayMs <= 0) {
      respond(req, res);
      return;
    }
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (!res.destroyed) respond(req, res);
    }, delayMs);
    timers.add(timer);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;

  return {
    port,
    origin,
    get url() {
      return `${origin}${options.path ?? '/metrics'}`;
    },
    get requests() {
      return requests;
    },
    get responsesCutShort() {
      return responsesCutShort;
    },
    setText(text) {
      options = { ...options, text };
    },
    update(changes) {
      options = { ...options, ...changes };
    },
    close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      return new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Keep-alive connections from fetch() would otherwise hold close() open.
        server.closeAllConnections();
      });
    },
  };
}
