// Configuration: defaults, mlcost.yaml, MLCOST_* variables and flags (later wins), and one-line errors that name the
// key, the value and what is allowed. Every expected value is written out by hand from the documented defaults.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.ts';
import { CONFIG_KEYS, envNameFor } from './keys.ts';
import { type ConfigSources, loadConfig } from './load.ts';

const dir = mkdtempSync(join(tmpdir(), 'mlcost-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
function yamlFile(text: string): string {
  const file = join(dir, `config-${files++}.yaml`);
  writeFileSync(file, text);
  return file;
}

/** Loads with an empty environment unless one is given, so the test runner's own variables never leak in. */
function load(sources: ConfigSources = {}) {
  return loadConfig({ env: {}, ...sources });
}

/** The ConfigError that loading throws; fails the test when loading succeeds or throws something else. */
function configError(sources: ConfigSources): ConfigError {
  try {
    load(sources);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message, 'a configuration error is one line').not.toMatch(/[\r\n]/);
    return error as ConfigError;
  }
  throw new Error('expected loadConfig to throw a ConfigError');
}

describe('defaults', () => {
  it('gives every key its documented default when nothing is set', () => {
    const config = load();
    expect(config).toMatchObject({
      logLevel: 'info',
      dataDir: './data',
      currency: 'USD',
      collector: {
        listen: '127.0.0.1:8080',
        database: '',
        ingestToken: '',
        maxBatchBytes: 8 * 1024 * 1024,
        retention: 30 * 24 * 3600 * 1000,
      },
      agent: {
        enabled: true,
        nodeName: '',
        interval: 15_000,
        window: 60_000,
        sourceTimeout: 10_000,
        collectorUrl: 'http://127.0.0.1:8080',
        token: '',
        listen: '0.0.0.0:9495',
        nvidiaSmi: { path: 'nvidia-smi', timeout: 5_000 },
      },
    });
    expect(Array.isArray(config.agent.sources)).toBe(true);
  });

  it('sets a value for every key in the table', () => {
    const config = load() as unknown as Record<string, unknown>;
    for (const spec of CONFIG_KEYS) {
      const value = spec.key
        .split('.')
        .reduce<unknown>((node, part) => (node as Record<string, unknown>)?.[part], config);
      expect(value, spec.key).not.toBeUndefined();
    }
  });
});

describe('the YAML file', () => {
  it('sets nested keys, parsing durations, sizes, lists and booleans', () => {
    const file = yamlFile(`
logLevel: debug
currency: EUR
collector:
  listen: 0.0.0.0:9090
  maxBatchBytes: 1Mi
  retention: 7d
agent:
  interval: 10s
  window: 1m
  sources: [host]
  enabled: false
  nvidiaSmi:
    timeout: 2s
    path: /usr/local/bin/nvidia-smi
`);
    const config = load({ file });
    expect(config.logLevel).toBe('debug');
    expect(config.currency).toBe('EUR');
    expect(config.collector.listen).toBe('0.0.0.0:9090');
    expect(config.collector.maxBatchBytes).toBe(1_048_576);
    expect(config.collector.retention).toBe(604_800_000);
    expect(config.agent.interval).toBe(10_000);
    expect(config.agent.window).toBe(60_000);
    expect(config.agent.sources).toEqual(['host']);
    expect(config.agent.enabled).toBe(false);
    expect(config.agent.nvidiaSmi).toEqual({ path: '/usr/local/bin/nvidia-smi', timeout: 2_000 });
    // Keys the file leaves out keep their defaults.
    expect(config.dataDir).toBe('./data');
    expect(config.agent.sourceTimeout).toBe(10_000);
  });

  it('reads a bare number as seconds for a duration', () => {
    expect(load({ file: yamlFile('agent:\n  interval: 30\n  window: 90\n') }).agent).toMatchObject({
      interval: 30_000,
      window: 90_000,
    });
  });

  it('is found through MLCOST_CONFIG', () => {
    const file = yamlFile('currency: GBP\n');
    expect(load({ env: { MLCOST_CONFIG: file } }).currency).toBe('GBP');
  });

  it('treats an empty file as no settings', () => {
    expect(load({ file: yamlFile('') }).currency).toBe('USD');
  });

  it('refuses a file that does not exist, naming it', () => {
    const missing = join(dir, 'nope.yaml');
    expect(configError({ file: missing }).message).toContain(missing);
  });

  it('refuses a file that is not YAML in one line', () => {
    const error = configError({ file: yamlFile('agent: [unclosed\n  interval: 5s\n') });
    expect(error.message).toMatch(/not valid YAML/);
  });
});

describe('precedence', () => {
  const file = () =>
    yamlFile('currency: EUR\nagent:\n  interval: 10s\n  window: 60s\ncollector:\n  listen: 0.0.0.0:1111\n');

  it('lets MLCOST_* variables override the file', () => {
    const config = load({
      file: file(),
      env: { MLCOST_CURRENCY: 'GBP', MLCOST_AGENT_INTERVAL: '20s', HOME: '/root', PATH: '/bin' },
    });
    expect(config.currency).toBe('GBP');
    expect(config.agent.interval).toBe(20_000);
    expect(config.collector.listen).toBe('0.0.0.0:1111');
  });

  it('lets flags override variables and the file', () => {
    const config = load({
      file: file(),
      env: { MLCOST_CURRENCY: 'GBP', MLCOST_COLLECTOR_LISTEN: '127.0.0.1:2222' },
      flags: { currency: 'JPY', 'collector.listen': '127.0.0.1:3333' },
    });
    expect(config.currency).toBe('JPY');
    expect(config.collector.listen).toBe('127.0.0.1:3333');
    expect(config.agent.interval).toBe(10_000);
  });

  it('skips flags that were not given (undefined)', () => {
    expect(load({ env: { MLCOST_CURRENCY: 'GBP' }, flags: { currency: undefined } }).currency).toBe('GBP');
  });

  it('reads booleans and lists from variables', () => {
    const config = load({ env: { MLCOST_AGENT_ENABLED: 'false', MLCOST_AGENT_SOURCES: 'nvidia-smi, host' } });
    expect(config.agent.enabled).toBe(false);
    expect(config.agent.sources).toEqual(['nvidia-smi', 'host']);
  });

  it('ignores variables that do not start with MLCOST_', () => {
    expect(load({ env: { AGENT_INTERVAL: 'abc', mlcost_currency: 'x' } }).agent.interval).toBe(15_000);
  });
});

describe('credentials in errors', () => {
  it('a bad OTLP header value names the key but not the header', () => {
    const error = configError({ env: { MLCOST_OTLP_METRICS_HEADERS: 'Bearer s3cret-value' } });
    expect(error.key).toBe('otlp.metricsHeaders');
    expect(error.message).not.toContain('s3cret');
    // 'Bearer s3cret-value' is 19 characters.
    expect(error.message).toContain('(hidden, 19 characters)');
  });

  it('a token variable with a typo is named without its value', () => {
    const error = configError({ env: { MLCOST_COLLECTOR_INGEST_TOKENS: 'abc123' } });
    expect(error.key).toBe('MLCOST_COLLECTOR_INGEST_TOKENS');
    expect(error.message).not.toContain('abc123');
    expect(error.message).toContain('(hidden, 6 characters)');
  });

  it('a token file is a path, not a credential: its value is shown', () => {
    const error = configError({ env: { MLCOST_AGENT_TOKEN_FILES: '/var/run/token' } });
    expect(error.key).toBe('MLCOST_AGENT_TOKEN_FILES');
    expect(error.message).toContain('"/var/run/token"');
  });
});

describe('unknown keys', () => {
  it('in the file: names the key, its value and the keys allowed there', () => {
    const file = yamlFile('agent:\n  intervall: 5s\n');
    const error = configError({ file });
    expect(error.key).toBe('agent.intervall');
    expect(error.message).toContain('agent.intervall');
    expect(error.message).toContain('"5s"');
    expect(error.message).toContain(file);
    expect(error.message).toMatch(/allowed keys: .*agent\.interval\b/);
  });

  it('at the top of the file', () => {
    const error = configError({ file: yamlFile('colour: blue\n') });
    expect(error.key).toBe('colour');
    expect(error.message).toContain('"blue"');
    expect(error.message).toMatch(/allowed keys: .*currency/);
  });

  it('a mapping given where a value belongs is unknown too', () => {
    const error = configError({ file: yamlFile('currency:\n  code: USD\n') });
    expect(error.message).toContain('currency');
  });

  it('in MLCOST_ variables: names the variable, its value and the variables allowed', () => {
    const error = configError({ env: { MLCOST_AGENT_INTERVALL: '5s' } });
    expect(error.key).toBe('MLCOST_AGENT_INTERVALL');
    expect(error.message).toContain('MLCOST_AGENT_INTERVALL');
    expect(error.message).toContain('"5s"');
    expect(error.message).toMatch(/allowed keys: .*MLCOST_AGENT_INTERVAL\b/);
  });

  it('in flags: names the key, its value and the keys allowed', () => {
    const error = configError({ flags: { 'agent.bogus': 'yes' } });
    expect(error.key).toBe('agent.bogus');
    expect(error.message).toContain('agent.bogus');
    expect(error.message).toContain('"yes"');
    expect(error.message).toMatch(/allowed keys: .*agent\.sources/);
  });

  it('MLCOST_CONFIG is not taken for a key', () => {
    expect(() => load({ env: { MLCOST_CONFIG: '' } })).not.toThrow();
  });
});

describe('bad values', () => {
  it('a bad duration names the key, the value, where it came from and what is allowed', () => {
    const error = configError({ env: { MLCOST_AGENT_INTERVAL: 'abc' } });
    expect(error.key).toBe('agent.interval');
    expect(error.message).toContain('agent.interval');
    expect(error.message).toContain('"abc"');
    expect(error.message).toContain('MLCOST_AGENT_INTERVAL');
    expect(error.message).toContain('a duration such as 15s');
  });

  it('a zero duration where a positive one is needed', () => {
    const error = configError({ flags: { 'agent.sourceTimeout': '0s' } });
    expect(error.key).toBe('agent.sourceTimeout');
    expect(error.message).toMatch(/greater than zero/);
  });

  it.each(['localhost', '127.0.0.1', ':', 'host:port', '1.2.3.4:123456', '127.0.0.1:65536', '0.0.0.0:99999'])(
    'a bad listen address %j',
    (listen) => {
      const error = configError({ flags: { 'collector.listen': listen } });
      expect(error.key).toBe('collector.listen');
      expect(error.message).toContain(JSON.stringify(listen));
      expect(error.message).toContain('host:port');
    },
  );

  it.each(['0.0.0.0:8080', ':8080', '[::1]:8080', 'collector.mlcost.svc:80'])(
    'a good listen address %j',
    (listen) => {
      expect(load({ flags: { 'collector.listen': listen } }).collector.listen).toBe(listen);
    },
  );

  it.each(['usd', 'US', 'EURO', '€'])('a bad currency %j', (currency) => {
    const error = configError({ env: { MLCOST_CURRENCY: currency } });
    expect(error.key).toBe('currency');
    expect(error.message).toContain(JSON.stringify(currency));
    expect(error.message).toContain('ISO 4217');
  });

  it('a bad size', () => {
    const error = configError({ env: { MLCOST_COLLECTOR_MAX_BATCH_BYTES: 'lots' } });
    expect(error.key).toBe('collector.maxBatchBytes');
    expect(error.message).toContain('"lots"');
    expect(error.message).toContain('a size such as 8Mi');
  });

  it('an unknown source', () => {
    const error = configError({ flags: { 'agent.sources': 'host,bogus' } });
    expect(error.key).toBe('agent.sources');
    expect(error.message).toContain('"host,bogus"');
    expect(error.message).toMatch(/comma-separated list of host, nvidia-smi/);
  });

  it('a bad boolean and a bad log level', () => {
    expect(configError({ env: { MLCOST_AGENT_ENABLED: 'maybe' } }).key).toBe('agent.enabled');
    expect(configError({ env: { MLCOST_LOG_LEVEL: 'loud' } }).key).toBe('logLevel');
  });

  it('a window that is not a whole multiple of the interval', () => {
    const error = configError({ flags: { 'agent.interval': '15s', 'agent.window': '50s' } });
    expect(error.key).toBe('agent.window');
    expect(error.message).toContain('agent.window');
    expect(error.message).toContain('50s');
    expect(error.message).toContain('15s');
    expect(error.message).toMatch(/multiple of agent\.interval/);
  });

  it('a window shorter than the interval', () => {
    const error = configError({ env: { MLCOST_AGENT_INTERVAL: '30s', MLCOST_AGENT_WINDOW: '15s' } });
    expect(error.key).toBe('agent.window');
    expect(error.message).toContain('MLCOST_AGENT_WINDOW');
  });

  it('a window equal to or a multiple of the interval is fine', () => {
    expect(load({ flags: { 'agent.interval': '1s', 'agent.window': '1s' } }).agent.window).toBe(1_000);
    expect(load({ flags: { 'agent.interval': '1s', 'agent.window': '2s' } }).agent.window).toBe(2_000);
  });
});

describe('environment variable names', () => {
  it.each([
    ['agent.nvidiaSmi.timeout', 'MLCOST_AGENT_NVIDIA_SMI_TIMEOUT'],
    ['agent.nvidiaSmi.path', 'MLCOST_AGENT_NVIDIA_SMI_PATH'],
    ['collector.maxBatchBytes', 'MLCOST_COLLECTOR_MAX_BATCH_BYTES'],
    ['collector.ingestToken', 'MLCOST_COLLECTOR_INGEST_TOKEN'],
    ['dataDir', 'MLCOST_DATA_DIR'],
    ['logLevel', 'MLCOST_LOG_LEVEL'],
    ['currency', 'MLCOST_CURRENCY'],
    ['agent.sourceTimeout', 'MLCOST_AGENT_SOURCE_TIMEOUT'],
  ])('%s is %s', (key, name) => {
    expect(envNameFor(key)).toBe(name);
  });

  it('every key has a distinct variable, and each variable sets its key', () => {
    const names = CONFIG_KEYS.map((spec) => envNameFor(spec.key));
    expect(new Set(names).size).toBe(CONFIG_KEYS.length);
    expect(load({ env: { MLCOST_AGENT_NVIDIA_SMI_TIMEOUT: '3s' } }).agent.nvidiaSmi.timeout).toBe(3_000);
    expect(load({ env: { MLCOST_DATA_DIR: '/var/lib/mlcost' } }).dataDir).toBe('/var/lib/mlcost');
  });
});
