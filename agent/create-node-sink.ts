// The sink `mlcost agent` uses: an on-disk spool under <dataDir>/spool and a shipper that sends to the collector.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../core/config/config.ts';
import type { Logger } from '../core/logger.ts';
import { createHttpTransport } from './http-transport.ts';
import type { AgentMetrics } from './metrics.ts';
import { Shipper } from './shipper.ts';
import type { BatchSink } from './sink.ts';
import { Spool } from './spool.ts';
import { createSpoolingSink } from './spooling-sink.ts';

export function createNodeSink(
  config: Config,
  deps: { agentId: string; metrics: AgentMetrics; logger: Logger },
): BatchSink {
  const { logger, metrics } = deps;
  const spool = new Spool({
    dir: join(config.dataDir, 'spool'),
    maxBytes: config.agent.spool.maxBytes,
    maxAgeMs: config.agent.spool.maxAge,
    onDrop: (entry, reason) => {
      metrics.spoolDroppedWindows.inc({ reason }, entry.windows);
      logger.error(
        { sequence: entry.sequence, windows: entry.windows, reason },
        `spool ${reason === 'bytes' ? 'full' : 'past its age limit'}: dropped batch ${entry.sequence} with ${entry.windows} window(s)`,
      );
    },
  });
  const tokenFile = config.agent.tokenFile;
  const transport = createHttpTransport({
    collectorUrl: config.agent.collectorUrl,
    token: () => (tokenFile ? readFileSync(tokenFile, 'utf8').trim() : config.agent.token),
  });
  const shipper = new Shipper({ agentId: deps.agentId, spool, transport, metrics, logger });
  const sink = createSpoolingSink(spool, shipper, metrics);
  if (spool.size.batches > 0) {
    logger.info(
      { batches: spool.size.batches, windows: spool.size.windows },
      'replaying batches spooled before the restart',
    );
    shipper.kick();
  }
  return sink;
}
