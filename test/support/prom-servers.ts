// Real Prometheus and Alertmanager servers for tests (the Debian binaries test/setup/setup-test-tools.sh puts in
// .tools/bin): each on a free loopback port with its own data folder, started as its own process group and
// stopped with it, plus the few HTTP API calls the tests make.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { Dashboard, Variable } from '../../dashboards/generate.ts';
import { freePort, pollUntil, REPO_ROOT, requireTool } from './mlcost-process.ts';

export const PROMETHEUS = join(REPO_ROOT, '.tools', 'bin', 'prometheus');
export const ALERTMANAGER = join(REPO_ROOT, '.tools', 'bin', 'alertmanager');
export const AMTOOL = join(REPO_ROOT, '.tools', 'bin', 'amtool');

export interface Server {
  url: string;
  /** Everything the process wrote, for error messages. */
  output(): string;
  stop(): Promise<void>;
}

const running = new Set<Server>();

function start(binary: string, what: string, args: string[], readyUrl: string, url: string): Promise<Server> {
  requireTool(binary, what);
  const child: ChildProcess = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    output = (output + chunk).slice(-20_000);
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    output = (output + chunk).slice(-20_000);
  });
  let exited = false;
  const closed = new Promise<void>((resolve) => {
    child.once('close', () => {
      exited = true;
      resolve();
    });
  });
  const server: Server = {
    url,
    output: () => output,
    async stop() {
      running.delete(server);
      if (!exited) {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      await closed;
    },
  };
  running.add(server);
  return pollUntil(
    async () => {
      if (exited) throw new Error(`${what} exited: ${output.slice(-3000)}`);
      const response = await fetch(readyUrl);
      return response.ok ? server : undefined;
    },
    { timeoutMs: 30_000, everyMs: 100, what: `${what} ready at ${readyUrl}` },
  ).catch(async (error: unknown) => {
    await server.stop();
    throw new Error(`${(error as Error).message}; output: ${output.slice(-3000)}`);
  });
}

/** Starts Prometheus with `config` (an object written as YAML) in `dir`. */
export async function startPrometheus(dir: string, config: Record<string, unknown>): Promise<Server> {
  mkdirSync(join(dir, 'data'), { recursive: true });
  const file = join(dir, 'prometheus.yml');
  writeFileSync(file, stringify(config));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  return start(
    PROMETHEUS,
    'prometheus',
    [
      `--config.file=${file}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--web.console.templates=',
      '--web.console.libraries=',
      '--log.level=warn',
    ],
    `${url}/-/ready`,
    url,
  );
}

/** Starts Alertmanager with `config` (an object written as YAML) in `dir`, without clustering. */
export async function startAlertmanager(dir: string, config: Record<string, unknown>): Promise<Server> {
  mkdirSync(join(dir, 'data'), { recursive: true });
  const file = join(dir, 'alertmanager.yml');
  writeFileSync(file, stringify(config));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  return start(
    ALERTMANAGER,
    'alertmanager',
    [
      `--config.file=${file}`,
      `--storage.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=',
      '--log.level=warn',
    ],
    `${url}/-/ready`,
    url,
  );
}

/** Stops every server these helpers started that still runs; call from afterAll. */
export async function stopAllServers(): Promise<void> {
  await Promise.all([...running].map((server) => server.stop()));
}

export interface PromSeries {
  metric: Record<string, string>;
  value?: [number, string];
  values?: Array<[number, string]>;
}

interface PromAnswer {
  status: 'success' | 'error';
  errorType?: string;
  error?: string;
  data?: { resultType: string; result: PromSeries[] };
}

async function api(prometheus: string, path: string, params: Record<string, string>): Promise<PromAnswer> {
  const response = await fetch(`${prometheus}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params).toString(),
  });
  return (await response.json()) as PromAnswer;
}

/** An instant query; throws with Prometheus's error when the query is refused. */
export async function query(prometheus: string, expr: string): Promise<PromSeries[]> {
  const answer = await api(prometheus, '/api/v1/query', { query: expr });
  if (answer.status !== 'success') throw new Error(`${answer.errorType}: ${answer.error} in ${expr}`);
  return answer.data!.result;
}

/** A range query over the last `seconds`; throws with Prometheus's error when the query is refused. */
export async function queryRange(
  prometheus: string,
  expr: string,
  seconds: number,
  step = 2,
): Promise<PromSeries[]> {
  const end = Date.now() / 1000;
  const answer = await api(prometheus, '/api/v1/query_range', {
    query: expr,
    start: String(end - seconds),
    end: String(end),
    step: String(step),
  });
  if (answer.status !== 'success') throw new Error(`${answer.errorType}: ${answer.error} in ${expr}`);
  return answer.data!.result;
}

/** Values of label `name` on the series `match` selects (Grafana's label_values(match, name)). */
export async function labelValues(prometheus: string, name: string, match: string): Promise<string[]> {
  const url = `${prometheus}/api/v1/label/${encodeURIComponent(name)}/values?${new URLSearchParams({ 'match[]': match })}`;
  const answer = (await (await fetch(url)).json()) as { status: string; data: string[]; error?: string };
  if (answer.status !== 'success') throw new Error(`label values of ${name} for ${match}: ${answer.error}`);
  return answer.data;
}

/** Grafana's variables in a query, replaced with `values` (`$__rate_interval` defaults to 1m). */
export function expandVariables(expr: string, values: Record<string, string>): string {
  const all: Record<string, string> = { __rate_interval: '1m', __interval: '15s', __range: '1h', ...values };
  return expr.replace(/\$(\w+)/g, (whole, name: string) => {
    const value = all[name];
    if (value === undefined) throw new Error(`no value for ${whole} in ${expr}`);
    return value;
  });
}

/** A query variable's `label_values(selector, label)`, with the variables before it replaced. */
export function variableSelector(
  variable: Variable,
  values: Record<string, string>,
): { selector: string; label: string } {
  const text = (variable['query'] as { query: string }).query;
  const match = /^label_values\((.+),\s*(\w+)\)$/.exec(text);
  if (!match) throw new Error(`variable ${variable.name}: not label_values(selector, label): ${text}`);
  return { selector: expandVariables(match[1]!, values), label: match[2]! };
}

/** Every panel query of a dashboard with the variables replaced. */
export function dashboardQueries(
  dashboard: Dashboard,
  values: Record<string, string>,
): Array<{ panel: string; refId: string; expr: string }> {
  return dashboard.panels.flatMap((panel) =>
    panel.targets.map((target) => ({
      panel: panel.title,
      refId: target.refId,
      expr: expandVariables(target.expr, values),
    })),
  );
}
