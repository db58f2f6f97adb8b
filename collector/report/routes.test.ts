// The report routes on a bare hono app over a real store holding a simulated day: the page and its assets come
// from this origin only (no CDN, nothing another host serves), with a strict CSP and ETags; /report/waste sums
// exactly what the cost service's own per-hour waste says (held-idle per pod and node, free per node), honours
// limit and the namespace filter, and refuses bad parameters with a 400 problem naming them.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backfill } from '../../simulator/backfill.ts';
import { generateCluster } from '../../simulator/cluster.ts';
import { HttpProblem, problemResponse } from '../api/problem.ts';
import { type CostService, createCostService } from '../cost-service.ts';
import { openStore, type Store } from '../store/store.ts';
import { markSimulated, REPORT_ASSETS, REPORT_CSP, registerReportRoutes, reportAssetsDir } from './routes.ts';
import type { WasteSummary } from './waste.ts';

const HOUR = 3_600_000;
const END = Date.UTC(2026, 10, 2, 0);
const START = END - 24 * HOUR;
const WINDOW = `${new Date(START).toISOString()},${new Date(END).toISOString()}`;

let dir: string;
let store: Store;
let cost: CostService;
let app: Hono;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'mlcost-report-routes-'));
  store = openStore(join(dir, 'mlcost.db'));
  backfill(store, generateCluster({ seed: 1, nodes: 6 }), { from: START, to: END, windowMs: HOUR });
  cost = createCostService(store, { refreshInterval: 0, now: () => END + 30 * 60_000 });
  app = new Hono();
  app.onError((error, c) => {
    if (error instanceof HttpProblem) return problemResponse(error, c.req.path);
    throw error;
  });
  registerReportRoutes(app, { cost, store });
}, 60_000);

