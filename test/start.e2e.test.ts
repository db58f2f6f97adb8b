// `mlcost start` as a user runs it: the real CLI in its own process, on a free port and a temporary data folder.
// It must print its address, answer /healthz, show this machine with CPU and memory use within a couple of
// intervals, and exit 0 on SIGTERM. Also: --help lists every option and key, and bad configuration exits
// non-zero with one line on stderr naming the key.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, hostname, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONFIG_KEYS, envNameFor } from '../core/config/keys.ts';
import {
  cleanEnv,
  freePort,
  killAll,
  MlcostProcess,
  pollUntil,
  runMlcost,
} from './support/mlcost-process.ts';

const INTERVAL_MS = 1000;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'mlcost-start-e2e-'));
});
afterAll(async () => {
  await killAll();
  rmSync(dir, { recursive: true, force: true });
});

interface NodesBody {
  currency: string;
  nodes: Array<{
    name: string;
    capacity: { cpuCores: number; memoryBytes: number };
    usage: {
      cpuCores: number | null;
      memoryBytes: number | null;
      windowStart: string;
      windowEnd: string;
    } | null;
  }>;
}

describe('mlcost start', () => {
  it('serves, shows this machine with CPU and memory use, and exits 0 on SIGTERM', async () => {
    const port = await freePort();
    const dataDir = join(dir, 'data');
    const started = Date.now();
    const mlcost = new MlcostProcess(
      ['start', '--listen', `127.0.0.1:${port}`, '--data-dir', dataDir, '--interval', '1s', '--window', '2s'],
      { cwd: dir, env: cleanEnv() },
    );

    const [, url] = await mlcost.waitForStdout(/mlcost is running at (http:\/\/\S+)\n/, 30_000);
    const readyAfter = Date.now() - started;
    expect(readyAfter).toBeLessThan(30_000);
    expect(url).toBe(`http://127.0.0.1:${port}`);

    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    expect((await fetch(`${url}/readyz`)).status).toBe(200);

    // The first window closes at the first interval boundary (≤ 1 interval after the first sample), so the
    // machine should show within 2 intervals of ready; the rest of the allowance is slack for a loaded CI box.
    const readyAt = Date.now();
    const node = await pollUntil(
      async () => {
        const response = await fetch(`${url}/api/v1/nodes`);
        if (response.status !== 200) return undefined;
        const body = (await response.json()) as NodesBody;
        expect(body.currency).toBe('USD');
        const me = body.nodes.find((n) => n.name === hostname());
        return me?.usage?.cpuCores != null && me.usage.memoryBytes != null ? me : undefined;
      },
      {
        timeoutMs: 2 * INTERVAL_MS + 8_000,
        everyMs: 100,
        what: `node ${hostname()} with CPU and memory usage`,
      },
    );
    const shownAfter = Date.now() - readyAt;
    console.info(`mlcost start: ready after ${readyAfter} ms; node shown ${shownAfter} ms after ready`);

    expect(node.capacity.cpuCores).toBe(cpus().length);
    expect(node.capacity.memoryBytes).toBe(totalmem());
    expect(node.usage!.cpuCores).toBeGreaterThanOrEqual(0);
    expect(node.usage!.cpuCores).toBeLessThanOrEqual(cpus().length);
    expect(node.usage!.memoryBytes).toBeGreaterThan(0);
    expect(node.usage!.memoryBytes).toBeLessThanOrEqual(totalmem());
    expect(Date.parse(node.usage!.windowEnd)).toBeGreaterThan(Date.parse(node.usage!.windowStart));

    mlcost.signal('SIGTERM');
    const exit = await mlcost.waitForExit(15_000);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(mlcost.stderr).not.toMatch(/"level":"(error|fatal)"/);
  });
});

