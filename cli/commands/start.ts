// `mlcost start`: a collector and an agent for this machine in one process, SQLite under ./data/.
import { Registry } from 'prom-client';
import { createAgent } from '../../agent/create-agent.ts';
import { listen } from '../../collector/api/server.ts';
import { createCollector, databasePath } from '../../collector/collector.ts';
import { createInProcessSink } from '../../collector/ingest/in-process-sink.ts';
import type { Config } from '../../core/config/config.ts';
import { createLogger } from '../../core/logger.ts';
import { setupTracing } from '../../core/tracing.ts';
import { onShutdown } from '../shutdown.ts';

export async function runStart(config: Config): Promise<void> {
  const logger = createLogger({ level: config.logLevel });
  const stopTracing = setupTracing('mlcost');
  const registry = new Registry();
  const collector = createCollector(config, logger, registry);
  const agent = config.agent.enabled
    ? createAgent(config, {
        sink: createInProcessSink(collector.ingest),
        registry,
        logger,
        mode: 'standalone',
      })
    : undefined;
  const server = await listen(collector.app, config.collector.listen);
  agent?.start();
  logger.info({ url: server.url, database: databasePath(config) }, 'mlcost is running');
  process.stdout.write(`mlcost is running at ${server.url}\n`);

  onShutdown(logger, async () => {
    await agent?.stop();
    await server.close();
    collector.close();
    await stopTracing();
  });
}
