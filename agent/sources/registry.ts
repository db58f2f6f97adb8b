// The named sources the agent can run, each switchable by `agent.sources`; which run by default depends on
// whether the agent watches this machine alone (`mlcost start`) or a Kubernetes node (`mlcost agent`).
import type { Config } from '../../core/config/config.ts';
import { NODE_SOURCES, type SourceName, STANDALONE_SOURCES } from '../../core/config/keys.ts';
import type { Logger } from '../../core/logger.ts';
import type { Source } from '../source.ts';
import { createDcgmSource, DEFAULT_DCGM_URL } from './dcgm.ts';
import { createHostSource } from './host.ts';
import { createNvidiaSmiSource } from './nvidia-smi.ts';

export type AgentMode = 'standalone' | 'node';

type SourceFactory = (config: Config, logger: Logger) => Source;

export const SOURCE_FACTORIES: Partial<Record<SourceName, SourceFactory>> = {
  host: () => createHostSource(),
  'nvidia-smi': (config) =>
    createNvidiaSmiSource({ path: config.agent.nvidiaSmi.path, timeoutMs: config.agent.nvidiaSmi.timeout }),
  dcgm: (config) =>
    createDcgmSource({
      url: config.agent.dcgm.url || DEFAULT_DCGM_URL,
      timeoutMs: config.agent.sourceTimeout,
      maxBodyBytes: config.agent.limits.maxBodyBytes,
      maxSeries: config.agent.limits.maxSeries,
    }),
};

export function sourceNamesFor(config: Config, mode: AgentMode): readonly SourceName[] {
  if (config.agent.sources.length > 0) return config.agent.sources;
  return mode === 'standalone' ? STANDALONE_SOURCES : NODE_SOURCES;
}

export function createSources(config: Config, mode: AgentMode, logger: Logger): Source[] {
  return sourceNamesFor(config, mode).flatMap((name) => {
    const factory = SOURCE_FACTORIES[name];
    return factory ? [factory(config, logger)] : [];
  });
}
