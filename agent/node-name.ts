// The node this agent reports for: agent.nodeName, else NODE_NAME from the downward API, else the host name.
import { hostname } from 'node:os';
import type { Config } from '../core/config/config.ts';

export function nodeNameFor(config: Config, env: NodeJS.ProcessEnv = process.env): string {
  return config.agent.nodeName || env['NODE_NAME'] || hostname();
}