afterAll(() => {
  cost?.close();
  store?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function waste(query: string): Promise<WasteSummary & { window: { start: string; end: string } }> {
  const response = await app.request(`/report/waste?${query}`);
  expect(response.status, await response.clone().text()).toBe(200);
  return (await response.json()) as WasteSummary & { window: { start: string; end: string } };
}

describe('the report page', () => {
  it('is served at / with its assets from this origin only, under a strict content security policy', async () => {
    const page = await app.request('/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toBe(REPORT_CSP);
    expect(REPORT_CSP).toContain("script-src 'self'");
    expect(REPORT_CSP).not.toContain('unsafe-inline');
    const html = await page.text();
    expect(html).toMatch(/^<!doctype html>\n<html lang="en">/);
    const referenced = [...html.matchAll(/(?:src|href)="([^"#]+)"/g)].map((m) => m[1]!);
    expect(referenced.sort()).toEqual([
      '/report/assets/icon.svg',
      '/report/assets/report.css',
      '/report/assets/report.js',
    ]);
    for (const path of referenced.filter((p) => p.startsWith('/report/assets/'))) {
      const name = path.split('/').pop()!;
      const response = await app.request(path);
      expect(response.status, path).toBe(200);
      expect(response.headers.get('content-type')).toBe(REPORT_ASSETS[name]);
    }
    // Nothing is fetched from another host: the only absolute URLs are the SVG and XML namespaces.
    const folder = reportAssetsDir()!;
    for (const name of Object.keys(REPORT_ASSETS)) {
      const text = readFileSync(join(folder, name), 'utf8');
      const urls = [...text.matchAll(/(?:https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}[^\s"'`)]*/gi)].map((m) => m[0]);
      expect(
        urls.filter((u) => u !== 'http://www.w3.org/2000/svg'),
        name,
      ).toEqual([]);
    }
  });

  it('answers 304 to a matching ETag and 404 (problem+json) to an unknown asset', async () => {
    const first = await app.request('/report/assets/report.js');
    const etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^"[\w-]+"$/);
    const again = await app.request('/report/assets/report.js', { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    for (const path of ['/report/assets/secrets.txt', '/report/assets/index.html']) {
      const missing = await app.request(path);
      expect(missing.status, path).toBe(404);
      expect(missing.headers.get('content-type')).toBe('application/problem+json');
    }
  });
});

describe('the simulated-data mark', () => {
  it('comes with the page, banner shown, when the store holds simulated nodes, and not otherwise', async () => {
    // This store holds a simulated day: the banner is visible before (and without) the script.
    const page = await app.request('/');
    const html = await page.text();
    expect(html).toContain('<div id="simulated-banner" class="banner" role="note">');
    expect(html).toContain('<body data-state="loading" data-simulated="true">');
    expect(html).toContain('<strong>Simulated data.</strong>');
    const etag = page.headers.get('etag')!;
    expect((await app.request('/', { headers: { 'if-none-match': etag } })).status).toBe(304);

    // An empty store: the page as the file is, banner hidden; another ETag.
    const emptyStore = openStore(join(dir, 'empty.db'));
    const emptyCost = createCostService(emptyStore, { refreshInterval: 0, now: () => END });
    try {
      const plain = new Hono();
      registerReportRoutes(plain, { cost: emptyCost, store: emptyStore });
      const response = await plain.request('/');
      const text = await response.text();
      expect(text).toBe(readFileSync(join(reportAssetsDir()!, 'index.html'), 'utf8'));
      expect(text).toContain('<div id="simulated-banner" class="banner" role="note" hidden>');
      expect(text).not.toContain('data-simulated');
      expect(response.headers.get('etag')).not.toBe(etag);
    } finally {
      emptyCost.close();
      emptyStore.close();
    }
  });

  it('markSimulated refuses a page whose banner it cannot find', () => {
    expect(() => markSimulated('<!doctype html><body data-state="loading"></body>')).toThrow(/banner/);
  });

  it('labels /report/waste by the range it sums', async () => {
    const response = await app.request(`/report/waste?window=${WINDOW}`);
    expect(response.headers.get('mlcost-simulated')).toBe('true');
    expect(((await response.json()) as { simulated: boolean }).simulated).toBe(true);
    // The day after the simulated one holds no window.
    const after = `${new Date(END).toISOString()},${new Date(END + 24 * HOUR).toISOString()}`;
    const empty = await app.request(`/report/waste?window=${after}`);
    expect(((await empty.json()) as { simulated: boolean }).simulated).toBe(false);
  });
});

describe('/report/waste', () => {
  it("sums the cost service's hourly GPU waste: held-idle per pod and node, free per node, costliest first", async () => {
    const held = new Map<string, { cost: number; gpuHours: number }>();
    const free = new Map<string, { cost: number; gpuHours: number }>();
    for (let hour = START; hour < END; hour += HOUR) {
      for (const w of await cost.gpuWaste(hour)) {
        const map = w.kind === 'free' ? free : held;
        const key = w.kind === 'free' ? w.node : `${w.namespace}/${w.pod}/${w.node}`;
        const entry = map.get(key) ?? { cost: 0, gpuHours: 0 };
        entry.cost += w.cost;
        entry.gpuHours += w.gpuHours;
        map.set(key, entry);
      }
    }
    expect(held.size).toBeGreaterThan(0);
    expect(free.size).toBeGreaterThan(0);
    const answer = await waste(`window=${WINDOW}&limit=1000`);
    expect(answer.window).toEqual({ start: new Date(START).toISOString(), end: new Date(END).toISOString() });
    expect(answer.currency).toBe('USD');
    expect(answer.heldIdle.rows).toBe(held.size);
    expect(answer.free!.rows).toBe(free.size);
    const close = (a: number, b: number) =>
      expect(Math.abs(a - b)).toBeLessThanOrEqual(1e-9 * Math.max(1, b));
    for (const row of answer.heldIdle.top) {
      const expected = held.get(`${row.namespace}/${row.pod}/${row.node}`)!;
      close(row.cost, expected.cost);
      close(row.gpuHours, expected.gpuHours);
      expect(row.activity === null || row.activity < 0.01).toBe(true);
    }
    for (const row of answer.free!.top) close(row.cost, free.get(row.node)!.cost);
    close(
      answer.heldIdle.cost,
      [...held.values()].reduce((s, e) => s + e.cost, 0),
    );
    close(
      answer.free!.cost,
      [...free.values()].reduce((s, e) => s + e.cost, 0),
    );
    const costs = answer.heldIdle.top.map((r) => r.cost);
    expect(costs).toEqual([...costs].sort((a, b) => b - a));

    const top2 = await waste(`window=${WINDOW}&limit=2`);
    expect(top2.heldIdle.top).toEqual(answer.heldIdle.top.slice(0, 2));
    expect(top2.heldIdle.rows).toBe(answer.heldIdle.rows);
    expect(top2.heldIdle.cost).toBe(answer.heldIdle.cost);
  });

  it('keeps only the namespaces asked for, and leaves free capacity out under a namespace filter', async () => {
    const all = await waste(`window=${WINDOW}&limit=1000`);
    const namespace = all.heldIdle.top[0]!.namespace;
    const only = await waste(`window=${WINDOW}&limit=1000&namespace=${namespace}`);
    expect(only.free).toBeNull();
    expect(only.heldIdle.top.length).toBeGreaterThan(0);
    expect(only.heldIdle.top).toEqual(all.heldIdle.top.filter((r) => r.namespace === namespace));
  });

  it('refuses unknown, repeated and bad parameters with a 400 problem naming them', async () => {
    const cases: Array<[string, RegExp]> = [
      ['bogus=1', /unknown parameter bogus; allowed parameters: window, namespace, limit/],
      ['limit=1&limit=2', /parameter limit is given more than once/],
      ['limit=0', /invalid parameter limit = "0"; allowed: a whole number from 1 to 1000/],
      ['window=fortnight', /invalid parameter window = "fortnight"/],
      ['namespace=,', /invalid parameter namespace/],
    ];
    for (const [query, detail] of cases) {
      const response = await app.request(`/report/waste?${query}`);
      expect(response.status, query).toBe(400);
      expect(response.headers.get('content-type')).toBe('application/problem+json');
      const body = (await response.json()) as { detail: string };
      expect(body.detail, query).toMatch(detail);
    }
  });
});
