// The report page in a real browser: Debian's Chromium, driven through playwright-core, against a real collector
// (`mlcost collector` as a child process) serving a week of a simulated 10-node GPU cluster. The page must load
// with no console error, no failed request and no error status; show the simulated-data banner; draw the chart and
// fill every table with the same numbers the API answers for the same window (each fetched here and compared
// cell by cell, through the unrounded data-value every number cell carries and its money formatting); ask each
// aggregated endpoint once, never per row; change the URL and the numbers when the window, namespace or grouping
// filter changes; and let a keyboard reach and press a patch's copy button. A screenshot is kept in
// test-results/report.png.
//
// The history comes from the real `mlcost simulate --backfill`: eight days at one-hour windows, written into a
// temporary store the collector then serves.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatMoney } from '../cli/commands/report.ts';
import { killAll, REPO_ROOT } from './support/mlcost-process.ts';
import { backfillSimulated, serveStore } from './support/simulated-store.ts';

// The callbacks given to page.evaluate run in Chromium. This file is compiled without TypeScript's DOM library (the
// project is Node code), so the few browser globals they use are declared here, as loosely as they are used.
interface PageElement {
  readonly tagName: string;
  readonly textContent: string | null;
  readonly dataset: Record<string, string | undefined>;
  readonly children: ArrayLike<PageElement>;
  readonly parentElement: PageElement | null;
  readonly lang: string;
  readonly caption?: PageElement | null;
  readonly labels?: ArrayLike<unknown> | null;
  getAttribute(name: string): string | null;
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): ArrayLike<PageElement> & Iterable<PageElement>;
}
declare const document: {
  readonly body: PageElement;
  readonly documentElement: PageElement;
  readonly activeElement: PageElement | null;
  getElementById(id: string): PageElement | null;
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): ArrayLike<PageElement> & Iterable<PageElement>;
};
declare const navigator: { readonly clipboard: { readText(): Promise<string> } };
declare function getComputedStyle(element: PageElement): {
  outlineStyle: string;
  color: string;
  backgroundColor: string;
};

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const SCREENSHOT = join(REPO_ROOT, 'test-results', 'report.png');

let dir: string;
let base: string;
let context: BrowserContext;
let page: Page;
/** What went wrong in the browser since the last reset: console errors, page errors, failed or refused requests. */
let problems: string[] = [];
/** Paths (with queries) the page fetched since the last reset. */
let fetched: string[] = [];

interface Row {
  key: string;
  cells: Record<string, { text: string; value: number | null }>;
}

/** The body rows of a table by its data-testid: each cell's text and its unrounded data-value. */
function readTable(testid: string): Promise<Row[]> {
  return page.$$eval(`[data-testid="${testid}"] tbody tr`, (rows) =>
    rows.map((tr) => ({
      key: tr.dataset['key'] ?? '',
      cells: Object.fromEntries(
        [...tr.children].map((cell) => {
          const value = cell.dataset['value'];
          return [
            cell.dataset['col'] ?? '',
            { text: cell.textContent ?? '', value: value === undefined ? null : Number(value) },
          ];
        }),
      ),
    })),
  );
}

function footValue(testid: string, col: string): Promise<number> {
  return page.$eval(`[data-testid="${testid}"] tfoot [data-col="${col}"]`, (cell) =>
    Number(cell.dataset['value']),
  );
}

/** Equal up to floating-point summation order. */
function expectClose(actual: number | null | undefined, expected: number | null | undefined, what: string) {
  if (expected === null || expected === undefined) {
    expect(actual ?? null, what).toBeNull();
    return;
  }
  expect(actual, what).not.toBeNull();
  expect(Math.abs(actual! - expected), `${what}: ${actual} vs ${expected}`).toBeLessThanOrEqual(
    1e-9 * Math.max(1, Math.abs(expected)),
  );
}

async function api<T>(path: string, params: Record<string, string | undefined> = {}): Promise<T> {
  const url = new URL(path, base);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
  const response = await fetch(url);
  expect(response.status, `${url}: ${await response.clone().text()}`).toBe(200);
  return (await response.json()) as T;
}

