// Sends batches to the collector's POST /api/v1/ingest as gzip JSON with the bearer token.
import { gzipSync } from 'node:zlib';
import type { BatchInput } from '../core/protocol/batch.ts';
import type { BatchSink } from './sink.ts';

export class IngestRejectedError extends Error {
  constructor(
    readonly status: number,
    detail: string,
  ) {
    super(`collector refused the batch with ${status}: ${detail}`);
    this.name = 'IngestRejectedError';
  }
}

export function createHttpSink(options: {
  collectorUrl: string;
  token: string;
  timeoutMs?: number;
}): BatchSink {
  const url = new URL('/api/v1/ingest', options.collectorUrl);
  return {
    async send(batch: BatchInput, signal?: AbortSignal): Promise<void> {
      const body = gzipSync(JSON.stringify(batch));
      const timeout = AbortSignal.timeout(options.timeoutMs ?? 30_000);
      const response = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-encoding': 'gzip',
          ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
        },
        body,
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
      if (response.ok) {
        await response.body?.cancel();
        return;
      }
      const text = await response.text();
      let detail = text.slice(0, 500);
      try {
        detail = (JSON.parse(text) as { detail?: string }).detail ?? detail;
      } catch {
        // not problem+json: keep the raw text
      }
      throw new IngestRejectedError(response.status, detail);
    },
  };
}
