// `mlcost agent`: the node agent alone, sending batches to a collector over HTTP; its own /metrics on agent.listen.
// With --once it runs one window against the configured endpoints and prints its records instead.
//
// This is what cli/main.ts loads for the `agent` command. It runs on every node, so it loads only what the agent
// uses: no web framework (its /metrics is served by node:http, see metrics-server.ts), no fetch (see
// http-request.ts), no gRPC library (see sources/pod-resources-wire.ts).
import { Registry } from 'prom-client';
import { onShutdown } from '../cli/shutdown.ts';
import type { Config } from '../core/config/config.ts';
import { collectProcessMetrics } from '../core/default-metrics.ts';
import { createLogger } from '../core/logger.ts';
import { setupTracing } from '../core/tracing.ts';
import { createAgent } from './create-agent.ts';
import { createNodeSink } from './create-node-sink.ts';
import { listenForMetrics } from './metrics-server.ts';
import type { BatchSink } from './sink.ts';

export interface AgentRunOptions {
  once?: boolean;
  print?: boolean;
}

/** Writes each batch to stdout as one JSON line instead of sending it. */
const printSink: BatchSink = {
  async send(batch) {
    process.stdout.write(`${JSON.stringify(batch)}\n`);
  },
};

export async function runAgent(config: Config, run: AgentRunOptions = {}): Promise<void> {
  const logger = createLogger({ level: config.logLevel });
  const stopTracing = await setupTracing('mlcost-agent');
  const registry = new Registry();
  let sink: BatchSink = printSink;
  const agent = createAgent(config, {
    sink: (context) => {
      if (!run.print) sink = createNodeSink(config, context);
      return sink;
    },
    registry,
    logger,
    mode: 'node',
  });

  if (run.once) {
    const window = await agent.collectOnce();
    await agent.close();
    if (!window)
      throw new Error('no source reported the node size; nothing to print (see the log for failing sources)');
    if (run.print) process.stdout.write(`${JSON.stringify(window, null, 2)}\n`);
    else {
      await sink.send(agent.batchFor(window));
      await sink.flush?.(10_000);
    }
    await stopTracing();
    return;
  }

  collectProcessMetrics(registry, 'mlcost_agent_process_');
  const server = await listenForMetrics(registry, config.agent.listen);
  agent.start();
  logger.info({ url: server.url, collector: config.agent.collectorUrl }, 'agent is running');
  process.stdout.write(`mlcost agent is running; metrics at ${server.url}/metrics\n`);
  onShutdown(logger, async () => {
    await agent.stop();
    await server.close();
    await stopTracing();
  });
}
