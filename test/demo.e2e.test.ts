// `npm run demo` end to end: the real `mlcost demo` (what package.json's demo script runs) as a child process in a
// fresh folder (no ./data yet, as after a clone), on a free port given in the environment. It backfills a week of the
// simulated 20-node, 120-GPU cluster (about 20 s on two idle cores; the demo logs the time as `seconds` in its
// "demo history written" line), then serves it. Every answer the demo offers — nodes, allocation over the week by
// namespace, rightsizing, models, jobs — must be non-empty and labelled simulated (the `simulated` field, the
// `mlcost-simulated` header, and the CSV column), and the report page must come with its simulated-data banner shown.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCsv } from './support/csv.ts';
import { cleanEnv, freePort, killAll, MlcostProcess, REPO_ROOT } from './support/mlcost-process.ts';

let dir: string;
let demo: MlcostProcess;
let url: string;
/** Seconds the demo took to write its week of history, from its own log line. */
let backfillSeconds: number;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mlcost-demo-e2e-'));
  const port = await freePort();
  demo = new MlcostProcess(['demo'], {
    cwd: dir,
    // As after a fresh clone: no ./data folder yet, the default data directory; only the port is this test's.
    env: cleanEnv({ MLCOST_COLLECTOR_LISTEN: `127.0.0.1:${port}` }),
  });
  const ready = await demo.waitForStdout(/mlcost demo: .* at (http:\/\/\S+)\n/, 150_000);
  url = ready[1]!;
  // The log (JSON lines) goes to stderr, the greeting to stdout.
  const written = demo.stderr.match(/"seconds":([\d.]+).*"msg":"demo history written"/);
  expect(written, demo.stderr.slice(0, 2000)).not.toBeNull();
  backfillSeconds = Number(written![1]);
}, 180_000);

afterAll(async () => {
  await killAll();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function get(path: string): Promise<Response> {
  const response = await fetch(`${url}${path}`);
  expect(response.status, `${path}: ${await response.clone().text()}`).toBe(200);
  expect(response.headers.get('mlcost-simulated'), path).toBe('true');
  return response;
}

async function getJson<T>(path: string): Promise<T & { simulated: boolean }> {
  const body = (await (await get(path)).json()) as T & { simulated: boolean };
  expect(body.simulated, path).toBe(true);
  return body;
}

/** The values of `column` in every record of a CSV answer. */
function csvColumn(text: string, column: string): string[] {
  const [header, ...records] = parseCsv(text);
  const at = header!.indexOf(column);
  expect(at, `column ${column} in ${header!.join(',')}`).toBeGreaterThanOrEqual(0);
  for (const record of records) expect(record).toHaveLength(header!.length);
  return records.map((record) => record[at]!);
}

describe('npm run demo', () => {
  it('is the demo command package.json runs, and wrote its history into the data directory', () => {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(pkg.scripts['demo']).toBe('tsx cli/main.ts demo');
    expect(demo.stdout).toContain('a simulated cluster of 20 nodes and 120 GPUs, 7 days of history');
    expect(demo.stderr).toContain('"database":"data/demo.db"');
    expect(existsSync(join(dir, 'data', 'demo.db'))).toBe(true);
    expect(backfillSeconds).toBeGreaterThan(0);
    console.info(`mlcost demo: the week of history took ${backfillSeconds} s to write`);
  });

  it('lists 20 nodes, every one simulated', async () => {
    const body = await getJson<{ nodes: Array<{ name: string; simulated: boolean }> }>('/api/v1/nodes');
    expect(body.nodes).toHaveLength(20);
    expect(body.nodes.filter((node) => !node.simulated)).toEqual([]);
  });

  it('allocates the week by namespace, every row simulated, in JSON and CSV', async () => {
    const body = await getJson<{ data: Array<Record<string, { totalCost: number; simulated: boolean }>> }>(
      '/api/v1/allocation?window=7d&aggregate=namespace',
    );
    expect(body.data).toHaveLength(1);
    const rows = Object.entries(body.data[0]!);
    expect(rows.length).toBeGreaterThan(3);
    expect(rows.reduce((sum, [, row]) => sum + row.totalCost, 0)).toBeGreaterThan(0);
    expect(rows.filter(([, row]) => !row.simulated).map(([name]) => name)).toEqual([]);
    // The same week as CSV (the roll-ups are written now: this answers quickly).
    const csv = await (await get('/api/v1/allocation?window=7d&aggregate=namespace&format=csv')).text();
    expect(new Set(csvColumn(csv, 'simulated'))).toEqual(new Set(['true']));
  }, 120_000);

  it('finds rightsizing recommendations, labelled simulated', async () => {
    const body = await getJson<{ recommendations: Array<{ monthlySaving: number }> }>('/api/v1/rightsizing');
    expect(body.recommendations.length).toBeGreaterThan(0);
    expect(body.recommendations.some((rec) => rec.monthlySaving > 0)).toBe(true);
    const csv = await (await get('/api/v1/rightsizing?format=csv')).text();
    expect(new Set(csvColumn(csv, 'simulated'))).toEqual(new Set(['true']));
  }, 120_000);

  it('costs the served models and the training jobs of the week, labelled simulated', async () => {
    const models = await getJson<{ models: Array<{ model: string; totalCost: number }> }>(
      '/api/v1/models?window=7d',
    );
    expect(models.models.length).toBeGreaterThan(0);
    expect(models.models.every((m) => m.totalCost > 0)).toBe(true);
    const jobs = await getJson<{ jobs: Array<{ name: string; gpuHours: number }> }>('/api/v1/jobs?window=7d');
    expect(jobs.jobs.length).toBeGreaterThan(0);
    expect(jobs.jobs.some((j) => j.gpuHours > 0)).toBe(true);
    for (const path of ['/api/v1/models?window=7d&format=csv', '/api/v1/jobs?window=7d&format=csv']) {
      const csv = await (await get(path)).text();
      expect(csvColumn(csv, 'simulated').length, path).toBeGreaterThan(0);
      expect(new Set(csvColumn(csv, 'simulated')), path).toEqual(new Set(['true']));
    }
  }, 120_000);

  it('serves the report page with its simulated-data banner shown', async () => {
    const response = await fetch(`${url}/`);
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toContain('<body data-state="loading" data-simulated="true">');
    expect(html).toMatch(
      /<div id="simulated-banner" class="banner" role="note">\s*<strong>Simulated data\.<\/strong>/,
    );
    await getJson('/report/waste?window=7d');
  }, 60_000);

  it('stops cleanly on SIGTERM', async () => {
    demo.signal('SIGTERM');
    expect(await demo.waitForExit(30_000)).toEqual({ code: 0, signal: null });
  }, 40_000);
});
