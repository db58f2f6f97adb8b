// `mlcost report` against a real collector with simulated data: the real command runs as a child process, and each
// report's columns and values are checked against the API's answer for the same parameters — the tables (every
// row, every cell, in the same money formatting), and --format json/csv/yaml byte for byte or value for value.
// Errors: an unreachable collector and a parameter the collector refuses are one line on stderr and exit 1; the
// collector address comes from --collector-url, else agent.collectorUrl (environment or configuration file).
//
// The history comes from the real `mlcost simulate --backfill`: five days of six simulated nodes at one-hour
// windows, written into a temporary store the collector then serves.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import {
  ALLOCATION_COLUMNS,
  formatGiB,
  formatMoney,
  formatNumber,
  formatPercent,
  formatTime,
  formatValues,
  JOB_COLUMNS,
  MODEL_COLUMNS,
  RIGHTSIZING_COLUMNS,
  SIMULATED_NOTE,
} from '../cli/commands/report.ts';
import { CLI, cleanEnv, freePort, killAll, requireTool, TSX } from './support/mlcost-process.ts';
import { backfillSimulated, serveStore } from './support/simulated-store.ts';

const HOUR = 3_600_000;
const TSX_LOADER = import.meta.resolve('tsx');

let dir: string;
let base: string;
/** Five whole days ending at the last simulated hour: an absolute window answers the same on every call. */
let window: string;

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `mlcost <args>` to completion without blocking the test runner, so several can run at once. */
function mlcost(args: string[], env: NodeJS.ProcessEnv = cleanEnv()): Promise<Run> {
  requireTool(TSX, 'tsx');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', TSX_LOADER, CLI, ...args], {
      cwd: dir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 50_000);
    child.once('error', reject);
    child.once('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

const report = (args: string[]) => mlcost(['report', ...args, '--collector-url', base]);

async function api(path: string): Promise<Response> {
  const response = await fetch(`${base}${path}`);
  expect(response.status, `${path}: ${response.status}`).toBe(200);
  return response;
}
const apiJson = async <T>(path: string) => (await (await api(path)).json()) as T;
const apiText = async (path: string) => (await api(path)).text();

interface Table {
  title: string;
  header: string[];
  rows: string[][];
  footer: string | null;
}

/** Reads the command's table: a title, a blank line, the header, rows, then a rule and a footer line. */
function parseTable(text: string): Table {
  // Every answer here is over simulated nodes, so every table ends with the note that says so.
  const note = `\n\n${SIMULATED_NOTE}\n`;
  expect(text.endsWith(note), 'the table says its data is simulated').toBe(true);
  const lines = text.slice(0, -note.length).replace(/\n+$/, '').split('\n');
  expect(lines[1], 'a blank line after the title').toBe('');
  const cells = (line: string) => line.trim().split(/ {2,}/);
  const rule = lines.findIndex((line) => /^-+$/.test(line));
  const end = rule === -1 ? lines.length : rule;
  return {
    title: lines[0]!,
    header: cells(lines[2]!),
    rows: lines.slice(3, end).map(cells),
    footer: rule === -1 ? null : lines[rule + 1]!,
  };
}

const withoutGeneratedAt = (doc: Record<string, unknown>) => ({ ...doc, generatedAt: '(any)' });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mlcost-report-cli-'));
  const { db, end } = backfillSimulated(dir, { seed: 1, nodes: 6, days: 5 });
  window = `${new Date(end - 5 * 24 * HOUR).toISOString()},${new Date(end).toISOString()}`;
  base = (await serveStore(dir, db)).url;
  // The first cost query rolls every hour up; do it once here rather than inside a test's time.
  await api(`/api/v1/allocation?window=${encodeURIComponent(window)}`);
  await api('/api/v1/rightsizing');
}, 180_000);

