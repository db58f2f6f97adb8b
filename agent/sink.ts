// Where the agent's batches go: the collector over HTTP, or straight into an in-process collector (mlcost start).
import type { BatchInput } from '../core/protocol/batch.ts';

export interface BatchSink {
  /**
   * Resolves once the batch is safe: stored by the collector (`delivered`, or nothing) or durably queued for it
   * (`spooled`); rejects when the agent must keep it and try again.
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: a sink that stores directly need not say so (void means delivered)
  send(batch: BatchInput, signal?: AbortSignal): Promise<'delivered' | 'spooled' | void>;
  /** Last chance at shutdown to deliver what the sink still holds, bounded by `timeoutMs`. */
  flush?(timeoutMs: number): Promise<void>;
}
