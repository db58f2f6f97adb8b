// The agent's sink in a cluster: a batch is "sent" once it is durably in the on-disk spool; the shipper then
// delivers it to the collector in order, retrying until the collector acknowledges it.
import { gzipSync } from 'node:zlib';
import type { BatchInput } from '../core/protocol/batch.ts';
import type { AgentMetrics } from './metrics.ts';
import type { Shipper } from './shipper.ts';
import type { BatchSink } from './sink.ts';
import type { Spool } from './spool.ts';

export function createSpoolingSink(spool: Spool, shipper: Shipper, metrics: AgentMetrics): BatchSink {
  const updateGauges = () => {
    const size = spool.size;
    metrics.spoolBatches.set(size.batches);
    metrics.spoolBytes.set(size.bytes);
  };
  updateGauges();
  return {
    async send(batch: BatchInput): Promise<'spooled'> {
      spool.append(batch.sequence, batch.windows.length, gzipSync(JSON.stringify(batch)));
      updateGauges();
      shipper.kick();
      return 'spooled';
    },
    async flush(timeoutMs: number): Promise<void> {
      await shipper.flush(timeoutMs);
      updateGauges();
    },
  };
}
