// /api/v1/rightsizing over a hand-built history ingested through the real store (a temp SQLite file): an
// over-requested web service, a notebook holding an idle H100, and a service too new to judge. The expected
// proposals and savings are worked out by hand from the rules in collector/rightsizing/SPEC.md; then the CSV and
// YAML forms, the filters, the 400s, the Prometheus series and the wiring into createCollector.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hono } from 'hono';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { loadConfig } from '../../core/config/load.ts';
import { silentLogger } from '../../core/logger.ts';
import type {
  Batch,
  ContainerRecord,
  GpuRecord,
  NodeRecord,
  UsageWindow,
} from '../../core/protocol/batch.ts';
import { createCollector } from '../collector.ts';
import type { NotEnoughData, Recommendation } from '../rightsizing/index.ts';
import { registerRightsizingMetrics } from '../rightsizing-metrics.ts';
import { createRightsizingService, type RightsizingService } from '../rightsizing-service.ts';
import { openStore, type Store } from '../store/store.ts';
import { CSV_COLUMNS, registerRightsizingRoutes } from './rightsizing-routes.ts';

const MIB = 2 ** 20;
const GIB = 2 ** 30;
const HOUR = 3_600_000;
const FIVE_MIN = 300_000;
/** The present: the end of the history. */
const END = Date.parse('2026-11-10T00:00:00Z');
/** Round prices, so savings can be worked by hand. */
const PRICING = { cpuCoreHour: 0.04, memGiBHour: 0.005, gpuHour: { H100: 4 } };

interface Body {
  currency: string;
  generatedAt: string;
  summary: { recommendations: number; monthlySaving: number; notEnoughData: number };
  recommendations: Recommendation[];
  notEnoughData: NotEnoughData[];
}

const node = (name: string): NodeRecord => ({
  name,
  capacity: { cpuCores: 16, memoryBytes: 64 * GIB, gpus: name.startsWith('gpu') ? 1 : 0 },
  labels: {},
});

/**
 * shop/Deployment/web, container `app`, pods web-a and web-b, 48 h of 5-minute windows (576 each, 1,152 pooled).
 * Requests 4 cores and 8 GiB. CPU use (the window mean) by window index i mod 24: 0 → 0.8 cores, 1..6 → 0.5,
 * else 0.2. Memory peak 0.8 GiB, except web-a's window 100 at 1 GiB.
 */
function webContainer(pod: 'web-a' | 'web-b', i: number): ContainerRecord {
  const phase = i % 24;
  const cpu = phase === 0 ? 0.8 : phase <= 6 ? 0.5 : 0.2;
  return {
    namespace: 'shop',
    pod,
    container: 'app',
    cpuCoresAvg: cpu,
    cpuCoresMax: cpu * 1.5,
    memoryBytesAvg: 0.7 * GIB,
    memoryBytesMax: pod === 'web-a' && i === 100 ? GIB : 0.8 * GIB,
    requests: { cpuCores: 4, memoryBytes: 8 * GIB },
    limits: { memoryBytes: 8 * GIB },
    workload: { kind: 'Deployment', name: 'web' },
    labels: { app: 'web', 'pod-template-hash': '7d9f' },
  };
}

/** shop/Deployment/fresh: started 2 h ago (24 windows), too little to judge. */
const freshContainer = (): ContainerRecord => ({
  namespace: 'shop',
  pod: 'fresh-x',
  container: 'app',
  cpuCoresAvg: 0.2,
  memoryBytesMax: 300 * MIB,
  requests: { cpuCores: 1, memoryBytes: GIB },
  limits: {},
  workload: { kind: 'Deployment', name: 'fresh' },
});

/**
 * ml/Notebook/alice-nb: one pod for the last 12 h (144 windows) holding one H100 (80 GB, 60 GiB in use); requests
 * 2 cores, 8 GiB and the GPU. CPU 0.05 cores, memory peak 2 GiB. GPU activity 40% for the first 6 h, then 1%.
 * The GPU's holder names no container: the store gives it the pod's container that requests GPUs.
 */