afterAll(async () => {
  await killAll();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('formatting', () => {
  it('writes money, percentages, sizes and times the way the page does', () => {
    expect(formatMoney(1234.5, 'USD')).toBe('$1,234.50');
    expect(formatMoney(0, 'USD')).toBe('$0.00');
    expect(formatMoney(0.0041234, 'USD')).toBe('$0.0041');
    expect(formatMoney(-12.345, 'USD')).toBe('-$12.35');
    expect(formatMoney(1234.5, 'EUR')).toBe('€1,234.50');
    expect(formatMoney(null, 'USD')).toBe('—');
    expect(formatPercent(0.4843)).toBe('48%');
    expect(formatPercent(null)).toBe('—');
    expect(formatGiB(1.5 * 2 ** 30)).toBe('1.5 GiB');
    expect(formatTime('2026-11-29T14:05:00.000Z')).toBe('2026-11-29 14:05');
    expect(formatValues({ cpuCores: 0.25, memoryBytes: 2 ** 31 })).toBe('0.25 CPU, 2 GiB');
    expect(formatValues({ replicas: 1, gpus: 1 })).toBe('1 replica, 1 GPU');
  });
});

describe('mlcost report allocation', () => {
  it('prints one row per namespace, costliest first, with the API figures in money and percentages', async () => {
    const q = `window=${encodeURIComponent(window)}`;
    const [run, answer] = await Promise.all([
      report(['allocation', '--window', window]),
      apiJson<{ currency: string; data: Array<Record<string, Record<string, number | null>>> }>(
        `/api/v1/allocation?${q}`,
      ),
    ]);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const table = parseTable(run.stdout);
    expect(table.title).toMatch(/^Allocation by namespace, .* UTC, in USD/);
    expect(table.header).toEqual(['NAMESPACE', ...ALLOCATION_COLUMNS]);
    const rows = Object.entries(answer.data[0]!).sort(
      ([an, a], [bn, b]) => b['totalCost']! - a['totalCost']! || an.localeCompare(bn),
    );
    expect(rows.length).toBeGreaterThan(3);
    const money = (v: number | null | undefined) => formatMoney(v, answer.currency);
    expect(table.rows).toEqual(
      rows.map(([name, r]) => [
        name,
        formatNumber(r['cpuCores'], 2),
        formatNumber(r['ramBytes']! / 2 ** 30, 1),
        formatNumber(r['gpuCount'], 2),
        money(r['cpuCost']),
        money(r['ramCost']),
        money(r['gpuCost']),
        money(r['pvCost']),
        money(r['totalCost']),
        formatPercent(r['cpuEfficiency']),
        formatPercent(r['ramEfficiency']),
        formatPercent(r['gpuEfficiency']),
        formatPercent(r['totalEfficiency']),
      ]),
    );
    const total = rows.reduce((sum, [, r]) => sum + r['totalCost']!, 0);
    expect(table.footer).toMatch(new RegExp(`^TOTAL .*${money(total).replace(/[$.]/g, '\\$&')}$`));
  });

  it('follows --aggregate and --namespace, as the API does', async () => {
    const namespaces = Object.keys(
      (
        await apiJson<{ data: Array<Record<string, unknown>> }>(
          `/api/v1/allocation?window=${encodeURIComponent(window)}`,
        )
      ).data[0]!,
    ).sort();
    const chosen = namespaces.slice(0, 2).join(',');
    const [byNode, filtered, nodes, onlyChosen] = await Promise.all([
      report(['allocation', '--window', window, '--aggregate', 'node']),
      report(['allocation', '--window', window, '--namespace', chosen]),
      apiJson<{ data: Array<Record<string, { totalCost: number }>> }>(
        `/api/v1/allocation?window=${encodeURIComponent(window)}&aggregate=node`,
      ),
      apiJson<{ data: Array<Record<string, { totalCost: number }>> }>(
        `/api/v1/allocation?window=${encodeURIComponent(window)}&namespace=${chosen}`,
      ),
    ]);
    const nodeTable = parseTable(byNode.stdout);
    expect(nodeTable.header[0]).toBe('NODE');
    expect(nodeTable.rows.map((r) => r[0]).sort()).toEqual(Object.keys(nodes.data[0]!).sort());
    const filteredTable = parseTable(filtered.stdout);
    expect(filteredTable.rows.map((r) => r[0]).sort()).toEqual(chosen.split(',').sort());
    expect(filteredTable.rows.map((r) => r[8])).toEqual(
      Object.values(onlyChosen.data[0]!)
        .sort((a, b) => b.totalCost - a.totalCost)
        .map((r) => formatMoney(r.totalCost, 'USD')),
    );
  });

  it('prints the API answer itself with --format json, csv and yaml', async () => {
    const q = `window=${encodeURIComponent(window)}&aggregate=namespace%2Cworkload`;
    const args = ['allocation', '--window', window, '--aggregate', 'namespace,workload'];
    const [json, csv, yaml, apiAnswer, apiCsv] = await Promise.all([
      report([...args, '--format', 'json']),
      report([...args, '--format', 'csv']),
      report([...args, '--format', 'yaml']),
      apiJson<unknown>(`/api/v1/allocation?${q}`),
      apiText(`/api/v1/allocation?${q}&format=csv`),
    ]);
    for (const run of [json, csv, yaml]) expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual(apiAnswer);
    expect(csv.stdout).toBe(apiCsv);
    expect(parseYaml(yaml.stdout)).toEqual(apiAnswer);
  });
});

interface Recommendation {
  id: string;
  kind: string;
  action: string;
  target: { namespace: string; kind: string; name: string; container?: string };
  current: Record<string, unknown>;
  proposed: Record<string, unknown>;
  monthlySaving: number;
  confidence: { value: number; label: string };
}

describe('mlcost report rightsizing', () => {
  it('lists every recommendation, largest saving first, with the API values and the total', async () => {
    const [run, answer] = await Promise.all([
      report(['rightsizing']),
      apiJson<{
        currency: string;
        summary: { recommendations: number; monthlySaving: number; notEnoughData: number };
        recommendations: Recommendation[];
      }>('/api/v1/rightsizing'),
    ]);
    expect(run.status, run.stderr).toBe(0);
    const table = parseTable(run.stdout);
    expect(table.header).toEqual([...RIGHTSIZING_COLUMNS]);
    expect(table.title).toContain(`${answer.summary.recommendations} recommendations saving`);
    expect(table.title).toContain(formatMoney(answer.summary.monthlySaving, answer.currency));
    const recs = [...answer.recommendations].sort(
      (a, b) => b.monthlySaving - a.monthlySaving || a.id.localeCompare(b.id),
    );
    expect(recs.length).toBeGreaterThan(5);
    expect(new Set(recs.map((r) => r.kind)).size).toBeGreaterThan(2);
    expect(table.rows).toEqual(
      recs.map((r) => [
        r.target.namespace,
        `${r.target.kind}/${r.target.name}`,
        r.target.container ?? '—',
        r.kind,
        r.action,
        formatValues(r.current, answer.currency),
        formatValues(r.proposed, answer.currency),
        formatMoney(r.monthlySaving, answer.currency),
        `${r.confidence.label} ${formatPercent(r.confidence.value)}`,
      ]),
    );
    expect(table.footer).toMatch(/^TOTAL +\$[\d,]+\.\d\d$/);
    expect(table.footer).toContain(formatMoney(answer.summary.monthlySaving, answer.currency));
  });

  it('passes --namespace, --kind and --min-saving to the API and prints its json, csv and yaml', async () => {
    const all = await apiJson<{ recommendations: Recommendation[] }>('/api/v1/rightsizing');
    const namespace = all.recommendations[0]!.target.namespace;
    const q = `namespace=${namespace}&kind=cpu-memory%2Cgpu-idle&minSaving=1`;
    const args = [
      'rightsizing',
      '--namespace',
      namespace,
      '--kind',
      'cpu-memory,gpu-idle',
      '--min-saving',
      '1',
    ];
    const [table, json, csv, yaml, apiAnswer, apiCsv, apiYaml] = await Promise.all([
      report(args),
      report([...args, '--format', 'json']),
      report([...args, '--format', 'csv']),
      report([...args, '--format', 'yaml']),
      apiJson<Record<string, unknown> & { recommendations: Recommendation[] }>(`/api/v1/rightsizing?${q}`),
      apiText(`/api/v1/rightsizing?${q}&format=csv`),
      apiText(`/api/v1/rightsizing?${q}&format=yaml`),
    ]);
    for (const run of [table, json, csv, yaml]) expect(run.status, run.stderr).toBe(0);
    const rows = parseTable(table.stdout).rows;
    expect(rows.length).toBe(apiAnswer.recommendations.length);
    for (const row of rows) {
      expect(row[0]).toBe(namespace);
      expect(['cpu-memory', 'gpu-idle']).toContain(row[3]);
    }
    // The collector answers from a 5-minute cache; a recomputation in between changes only generatedAt.
    expect(withoutGeneratedAt(JSON.parse(json.stdout))).toEqual(withoutGeneratedAt(apiAnswer));
    expect(csv.stdout).toBe(apiCsv);
    expect(withoutGeneratedAt(parseYaml(yaml.stdout))).toEqual(withoutGeneratedAt(parseYaml(apiYaml)));
  });
});

describe('mlcost report models', () => {
  it('lists each served model with its cost per 1M tokens as the API computes it', async () => {
    const q = `window=${encodeURIComponent(window)}`;
    const [run, json, csv, answer, apiCsv] = await Promise.all([
      report(['models', '--window', window]),
      report(['models', '--window', window, '--format', 'json']),
      report(['models', '--window', window, '--format', 'csv']),
      apiJson<{ currency: string; models: Array<Record<string, number | string | null>> }>(
        `/api/v1/models?${q}`,
      ),
      apiText(`/api/v1/models?${q}&format=csv`),
    ]);
    expect(run.status, run.stderr).toBe(0);
    const table = parseTable(run.stdout);
    expect(table.header).toEqual([...MODEL_COLUMNS]);
    const models = [...answer.models].sort(
      (a, b) =>
        (b['totalCost'] as number) - (a['totalCost'] as number) ||
        String(a['model']).localeCompare(String(b['model'])) ||
        String(a['namespace']).localeCompare(String(b['namespace'])),
    );
    expect(models.length).toBeGreaterThan(2);
    const money = (v: unknown) => formatMoney(v as number | null, answer.currency);
    expect(table.rows).toEqual(
      models.map((m) => [
        m['model'],
        m['namespace'],
        m['server'] ?? '—',
        formatNumber(m['requests'] as number, 0),
        formatNumber((m['promptTokens'] as number) + (m['generatedTokens'] as number), 0),
        money(m['totalCost']),
        money(m['costPerMillionTokens']),
        money(m['costPerMillionPromptTokens']),
        money(m['costPerMillionGeneratedTokens']),
        money(m['costPer1kRequests']),
        formatPercent(m['gpuEfficiency'] as number | null),
      ]),
    );
    expect(JSON.parse(json.stdout)).toEqual(answer);
    expect(csv.stdout).toBe(apiCsv);
  });
});

describe('mlcost report jobs', () => {
  it('lists each training job with its hours, GPU-hours, GPU activity and cost from the API', async () => {
    const q = `window=${encodeURIComponent(window)}`;
    const [run, yaml, answer] = await Promise.all([
      report(['jobs', '--window', window]),
      report(['jobs', '--window', window, '--format', 'yaml']),
      apiJson<{
        currency: string;
        jobs: Array<{
          namespace: string;
          kind: string;
          name: string;
          start: string;
          durationHours: number;
          pods: number;
          gpuHours: number;
          gpuEfficiency: number | null;
          totalCost: number;
        }>;
      }>(`/api/v1/jobs?${q}`),
    ]);
    expect(run.status, run.stderr).toBe(0);
    const table = parseTable(run.stdout);
    expect(table.header).toEqual([...JOB_COLUMNS]);
    const jobs = [...answer.jobs].sort(
      (a, b) =>
        b.totalCost - a.totalCost || a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name),
    );
    expect(jobs.length).toBeGreaterThan(2);
    expect(table.rows).toEqual(
      jobs.map((j) => [
        j.namespace,
        j.kind,
        j.name,
        formatTime(j.start),
        formatNumber(j.durationHours, 1),
        formatNumber(j.pods, 0),
        formatNumber(j.gpuHours, 1),
        formatPercent(j.gpuEfficiency),
        formatMoney(j.totalCost, answer.currency),
      ]),
    );
    const total = jobs.reduce((sum, j) => sum + j.totalCost, 0);
    expect(table.footer).toMatch(/^TOTAL /);
    expect(table.footer!.endsWith(formatMoney(total, answer.currency))).toBe(true);
    expect(parseYaml(yaml.stdout)).toEqual(answer);
  });
});

describe('the collector address and errors', () => {
  it('takes the collector from agent.collectorUrl: the environment, or the configuration file', async () => {
    const config = join(dir, 'report.yaml');
    writeFileSync(config, `agent:\n  collectorUrl: ${base}\n`);
    const [fromEnv, fromFile] = await Promise.all([
      mlcost(
        ['report', 'jobs', '--window', window, '--format', 'json'],
        cleanEnv({ MLCOST_AGENT_COLLECTOR_URL: base }),
      ),
      mlcost(['report', 'jobs', '--window', window, '--format', 'json', '--config', config]),
    ]);
    const answer = await apiJson<unknown>(`/api/v1/jobs?window=${encodeURIComponent(window)}`);
    expect(fromEnv.status, fromEnv.stderr).toBe(0);
    expect(JSON.parse(fromEnv.stdout)).toEqual(answer);
    expect(fromFile.status, fromFile.stderr).toBe(0);
    expect(JSON.parse(fromFile.stdout)).toEqual(answer);
  });

  it('says in one line that the collector cannot be reached, and exits 1', async () => {
    const port = await freePort();
    const run = await mlcost(['report', 'models', '--collector-url', `http://127.0.0.1:${port}`]);
    expect(run.status).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(
      `mlcost: cannot reach the collector at http://127.0.0.1:${port} (connection refused); is it running? Set --collector-url or agent.collectorUrl\n`,
    );
  });

  it("prints the collector's problem detail for a refused parameter in one line, and exits 1", async () => {
    const [run, problem] = await Promise.all([
      report(['allocation', '--window', 'fortnight']),
      fetch(`${base}/api/v1/allocation?window=fortnight`).then(async (r) => ({
        status: r.status,
        type: r.headers.get('content-type'),
        body: (await r.json()) as { detail: string },
      })),
    ]);
    expect(problem.status).toBe(400);
    expect(problem.type).toContain('application/problem+json');
    expect(run.status).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(
      `mlcost: the collector refused /api/v1/allocation (400 Bad Request): ${problem.body.detail}\n`,
    );
    const rightsizing = await report(['rightsizing', '--kind', 'everything']);
    expect(rightsizing.status).toBe(1);
    expect(rightsizing.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(rightsizing.stderr).toMatch(
      /^mlcost: the collector refused \/api\/v1\/rightsizing \(400 Bad Request\): invalid parameter kind/,
    );
  });

  it('refuses an unknown --format before asking anything', async () => {
    const run = await report(['jobs', '--format', 'xml']);
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain("argument 'xml' is invalid. Allowed choices are table, json, csv, yaml.");
  });
});
