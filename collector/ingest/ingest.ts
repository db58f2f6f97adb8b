// Ingest: authenticates an agent's request, reads its (possibly gzip) body within limits, validates the batch
// against the versioned schema and stores it in one transaction; every refusal is an HttpProblem naming what is wrong.
import { gunzipSync } from 'node:zlib';
import { BATCH_SCHEMA_VERSION, type Batch, describeSchemaIssues } from '../../core/protocol/batch.ts';
import { parseBatch } from '../../core/protocol/batch-fast.ts';
import { tracer } from '../../core/tracing.ts';
import { HttpProblem } from '../api/problem.ts';
import type { CollectorMetrics, RejectionReason } from '../metrics.ts';
import type { Store } from '../store/store.ts';
import type { AgentAuthenticator } from './auth.ts';

export interface IngestOptions {
  authenticator: AgentAuthenticator;
  maxBatchBytes: number;
  /** Ingest requests handled at once; beyond this the collector answers 429 so agents back off. */
  maxInFlight?: number;
}

export interface IngestResult {
  accepted: true;
  duplicate: boolean;
  agentId: string;
  sequence: number;
  windows: number;
}

export class IngestService {
  private inFlight = 0;

  constructor(
    private readonly db: Store,
    private readonly metrics: CollectorMetrics,
    private readonly options: IngestOptions,
  ) {}

  /** Checks the Authorization header with the configured authenticator; every refusal is counted. */
  async authenticate(authorization: string | undefined): Promise<void> {
    try {
      await this.options.authenticator.authenticate(authorization);
    } catch (error) {
      if (error instanceof HttpProblem && error.status === 401) throw this.reject('unauthorized', error);
      throw error;
    }
  }

  /**
   * Admits one request, or answers 429 with Retry-After when the collector is already handling as many as it
   * should: a busy collector pushes back rather than queueing without bound. Call the returned release when done.
   */
  admit(): () => void {
    const limit = this.options.maxInFlight ?? 8;
    if (this.inFlight >= limit) {
      throw this.reject(
        'busy',
        new HttpProblem(
          429,
          'Too Many Requests',
          `the collector is handling ${this.inFlight} batches already; retry shortly`,
          {
            headers: { 'retry-after': '2' },
          },
        ),
      );
    }
    this.inFlight += 1;
    let released = false;
    return () => {
      if (!released) this.inFlight -= 1;
      released = true;
    };
  }

  /** Decodes a raw request body (gzip or identity) into a validated batch. */
  decode(body: Uint8Array, contentEncoding: string | undefined, contentType: string | undefined): Batch {
    const limit = this.options.maxBatchBytes;
    if (contentType && !contentType.startsWith('application/json')) {
      throw this.reject(
        'unsupported_media',
        new HttpProblem(415, 'Unsupported Media Type', `content-type ${contentType} is not application/json`),
      );
    }
    if (body.byteLength > limit) throw this.tooLarge(`body of ${body.byteLength} bytes`);
    let json: Uint8Array = body;
    const encoding = (contentEncoding ?? 'identity').toLowerCase();
    if (encoding === 'gzip') {
      try {
        json = gunzipSync(body, { maxOutputLength: limit });
      } catch (error) {
        if (
          (error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' ||
          (error as Error).message.includes('Cannot create a Buffer larger')
        ) {
          throw this.tooLarge('decompressed body');
        }
        throw this.reject(
          'malformed',
          new HttpProblem(
            400,
            'Bad Request',
            `gzip body cannot be decompressed: ${(error as Error).message}`,
          ),
        );
      }
    } else if (encoding !== 'identity') {
      throw this.reject(
        'unsupported_media',
        new HttpProblem(
          415,
          'Unsupported Media Type',
          `content-encoding ${encoding} is not gzip or identity`,
        ),
      );
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(json.buffer, json.byteOffset, json.byteLength).toString('utf8'));
    } catch (error) {
      throw this.reject(
        'malformed',
        new HttpProblem(
          400,
          'Bad Request',
          `body is not valid JSON (truncated?): ${(error as Error).message}`,
        ),
      );
    }
    const version = (parsed as { schemaVersion?: unknown } | null)?.schemaVersion;
    if (version !== BATCH_SCHEMA_VERSION) {
      throw this.reject(
        'schema',
        new HttpProblem(
          400,
          'Bad Request',
          `schemaVersion ${JSON.stringify(version)} is not supported; this collector reads version ${BATCH_SCHEMA_VERSION}`,
        ),
      );
    }
    // The fast check answers for a valid batch; zod (the definition) decides and describes everything else.
    const result = parseBatch(parsed);
    if (!result.success) {
      throw this.reject(
        'schema',
        new HttpProblem(
          400,
          'Bad Request',
          `batch does not match schema v${BATCH_SCHEMA_VERSION}: ${describeSchemaIssues(result.error)}`,
        ),
      );
    }
    return result.data;
  }

  /** Stores a validated batch; an (agent, sequence) already stored is accepted again without a second write. */
  store(batch: Batch, now = Date.now()): IngestResult {
    const stop = this.metrics.ingestDuration.startTimer();
    let written: ReturnType<Store['writeBatch']>;
    try {
      written = tracer.startActiveSpan('mlcost.collector.store', (span) => {
        try {
          return this.db.writeBatch(batch, now);
        } finally {
          span.end();
        }
      });
    } catch (error) {
      throw this.reject(
        'store_error',
        new HttpProblem(
          503,
          'Service Unavailable',
          `the store could not write the batch: ${(error as Error).message}`,
          { headers: { 'retry-after': '5' } },
        ),
      );
    } finally {
      stop();
    }
    if (written.duplicate) {
      this.metrics.duplicates.inc();
    } else {
      this.metrics.batchesAccepted.inc();
      this.metrics.windowsAccepted.inc(written.windows);
    }
    return {
      accepted: true,
      duplicate: written.duplicate,
      agentId: batch.agentId,
      sequence: batch.sequence,
      windows: written.windows,
    };
  }

  /** The 413 answer for a body over the limit, counted as a rejection. */
  tooLargeProblem(what: string): HttpProblem {
    return this.tooLarge(what);
  }

  private tooLarge(what: string): HttpProblem {
    return this.reject(
      'too_large',
      new HttpProblem(
        413,
        'Content Too Large',
        `${what} exceeds the limit of ${this.options.maxBatchBytes} bytes (collector.maxBatchBytes)`,
      ),
    );
  }

  private reject(reason: RejectionReason, problem: HttpProblem): HttpProblem {
    this.metrics.rejections.inc({ reason });
    return problem;
  }
}