describe('mlcost --help', () => {
  it('top-level help names every command and the version flag', () => {
    const { status, stdout } = runMlcost(['--help'], { cwd: dir });
    expect(status).toBe(0);
    for (const text of ['start', 'collector', 'agent', '--version', '--help', 'mlcost start --help']) {
      expect(stdout).toContain(text);
    }
  });

  it('start --help names every start flag and every configuration key with its variable', () => {
    const { status, stdout } = runMlcost(['start', '--help'], { cwd: dir });
    expect(status).toBe(0);
    const flags = [
      '--listen <host:port>',
      '--interval <duration>',
      '--window <duration>',
      '--sources <list>',
      '--node-name <name>',
      '--no-agent',
      '-c, --config <file>',
      '--data-dir <dir>',
      '--log-level <level>',
      '--set <key=value...>',
      '--help',
    ];
    for (const flag of flags) expect(stdout, flag).toContain(flag);
    for (const spec of CONFIG_KEYS) {
      expect(stdout, spec.key).toMatch(
        new RegExp(`^\\s+${spec.key.replace(/\./g, '\\.')}\\s+${envNameFor(spec.key)}\\s`, 'm'),
      );
    }
  });

  it('collector --help and agent --help name their own flags and every key', () => {
    const collector = runMlcost(['collector', '--help'], { cwd: dir });
    expect(collector.status).toBe(0);
    for (const flag of [
      '--listen <host:port>',
      '--ingest-token <token>',
      '--config <file>',
      '--data-dir <dir>',
      '--set',
    ]) {
      expect(collector.stdout, flag).toContain(flag);
    }
    const agent = runMlcost(['agent', '--help'], { cwd: dir });
    expect(agent.status).toBe(0);
    for (const flag of [
      '--collector-url <url>',
      '--node-name <name>',
      '--interval <duration>',
      '--window <duration>',
      '--sources <list>',
      '--agent-listen <host:port>',
    ]) {
      expect(agent.stdout, flag).toContain(flag);
    }
    for (const spec of CONFIG_KEYS) {
      expect(collector.stdout, spec.key).toContain(envNameFor(spec.key));
      expect(agent.stdout, spec.key).toContain(envNameFor(spec.key));
    }
  });
});

describe('bad configuration', () => {
  const nonEmptyLines = (text: string) => text.split('\n').filter((line) => line.trim() !== '');

  it('MLCOST_AGENT_INTERVAL=abc exits non-zero with one stderr line naming the key and the value', () => {
    const port = String(20000 + Math.floor(Math.random() * 20000));
    const { status, stdout, stderr } = runMlcost(
      ['start', '--listen', `127.0.0.1:${port}`, '--data-dir', join(dir, 'bad1')],
      {
        cwd: dir,
        env: cleanEnv({ MLCOST_AGENT_INTERVAL: 'abc' }),
      },
    );
    expect(status).not.toBe(0);
    const lines = nonEmptyLines(stderr);
    expect(lines, stderr).toHaveLength(1);
    expect(lines[0]).toContain('agent.interval');
    expect(lines[0]).toContain('abc');
    expect(stdout).not.toContain('is running');
  });

  it('an unknown key in the YAML file exits non-zero with one stderr line naming the key', () => {
    const file = join(dir, 'mlcost-unknown.yaml');
    writeFileSync(file, 'agent:\n  interval: 5s\n  intervall: 10s\n');
    const { status, stderr } = runMlcost(['start', '--config', file, '--data-dir', join(dir, 'bad2')], {
      cwd: dir,
    });
    expect(status).not.toBe(0);
    const lines = nonEmptyLines(stderr);
    expect(lines, stderr).toHaveLength(1);
    expect(lines[0]).toContain('agent.intervall');
    expect(lines[0]).toContain(file);
  });

  it('an unknown key in ./mlcost.yaml (found without --config) is refused the same way', () => {
    const folder = mkdtempSync(join(dir, 'cwd-'));
    writeFileSync(join(folder, 'mlcost.yaml'), 'colector:\n  listen: 127.0.0.1:1\n');
    const { status, stderr } = runMlcost(['start'], { cwd: folder });
    expect(status).not.toBe(0);
    const lines = nonEmptyLines(stderr);
    expect(lines, stderr).toHaveLength(1);
    expect(lines[0]).toContain('colector');
  });
});
