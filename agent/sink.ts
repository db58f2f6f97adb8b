// Where the agent's batches go: the collector over HTTP, or straight into an in-process collector (mlcost start).
import type { BatchInput } from '../core/protocol/batch.ts';

export interface BatchSink {
  /** Resolves once the collector has stored (or already had) the batch; rejects when it must be retried. */
  send(batch: BatchInput, signal?: AbortSignal): Promise<void>;
  /** Last chance at shutdown to deliver what the sink still holds, bounded by `timeoutMs`. */
  flush?(timeoutMs: number): Promise<void>;
}