const notebookContainer = (): ContainerRecord => ({
  namespace: 'ml',
  pod: 'alice-nb-0',
  container: 'alice-nb',
  cpuCoresAvg: 0.05,
  memoryBytesAvg: 1.5 * GIB,
  memoryBytesMax: 2 * GIB,
  requests: { cpuCores: 2, memoryBytes: 8 * GIB, gpus: 1, gpuResource: 'nvidia.com/gpu' },
  limits: { memoryBytes: 8 * GIB, gpus: 1, gpuResource: 'nvidia.com/gpu' },
  workload: { kind: 'Notebook', name: 'alice-nb' },
  labels: { 'notebook-name': 'alice-nb' },
});

const notebookGpu = (i: number): GpuRecord => ({
  id: 'GPU-nb',
  uuid: 'GPU-nb',
  index: 0,
  model: 'NVIDIA H100 80GB HBM3',
  activityAvg: i < 72 ? 0.4 : 0.01,
  activityMax: i < 72 ? 0.6 : 0.02,
  memoryUsedBytesMax: 60 * GIB,
  memoryTotalBytes: 80 * GIB,
  holders: [{ namespace: 'ml', pod: 'alice-nb-0' }],
});

function window(nodeRecord: NodeRecord, start: number, fields: Partial<UsageWindow>): UsageWindow {
  return {
    start: new Date(start).toISOString(),
    end: new Date(start + FIVE_MIN).toISOString(),
    node: nodeRecord,
    gpus: [],
    containers: [],
    models: [],
    ...fields,
  };
}

/** The history above; `simulated`: every node marked simulated by its agent, as `mlcost simulate` marks them. */
function ingestHistory(store: Store, simulated = false): void {
  let sequence = 0;
  const write = (agentId: string, windows: UsageWindow[]) => {
    const batch: Batch = {
      schemaVersion: 1,
      agentId,
      sequence: sequence++,
      sentAt: windows.at(-1)!.end,
      windows,
    };
    store.writeBatch(batch, END);
  };
  const cpuNode = { ...node('cpu-1'), simulated };
  const cpuWindows: UsageWindow[] = [];
  for (let i = 0; i < 576; i++) {
    const start = END - 48 * HOUR + i * FIVE_MIN;
    const containers = [webContainer('web-a', i), webContainer('web-b', i)];
    if (start >= END - 2 * HOUR) containers.push(freshContainer());
    cpuWindows.push(window(cpuNode, start, { containers }));
  }
  write('cpu-1', cpuWindows);
  const gpuNode = { ...node('gpu-1'), simulated };
  const gpuWindows: UsageWindow[] = [];
  for (let i = 0; i < 144; i++) {
    const start = END - 12 * HOUR + i * FIVE_MIN;
    gpuWindows.push(window(gpuNode, start, { containers: [notebookContainer()], gpus: [notebookGpu(i)] }));
  }
  write('gpu-1', gpuWindows);
}