/** Opens the page (or follows a navigation the test started) and waits until every section is drawn. */
async function waitReady(): Promise<{ window: string; step: string }> {
  await page.waitForFunction(() => document.body.dataset['state'] !== 'loading', undefined, {
    timeout: 120_000,
  });
  const state = await page.evaluate(() => ({
    state: document.body.dataset['state'],
    errors: document.getElementById('errors')?.textContent ?? '',
    window: document.documentElement.dataset['window'] ?? '',
    step: document.documentElement.dataset['step'] ?? '',
  }));
  expect(state.errors).toBe('');
  expect(state.state).toBe('ready');
  return { window: state.window, step: state.step };
}

async function open(query: string) {
  problems = [];
  fetched = [];
  await page.goto(`${base}/${query}`);
  return waitReady();
}

interface AllocationAnswer {
  currency: string;
  window: { start: string; end: string };
  step: number;
  data: Array<Record<string, Record<string, number | null>>>;
}

const SUMS = [
  'cpuCost',
  'ramCost',
  'gpuCost',
  'pvCost',
  'totalCost',
  'cpuCoreUsageHours',
  'cpuCoreRequestHours',
  'ramByteUsageHours',
  'ramByteRequestHours',
  'gpuActiveHours',
  'gpuMeasuredHours',
] as const;

/** Per group, the sums of the API's step sets: what the page's totals table must show. */
function totalsOf(answer: AllocationAnswer) {
  const groups = new Map<string, Record<string, number>>();
  for (const set of answer.data) {
    for (const [name, row] of Object.entries(set)) {
      const g = groups.get(name) ?? Object.fromEntries(SUMS.map((k) => [k, 0]));
      for (const k of SUMS) g[k]! += row[k] ?? 0;
      groups.set(name, g);
    }
  }
  return [...groups.entries()].sort(
    ([an, a], [bn, b]) => b['totalCost']! - a['totalCost']! || an.localeCompare(bn),
  );
}

/** The page's cost table and summary against the API's allocation for the window the page asked for. */
async function expectCostMatches(window: string, options: { namespace?: string; aggregate?: string } = {}) {
  const answer = await api<AllocationAnswer>('/api/v1/allocation', {
    window,
    step: '1h',
    aggregate: options.aggregate ?? 'namespace',
    namespace: options.namespace,
  });
  const totals = totalsOf(answer);
  const rows = await readTable('cost-table');
  expect(rows.map((r) => r.key)).toEqual(totals.map(([name]) => name));
  for (const [i, [name, sums]] of totals.entries()) {
    const cells = rows[i]!.cells;
    for (const key of ['cpuCost', 'ramCost', 'gpuCost', 'pvCost', 'totalCost']) {
      expectClose(cells[key]!.value, sums[key], `${name} ${key}`);
      expect(cells[key]!.text).toBe(formatMoney(cells[key]!.value, answer.currency));
    }
    const cpuEff =
      sums['cpuCoreRequestHours']! > 0 ? sums['cpuCoreUsageHours']! / sums['cpuCoreRequestHours']! : null;
    if (cpuEff !== null) expectClose(cells['cpuEfficiency']!.value, cpuEff, `${name} cpuEfficiency`);
    const gpuEff = sums['gpuMeasuredHours']! > 0 ? sums['gpuActiveHours']! / sums['gpuMeasuredHours']! : null;
    expectClose(cells['gpuEfficiency']!.value, gpuEff, `${name} gpuEfficiency`);
  }
  const total = totals.reduce((sum, [, g]) => sum + g['totalCost']!, 0);
  const summary = await page.$eval('#sum-total', (el) => ({
    text: el.textContent,
    value: Number(el.dataset['value']),
  }));
  expectClose(summary.value, total, 'summary total');
  expect(summary.text).toBe(formatMoney(summary.value, answer.currency));
  expectClose(await footValue('cost-table', 'totalCost'), total, 'cost table footer');
  return { answer, totals, total };
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Debian's Chromium not found at ${CHROMIUM}: run \`npm test\` (test/setup/setup-test-tools.sh installs it with apt-get install chromium)`,
    );
  }
  dir = mkdtempSync(join(tmpdir(), 'mlcost-report-page-'));
  const { db, end } = backfillSimulated(dir, { seed: 1, nodes: 10, days: 8 });
  base = (await serveStore(dir, db)).url;
  // Roll every hour up and fill the rightsizing cache once, outside the tests' time.
  const all = `${new Date(end - 9 * DAY).toISOString()},${new Date(end + 2 * HOUR).toISOString()}`;
  await api('/api/v1/allocation', { window: all });
  await api('/api/v1/rightsizing');

  context = await chromium.launchPersistentContext(mkdtempSync(join(dir, 'chromium-profile-')), {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1440, height: 900 },
    locale: 'en-US',
    timezoneId: 'UTC',
  });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
  page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') {
      problems.push(`console ${message.type()}: ${message.text()}`);
    }
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('requestfailed', (request) =>
    problems.push(`request failed: ${request.url()} ${request.failure()?.errorText}`),
  );
  page.on('response', (response) => {
    if (response.status() >= 400) problems.push(`${response.status()} for ${response.url()}`);
  });
  page.on('request', (request) => {
    const url = new URL(request.url());
    fetched.push(`${url.pathname}${url.search}`);
  });
}, 240_000);

