// The named sources the agent can run, each switchable by `agent.sources`.
import type { Config } from '../../core/config/config.ts';
import type { SourceName } from '../../core/config/keys.ts';
import type { Source } from '../source.ts';
import { createHostSource } from './host.ts';
import { createNvidiaSmiSource } from './nvidia-smi.ts';

type SourceFactory = (config: Config) => Source;

export const SOURCE_FACTORIES: Record<SourceName, SourceFactory> = {
  host: () => createHostSource(),
  'nvidia-smi': (config) =>
    createNvidiaSmiSource({ path: config.agent.nvidiaSmi.path, timeoutMs: config.agent.nvidiaSmi.timeout }),
};

export function createSources(config: Config): Source[] {
  return config.agent.sources.map((name) => SOURCE_FACTORIES[name](config));
}
