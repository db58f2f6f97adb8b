// `mlcost collector`: the collector alone, as the Helm chart runs it.

import { listen } from '../../collector/api/server.ts';
import { createCollector, databasePath } from '../../collector/collector.ts';
import type { Config } from '../../core/config/config.ts';
import { ConfigError } from '../../core/errors.ts';
import { parseListenAddress } from '../../core/listen-address.ts';
import { createLogger } from '../../core/logger.ts';
import { setupTracing } from '../../core/tracing.ts';
import { onShutdown } from '../shutdown.ts';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

export async function runCollector(config: Config): Promise<void> {
  const { host } = parseListenAddress(config.collector.listen);
  if (config.collector.auth.mode === 'token' && config.collector.ingestToken === '' && !LOOPBACK.has(host)) {
    throw new ConfigError(
      'collector.ingestToken',
      `invalid configuration: collector.ingestToken = "" while collector.listen = ${config.collector.listen}: a collector reachable from other hosts needs an ingest token`,
    );
  }
  const logger = createLogger({ level: config.logLevel });
  const stopTracing = await setupTracing('mlcost-collector');
  const collector = createCollector(config, logger);
  const server = await listen(collector.app, config.collector.listen);
  logger.info({ url: server.url, database: databasePath(config) }, 'collector is running');
  process.stdout.write(`mlcost collector is running at ${server.url}\n`);
  onShutdown(logger, async () => {
    await server.close();
    collector.close();
    await stopTracing();
  });
}
