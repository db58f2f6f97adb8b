// The /metrics a real mlcost serves must pass Prometheus's own linter: `promtool check metrics` (exit 0, no lint
// problem). Checked on `mlcost start` after it has ingested windows (its own agent's and one POSTed over HTTP, plus
// a refused request so every counter has moved) and on the standalone `mlcost agent`.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cleanEnv,
  freePort,
  killAll,
  MlcostProcess,
  PROMTOOL,
  pollUntil,
  requireTool,
} from './support/mlcost-process.ts';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'mlcost-promtool-'));
});
afterAll(async () => {
  await killAll();
  rmSync(dir, { recursive: true, force: true });
});

function promtoolCheck(text: string): { status: number | null; output: string } {
  const promtool = requireTool(PROMTOOL, 'promtool');
  const result = spawnSync(promtool, ['check', 'metrics'], {
    input: text,
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (result.error) throw result.error;
  return { status: result.status, output: `${result.stdout}${result.stderr}`.trim() };
}

async function scrape(url: string): Promise<string> {
  const response = await fetch(`${url}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return response.text();
}

describe('promtool check metrics', () => {
  it('the linter itself is installed and flags a bad exposition (so a pass below means something)', () => {
    const bad = '# HELP foo_total a gauge named like a counter\n# TYPE foo_total gauge\nfoo_total 1\n';
    const result = promtoolCheck(bad);
    expect(result.status).not.toBe(0);
    expect(result.output).toMatch(/foo_total/);
    expect(promtoolCheck('# HELP ok_total fine\n# TYPE ok_total counter\nok_total 1\n')).toEqual({
      status: 0,
      output: '',
    });
  });

  it("passes on mlcost start's /metrics after ingest", async () => {
    requireTool(PROMTOOL, 'promtool');
    const port = await freePort();
    const mlcost = new MlcostProcess(
      [
        'start',
        '--listen',
        `127.0.0.1:${port}`,
        '--data-dir',
        join(dir, 'start'),
        '--interval',
        '1s',
        '--window',
        '2s',
      ],
      { cwd: dir, env: cleanEnv() },
    );
    const [, url] = await mlcost.waitForStdout(/mlcost is running at (http:\/\/\S+)\n/, 30_000);

    const now = Date.now();
    const batch = {
      schemaVersion: 1,
      agentId: 'promtool-agent',
      sequence: 0,
      sentAt: new Date(now).toISOString(),
      windows: [
        {
          start: new Date(now - 60_000).toISOString(),
          end: new Date(now).toISOString(),
          node: {
            name: 'promtool-node',
            capacity: { cpuCores: 8, memoryBytes: 2 ** 34 },
            cpuUsedCoresAvg: 1,
          },
          gpus: [{ id: 'GPU-p', uuid: 'GPU-p', activityAvg: 0.5, powerWattsAvg: 300 }],
        },
      ],
    };
    const ingest = (body: string) =>
      fetch(`${url}/api/v1/ingest`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
    expect((await ingest(JSON.stringify(batch))).status).toBe(200);
    expect((await ingest('{"truncated": ')).status).toBe(400);

    // Wait for the built-in agent's own window, so the agent's metrics are in the exposition too.
    await pollUntil(
      async () => {
        const body = (await (await fetch(`${url}/api/v1/nodes`)).json()) as {
          nodes: Array<{ name: string }>;
        };
        return body.nodes.some((n) => n.name === hostname()) ? true : undefined;
      },
      { timeoutMs: 15_000, what: 'the built-in agent’s first window' },
    );

    const text = await scrape(url!);
    // promtool passes an empty input, so first make sure this is the real exposition.
    expect(text).toMatch(/^mlcost_build_info\{version="[^"]+",currency="USD"\} 1$/m);
    expect(text).toMatch(/^mlcost_collector_batches_accepted_total [1-9]/m);
    expect(text).toMatch(/^mlcost_collector_ingest_rejections_total\{reason="malformed"\} 1$/m);
    expect(text).toMatch(/^mlcost_collector_ingest_duration_seconds_count [1-9]/m);
    expect(text).toMatch(/^mlcost_agent_source_up\{source="host"\} 1$/m);

    const result = promtoolCheck(text);
    expect(result.output, 'promtool lint problems').toBe('');
    expect(result.status).toBe(0);

    mlcost.signal('SIGTERM');
    expect((await mlcost.waitForExit(15_000)).code).toBe(0);
  });

  it("passes on mlcost agent's own /metrics", async () => {
    requireTool(PROMTOOL, 'promtool');
    const [agentPort, collectorPort] = [await freePort(), await freePort()];
    // No collector listens on collectorPort: the agent keeps its batches and counts ship failures, which is fine here.
    const agent = new MlcostProcess(
      [
        'agent',
        '--agent-listen',
        `127.0.0.1:${agentPort}`,
        '--collector-url',
        `http://127.0.0.1:${collectorPort}`,
        '--data-dir',
        join(dir, 'agent'),
        '--sources',
        'host',
        '--interval',
        '1s',
        '--window',
        '2s',
      ],
      { cwd: dir, env: cleanEnv() },
    );
    const [, url] = await agent.waitForStdout(/metrics at (http:\/\/\S+)\/metrics\n/, 30_000);
    const text = await pollUntil(
      async () => {
        const body = await scrape(url!);
        return /^mlcost_agent_source_up\{source="host"\} 1$/m.test(body) ? body : undefined;
      },
      { timeoutMs: 15_000, what: 'the agent’s first collection' },
    );
    const result = promtoolCheck(text);
    expect(result.output, 'promtool lint problems').toBe('');
    expect(result.status).toBe(0);

    agent.signal('SIGTERM');
    await agent.waitForExit(15_000);
  });
});
