// Loads configuration from mlcost.yaml, MLCOST_* environment variables and flags (later wins), and validates it
// once: the first bad or unknown key becomes a ConfigError whose message names the key, the value and what is allowed.
import { existsSync, readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../errors.ts';
import type { Config } from './config.ts';
import { CONFIG_KEYS, envNameFor, type KeySpec, shownValue } from './keys.ts';

export interface ConfigSources {
  /** Path given with --config or MLCOST_CONFIG; when absent, ./mlcost.yaml is read if it exists. */
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Values from flags, by dotted key (`--listen` becomes `collector.listen`, `--set k=v` becomes `k`). */
  flags?: Record<string, unknown>;
}

interface RawValue {
  value: unknown;
  origin: string;
}

const SPECS = new Map<string, KeySpec>(CONFIG_KEYS.map((spec) => [spec.key, spec as KeySpec]));
const ENV_TO_KEY = new Map<string, string>(CONFIG_KEYS.map((spec) => [envNameFor(spec.key), spec.key]));
/** MLCOST_* variables that are not configuration keys themselves. */
const NON_KEY_ENV = new Set(['MLCOST_CONFIG']);

export function loadConfig(sources: ConfigSources = {}): Config {
  const env = sources.env ?? process.env;
  const raw = new Map<string, RawValue>();

  const file = sources.file ?? env['MLCOST_CONFIG'];
  if (file !== undefined && file !== '') {
    if (!existsSync(file)) throw new ConfigError('config', `configuration file ${file} does not exist`);
    readFileInto(file, raw);
  } else if (existsSync('mlcost.yaml')) {
    readFileInto('mlcost.yaml', raw);
  }

  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('MLCOST_') || NON_KEY_ENV.has(name) || value === undefined) continue;
    const key = ENV_TO_KEY.get(name);
    if (!key) throw unknownKey(name, value, 'environment');
    raw.set(key, { value, origin: name });
  }

  for (const [key, value] of Object.entries(sources.flags ?? {})) {
    if (value === undefined) continue;
    if (!SPECS.has(key)) throw unknownKey(key, value, 'flags');
    raw.set(key, { value, origin: 'flag' });
  }

  const config = {} as Record<string, unknown>;
  for (const spec of SPECS.values()) {
    const given = raw.get(spec.key);
    const parsed =
      given === undefined ? spec.schema.safeParse(spec.default) : spec.schema.safeParse(given.value);
    if (!parsed.success) {
      const reason = parsed.error.issues[0]?.message ?? 'invalid';
      const shown = shownValue(spec.key, given?.value ?? spec.default);
      throw new ConfigError(
        spec.key,
        `invalid configuration: ${spec.key} = ${shown} (from ${given?.origin ?? 'default'}): ${reason}; allowed: ${spec.allowed}`,
      );
    }
    setPath(config, spec.key, parsed.data);
  }
  const typed = config as unknown as Config;
  checkRelations(typed, raw);
  return typed;
}

function checkRelations(config: Config, raw: Map<string, RawValue>): void {
  const { interval, window } = config.agent;
  if (window < interval || window % interval !== 0) {
    const origin = raw.get('agent.window')?.origin ?? 'default';
    throw new ConfigError(
      'agent.window',
      `invalid configuration: agent.window = ${window / 1000}s (from ${origin}): must be a whole multiple of agent.interval (${interval / 1000}s)`,
    );
  }
}

function readFileInto(file: string, raw: Map<string, RawValue>): void {
  let document: unknown;
  try {
    document = parseYaml(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError(
      'config',
      `configuration file ${file} is not valid YAML: ${(error as Error).message.split('\n')[0]}`,
    );
  }
  if (document === null || document === undefined) return;
  if (typeof document !== 'object' || Array.isArray(document)) {
    throw new ConfigError(
      'config',
      `configuration file ${file} must hold a mapping of keys, not ${typeof document}`,
    );
  }
  flatten(document as Record<string, unknown>, '', file, raw);
}

function flatten(
  node: Record<string, unknown>,
  prefix: string,
  file: string,
  raw: Map<string, RawValue>,
): void {
  for (const [name, value] of Object.entries(node)) {
    const key = prefix ? `${prefix}.${name}` : name;
    if (SPECS.has(key)) {
      raw.set(key, { value, origin: file });
    } else if (value !== null && typeof value === 'object' && !Array.isArray(value) && hasKeysUnder(key)) {
      flatten(value as Record<string, unknown>, key, file, raw);
    } else {
      throw unknownKey(key, value, file);
    }
  }
}

function hasKeysUnder(prefix: string): boolean {
  for (const key of SPECS.keys()) if (key.startsWith(`${prefix}.`)) return true;
  return false;
}

function unknownKey(key: string, value: unknown, origin: string): ConfigError {
  const parent = key.startsWith('MLCOST_') ? '' : key.includes('.') ? key.slice(0, key.lastIndexOf('.')) : '';
  const siblings = key.startsWith('MLCOST_')
    ? [...ENV_TO_KEY.keys()]
    : [...SPECS.keys()].filter((k) => (parent ? k.startsWith(`${parent}.`) : true)).map((k) => k);
  return new ConfigError(
    key,
    `invalid configuration: unknown key ${key} = ${shownValue(key, value)} (from ${origin}); allowed keys: ${siblings.join(', ')}`,
  );
}

function setPath(target: Record<string, unknown>, key: string, value: unknown): void {
  const parts = key.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    node[part] ??= {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts.at(-1)!] = value;
}

/** Help text listing every key with its env variable, default and what is allowed. */
export function describeConfigKeys(): string {
  const lines = CONFIG_KEYS.map((spec) => {
    const def = Array.isArray(spec.default) ? spec.default.join(',') : String(spec.default);
    return `  ${spec.key.padEnd(24)} ${envNameFor(spec.key).padEnd(34)} ${spec.help} (default: ${def === '' ? '""' : def}; ${spec.allowed})`;
  });
  return ['Configuration keys (mlcost.yaml key, environment variable, meaning):', ...lines].join('\n');
}
