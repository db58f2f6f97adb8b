// The agent loop: sample every source each interval, close a window at each window boundary, and hand each
// window to the sink as a numbered batch. The first window closes at the first interval boundary so a new
// agent shows up at once; later windows align to the window length in UTC.
import type { Logger } from '../core/logger.ts';
import type { Holder, UsageWindow } from '../core/protocol/batch.ts';
import { BATCH_SCHEMA_VERSION, type BatchInput } from '../core/protocol/batch.ts';
import type { AgentMetrics } from './metrics.ts';
import { runSources } from './runner.ts';
import type { Samples } from './samples.ts';
import type { SequenceFile } from './sequence-file.ts';
import type { BatchSink } from './sink.ts';
import type { Source } from './source.ts';
import { mergeSamples, WindowAccumulator } from './window.ts';

export interface AgentOptions {
  agentId: string;
  nodeName: string;
  intervalMs: number;
  windowMs: number;
  sourceTimeoutMs: number;
  sources: readonly Source[];
  sink: BatchSink;
  sequence: SequenceFile;
  metrics: AgentMetrics;
  logger: Logger;
  /** Batches kept in memory while the collector is unreachable; the oldest go first beyond this. */
  maxPendingBatches?: number;
  /**
   * Called with each collection's merged samples and the holders the window attributed each GPU to (by GPU id),
   * e.g. to update the agent's own GPU gauges.
   */
  onSamples?: (samples: Samples, holders: ReadonlyMap<string, Holder[]>) => void;
}

/** The next point on a grid of `step` strictly after `time`. */
const nextGridPoint = (time: number, step: number) => (Math.floor(time / step) + 1) * step;

export class Agent {
  private current?: WindowAccumulator;
  private currentEnd = 0;
  private readonly pending: BatchInput[] = [];
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;

  constructor(private readonly options: AgentOptions) {}

  /** Starts sampling now and then at every interval boundary. */
  start(): void {
    const loop = async () => {
      if (this.stopped) return;
      this.running = this.tick(Date.now()).catch((error: unknown) => {
        this.options.logger.error({ err: error }, 'agent cycle failed');
      });
      await this.running;
      if (this.stopped) return;
      const now = Date.now();
      this.timer = setTimeout(loop, nextGridPoint(now, this.options.intervalMs) - now);
    };
    void loop();
  }

  /** Stops sampling, closes the current window where it is, and tries once to deliver what is pending. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    if (this.current && this.current.samples > 0)
      this.closeWindow(Math.max(Date.now(), this.current.start + 1));
    await this.flush();
    await this.options.sink.flush?.(5_000);
    await this.close();
  }

  /** Closes every source's open watches and sockets. */
  async close(): Promise<void> {
    await Promise.allSettled(this.options.sources.map(async (source) => source.close?.()));
  }

  /** Wraps a window in the next numbered batch of this agent. */
  batchFor(window: UsageWindow): BatchInput {
    return {
      schemaVersion: BATCH_SCHEMA_VERSION,
      agentId: this.options.agentId,
      sequence: this.options.sequence.take(),
      sentAt: new Date().toISOString(),
      windows: [window],
    };
  }

  /** One cycle: close the window if its end has passed, sample every source, deliver pending batches. */
  async tick(now: number): Promise<void> {
    const { intervalMs, windowMs } = this.options;
    if (this.current && now >= this.currentEnd) this.closeWindow(this.currentEnd);
    if (!this.current) {
      const first = this.currentEnd === 0;
      const start = first || now >= this.currentEnd + windowMs ? now : this.currentEnd;
      this.current = new WindowAccumulator(start);
      this.currentEnd = first ? nextGridPoint(start, intervalMs) : nextGridPoint(start, windowMs);
    }
    this.add(this.current, await this.sample());
    await this.flush();
  }

  /**
   * One window for `mlcost agent --once`: two collections one interval apart (rates such as CPU need two
   * readings), closed at the second, without sending anything.
   */
  async collectOnce(): Promise<UsageWindow | undefined> {
    const window = new WindowAccumulator(Date.now());
    this.add(window, await this.sample());
    await new Promise((resolve) => setTimeout(resolve, this.options.intervalMs));
    this.add(window, await this.sample());
    return window.close(Date.now(), this.options.nodeName);
  }

  private async sample(): Promise<Samples> {
    const outcomes = await runSources(this.options.sources, {
      timeoutMs: this.options.sourceTimeoutMs,
      metrics: this.options.metrics,
      logger: this.options.logger,
    });
    return mergeSamples(outcomes.map((outcome) => outcome.samples));
  }

  /** Adds a collection to a window and hands the window's GPU holders on (onSamples). */
  private add(window: WindowAccumulator, samples: Samples): void {
    const holders = window.add(samples);
    this.options.onSamples?.(samples, holders);
  }

  private closeWindow(end: number): void {
    const accumulator = this.current;
    this.current = undefined;
    this.currentEnd = end;
    if (!accumulator) return;
    const window = accumulator.close(end, this.options.nodeName);
    if (!window) {
      this.options.logger.warn(
        { start: accumulator.start },
        'window closed without node capacity from any source; not sent',
      );
      return;
    }
    this.options.metrics.windowsMade.inc();
    this.pending.push(this.batchFor(window));
    const limit = this.options.maxPendingBatches ?? 1440;
    while (this.pending.length > limit) {
      const dropped = this.pending.shift();
      this.options.logger.warn(
        { sequence: dropped?.sequence },
        'pending batches over the limit: dropped the oldest',
      );
    }
  }

  private async flush(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending[0]!;
      let outcome: Awaited<ReturnType<BatchSink['send']>>;
      try {
        outcome = await this.options.sink.send(batch);
      } catch (error) {
        this.options.metrics.shipFailures.inc();
        this.options.logger.warn(
          { sequence: batch.sequence, error: (error as Error).message },
          'could not deliver batch; will retry',
        );
        return;
      }
      this.pending.shift();
      // A spooling sink only queued it; its shipper counts the batch when the collector acknowledges it.
      if (outcome !== 'spooled') this.options.metrics.batchesShipped.inc();
    }
  }
}
