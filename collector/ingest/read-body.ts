// Reads an ingest request's body straight from Node's IncomingMessage, counting bytes against the limit as they
// arrive: no web Request, no ReadableStream, one Buffer at the end. A Content-Length over the limit is refused
// before a byte is read; a body that grows past it (chunked, or lying about its length) is refused as soon as it
// does. Refusing leaves the rest of the body to the server, which drains or drops it (@hono/node-server does, with
// its own cap), the same as when a web-stream reader stops early.
import { IncomingMessage } from 'node:http';

/** The body is longer than the limit; the caller answers 413. */
export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`request body exceeds ${limit} bytes`);
    this.name = 'BodyTooLargeError';
  }
}

/** The Node HTTP/1 request behind a hono context served by @hono/node-server, or undefined (app.request(), HTTP/2). */
export function nodeRequestOf(env: unknown): IncomingMessage | undefined {
  const incoming = (env as { incoming?: unknown } | undefined)?.incoming;
  return incoming instanceof IncomingMessage ? incoming : undefined;
}

/**
 * The request's headers as one record of strings, as hono's `c.req.header()` gives them, without building a web
 * Headers first. Node joins a repeated header with ", " as Headers does (and keeps the first of a few, such as
 * Content-Type); only Set-Cookie comes as a list, and it is joined here.
 */
export function headerRecord(incoming: IncomingMessage): Record<string, string | undefined> {
  const headers = incoming.headers;
  const setCookie = headers['set-cookie'];
  if (setCookie === undefined) return headers as Record<string, string | undefined>;
  return { ...headers, 'set-cookie': setCookie.join(', ') } as Record<string, string | undefined>;
}

/** The whole body of `incoming`, or a BodyTooLargeError once more than `limit` bytes are announced or arrive. */
export function readBody(incoming: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = incoming.headers['content-length'];
  if (declared !== undefined && incoming.headers['transfer-encoding'] === undefined) {
    // What hono's bodyLimit does with a Content-Length: trust it for the refusal (Node stops at it when reading).
    if (Number.parseInt(declared, 10) > limit) return Promise.reject(new BodyTooLargeError(limit));
  }
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = (settle: () => void) => {
      if (settled) return;
      settled = true;
      incoming.off('data', onData);
      incoming.off('end', onEnd);
      incoming.off('error', onError);
      incoming.off('close', onClose);
      settle();
    };
    const onData = (chunk: Buffer | string) => {
      const buffer = typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk;
      size += buffer.byteLength;
      if (size > limit) {
        finish(() => reject(new BodyTooLargeError(limit)));
        return;
      }
      chunks.push(buffer);
    };
    const onEnd = () => finish(() => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
    const onError = (error: Error) => finish(() => reject(error));
    const onClose = () => {
      if (incoming.readableEnded) onEnd();
      else finish(() => reject(new Error('the client closed the connection before the request body ended')));
    };
    incoming.on('data', onData);
    incoming.on('end', onEnd);
    incoming.on('error', onError);
    incoming.on('close', onClose);
    // A request that ended, failed or closed before these listeners were added emits nothing more.
    if (incoming.readableEnded) onEnd();
    else if (incoming.errored) onError(incoming.errored);
    else if (incoming.destroyed) onClose();
  });
}
