// Delivers batches to the collector's POST /api/v1/ingest as gzip JSON with a bearer token, and classifies the
// answer: 2xx acknowledged; 400/413/415 rejected (the batch itself is bad); anything else retried.
import { BodyLimitError, type HttpAnswer, httpRequest } from './http-request.ts';
import type { Delivery, Transport } from './transport.ts';

/** Most of a collector's answer read: enough for any problem detail. */
const MAX_ANSWER_BYTES = 1024 * 1024;

/** Statuses that say the batch itself is wrong: sending it again would get the same answer. */
const REJECTING = new Set([400, 413, 415, 422]);

export interface HttpTransportOptions {
  collectorUrl: string;
  /** Read before every request: a projected service-account token rotates while the agent runs. */
  token: () => string;
  timeoutMs?: number;
}

export function createHttpTransport(options: HttpTransportOptions): Transport {
  const url = new URL('/api/v1/ingest', options.collectorUrl);
  return {
    async deliver(body, meta): Promise<Delivery> {
      const token = options.token();
      let response: HttpAnswer;
      try {
        response = await httpRequest(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'content-encoding': 'gzip',
            'x-mlcost-agent': meta.agentId,
            'x-mlcost-sequence': String(meta.sequence),
            ...(token ? { authorization: `Bearer ${token}` } : {}),
            ...meta.traceHeaders,
          },
          body,
          signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
          // Only the start of an answer is ever shown (problemDetail); a collector cannot make the agent hold more.
          readBody: () => true,
          maxBodyBytes: MAX_ANSWER_BYTES,
        });
      } catch (error) {
        if (error instanceof BodyLimitError) {
          return {
            outcome: 'retry',
            reason: `collector answered with a body over ${MAX_ANSWER_BYTES} bytes`,
          };
        }
        const code = (error as { code?: unknown }).code;
        const why = typeof code === 'string' ? code : (error as Error).message;
        return { outcome: 'retry', reason: `collector unreachable: ${why}` };
      }
      const text = response.body.toString('utf8');
      const ok = response.status >= 200 && response.status < 300;
      if (ok) return { outcome: 'acknowledged' };
      const detail = problemDetail(text);
      if (REJECTING.has(response.status)) return { outcome: 'rejected', status: response.status, detail };
      const retryAfter = Number(response.headers['retry-after']);
      return {
        outcome: 'retry',
        reason: `collector answered ${response.status}: ${detail}`,
        ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfterMs: retryAfter * 1000 } : {}),
      };
    },
  };
}

function problemDetail(text: string): string {
  try {
    return (JSON.parse(text) as { detail?: string }).detail ?? text.slice(0, 300);
  } catch {
    return text.slice(0, 300);
  }
}
