// How a spooled batch reaches the collector, and what the collector's answer means for the spool.

export type Delivery =
  /** Stored (or already stored): the batch may leave the spool. */
  | { outcome: 'acknowledged' }
  /** The collector is away, busy or failing: keep the batch and try again later. */
  | { outcome: 'retry'; reason: string; retryAfterMs?: number }
  /** The collector refuses this batch as invalid: retrying cannot help, so it goes to dead-letter. */
  | { outcome: 'rejected'; status: number; detail: string };

export interface DeliveryMeta {
  agentId: string;
  sequence: number;
  /** W3C trace context of the shipping span, to continue the trace in the collector. */
  traceHeaders?: Record<string, string>;
}

export interface Transport {
  /** Delivers one batch body: gzip JSON exactly as spooled. Never throws: every failure is a Delivery. */
  deliver(body: Uint8Array, meta: DeliveryMeta): Promise<Delivery>;
}