let dir: string;
let store: Store;
let service: RightsizingService;
let app: Hono;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'mlcost-rightsizing-'));
  store = openStore(join(dir, 'mlcost.db'));
  ingestHistory(store);
  service = createRightsizingService(store, { currency: 'USD', pricing: PRICING, clock: () => END });
  app = new Hono();
  registerRightsizingRoutes(app, { store, currency: 'USD', rightsizing: service });
});
afterAll(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

const get = (query = '') => app.request(`/api/v1/rightsizing${query}`);
async function json(query = ''): Promise<Body> {
  const response = await get(query);
  expect(response.status).toBe(200);
  return (await response.json()) as Body;
}
const ids = (body: Body) => body.recommendations.map((rec) => rec.id);

describe('GET /api/v1/rightsizing', () => {
  it('answers the hand-worked recommendations, largest saving first', async () => {
    const body = await json();
    expect(body.currency).toBe('USD');
    expect(body.generatedAt).toBe('2026-11-10T00:00:00.000Z');
    expect(ids(body)).toEqual([
      'gpu-idle/ml/Notebook/alice-nb/alice-nb',
      'cpu-memory/shop/Deployment/web/app',
      'cpu-memory/ml/Notebook/alice-nb/alice-nb',
    ]);
    const [idle, web, notebook] = body.recommendations as [Recommendation, Recommendation, Recommendation];

    // gpu-idle: 72 windows (6 h) under 5% activity reaching now; 6 h ≥ 4 h → reclaim. Saving = the idle H100
    // hours × 4 USD = 6 × 4 = 24 USD over a 12 h span → 24 × 730 / 12 = 1,460 USD a month. Confidence
    // 6 / (6 + 4) = 0.6 (medium). The holder named no container: the store gave it `alice-nb` (requests the GPU).
    expect(idle).toMatchObject({
      kind: 'gpu-idle',
      action: 'reclaim',
      target: { namespace: 'ml', kind: 'Notebook', name: 'alice-nb', container: 'alice-nb' },
      current: { gpus: 1, replicas: 1, idleHours: 6 },
      proposed: { gpus: 0, replicas: 0 },
      monthlySaving: 1460,
      currency: 'USD',
      confidence: { value: 0.6, label: 'medium' },
      patch: { kind: 'Notebook', namespace: 'ml', name: 'alice-nb' },
    });

    // web, both pods pooled (1,152 windows): sorted CPU = 816 × 0.2, 288 × 0.5, 48 × 0.8; the p95 is the
    // ⌈0.95 × 1152⌉ = 1,095th → 0.5 cores (500m). Memory = 1 GiB peak × 1.15 = 1177.6 MiB → 1,178 MiB.
    // Per pod-hour: before 4 × 0.04 + 8 × 0.005 = 0.2; after 0.5 × 0.04 + (1178/1024) × 0.005 = 0.025751953125;
    // 2 pods for the whole 48 h span → 2 × 0.174248046875 × 730 = 254.40 USD a month. Confidence: 2 days →
    // 2/3, 1,152 points ≥ 1,000 → 0.67 (medium).
    expect(web).toMatchObject({
      kind: 'cpu-memory',
      action: 'set-requests',
      target: { namespace: 'shop', kind: 'Deployment', name: 'web', container: 'app' },
      current: { cpuCores: 4, memoryBytes: 8 * GIB },
      proposed: { cpuCores: 0.5, memoryBytes: 1178 * MIB },
      monthlySaving: 254.4,
      confidence: { value: 0.67, label: 'medium' },
      details: {
        cpuPercentile: 95,
        cpuBasisCores: 0.5,
        memoryPeakBytes: GIB,
        points: 1152,
        historyHours: 48,
      },
      patch: { type: 'strategic', kind: 'Deployment' },
    });
    expect(web.patch.command).toContain('kubectl patch deployment.apps web -n shop --type strategic');
    expect(web.patch.yaml).toContain('cpu: 500m');
    expect(web.patch.yaml).toContain('memory: 1178Mi');

    // The notebook's container: p95 0.05 cores (50m); memory 2 GiB × 1.15 = 2355.2 MiB → 2,356 MiB. Per hour:
    // 0.12 − (0.002 + 2356/1024 × 0.005) = 0.10649609375, for the whole 12 h span → × 730 = 77.74 USD.
    // Confidence: 0.5 day → 1/3, × 144/1000 → 0.05 (low).
    expect(notebook).toMatchObject({
      kind: 'cpu-memory',
      proposed: { cpuCores: 0.05, memoryBytes: 2356 * MIB },
      monthlySaving: 77.74,
      confidence: { value: 0.05, label: 'low' },
    });

    // fresh: 24 windows over 2 h, under both minimums (3 h, 100 windows): said plainly, not guessed.
    expect(body.notEnoughData).toEqual([
      {
        kind: 'cpu-memory',
        target: { namespace: 'shop', kind: 'Deployment', name: 'fresh', container: 'app' },
        historyHours: 2,
        points: 24,
        reason:
          'Not enough data: 2.0 h of history and 24 windows; a CPU and memory recommendation needs at least 3 h and 100 windows.',
      },
    ]);
    expect(body.summary).toEqual({ recommendations: 3, monthlySaving: 1792.14, notEnoughData: 1 });
  });

  it('answers CSV with one line per recommendation under the documented columns', async () => {
    const response = await get('?format=csv');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/csv/);
    const text = await response.text();
    const lines = text.split('\r\n');
    expect(lines.at(-1)).toBe('');
    expect(lines[0]).toBe(CSV_COLUMNS.join(','));
    expect(lines[0]).toBe(
      'id,kind,action,namespace,workload_kind,workload_name,container,current,proposed,monthly_saving,currency,' +
        'confidence,confidence_label,reason,patch_type,patch_command,simulated',
    );
    // No node of this history is simulated: every line says so in its last column.
    for (const line of lines.slice(1, -1)) expect(line.endsWith(',false')).toBe(true);
    expect(lines).toHaveLength(5);
    // The web line, field by field up to the saving (the reason and command are quoted: they hold commas).
    expect(lines[2]).toMatch(
      new RegExp(
        `^cpu-memory/shop/Deployment/web/app,cpu-memory,set-requests,shop,Deployment,web,app,` +
          `cpuCores=4;memoryBytes=${8 * GIB},cpuCores=0.5;memoryBytes=${1178 * MIB},254.4,USD,0.67,medium,"`,
      ),
    );
    expect(lines[1]).toMatch(/^gpu-idle\/ml\/Notebook\/alice-nb\/alice-nb,gpu-idle,reclaim,ml,Notebook,/);
    expect(lines[1]).toContain(',1460,USD,0.6,medium,');
    // The patch command's JSON doubles its quotes inside a quoted field.
    expect(lines[2]).toMatch(
      /,strategic,"kubectl patch deployment\.apps web -n shop --type strategic -p '\{""spec""/,
    );
  });

  it('answers YAML that parses to the JSON document', async () => {
    const response = await get('?format=yaml');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/yaml/);
    const text = await response.text();
    expect(text).not.toMatch(/[&*]a\d+\b/);
    expect(parseYaml(text)).toEqual(await json());
  });

  it('filters by namespace, kind and minimum saving', async () => {
    const ml = await json('?namespace=ml');
    expect(ids(ml)).toEqual([
      'gpu-idle/ml/Notebook/alice-nb/alice-nb',
      'cpu-memory/ml/Notebook/alice-nb/alice-nb',
    ]);
    expect(ml.notEnoughData).toEqual([]);

    const shop = await json('?namespace=shop');
    expect(ids(shop)).toEqual(['cpu-memory/shop/Deployment/web/app']);
    expect(shop.notEnoughData.map((item) => item.target.name)).toEqual(['fresh']);
    expect(ids(await json('?namespace=ml,shop'))).toHaveLength(3);
    expect(ids(await json('?namespace=nowhere'))).toEqual([]);

    expect(ids(await json('?kind=gpu-idle'))).toEqual(['gpu-idle/ml/Notebook/alice-nb/alice-nb']);
    const cpu = await json('?kind=cpu-memory');
    expect(ids(cpu)).toHaveLength(2);
    expect(cpu.notEnoughData).toHaveLength(1);
    expect((await json('?kind=gpu-idle')).notEnoughData).toEqual([]);

    // minSaving keeps 1,460 and 254.40, drops 77.74; the not-enough-data list has no saving and stays.
    const big = await json('?minSaving=100');
    expect(ids(big)).toEqual([
      'gpu-idle/ml/Notebook/alice-nb/alice-nb',
      'cpu-memory/shop/Deployment/web/app',
    ]);
    expect(big.notEnoughData).toHaveLength(1);
    expect(big.summary).toEqual({ recommendations: 2, monthlySaving: 1714.4, notEnoughData: 1 });
    expect(ids(await json('?minSaving=-5'))).toHaveLength(3);
    expect(ids(await json('?minSaving=254.4'))).toHaveLength(2);

    const both = await json('?namespace=shop&kind=cpu-memory&minSaving=1000');
    expect(ids(both)).toEqual([]);
    expect(both.notEnoughData).toHaveLength(1);

    const csv = await (await get('?format=csv&namespace=ml&kind=cpu-memory')).text();
    expect(csv.split('\r\n').filter(Boolean)).toHaveLength(2);
  });

  it.each([
    ['?format=xml', 'format', /invalid parameter format = "xml"; allowed: json, csv, yaml/],
    ['?kind=gpu', 'kind', /invalid parameter kind = "gpu": unknown kind "gpu"; allowed: .*gpu-idle/],
    ['?kind=gpu-idle,,cpu-memory', 'kind', /an empty item/],
    ['?minSaving=abc', 'minSaving', /invalid parameter minSaving = "abc"; allowed: a number/],
    ['?minSaving=', 'minSaving', /invalid parameter minSaving = ""/],
    ['?minSaving=Infinity', 'minSaving', /invalid parameter minSaving/],
    ['?namespace=', 'namespace', /invalid parameter namespace = "": an empty item/],
    ['?refresh=yes', 'refresh', /invalid parameter refresh = "yes"; allowed: true or false/],
    [
      '?namepsace=ml',
      'namepsace',
      /unknown parameter namepsace; allowed parameters: format, namespace, kind/,
    ],
    ['?format=json&format=csv', 'format', /parameter format is given more than once/],
  ])('answers 400 problem+json naming the parameter for %s', async (query, parameter, detail) => {
    const response = await get(query);
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    const problem = (await response.json()) as Record<string, unknown>;
    expect(problem).toMatchObject({ status: 400, title: 'Bad Request', instance: '/api/v1/rightsizing' });
    expect(problem['detail']).toMatch(detail);
    expect(problem['detail']).toContain(parameter);
    expect(problem['invalid-params']).toEqual([{ name: parameter, reason: problem['detail'] }]);
  });

  it('answers from the cache until it is stale or a refresh is asked for', async () => {
    let now = END;
    const cached = createRightsizingService(store, { pricing: PRICING, clock: () => now, cacheMs: 60_000 });
    const first = await cached.current();
    expect(await cached.current()).toBe(first);
    now += 30_000;
    expect(await cached.current()).toBe(first);
    const refreshed = await cached.current({ refresh: true });
    expect(refreshed).not.toBe(first);
    expect(refreshed.now).toBe(END + 30_000);
    now += 61_000;
    expect(await cached.current()).not.toBe(refreshed);
    // Two requests at once share one computation.
    const [a, b] = await Promise.all([cached.current({ refresh: true }), cached.current({ refresh: true })]);
    expect(a).toBe(b);
  });

  it('labels the report simulated when simulated nodes are in its history, in JSON, CSV, YAML and a header', async () => {
    const real = await get('');
    expect(real.headers.get('mlcost-simulated')).toBe('false');
    expect(((await real.json()) as { simulated: boolean }).simulated).toBe(false);

    const simDir = mkdtempSync(join(tmpdir(), 'mlcost-rightsizing-sim-'));
    const simStore = openStore(join(simDir, 'mlcost.db'));
    try {
      ingestHistory(simStore, true);
      const simApp = new Hono();
      registerRightsizingRoutes(simApp, {
        store: simStore,
        currency: 'USD',
        rightsizing: createRightsizingService(simStore, {
          currency: 'USD',
          pricing: PRICING,
          clock: () => END,
        }),
      });
      const json = await simApp.request('/api/v1/rightsizing');
      expect(json.headers.get('mlcost-simulated')).toBe('true');
      const body = (await json.json()) as Body & { simulated: boolean };
      expect(body.simulated).toBe(true);
      // The same history gives the same three recommendations: only the label differs.
      expect(body.summary).toEqual({ recommendations: 3, monthlySaving: 1792.14, notEnoughData: 1 });
      const csv = await (await simApp.request('/api/v1/rightsizing?format=csv')).text();
      const lines = csv.split('\r\n').filter(Boolean);
      expect(lines).toHaveLength(4);
      for (const line of lines.slice(1)) expect(line.endsWith(',true')).toBe(true);
      const yaml = await simApp.request('/api/v1/rightsizing?format=yaml');
      expect(yaml.headers.get('mlcost-simulated')).toBe('true');
      expect((parseYaml(await yaml.text()) as { simulated: boolean }).simulated).toBe(true);
    } finally {
      simStore.close();
      rmSync(simDir, { recursive: true, force: true });
    }
  });

  it('answers 503 naming the pricing key when prices cannot be used', async () => {
    // EUR with no exchange rate for the built-in USD table: no prices, so no savings to state.
    const eur = new Hono();
    registerRightsizingRoutes(eur, {
      store,
      currency: 'EUR',
      rightsizing: createRightsizingService(store, { currency: 'EUR', clock: () => END }),
    });
    const response = await eur.request('/api/v1/rightsizing');
    expect(response.status).toBe(503);
    expect(((await response.json()) as { detail: string }).detail).toMatch(/pricing\.exchangeRate/);
  });
});

