// Builds an agent for this node from configuration: its sources, sequence file and metrics.
import { join } from 'node:path';
import type { Registry } from 'prom-client';
import type { Config } from '../core/config/config.ts';
import type { Logger } from '../core/logger.ts';
import { Agent } from './agent.ts';
import { createGpuGauges } from './gpu-gauges.ts';
import { type AgentMetrics, createAgentMetrics } from './metrics.ts';
import { nodeNameFor } from './node-name.ts';
import { agentIdOf, SequenceFile } from './sequence-file.ts';
import type { BatchSink } from './sink.ts';
import { type AgentMode, createSources } from './sources/registry.ts';

export interface SinkContext {
  agentId: string;
  metrics: AgentMetrics;
  logger: Logger;
}

/** The sequence file of one node's agent under <dataDir>/agent/. */
export function sequenceFileFor(config: Config, nodeName: string): SequenceFile {
  return new SequenceFile(
    join(config.dataDir, 'agent', `${nodeName.replace(/[^A-Za-z0-9._-]/g, '_')}.sequence.json`),
  );
}

export function createAgent(
  config: Config,
  deps: {
    /** Makes the sink, given the agent's identity and metrics (the spooling sink counts into them). */
    sink: BatchSink | ((context: SinkContext) => BatchSink);
    registry: Registry;
    logger: Logger;
    mode: AgentMode;
  },
): Agent {
  const nodeName = nodeNameFor(config);
  const metrics = createAgentMetrics(deps.registry);
  const logger = deps.logger.child({ component: 'agent' });
  const sequence = sequenceFileFor(config, nodeName);
  const agentId = agentIdOf(nodeName, sequence.instance);
  const sink = typeof deps.sink === 'function' ? deps.sink({ agentId, metrics, logger }) : deps.sink;
  return new Agent({
    agentId,
    nodeName,
    intervalMs: config.agent.interval,
    windowMs: config.agent.window,
    sourceTimeoutMs: config.agent.sourceTimeout,
    sources: createSources(config, deps.mode, deps.logger),
    sink,
    sequence,
    metrics,
    logger,
    onSamples: createGpuGauges(deps.registry),
  });
}
