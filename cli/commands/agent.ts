// `mlcost agent`: the node agent alone, sending batches to a collector over HTTP; its own /metrics on agent.listen.
import { collectDefaultMetrics, Registry } from 'prom-client';
import { createAgent } from '../../agent/create-agent.ts';
import { createHttpSink } from '../../agent/http-sink.ts';
import { createAgentApp } from '../../agent/metrics-app.ts';
import { listen } from '../../collector/api/server.ts';
import type { Config } from '../../core/config/config.ts';
import { createLogger } from '../../core/logger.ts';
import { onShutdown } from '../shutdown.ts';

export async function runAgent(config: Config): Promise<void> {
  const logger = createLogger({ level: config.logLevel });
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'mlcost_agent_process_' });
  const sink = createHttpSink({ collectorUrl: config.agent.collectorUrl, token: config.agent.token });
  const agent = createAgent(config, { sink, registry, logger });
  const server = await listen(createAgentApp(registry), config.agent.listen);
  agent.start();
  logger.info({ url: server.url, collector: config.agent.collectorUrl }, 'agent is running');
  process.stdout.write(`mlcost agent is running; metrics at ${server.url}/metrics\n`);
  onShutdown(logger, async () => {
    await agent.stop();
    await server.close();
  });
}