afterAll(async () => {
  await context?.close();
  await killAll();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the report page', () => {
  it('loads the week with no console error or failed request, marks the data simulated and asks each endpoint once', async () => {
    const { window, step } = await open('?window=7d');
    expect(problems).toEqual([]);
    const [start, end] = window.split(',').map((t) => Date.parse(t));
    expect(end! - start!).toBe(7 * DAY);
    expect(end! % HOUR).toBe(0);
    expect(step).toBe('1h');

    const banner = page.locator('#simulated-banner');
    expect(await banner.isVisible()).toBe(true);
    expect(await banner.textContent()).toMatch(
      /Simulated data\.\s+10 of 10 nodes in this store were made by mlcost simulate/,
    );

    const data = fetched.filter((p) => p.startsWith('/api/') || p.startsWith('/report/waste'));
    const paths = data.map((p) => p.split('?')[0]).sort();
    expect(paths).toEqual([
      '/api/v1/allocation',
      '/api/v1/jobs',
      '/api/v1/models',
      '/api/v1/nodes',
      '/api/v1/rightsizing',
      '/report/waste',
    ]);
    for (const p of data.filter((p) => p.includes('window='))) {
      expect(new URL(p, base).searchParams.get('window')).toBe(window);
    }
    expect(fetched.length).toBeLessThanOrEqual(10);

    mkdirSync(join(REPO_ROOT, 'test-results'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT });
    expect(existsSync(SCREENSHOT)).toBe(true);
  });

  it('draws the chart and the cost table with the allocation API numbers', async () => {
    const { window } = await open('?window=7d');
    const { answer, totals } = await expectCostMatches(window);
    expect(totals.length).toBeGreaterThan(5);

    // Every bar segment is one namespace's cost in one hour; the namespaces past the eighth are stacked as 'other'.
    const rects = await page.$$eval('[data-testid="cost-bars"] rect', (list) =>
      list.map((r) => ({
        group: r.getAttribute('data-group')!,
        start: r.getAttribute('data-start')!,
        value: Number(r.getAttribute('data-value')),
      })),
    );
    const shown = totals.length > 9 ? totals.slice(0, 8).map(([n]) => n) : totals.map(([n]) => n);
    const expected: Array<{ group: string; start: string; value: number }> = [];
    const stepMs = answer.step * 1000;
    answer.data.forEach((set, i) => {
      const start = new Date(Date.parse(answer.window.start) + i * stepMs).toISOString();
      let other = 0;
      for (const name of shown) {
        const value = set[name]?.['totalCost'] ?? 0;
        if (value) expected.push({ group: name, start, value });
      }
      for (const [name, row] of Object.entries(set))
        if (!shown.includes(name)) other += row['totalCost'] ?? 0;
      if (other) expected.push({ group: 'other', start, value: other });
    });
    expect(answer.data.length).toBe(7 * 24);
    expect(rects.length).toBe(expected.length);
    const byKey = new Map(rects.map((r) => [`${r.group}@${r.start}`, r.value]));
    for (const e of expected)
      expectClose(byKey.get(`${e.group}@${e.start}`), e.value, `bar ${e.group}@${e.start}`);
    const legend = await page.$$eval('#cost-legend li', (items) => items.map((li) => li.textContent));
    expect(legend.slice(0, shown.length)).toEqual(shown);
    const svgName = await page.$eval('[data-testid="cost-chart"]', (svg) => ({
      role: svg.getAttribute('role'),
      title: svg.querySelector('title')?.textContent,
    }));
    expect(svgName).toEqual({ role: 'img', title: 'Cost per hour by namespace' });

    // The page's totals are the whole-window answer too (the hourly sets add up to it).
    const whole = await api<AllocationAnswer>('/api/v1/allocation', { window });
    for (const [name, sums] of totals)
      expectClose(sums['totalCost'], whole.data[0]![name]!['totalCost'], `${name} whole window`);
    expect(problems).toEqual([]);
  });

  it('shows the waste, savings, fleet, models and jobs tables with the API numbers', async () => {
    const { window } = await open('?window=7d');

    // Waste: the report's aggregate, and its free-GPU total is the API's idle GPU cost for the same window.
    const waste = await api<{
      heldIdle: {
        cost: number;
        rows: number;
        top: Array<{ namespace: string; pod: string; node: string; cost: number; gpuHours: number }>;
      };
      free: { cost: number; top: Array<{ node: string; cost: number }> };
    }>('/report/waste', { window, limit: '10' });
    const held = await readTable('held-idle-table');
    expect(held.map((r) => r.key)).toEqual(
      waste.heldIdle.top.map((w) => `${w.namespace}/${w.pod}/${w.node}`),
    );
    for (const [i, w] of waste.heldIdle.top.entries()) {
      expectClose(held[i]!.cells['cost']!.value, w.cost, `held-idle ${w.pod}`);
      expectClose(held[i]!.cells['gpuHours']!.value, w.gpuHours, `held-idle ${w.pod} GPU-hours`);
    }
    expect(waste.heldIdle.rows).toBeGreaterThan(0);
    expectClose(await footValue('held-idle-table', 'cost'), waste.heldIdle.cost, 'held-idle total');
    const idle = await api<AllocationAnswer>('/api/v1/allocation', {
      window,
      aggregate: 'cluster',
      idle: 'true',
    });
    expect(waste.free.cost).toBeGreaterThan(0);
    expectClose(
      await footValue('free-table', 'cost'),
      idle.data[0]!['__idle__']!['gpuCost'],
      'free GPUs = idle GPU cost',
    );
    expect((await readTable('free-table')).map((r) => r.key)).toEqual(waste.free.top.map((w) => w.node));

    // Over-requests: unused request-hours at each row's own price, from the same hourly allocation.
    const hourly = await api<AllocationAnswer>('/api/v1/allocation', {
      window,
      step: '1h',
      aggregate: 'namespace',
    });
    const unused = new Map<string, number>();
    for (const set of hourly.data) {
      for (const [name, r] of Object.entries(set)) {
        const cpu = Math.max(0, r['cpuCoreRequestHours']! - r['cpuCoreUsageHours']!);
        const ram = Math.max(0, r['ramByteRequestHours']! - r['ramByteUsageHours']!);
        const cost =
          (r['cpuCoreHours']! > 0 ? (cpu * (r['cpuCost']! - r['cpuIdleCost']!)) / r['cpuCoreHours']! : 0) +
          (r['ramByteHours']! > 0 ? (ram * (r['ramCost']! - r['ramIdleCost']!)) / r['ramByteHours']! : 0);
        unused.set(name, (unused.get(name) ?? 0) + cost);
      }
    }
    const over = [...unused.entries()].filter(([, c]) => c > 0).sort((a, b) => b[1] - a[1]);
    const overRows = await readTable('over-request-table');
    expect(overRows.map((r) => r.key)).toEqual(over.slice(0, 10).map(([n]) => n));
    for (const [i, [name, cost]] of over.slice(0, 10).entries()) {
      expectClose(overRows[i]!.cells['unusedRequestCost']!.value, cost, `over-request ${name}`);
    }
    const overTotal = over.reduce((s, [, c]) => s + c, 0);
    const wasteSummary = await page.$eval('#sum-waste', (el) => Number(el.dataset['value']));
    expectClose(wasteSummary, waste.heldIdle.cost + waste.free.cost + overTotal, 'waste summary');

    // Savings: every recommendation, largest first, and the monthly total.
    const rightsizing = await api<{
      currency: string;
      summary: { monthlySaving: number };
      recommendations: Array<{
        id: string;
        monthlySaving: number;
        confidence: { value: number };
        patch: { command: string };
      }>;
    }>('/api/v1/rightsizing');
    const recs = [...rightsizing.recommendations].sort(
      (a, b) => b.monthlySaving - a.monthlySaving || a.id.localeCompare(b.id),
    );
    const savings = await readTable('savings-table');
    expect(savings.map((r) => r.key)).toEqual(recs.slice(0, 100).map((r) => r.id));
    for (const [i, rec] of recs.slice(0, 100).entries()) {
      expect(savings[i]!.cells['monthlySaving']!.value).toBe(rec.monthlySaving);
      expect(savings[i]!.cells['monthlySaving']!.text).toBe(
        formatMoney(rec.monthlySaving, rightsizing.currency),
      );
      expect(savings[i]!.cells['confidence']!.value).toBe(rec.confidence.value);
      expect(savings[i]!.cells['patch']!.text).toContain(rec.patch.command);
    }
    expect(await footValue('savings-table', 'monthlySaving')).toBe(rightsizing.summary.monthlySaving);
    expect(await page.$eval('#sum-savings', (el) => el.textContent)).toBe(
      formatMoney(rightsizing.summary.monthlySaving, rightsizing.currency),
    );

    // Fleet: physical GPUs per model (MIG slices folded into their GPU), and how many a pod holds.
    const nodes = await api<{
      nodes: Array<{
        name: string;
        simulated: boolean;
        gpus: Array<{ uuid: string; model: string | null; migProfile: string | null; holders: unknown[] }>;
      }>;
    }>('/api/v1/nodes');
    const perModel = new Map<string, { gpus: Set<string>; held: Set<string> }>();
    for (const node of nodes.nodes) {
      for (const g of node.gpus) {
        const m = perModel.get(g.model ?? 'GPU') ?? { gpus: new Set(), held: new Set() };
        m.gpus.add(g.uuid);
        if (g.holders.length > 0) m.held.add(g.uuid);
        perModel.set(g.model ?? 'GPU', m);
      }
    }
    const fleet = await readTable('fleet-models-table');
    expect(fleet.map((r) => r.key).sort()).toEqual([...perModel.keys()].sort());
    for (const row of fleet) {
      expect(row.cells['gpus']!.value, row.key).toBe(perModel.get(row.key)!.gpus.size);
      expect(row.cells['held']!.value, row.key).toBe(perModel.get(row.key)!.held.size);
    }
    const gpuNodes = nodes.nodes.filter((n) => n.gpus.length > 0).map((n) => n.name);
    expect((await readTable('fleet-nodes-table')).map((r) => r.key).sort()).toEqual(gpuNodes.sort());

    // Served models: cost per 1M tokens (prompt, generated) and per 1k requests, as the API computed them.
    const models = await api<{ currency: string; models: Array<Record<string, number | string | null>> }>(
      '/api/v1/models',
      { window },
    );
    const sortedModels = [...models.models].sort(
      (a, b) =>
        (b['totalCost'] as number) - (a['totalCost'] as number) ||
        String(a['model']).localeCompare(String(b['model'])) ||
        String(a['namespace']).localeCompare(String(b['namespace'])),
    );
    const modelRows = await readTable('models-table');
    expect(modelRows.map((r) => r.key)).toEqual(
      sortedModels.slice(0, 100).map((m) => `${m['namespace']}/${m['model']}`),
    );
    expect(modelRows.length).toBeGreaterThan(3);
    for (const [i, m] of sortedModels.slice(0, 100).entries()) {
      for (const key of [
        'totalCost',
        'costPerMillionTokens',
        'costPerMillionPromptTokens',
        'costPerMillionGeneratedTokens',
        'costPer1kRequests',
      ]) {
        expect(modelRows[i]!.cells[key]!.value, `${m['model']} ${key}`).toBe(m[key]);
        expect(modelRows[i]!.cells[key]!.text).toBe(formatMoney(m[key] as number | null, models.currency));
      }
    }

    // Training jobs.
    const jobs = await api<{
      jobs: Array<{ namespace: string; kind: string; name: string; totalCost: number; gpuHours: number }>;
    }>('/api/v1/jobs', { window });
    const sortedJobs = [...jobs.jobs].sort(
      (a, b) =>
        b.totalCost - a.totalCost || a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name),
    );
    const jobRows = await readTable('jobs-table');
    expect(jobRows.length).toBeGreaterThan(2);
    expect(jobRows.map((r) => r.key)).toEqual(
      sortedJobs.slice(0, 100).map((j) => `${j.namespace}/${j.kind}/${j.name}`),
    );
    for (const [i, j] of sortedJobs.slice(0, 100).entries()) {
      expect(jobRows[i]!.cells['totalCost']!.value).toBe(j.totalCost);
      expect(jobRows[i]!.cells['gpuHours']!.value).toBe(j.gpuHours);
    }
    expect(problems).toEqual([]);
  });

  it('changes the URL and the numbers when the window, namespace or grouping changes', async () => {
    const week = await open('?window=7d');
    const weekTotal = await page.$eval('#sum-total', (el) => Number(el.dataset['value']));

    await page.selectOption('#window', '24h');
    await Promise.all([
      page.waitForURL(`${base}/?window=24h`),
      page.getByRole('button', { name: 'Apply' }).click(),
    ]);
    const day = await waitReady();
    const [start, end] = day.window.split(',').map((t) => Date.parse(t));
    expect(end! - start!).toBe(DAY);
    const { total: dayTotal } = await expectCostMatches(day.window);
    expect(dayTotal).toBeGreaterThan(0);
    expect(dayTotal).toBeLessThan(weekTotal);
    expect(await page.inputValue('#window')).toBe('24h');
    expect(await page.textContent('#range')).toMatch(/^Last 24 hours: /);

    // A namespace that has recommendations, and idle GPUs where there is one.
    const waste = await api<{ heldIdle: { top: Array<{ namespace: string }> } }>('/report/waste', {
      window: week.window,
    });
    const all = await api<{ recommendations: Array<{ target: { namespace: string } }> }>(
      '/api/v1/rightsizing',
    );
    const withSavings = new Set(all.recommendations.map((r) => r.target.namespace));
    const namespace =
      waste.heldIdle.top.map((w) => w.namespace).find((ns) => withSavings.has(ns)) ??
      all.recommendations[0]!.target.namespace;
    await page.fill('#namespace', namespace);
    await Promise.all([
      page.waitForURL(`${base}/?window=24h&namespace=${namespace}`),
      page.press('#namespace', 'Enter'),
    ]);
    const filtered = await waitReady();
    expect(await page.inputValue('#namespace')).toBe(namespace);
    const { totals } = await expectCostMatches(filtered.window, { namespace });
    expect(totals.map(([name]) => name)).toEqual([namespace]);
    const rightsizing = await api<{
      recommendations: Array<{ id: string; target: { namespace: string }; monthlySaving: number }>;
    }>('/api/v1/rightsizing', { namespace });
    expect(rightsizing.recommendations.length).toBeGreaterThan(0);
    const savings = await readTable('savings-table');
    expect(savings.map((r) => r.key).sort()).toEqual(
      rightsizing.recommendations
        .slice(0, 100)
        .map((r) => r.id)
        .sort(),
    );
    for (const row of await readTable('held-idle-table'))
      expect(row.key.startsWith(`${namespace}/`)).toBe(true);
    expect(await page.textContent('#free-table')).toContain('clear the namespace filter');
    for (const row of await readTable('models-table')) expect(row.key.startsWith(`${namespace}/`)).toBe(true);
    for (const row of await readTable('jobs-table')) expect(row.key.startsWith(`${namespace}/`)).toBe(true);

    // Cost by team: the `team` label.
    await page.fill('#namespace', '');
    await page.selectOption('#by', 'team');
    await Promise.all([
      page.waitForURL(`${base}/?window=24h&by=team`),
      page.getByRole('button', { name: 'Apply' }).click(),
    ]);
    const byTeam = await waitReady();
    expect(await page.textContent('#cost-heading')).toBe('Cost over time by team');
    const teams = await expectCostMatches(byTeam.window, { aggregate: 'label:team' });
    expect(teams.totals.length).toBeGreaterThan(1);
    expect(problems).toEqual([]);
  });

  it('is reachable by keyboard: Tab to the Savings link, Enter, Tab to a copy button, Enter copies the patch', async () => {
    await open('?window=7d');
    const focused = () =>
      page.evaluate(() => {
        const el = document.activeElement;
        return {
          tag: el?.tagName ?? '',
          text: (el?.textContent ?? '').trim(),
          href: el?.getAttribute('href') ?? '',
          testid: el?.dataset['testid'] ?? '',
          outline: el ? getComputedStyle(el).outlineStyle : '',
        };
      });
    let presses = 0;
    let current = await focused();
    while (current.href !== '#savings' && presses < 20) {
      await page.keyboard.press('Tab');
      presses++;
      current = await focused();
      expect(current.outline, `focus ring on ${current.tag} ${current.text}`).not.toBe('none');
    }
    expect(current).toMatchObject({ tag: 'A', text: 'Savings' });
    await page.keyboard.press('Enter');
    await page.waitForURL(/#savings$/);
    presses = 0;
    while (current.testid !== 'copy-patch' && presses < 5) {
      await page.keyboard.press('Tab');
      presses++;
      current = await focused();
    }
    expect(current.testid).toBe('copy-patch');
    expect(current.outline).not.toBe('none');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() =>
      document.getElementById('copy-status')?.textContent?.startsWith('Copied'),
    );
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    const rightsizing = await api<{
      recommendations: Array<{ id: string; monthlySaving: number; patch: { command: string } }>;
    }>('/api/v1/rightsizing');
    const first = [...rightsizing.recommendations].sort(
      (a, b) => b.monthlySaving - a.monthlySaving || a.id.localeCompare(b.id),
    )[0]!;
    expect(copied).toBe(first.patch.command);
    expect(copied).toMatch(/^kubectl /);
    expect(problems).toEqual([]);
  });

  it('is labelled for assistive technology: language, headings, captions, header cells, form labels, names', async () => {
    await open('?window=7d');
    const report = await page.evaluate(() => {
      const unnamedControls = [...document.querySelectorAll('input, select')].filter(
        (el) => !el.labels?.length,
      ).length;
      const tables = [...document.querySelectorAll('table')];
      const unnamedButtons = [...document.querySelectorAll('button')].filter(
        (b) => !(b.getAttribute('aria-label') || b.textContent?.trim()),
      ).length;
      return {
        lang: document.documentElement.lang,
        h1: [...document.querySelectorAll('h1')].map((h) => h.textContent),
        h2: [...document.querySelectorAll('h2')].length,
        landmarks: ['header', 'nav', 'main', 'footer'].map((tag) => document.querySelectorAll(tag).length),
        unnamedControls,
        unnamedButtons,
        tables: tables.length,
        withoutCaption: tables.filter((t) => !t.caption?.textContent?.trim()).length,
        withoutColumnHeaders: tables.filter((t) => t.querySelectorAll('thead th[scope="col"]').length === 0)
          .length,
        sectionsBusy: [...document.querySelectorAll('section[aria-busy="true"]')].length,
      };
    });
    expect(report).toMatchObject({
      lang: 'en',
      h1: ['mlcost report'],
      landmarks: [1, 1, 1, 1],
      unnamedControls: 0,
      unnamedButtons: 0,
      withoutCaption: 0,
      withoutColumnHeaders: 0,
      sectionsBusy: 0,
    });
    expect(report.h2).toBeGreaterThanOrEqual(6);
    expect(report.tables).toBeGreaterThanOrEqual(8);

    // Text contrast (WCAG AA, 4.5:1) of the kinds of text on the page, from the computed colours.
    const contrasts = await page.evaluate(() => {
      const rgb = (text: string) => (text.match(/[\d.]+/g) ?? []).slice(0, 3).map(Number);
      const luminance = ([r, g, b]: number[]) => {
        const c = [r!, g!, b!].map((v) => {
          const s = v / 255;
          return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
        });
        return 0.2126 * c[0]! + 0.7152 * c[1]! + 0.0722 * c[2]!;
      };
      const background = (el: PageElement | null): string => {
        for (let e = el; e; e = e.parentElement) {
          const bg = getComputedStyle(e).backgroundColor;
          if (bg && bg !== 'rgba(0, 0, 0, 0)' && bg !== 'transparent') return bg;
        }
        return 'rgb(255, 255, 255)';
      };
      const out: Record<string, number> = {};
      for (const selector of [
        'body',
        '.lead',
        '.range',
        '.banner',
        'caption',
        'button[type=submit]',
        '.sections a',
        'td.num',
        '.card dt',
      ]) {
        const el = document.querySelector(selector);
        if (!el) continue;
        const [a, b] = [luminance(rgb(getComputedStyle(el).color)), luminance(rgb(background(el)))];
        out[selector] = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
      }
      return out;
    });
    expect(Object.keys(contrasts).length).toBeGreaterThanOrEqual(8);
    for (const [selector, ratio] of Object.entries(contrasts)) {
      expect(ratio, `contrast of ${selector}`).toBeGreaterThanOrEqual(4.5);
    }
  });
});
