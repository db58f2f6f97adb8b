// The agent's HTTP client for scrapes (dcgm-exporter, model servers) and for sending batches: node:http and
// node:https, not fetch(). fetch() loads Node's bundled undici and compiles its WebAssembly HTTP parser, which
// costs a process about 18 MiB of resident memory; the agent needs only a GET with a size limit and one POST.
import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';

export interface HttpAnswer {
  status: number;
  statusText: string;
  headers: IncomingHttpHeaders;
  /** The body as received (no content coding is asked for, so none is applied); empty unless it was read. */
  body: Buffer;
}

/** A body over the caller's limit: announced by Content-Length (`declared`), or counted while reading. */
export class BodyLimitError extends Error {
  constructor(
    readonly limit: number,
    readonly declared?: number,
  ) {
    super(
      declared === undefined
        ? `body over ${limit} bytes`
        : `body of ${declared} bytes (Content-Length) over ${limit} bytes`,
    );
    this.name = 'BodyLimitError';
  }
}

/** The body ended before it was complete (the connection closed mid-answer). */
export class IncompleteBodyError extends Error {
  constructor() {
    super('the connection closed mid-response');
    this.name = 'IncompleteBodyError';
  }
}

export interface HttpRequestOptions {
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: Uint8Array;
  /** Aborts the request, or the reading of its body; the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /** The body is read only when this says so (default: 2xx answers); otherwise it is discarded unread. */
  readBody?: (status: number) => boolean;
  /** Largest body read; a larger one fails with BodyLimitError without being read further. Default unlimited. */
  maxBodyBytes?: number;
}

const isSuccess = (status: number) => status >= 200 && status < 300;

/**
 * One HTTP(S) request; resolves once the body is read (or skipped). Connection errors reject with Node's own
 * error (its `code`, ECONNREFUSED and the like, names what went wrong); an abort rejects with the signal's reason.
 */
export function httpRequest(url: URL, options: HttpRequestOptions = {}): Promise<HttpAnswer> {
  const { signal, maxBodyBytes = Number.POSITIVE_INFINITY } = options;
  const readBody = options.readBody ?? isSuccess;
  const client = url.protocol === 'https:' ? https : http;
  return new Promise<HttpAnswer>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    let settled = false;
    let response: IncomingMessage | undefined;
    const settle = (error: unknown, answer?: HttpAnswer) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      if (error) {
        response?.destroy();
        request.destroy();
        reject(error);
      } else resolve(answer!);
    };
    const onAbort = () => settle(signal!.reason);
    signal?.addEventListener('abort', onAbort, { once: true });

    const headers: Record<string, string | number> = { ...options.headers };
    if (options.body) headers['content-length'] = options.body.byteLength;
    const request = client.request(url, { method: options.method ?? 'GET', headers }, (incoming) => {
      response = incoming;
      const status = incoming.statusCode ?? 0;
      const answer = (body: Buffer): HttpAnswer => ({
        status,
        statusText: incoming.statusMessage ?? '',
        headers: incoming.headers,
        body,
      });
      if (!readBody(status)) {
        incoming.resume();
        settle(undefined, answer(Buffer.alloc(0)));
        return;
      }
      const declared = Number(incoming.headers['content-length'] ?? Number.NaN);
      if (Number.isFinite(declared) && declared > maxBodyBytes) {
        settle(new BodyLimitError(maxBodyBytes, declared));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      incoming.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBodyBytes) {
          settle(new BodyLimitError(maxBodyBytes));
          return;
        }
        chunks.push(chunk);
      });
      incoming.on('end', () =>
        settle(undefined, answer(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size))),
      );
      incoming.on('error', (error) => settle(signal?.aborted ? signal.reason : error));
      incoming.on('close', () => {
        if (!incoming.complete) settle(signal?.aborted ? signal.reason : new IncompleteBodyError());
      });
    });
    request.on('error', (error) => settle(signal?.aborted ? signal.reason : error));
    request.end(options.body);
  });
}

/** "connect ECONNREFUSED 127.0.0.1:9400": Node's message, with the code in front when it does not already hold it. */
export function describeRequestError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as NodeJS.ErrnoException).code;
  return code && !error.message.includes(code) ? `${code} ${error.message}` : error.message;
}
