// Sends spooled batches to the collector oldest first, one at a time so order holds. On failure it waits with
// exponential backoff and full jitter (capped, or the collector's Retry-After) and tries the same batch again;
// a batch the collector rejects as invalid goes to dead-letter and the next one is sent.
import type { Logger } from '../core/logger.ts';
import { inSpan, traceHeaders } from '../core/tracing.ts';
import type { AgentMetrics } from './metrics.ts';
import type { Spool } from './spool.ts';
import type { Delivery, Transport } from './transport.ts';

export interface ShipperOptions {
  agentId: string;
  spool: Spool;
  transport: Transport;
  metrics: AgentMetrics;
  logger: Logger;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  random?: () => number;
}

export class Shipper {
  private attempt = 0;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;
  private waitingUntil = 0;

  constructor(private readonly options: ShipperOptions) {}

  /** A new batch is in the spool: send now unless we are backing off. */
  kick(): void {
    if (this.stopped || this.running || Date.now() < this.waitingUntil) return;
    this.running = this.drain()
      .catch((error: unknown) => {
        // A disk error must not kill the agent: the batch stays spooled and the next kick tries again.
        this.options.logger.error({ error: (error as Error).message }, 'shipping failed; will retry');
      })
      .finally(() => {
        this.running = undefined;
      });
  }

  /** Sends until the spool is empty or a delivery must be retried later (then a retry is scheduled). */
  async drain(): Promise<void> {
    const { spool, transport, metrics, logger } = this.options;
    for (let entry = spool.oldest(); entry && !this.stopped; entry = spool.oldest()) {
      const current = entry;
      // Pinned while in flight: the spool's bounds must not drop the batch the collector may be storing right now.
      spool.pin(current);
      let delivery: Delivery;
      try {
        delivery = await inSpan(
          'mlcost.agent.ship',
          {
            'mlcost.agent_id': this.options.agentId,
            'mlcost.sequence': current.sequence,
            'mlcost.windows': current.windows,
          },
          async (span) => {
            const result = await transport.deliver(spool.read(current), {
              agentId: this.options.agentId,
              sequence: current.sequence,
              traceHeaders: traceHeaders(),
            });
            span.setAttribute('mlcost.delivery', result.outcome);
            return result;
          },
        );
      } finally {
        spool.pin(undefined);
      }
      if (delivery.outcome === 'acknowledged') {
        spool.acknowledge(entry);
        metrics.batchesShipped.inc();
        this.updateSpoolGauges();
        this.attempt = 0;
        continue;
      }
      if (delivery.outcome === 'rejected') {
        const kept = spool.deadLetter(entry);
        metrics.deadLetters.inc();
        this.updateSpoolGauges();
        logger.error(
          { sequence: entry.sequence, status: delivery.status, detail: delivery.detail, file: kept },
          `collector rejected batch ${entry.sequence} (${delivery.status}: ${delivery.detail}); moved to dead-letter`,
        );
        continue;
      }
      metrics.shipFailures.inc();
      const delay = delivery.retryAfterMs ?? this.backoff();
      this.attempt += 1;
      this.waitingUntil = Date.now() + delay;
      logger.warn(
        {
          sequence: entry.sequence,
          reason: delivery.reason,
          retryInMs: Math.round(delay),
          spooled: spool.size.batches,
        },
        'could not deliver batch; kept in the spool',
      );
      clearTimeout(this.timer);
      this.timer = setTimeout(() => {
        this.waitingUntil = 0;
        this.kick();
      }, delay);
      this.timer.unref?.();
      return;
    }
  }

  private updateSpoolGauges(): void {
    const size = this.options.spool.size;
    this.options.metrics.spoolBatches.set(size.batches);
    this.options.metrics.spoolBytes.set(size.bytes);
  }

  /** Exponential backoff with full jitter: a random wait up to initial × 2^attempt, capped. */
  private backoff(): number {
    const initial = this.options.initialBackoffMs ?? 500;
    const cap = this.options.maxBackoffMs ?? 30_000;
    const ceiling = Math.min(cap, initial * 2 ** this.attempt);
    return Math.max(initial / 2, (this.options.random ?? Math.random)() * ceiling);
  }

  /** Waits for the delivery in progress, then stops retrying; what is left stays in the spool for next time. */
  async stop(): Promise<void> {
    clearTimeout(this.timer);
    await this.running;
    this.stopped = true;
  }

  /** One last attempt to empty the spool (at shutdown), bounded by `timeoutMs`. */
  async flush(timeoutMs: number): Promise<void> {
    clearTimeout(this.timer);
    await this.running;
    this.waitingUntil = 0;
    await Promise.race([this.drain(), new Promise((resolve) => setTimeout(resolve, timeoutMs).unref())]);
  }
}
