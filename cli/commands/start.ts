// `mlcost start`: a collector and an agent for this machine in one process, SQLite under ./data/. With
// --kubeconfig it watches a whole cluster from outside instead (remote mode), through the API server proxy.
import { Registry } from 'prom-client';
import { createAgent } from '../../agent/create-agent.ts';
import { createAgentMetrics } from '../../agent/metrics.ts';
import { listen } from '../../collector/api/server.ts';
import { createCollector, databasePath } from '../../collector/collector.ts';
import { createInProcessSink } from '../../collector/ingest/in-process-sink.ts';
import type { Config } from '../../core/config/config.ts';
import { createLogger } from '../../core/logger.ts';
import { setupTracing } from '../../core/tracing.ts';
import { onShutdown } from '../shutdown.ts';

export async function runStart(config: Config): Promise<void> {
  const logger = createLogger({ level: config.logLevel });
  const stopTracing = await setupTracing('mlcost');
  const registry = new Registry();
  const collector = createCollector(config, logger, registry);
  const sink = createInProcessSink(collector.ingest);

  let stopWatching: () => Promise<void> = async () => {};
  if (config.remote.kubeconfig) {
    // remote mode alone needs client-node (every kubeconfig credential kind) and the per-node agents
    const { KubeConfig } = await import('@kubernetes/client-node');
    const { RemoteCluster } = await import('../../agent/remote/remote-cluster.ts');
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(config.remote.kubeconfig);
    const remote = new RemoteCluster(config, {
      kubeConfig,
      sink,
      registry,
      metrics: createAgentMetrics(registry),
      logger,
    });
    try {
      await remote.start();
    } catch (error) {
      collector.close();
      throw new Error(`cannot watch the cluster in ${config.remote.kubeconfig}: ${(error as Error).message}`);
    }
    stopWatching = () => remote.stop();
  } else if (config.agent.enabled) {
    const agent = createAgent(config, { sink, registry, logger, mode: 'standalone' });
    agent.start();
    stopWatching = () => agent.stop();
  }

  const server = await listen(collector.app, config.collector.listen);
  logger.info({ url: server.url, database: databasePath(config) }, 'mlcost is running');
  process.stdout.write(`mlcost is running at ${server.url}\n`);

  onShutdown(logger, async () => {
    await stopWatching();
    await server.close();
    collector.close();
    await stopTracing();
  });
}
