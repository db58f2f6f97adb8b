// Builds an agent for this node from configuration: its sources, sequence file and metrics.
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Registry } from 'prom-client';
import type { Config } from '../core/config/config.ts';
import type { Logger } from '../core/logger.ts';
import { Agent } from './agent.ts';
import { createGpuGauges } from './gpu-gauges.ts';
import { createAgentMetrics } from './metrics.ts';
import { SequenceFile } from './sequence-file.ts';
import type { BatchSink } from './sink.ts';
import { type AgentMode, createSources } from './sources/registry.ts';

export function nodeNameFor(config: Config): string {
  return config.agent.nodeName || process.env['NODE_NAME'] || hostname();
}

export function createAgent(
  config: Config,
  deps: { sink: BatchSink; registry: Registry; logger: Logger; mode: AgentMode },
): Agent {
  const nodeName = nodeNameFor(config);
  return new Agent({
    agentId: nodeName,
    nodeName,
    intervalMs: config.agent.interval,
    windowMs: config.agent.window,
    sourceTimeoutMs: config.agent.sourceTimeout,
    sources: createSources(config, deps.mode, deps.logger),
    sink: deps.sink,
    sequence: new SequenceFile(
      join(config.dataDir, 'agent', `${nodeName.replace(/[^A-Za-z0-9._-]/g, '_')}.sequence.json`),
    ),
    metrics: createAgentMetrics(deps.registry),
    logger: deps.logger.child({ component: 'agent' }),
    onSamples: createGpuGauges(deps.registry),
  });
}
