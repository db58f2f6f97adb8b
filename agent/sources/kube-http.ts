// Small HTTP(S) helpers the kubelet and API-server sources share: one GET that resolves on the response head, a
// body reader with a size limit, and error messages that say what failed (TLS, connection, size) and where.
import type { IncomingMessage } from 'node:http';
import http from 'node:http';
import https from 'node:https';
import { MlcostError } from '../../core/errors.ts';

export type GetOptions = https.RequestOptions & {
  signal?: AbortSignal;
  /** Fails the request when no response head arrives this soon; unlike `signal`, spares a long streaming body. */
  headTimeoutMs?: number;
};

/** Starts a GET and resolves with the response once its head arrives; the body is the caller's to read. */
export function get(url: URL, options: GetOptions, what: string): Promise<IncomingMessage> {
  const client = url.protocol === 'https:' ? https : http;
  const { headTimeoutMs, ...requestOptions } = options;
  return new Promise((resolve, reject) => {
    const request = client.request(url, { ...requestOptions, method: 'GET' }, (response) => {
      request.setTimeout(0);
      resolve(response);
    });
    if (headTimeoutMs) {
      // Socket inactivity before the head is exactly "no answer yet"; switched off once the head is in.
      request.setTimeout(headTimeoutMs, () =>
        request.destroy(new MlcostError('timeout', `${what}: no answer within ${headTimeoutMs} ms`)),
      );
    }
    request.on('error', (error) => reject(requestError(error, what)));
    request.end();
  });
}

/** Reads a whole response body as UTF-8, failing once it passes `maxBytes` rather than holding it all. */
export function readBody(
  response: IncomingMessage,
  maxBytes: number,
  what: string,
  /** The configuration key that sets `maxBytes`, named in the error so a user knows what to raise. */
  limitName?: string,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    response.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        response.destroy();
        reject(
          new MlcostError(
            'limit',
            `${what}: the response passed the ${maxBytes}-byte limit${limitName ? ` (limit ${limitName})` : ''}`,
          ),
        );
        return;
      }
      chunks.push(chunk);
    });
    response.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    response.on('error', (error) => reject(requestError(error, what)));
    // A connection closed mid-body: the promise may already be settled by 'error', which is fine.
    response.on('close', () => {
      if (!response.complete) {
        reject(new MlcostError('source', `${what}: the connection closed mid-response`));
      }
    });
  });
}

const TLS_HINTS: Record<string, string> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: 'the server certificate is self-signed',
  SELF_SIGNED_CERT_IN_CHAIN: 'the server certificate chains to a CA we were not given',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'the server certificate is signed by a CA we were not given',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'the server certificate is signed by a CA we were not given',
  ERR_TLS_CERT_ALTNAME_INVALID: 'the server certificate does not name the host we connected to',
  CERT_HAS_EXPIRED: 'the server certificate has expired',
};

/** Wraps a request error in an MlcostError that names what was being fetched and, for TLS, what to check. */
export function requestError(error: unknown, what: string): Error {
  if (error instanceof MlcostError) return error;
  const err = error as NodeJS.ErrnoException;
  if (err?.name === 'AbortError') return err;
  const code = err?.code ?? '';
  const hint = TLS_HINTS[code];
  if (hint) {
    return new MlcostError(
      'source',
      `${what}: TLS verification failed (${code}): ${hint}; give the right CA file`,
      {
        cause: error,
      },
    );
  }
  const reason =
    code && !String(err?.message).includes(code) ? `${code} ${err?.message}` : String(err?.message);
  return new MlcostError('unavailable', `${what}: ${reason}`, { cause: error });
}

/** Shortens a response body for an error message: one line, at most `max` characters. */
export function bodySnippet(body: string, max = 300): string {
  const line = body.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max)}…` : line;
}
