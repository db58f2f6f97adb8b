// A batch sink for `mlcost start`: the agent hands batches straight to the collector in the same process,
// through the same schema check and store path as HTTP ingest.
import type { BatchSink } from '../../agent/sink.ts';
import { type BatchInput, batchSchema } from '../../core/protocol/batch.ts';
import type { IngestService } from './ingest.ts';

export function createInProcessSink(ingest: IngestService): BatchSink {
  return {
    async send(batch: BatchInput): Promise<void> {
      ingest.store(batchSchema.parse(batch));
    },
  };
}