describe('rightsizing metrics', () => {
  it('exports the monthly saving and the count by namespace and kind from the cached report', async () => {
    // A scrape never waits: the first one finds no report, starts one in the background and exports no series.
    const fresh = createRightsizingService(store, { pricing: PRICING, clock: () => END });
    const registry = new Registry();
    registerRightsizingMetrics(registry, fresh);
    const first = await registry.metrics();
    expect(first).toContain('# TYPE mlcost_rightsizing_savings gauge');
    expect(first).not.toMatch(/^mlcost_rightsizing_savings\{/m);
    // current() joins the computation the scrape started; the next scrape reads its result.
    const report = await fresh.current();
    expect(fresh.cached()).toBe(report);
    const text = await registry.metrics();
    expect(text).toContain('# TYPE mlcost_rightsizing_savings gauge');
    expect(text).toContain('mlcost_rightsizing_savings{namespace="ml",kind="gpu-idle"} 1460');
    expect(text).toContain('mlcost_rightsizing_savings{namespace="ml",kind="cpu-memory"} 77.74');
    expect(text).toContain('mlcost_rightsizing_savings{namespace="shop",kind="cpu-memory"} 254.4');
    expect(text).toContain('mlcost_rightsizing_recommendations{namespace="ml",kind="gpu-idle"} 1');
    expect(text).toContain('mlcost_rightsizing_recommendations{namespace="shop",kind="cpu-memory"} 1');
    expect(text.match(/^mlcost_rightsizing_recommendations\{/gm)).toHaveLength(3);
  });
});

describe('createCollector', () => {
  it('serves /api/v1/rightsizing and the rightsizing series on /metrics', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'mlcost-rightsizing-app-'));
    const collector = createCollector(loadConfig({ env: {}, flags: { dataDir } }), silentLogger);
    try {
      const response = await collector.app.request('/api/v1/rightsizing');
      expect(response.status).toBe(200);
      const body = (await response.json()) as Body;
      expect(body).toMatchObject({ currency: 'USD', recommendations: [], notEnoughData: [] });
      expect((await collector.app.request('/api/v1/rightsizing?format=txt')).status).toBe(400);
      const metrics = await (await collector.app.request('/metrics')).text();
      expect(metrics).toContain('# TYPE mlcost_rightsizing_savings gauge');
      expect(metrics).toContain('# TYPE mlcost_rightsizing_recommendations gauge');
    } finally {
      collector.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
