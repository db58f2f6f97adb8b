// The one interface every agent source implements: a name, and collect() that returns samples or throws.
import type { Samples } from './samples.ts';

export interface Source {
  /** Stable name used in config (`agent.sources`), logs and the `source` label. */
  readonly name: string;
  /**
   * Reads the source once. Resolves with what it saw (empty samples when there is nothing here, e.g. no GPU on
   * this node: that is not an error); rejects when the source is broken. Must stop when `signal` aborts.
   */
  collect(signal: AbortSignal): Promise<Samples>;
  /** Releases what the source holds open between collections (watches, sockets); optional. */
  close?(): void | Promise<void>;
}
