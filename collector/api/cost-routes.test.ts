// The cost API through the real app and store (a temporary SQLite file): hand-built windows are POSTed to
// /api/v1/ingest, and /api/v1/allocation, /models, /jobs, /budgets and /export/focus are checked against
// arithmetic written out here (not against the code's own output). Bad parameters are 400 problems naming them.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BatchInput } from '../../core/protocol/batch.ts';
import { parseCsv } from '../../test/support/csv.ts';
import { queryApp } from '../../test/support/query-app.ts';
import { FOCUS_COLUMNS } from '../cost/index.ts';
import { type CostService, createCostService } from '../cost-service.ts';
import { openStore, type Store } from '../store/store.ts';

const GIB = 2 ** 30;
const MINUTE = 60_000;
/** The hour every window is in: 2026-11-02 10:00–11:00 UTC. */
const H = Date.UTC(2026, 10, 2, 10);
/** "Now" for the service: 12:30 the same day (the latest complete hour is 11:00–12:00). */
const NOW = Date.UTC(2026, 10, 2, 12, 30);
const HOUR_WINDOW = 'window=2026-11-02T10:00:00Z,2026-11-02T11:00:00Z';
const iso = (ms: number) => new Date(ms).toISOString();

// Prices: 0.04 per core-hour, 0.005 per GiB-hour, H100 2.00 and L4 0.80 per GPU-hour, all on demand.
const PRICING = { cpuCoreHour: 0.04, memGiBHour: 0.005, gpuHour: { H100: 2, L4: 0.8 } };
const BUDGETS = [
  { name: 'team-a', namespace: 'team-a', monthly: 100 },
  { name: 'ml', label: 'team=ml', monthly: 500 },
];

/**
 * Two nodes, each with two 30-minute windows in hour H:
 *  - gpu-1: 16 cores, 64 GiB, two H100s.
 *    team-a/train-0/main (PyTorchJob llm-ft): requests 4 cores, 16 GiB and one GPU; uses 6 cores in the first
 *    half hour and 2 in the second, 8 GiB; holds GPU-h100-0 at activity 0.8. GPU-h100-1 is free.
 *    team-b/web-0/app: requests 2 cores, 4 GiB; uses 1 core and 6 GiB.
 *  - serve-1: 8 cores, 32 GiB, one L4.
 *    team-c/vllm-0/vllm (label team=ml, InferenceService llama): requests 4 cores, 16 GiB, uses 2 cores and
 *    10 GiB, holds GPU-l4-0 at activity 0.5. It served llama-3-8b: 600k prompt + 400k generated tokens and 900 ok
 *    + 100 failed requests in the first half hour, 400k + 600k and 1000 ok in the second.
 */
function windows(): BatchInput['windows'] {
  const out: BatchInput['windows'] = [];
  for (const half of [0, 1]) {
    const start = iso(H + half * 30 * MINUTE);
    const end = iso(H + (half + 1) * 30 * MINUTE);
    out.push({
      start,
      end,
      node: { name: 'gpu-1', capacity: { cpuCores: 16, memoryBytes: 64 * GIB, gpus: 2 } },
      gpus: [
        {
          id: 'GPU-h100-0',
          uuid: 'GPU-h100-0',
          model: 'NVIDIA H100 80GB HBM3',
          activityAvg: 0.8,
          holders: [{ namespace: 'team-a', pod: 'train-0', container: 'main' }],
        },
        { id: 'GPU-h100-1', uuid: 'GPU-h100-1', model: 'NVIDIA H100 80GB HBM3', activityAvg: 0 },
      ],
      containers: [
        {
          namespace: 'team-a',
          pod: 'train-0',
          container: 'main',
          cpuCoresAvg: half === 0 ? 6 : 2,
          memoryBytesAvg: 8 * GIB,
          requests: { cpuCores: 4, memoryBytes: 16 * GIB, gpus: 1, gpuResource: 'nvidia.com/gpu' },
          mlJob: { kind: 'PyTorchJob', name: 'llm-ft' },
          workload: { kind: 'PyTorchJob', name: 'llm-ft' },
        },
        {
          namespace: 'team-b',
          pod: 'web-0',
          container: 'app',
          cpuCoresAvg: 1,
          memoryBytesAvg: 6 * GIB,
          requests: { cpuCores: 2, memoryBytes: 4 * GIB },
          workload: { kind: 'Deployment', name: 'web' },
        },
      ],
    });
    out.push({
      start,
      end,
      node: { name: 'serve-1', capacity: { cpuCores: 8, memoryBytes: 32 * GIB, gpus: 1 } },
      gpus: [
        {
          id: 'GPU-l4-0',
          uuid: 'GPU-l4-0',
          model: 'NVIDIA L4',
          activityAvg: 0.5,
          holders: [{ namespace: 'team-c', pod: 'vllm-0' }],
        },
      ],
      containers: [
        {
          namespace: 'team-c',
          pod: 'vllm-0',
          container: 'vllm',
          cpuCoresAvg: 2,
          memoryBytesAvg: 10 * GIB,
          requests: { cpuCores: 4, memoryBytes: 16 * GIB, gpus: 1 },
          labels: { team: 'ml' },
          servedModel: { kind: 'InferenceService', name: 'llama' },
        },
      ],
      models: [
        half === 0
          ? {
              namespace: 'team-c',
              pod: 'vllm-0',
              model: 'llama-3-8b',
              server: 'vllm',
              requestsOk: 900,
              requestsFailed: 100,
              promptTokens: 600_000,
              generatedTokens: 400_000,
            }
          : {
              namespace: 'team-c',
              pod: 'vllm-0',
              model: 'llama-3-8b',
              server: 'vllm',
              requestsOk: 1000,
              requestsFailed: 0,
              promptTokens: 400_000,
              generatedTokens: 600_000,
            },
      ],
    });
  }
  return out;
}

let dir: string;
let store: Store;
let cost: CostService;
let app: Hono;

/** The collector's real app (createApp) over `store`, with `cost` as its cost service. */
const makeApp = (store: Store, cost: CostService): Hono => queryApp(store, { cost, version: 'test' });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mlcost-cost-routes-'));
  store = openStore(join(dir, 'mlcost.db'));
  cost = createCostService(store, {
    pricing: PRICING,
    budgets: BUDGETS,
    currency: 'USD',
    refreshInterval: 0,
    now: () => NOW,
  });
  app = makeApp(store, cost);
  const body: BatchInput = {
    schemaVersion: 1,
    agentId: 'agent-1',
    sequence: 0,
    sentAt: iso(H + 60 * MINUTE),
    windows: windows(),
  };
  const response = await app.request('/api/v1/ingest', {
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json' },
  });
  expect(response.status).toBe(200);
});

afterAll(() => {
  cost.close();
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

interface AllocationJson {
  name: string;
  cpuCost: number;
  ramCost: number;
  gpuCost: number;
  totalCost: number;
  cpuCoreHours: number;
  ramByteHours: number;
  gpuHours: number;
  cpuEfficiency: number;
  ramEfficiency: number;
  gpuEfficiency: number | null;
  totalEfficiency: number;
  cpuIdleCost: number;
  start: string;
  end: string;
  window: { start: string; end: string };
  properties: Record<string, unknown>;
}

async function getJson<T>(path: string): Promise<T> {
  const response = await app.request(path);
  expect(response.status, await response.clone().text()).toBe(200);
  return (await response.json()) as T;
}

async function allocation(query: string) {
  return getJson<{ code: number; currency: string; data: Array<Record<string, AllocationJson>> }>(
    `/api/v1/allocation?${query}`,
  );
}

const records = (rows: string[][]) =>
  rows.slice(1).map((r) => Object.fromEntries(rows[0]!.map((name, i) => [name, r[i]!])));

describe('GET /api/v1/allocation', () => {
  it('aggregate=namespace: each namespace at max(request, usage) × its node prices, by hand', async () => {
    const body = await allocation(`${HOUR_WINDOW}&aggregate=namespace`);
    expect(body.code).toBe(200);
    expect(body.currency).toBe('USD');
    expect(body.data).toHaveLength(1);
    const set = body.data[0]!;
    expect(Object.keys(set)).toEqual(['team-a', 'team-c', 'team-b']); // most expensive first, idle left out

    const a = set['team-a']!;
    // CPU: max(4, 6) × 0.5 h + max(4, 2) × 0.5 h = 3 + 2 = 5 core-hours × 0.04 = 0.20
    expect(a.cpuCoreHours).toBeCloseTo(5, 12);
    expect(a.cpuCost).toBeCloseTo(0.2, 12);
    // RAM: max(16, 8) GiB × 1 h = 16 GiB-hours × 0.005 = 0.08
    expect(a.ramByteHours).toBeCloseTo(16 * GIB, 3);
    expect(a.ramCost).toBeCloseTo(0.08, 12);
    // GPU: one H100 × 1 h × 2.00 = 2.00
    expect(a.gpuHours).toBeCloseTo(1, 12);
    expect(a.gpuCost).toBeCloseTo(2, 12);
    expect(a.totalCost).toBeCloseTo(2.28, 12);
    // Efficiency: CPU (6 × 0.5 + 2 × 0.5) / (4 × 1) = 1; RAM 8 / 16 = 0.5; GPU 0.8;
    // total = (1 × 0.20 + 0.5 × 0.08 + 0.8 × 2.00) / 2.28 = 1.84 / 2.28
    expect(a.cpuEfficiency).toBeCloseTo(1, 12);
    expect(a.ramEfficiency).toBeCloseTo(0.5, 12);
    expect(a.gpuEfficiency).toBeCloseTo(0.8, 12);
    expect(a.totalEfficiency).toBeCloseTo(1.84 / 2.28, 12);
    expect(a.start).toBe('2026-11-02T10:00:00.000Z');
    expect(a.window).toEqual({ start: '2026-11-02T10:00:00.000Z', end: '2026-11-02T11:00:00.000Z' });
    expect(a.properties['controllerKind']).toBe('PyTorchJob');

    const b = set['team-b']!;
    // CPU max(2, 1) × 1 h × 0.04 = 0.08; RAM max(4, 6) GiB × 1 h × 0.005 = 0.03; total 0.11
    expect(b.cpuCost).toBeCloseTo(0.08, 12);
    expect(b.ramCost).toBeCloseTo(0.03, 12);
    expect(b.totalCost).toBeCloseTo(0.11, 12);
    // CPU efficiency 1 / 2 = 0.5; RAM 6 / 4 = 1.5 (OpenCost does not cap it); no GPU.
    expect(b.cpuEfficiency).toBeCloseTo(0.5, 12);
    expect(b.ramEfficiency).toBeCloseTo(1.5, 12);
    expect(b.gpuEfficiency).toBeNull();

    const c = set['team-c']!;
    // CPU max(4, 2) × 1 h × 0.04 = 0.16; RAM max(16, 10) × 1 h × 0.005 = 0.08; one L4 × 1 h × 0.80; total 1.04
    expect(c.cpuCost).toBeCloseTo(0.16, 12);
    expect(c.ramCost).toBeCloseTo(0.08, 12);
    expect(c.gpuCost).toBeCloseTo(0.8, 12);
    expect(c.totalCost).toBeCloseTo(1.04, 12);
  });

  it('idle=true adds __idle__: what the nodes cost and nobody held', async () => {
    const set = (await allocation(`${HOUR_WINDOW}&aggregate=namespace&idle=true`)).data[0]!;
    // gpu-1 costs 16 × 0.04 + 64 × 0.005 + 2 × 2.00 = 0.64 + 0.32 + 4.00 = 4.96 per hour;
    // serve-1 costs 8 × 0.04 + 32 × 0.005 + 0.80 = 0.32 + 0.16 + 0.80 = 1.28.
    // Idle: gpu-1 CPU 0.64 − 0.20 − 0.08 = 0.36, RAM 0.32 − 0.08 − 0.03 = 0.21, GPU 4.00 − 2.00 = 2.00;
    //       serve-1 CPU 0.32 − 0.16 = 0.16, RAM 0.16 − 0.08 = 0.08, GPU 0.
    const idle = set['__idle__']!;
    expect(idle.cpuCost).toBeCloseTo(0.36 + 0.16, 12);
    expect(idle.ramCost).toBeCloseTo(0.21 + 0.08, 12);
    expect(idle.gpuCost).toBeCloseTo(2, 12);
    expect(idle.totalCost).toBeCloseTo(2.81, 12);
    // Everything adds up to the nodes: 2.28 + 0.11 + 1.04 + 2.81 = 6.24 = 4.96 + 1.28.
    const total = Object.values(set).reduce((s, row) => s + row.totalCost, 0);
    expect(total).toBeCloseTo(6.24, 12);
  });

  it('shareIdle=true spreads idle by each namespace’s own cost of that resource', async () => {
    const set = (await allocation(`${HOUR_WINDOW}&aggregate=namespace&shareIdle=true`)).data[0]!;
    // Cluster CPU idle 0.52 over own CPU costs 0.20 + 0.08 + 0.16 = 0.44; RAM idle 0.29 over 0.08 + 0.03 + 0.08
    // = 0.19; GPU idle 2.00 over GPU costs 2.00 (team-a) + 0.80 (team-c) = 2.80.
    const a = set['team-a']!;
    expect(a.cpuCost).toBeCloseTo(0.2 + (0.52 * 0.2) / 0.44, 12);
    expect(a.cpuIdleCost).toBeCloseTo((0.52 * 0.2) / 0.44, 12);
    expect(a.ramCost).toBeCloseTo(0.08 + (0.29 * 0.08) / 0.19, 12);
    expect(a.gpuCost).toBeCloseTo(2 + (2 * 2) / 2.8, 12);
    const b = set['team-b']!;
    expect(b.totalCost).toBeCloseTo(0.11 + (0.52 * 0.08) / 0.44 + (0.29 * 0.03) / 0.19, 12);
    // Sharing moves cost, not efficiency: team-a still 1.84 / 2.28.
    expect(a.totalEfficiency).toBeCloseTo(1.84 / 2.28, 12);
    const total = Object.values(set).reduce((s, row) => s + row.totalCost, 0);
    expect(total).toBeCloseTo(6.24, 12);
  });

  it('step=30m gives one set per half hour (read from raw windows, the hour being cut)', async () => {
    const body = await allocation(`${HOUR_WINDOW}&aggregate=namespace&step=30m`);
    expect(body.data).toHaveLength(2);
    // team-a CPU: first half max(4, 6) × 0.5 h × 0.04 = 0.12, second max(4, 2) × 0.5 × 0.04 = 0.08.
    expect(body.data[0]!['team-a']!.cpuCost).toBeCloseTo(0.12, 12);
    expect(body.data[1]!['team-a']!.cpuCost).toBeCloseTo(0.08, 12);
    expect(body.data[0]!['team-a']!.window).toEqual({
      start: '2026-11-02T10:00:00.000Z',
      end: '2026-11-02T10:30:00.000Z',
    });
  });

  it('accumulate=true gives one set whatever the step, as OpenCost', async () => {
    const body = await allocation(`${HOUR_WINDOW}&aggregate=namespace&step=30m&accumulate=true`);
    expect(body.data).toHaveLength(1);
    expect(body.data[0]!['team-a']!.cpuCost).toBeCloseTo(0.2, 12);
  });

  it('a duration window is [now − d, now); other aggregates and the namespace filter', async () => {
    // now = 12:30, so 3h is [09:30, 12:30): both windows' starts are in it.
    const job = (await allocation('window=3h&aggregate=job')).data[0]!;
    expect(Object.keys(job).sort()).toEqual(['__unallocated__', 'team-a/PyTorchJob/llm-ft']);
    expect(job['team-a/PyTorchJob/llm-ft']!.totalCost).toBeCloseTo(2.28, 12);
    // 1h is [11:30, 12:30): nothing.
    expect((await allocation('window=1h&aggregate=namespace')).data).toEqual([{}]);
    const team = (await allocation(`${HOUR_WINDOW}&aggregate=label:team`)).data[0]!;
    expect(team['ml']!.totalCost).toBeCloseTo(1.04, 12);
    expect(team['__unallocated__']!.totalCost).toBeCloseTo(2.39, 12);
    const filtered = (await allocation(`${HOUR_WINDOW}&aggregate=pod&namespace=team-b`)).data[0]!;
    expect(Object.keys(filtered)).toEqual(['team-b/web-0']);
    const byNode = (await allocation(`${HOUR_WINDOW}&aggregate=node,namespace`)).data[0]!;
    expect(byNode['serve-1/team-c']!.totalCost).toBeCloseTo(1.04, 12);
  });

  it('format=csv: one row per allocation with OpenCost field names', async () => {
    const response = await app.request(`/api/v1/allocation?${HOUR_WINDOW}&aggregate=namespace&format=csv`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/csv/);
    const rows = parseCsv(await response.text());
    expect(rows[0]).toContain('cpuCoreHours');
    expect(rows[0]).toContain('totalEfficiency');
    const byName = Object.fromEntries(records(rows).map((r) => [r['name'], r]));
    expect(Number(byName['team-a']!['totalCost'])).toBeCloseTo(2.28, 12);
    expect(Number(byName['team-b']!['cpuCost'])).toBeCloseTo(0.08, 12);
    expect(byName['team-b']!['gpuEfficiency']).toBe('');
    expect(byName['team-a']!['windowStart']).toBe('2026-11-02T10:00:00.000Z');
    expect(byName['team-a']!['currency']).toBe('USD');
  });
});

describe('GET /api/v1/models', () => {
  it('cost per 1M tokens (prompt and generated) and per 1k requests, by hand', async () => {
    const body = await getJson<{ currency: string; models: Array<Record<string, unknown>> }>(
      `/api/v1/models?${HOUR_WINDOW}`,
    );
    expect(body.currency).toBe('USD');
    expect(body.models).toHaveLength(1);
    const m = body.models[0]!;
    expect(m).toMatchObject({ model: 'llama-3-8b', namespace: 'team-c', server: 'vllm', pods: 1 });
    // The pod cost C = 0.16 + 0.08 + 0.80 = 1.04; P = 600k + 400k = 1M prompt, G = 400k + 600k = 1M generated.
    expect(m['totalCost']).toBeCloseTo(1.04, 12);
    expect([m['promptTokens'], m['generatedTokens']]).toEqual([1_000_000, 1_000_000]);
    // Per 1M tokens: 1.04 / 2M × 1M = 0.52.
    expect(m['costPerMillionTokens']).toBeCloseTo(0.52, 12);
    // Generated tokens weigh 2.5: 1.04 / (1M + 2.5 × 1M) × 1M = 0.297142…, generated 2.5 × that = 0.742857…
    expect(m['costPerMillionPromptTokens']).toBeCloseTo(1.04 / 3.5, 12);
    expect(m['costPerMillionGeneratedTokens']).toBeCloseTo((2.5 * 1.04) / 3.5, 12);
    // Requests: 900 + 100 + 1000 = 2000 (failed ones used the GPU too): 1.04 / 2000 × 1000 = 0.52.
    expect(m['requests']).toBe(2000);
    expect(m['failedRequests']).toBe(100);
    expect(m['costPer1kRequests']).toBeCloseTo(0.52, 12);
    expect(m['gpuEfficiency']).toBeCloseTo(0.5, 12);
  });

  it('format=csv', async () => {
    const response = await app.request(`/api/v1/models?${HOUR_WINDOW}&format=csv`);
    expect(response.headers.get('content-type')).toMatch(/^text\/csv/);
    const [row] = records(parseCsv(await response.text()));
    expect(row!['model']).toBe('llama-3-8b');
    expect(Number(row!['costPerMillionTokens'])).toBeCloseTo(0.52, 12);
  });
});

describe('GET /api/v1/jobs', () => {
  it('cost, GPU-hours, GPU efficiency and duration per training job', async () => {
    const body = await getJson<{ jobs: Array<Record<string, unknown>> }>(`/api/v1/jobs?${HOUR_WINDOW}`);
    expect(body.jobs).toHaveLength(1);
    expect(body.jobs[0]).toMatchObject({
      namespace: 'team-a',
      kind: 'PyTorchJob',
      name: 'llm-ft',
      start: '2026-11-02T10:00:00.000Z',
      end: '2026-11-02T11:00:00.000Z',
      durationHours: 1,
      runningHours: 1,
      pods: 1,
      nodes: 1,
    });
    const job = body.jobs[0]!;
    // 0.20 CPU + 0.08 RAM + 2.00 GPU, one GPU-hour at activity 0.8.
    expect(job['totalCost']).toBeCloseTo(2.28, 12);
    expect(job['gpuHours']).toBeCloseTo(1, 12);
    expect(job['gpuEfficiency']).toBeCloseTo(0.8, 12);
    // With shareIdle it also carries team-a's share of idle, as in the allocation above.
    const shared = await getJson<{ jobs: Array<Record<string, number>> }>(
      `/api/v1/jobs?${HOUR_WINDOW}&shareIdle=true`,
    );
    expect(shared.jobs[0]!['idleCost']).toBeCloseTo(
      (0.52 * 0.2) / 0.44 + (0.29 * 0.08) / 0.19 + (2 * 2) / 2.8,
      12,
    );
    expect((await getJson<{ jobs: unknown[] }>(`/api/v1/jobs?${HOUR_WINDOW}&kind=TFJob`)).jobs).toEqual([]);
    const csv = records(parseCsv(await (await app.request(`/api/v1/jobs?${HOUR_WINDOW}&format=csv`)).text()));
    expect(csv[0]!['name']).toBe('llm-ft');
  });
});

describe('GET /api/v1/budgets', () => {
  it('spend this month and the end-of-month forecast at the end of the latest complete hour', async () => {
    const body = await getJson<{ asOf: string; currency: string; budgets: Array<Record<string, unknown>> }>(
      '/api/v1/budgets',
    );
    expect(body.asOf).toBe('2026-11-02T12:00:00.000Z');
    const [a, ml] = body.budgets;
    // team-a spent 2.28 in 10:00–11:00. The run rate runs from the first data (10:00) to 12:00: 2.28 / 2 h = 1.14
    // per hour; 684 hours remain to 2026-12-01 (28 days and 12 hours): forecast 2.28 + 1.14 × 684 = 782.04 ≥ 100.
    expect(a).toMatchObject({ name: 'team-a', scope: 'namespace:team-a', month: '2026-11', budget: 100 });
    expect(a!['spent']).toBeCloseTo(2.28, 12);
    expect(a!['runRatePerHour']).toBeCloseTo(1.14, 12);
    expect(a!['forecast']).toBeCloseTo(782.04, 9);
    expect(a!['state']).toBe('warning');
    // team=ml is team-c's vllm pod: 1.04, rate 0.52 per hour, forecast 1.04 + 0.52 × 684 = 356.72 < 500.
    expect(ml).toMatchObject({ name: 'ml', scope: 'label:team=ml', state: 'ok' });
    expect(ml!['spent']).toBeCloseTo(1.04, 12);
    expect(ml!['forecast']).toBeCloseTo(356.72, 9);
  });
});

describe('GET /api/v1/export/focus', () => {
  it('FOCUS 1.1 CSV: every column in order, one row per pod or idle node and resource, summing to the nodes', async () => {
    const response = await app.request(`/api/v1/export/focus?${HOUR_WINDOW}&billingAccountId=prod-cluster`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/csv/);
    const text = await response.text();
    const rows = parseCsv(text);
    expect(rows[0]).toEqual(FOCUS_COLUMNS.map((c) => c.name));
    expect(rows[0]!.slice(0, 3)).toEqual(['AvailabilityZone', 'BilledCost', 'BillingAccountId']);
    const data = records(rows);
    // Rows: team-a cpu, memory, gpu; team-b cpu, memory; team-c cpu, memory, gpu; gpu-1 idle cpu, memory, gpu;
    // serve-1 idle cpu, memory (its GPU is fully held: no idle GPU row).
    expect(data).toHaveLength(13);
    const billed = data.reduce((s, r) => s + Number(r['BilledCost']), 0);
    expect(billed).toBeCloseTo(6.24, 12);
    const gpuRow = data.find((r) => r['x_Pod'] === 'train-0' && r['x_Resource'] === 'gpu')!;
    expect(gpuRow['BillingAccountId']).toBe('prod-cluster');
    expect(gpuRow['PricingUnit']).toBe('GPU-Hours');
    expect(Number(gpuRow['PricingQuantity'])).toBeCloseTo(1, 12);
    expect(gpuRow['ChargePeriodStart']).toBe('2026-11-02T10:00:00Z');
    expect(gpuRow['ChargePeriodEnd']).toBe('2026-11-02T11:00:00Z');
    expect(gpuRow['BillingPeriodStart']).toBe('2026-11-01T00:00:00Z');
    expect(gpuRow['BillingCurrency']).toBe('USD');
    expect(JSON.parse(gpuRow['Tags']!)).toMatchObject({ 'mlcost/namespace': 'team-a' });
    // CRLF records, RFC 4180.
    expect(text.endsWith('\r\n')).toBe(true);
  });
});

describe('the simulated label', () => {
  /** Every answer of this file's store (no simulated node): `simulated: false`, also in CSV and the header. */
  it('says false on every answer over real nodes', async () => {
    for (const path of [
      `/api/v1/allocation?${HOUR_WINDOW}&aggregate=namespace`,
      `/api/v1/models?${HOUR_WINDOW}`,
      `/api/v1/jobs?${HOUR_WINDOW}`,
      '/api/v1/budgets',
      '/api/v1/nodes',
    ]) {
      const response = await app.request(path);
      expect(response.status, path).toBe(200);
      expect(response.headers.get('mlcost-simulated'), path).toBe('false');
      expect(((await response.json()) as { simulated: boolean }).simulated, path).toBe(false);
    }
    const set = (await allocation(`${HOUR_WINDOW}&aggregate=namespace`)).data[0]!;
    expect(Object.values(set).map((row) => (row as unknown as { simulated: boolean }).simulated)).toEqual([
      false,
      false,
      false,
    ]);
    for (const path of [
      `/api/v1/allocation?${HOUR_WINDOW}&format=csv`,
      `/api/v1/models?${HOUR_WINDOW}&format=csv`,
      `/api/v1/jobs?${HOUR_WINDOW}&format=csv`,
    ]) {
      const rows = records(parseCsv(await (await app.request(path)).text()));
      expect(rows.length, path).toBeGreaterThan(0);
      expect(new Set(rows.map((row) => row['simulated'])), path).toEqual(new Set(['false']));
    }
    const focus = await app.request(`/api/v1/export/focus?${HOUR_WINDOW}`);
    expect(focus.headers.get('mlcost-simulated')).toBe('false');
  });

  it('marks answers, and rows of one node, when a node behind them is simulated', async () => {
    // The same hour, with serve-1 (team-c's vLLM pod) marked simulated by its agent and gpu-1 real.
    const simStore = openStore(join(dir, 'simulated.db'));
    const simCost = createCostService(simStore, {
      pricing: PRICING,
      budgets: BUDGETS,
      currency: 'USD',
      refreshInterval: 0,
      now: () => NOW,
    });
    const simApp = makeApp(simStore, simCost);
    try {
      const marked = windows().map((w) =>
        w.node.name === 'serve-1' ? { ...w, node: { ...w.node, simulated: true } } : w,
      );
      const ingest = await simApp.request('/api/v1/ingest', {
        method: 'POST',
        body: JSON.stringify({
          schemaVersion: 1,
          agentId: 'agent-1',
          sequence: 0,
          sentAt: iso(H + 60 * MINUTE),
          windows: marked,
        }),
        headers: { 'content-type': 'application/json' },
      });
      expect(ingest.status).toBe(200);
      const get = async (path: string) => {
        const response = await simApp.request(path);
        expect(response.status, path).toBe(200);
        return response;
      };
      type Labelled = { simulated: boolean };

      // Allocation: the answer is simulated; a row on one node says whether that node is; a row over both nodes
      // (the cluster) carries the answer's label.
      const byNode = await get(`/api/v1/allocation?${HOUR_WINDOW}&aggregate=node`);
      expect(byNode.headers.get('mlcost-simulated')).toBe('true');
      const nodeBody = (await byNode.json()) as Labelled & { data: Array<Record<string, Labelled>> };
      expect(nodeBody.simulated).toBe(true);
      expect(nodeBody.data[0]!['serve-1']!.simulated).toBe(true);
      expect(nodeBody.data[0]!['gpu-1']!.simulated).toBe(false);
      const byNamespace = (await (
        await get(`/api/v1/allocation?${HOUR_WINDOW}&aggregate=namespace`)
      ).json()) as { data: Array<Record<string, Labelled>> };
      // team-c ran only on serve-1; team-a and team-b only on gpu-1.
      expect(
        Object.fromEntries(Object.entries(byNamespace.data[0]!).map(([name, row]) => [name, row.simulated])),
      ).toEqual({ 'team-a': false, 'team-c': true, 'team-b': false });
      const cluster = (await (await get(`/api/v1/allocation?${HOUR_WINDOW}&aggregate=cluster`)).json()) as {
        data: Array<Record<string, Labelled>>;
      };
      expect(Object.values(cluster.data[0]!).map((row) => row.simulated)).toEqual([true]);
      const csvRows = records(
        parseCsv(
          await (await get(`/api/v1/allocation?${HOUR_WINDOW}&aggregate=namespace&format=csv`)).text(),
        ),
      );
      expect(Object.fromEntries(csvRows.map((row) => [row['name'], row['simulated']]))).toEqual({
        'team-a': 'false',
        'team-c': 'true',
        'team-b': 'false',
      });

      // Models, jobs and budgets are labelled as answers; CSV repeats the answer's label on every row.
      for (const path of [
        `/api/v1/models?${HOUR_WINDOW}`,
        `/api/v1/jobs?${HOUR_WINDOW}`,
        '/api/v1/budgets',
      ]) {
        const response = await get(path);
        expect(response.headers.get('mlcost-simulated'), path).toBe('true');
        expect(((await response.json()) as Labelled).simulated, path).toBe(true);
      }
      for (const path of [
        `/api/v1/models?${HOUR_WINDOW}&format=csv`,
        `/api/v1/jobs?${HOUR_WINDOW}&format=csv`,
      ]) {
        const response = await get(path);
        expect(response.headers.get('mlcost-simulated'), path).toBe('true');
        const rows = records(parseCsv(await response.text()));
        expect(
          rows.map((row) => row['simulated']),
          path,
        ).toEqual(['true']);
      }
      const focus = await get(`/api/v1/export/focus?${HOUR_WINDOW}`);
      expect(focus.headers.get('mlcost-simulated')).toBe('true');
      await focus.text();

      // The hour after: no window starts in it, so nothing there is simulated.
      const later = await get('/api/v1/allocation?window=2026-11-02T11:00:00Z,2026-11-02T12:00:00Z');
      expect(later.headers.get('mlcost-simulated')).toBe('false');
      expect(((await later.json()) as Labelled).simulated).toBe(false);

      // The node list: the answer, and each node.
      const nodes = (await (await get('/api/v1/nodes')).json()) as Labelled & {
        nodes: Array<{ name: string; simulated: boolean }>;
      };
      expect(nodes.simulated).toBe(true);
      expect(nodes.nodes.map((n) => [n.name, n.simulated])).toEqual([
        ['gpu-1', false],
        ['serve-1', true],
      ]);
    } finally {
      simCost.close();
      simStore.close();
    }
  });
});

describe('bad parameters', () => {
  async function expectBad(path: string, parameter: string) {
    const response = await app.request(path);
    expect(response.status, path).toBe(400);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const problem = (await response.json()) as { status: number; title: string; detail: string };
    expect(problem.status).toBe(400);
    expect(problem.detail).toContain(parameter);
    return problem.detail;
  }

  it('answer 400 problem+json naming the parameter and what it allows', async () => {
    expect(await expectBad('/api/v1/allocation?window=abc', 'window')).toMatch(
      /allowed: a duration such as 24h/,
    );
    await expectBad('/api/v1/allocation?window=2026-11-02T11:00:00Z,2026-11-02T10:00:00Z', 'window');
    await expectBad('/api/v1/allocation?window=2026-11-02,2026-11-03', 'window');
    expect(await expectBad('/api/v1/allocation?aggregate=bogus', 'aggregate')).toMatch(/label:<name>/);
    await expectBad('/api/v1/allocation?aggregate=label:', 'aggregate');
    await expectBad('/api/v1/allocation?window=7d&step=1s', 'step');
    await expectBad('/api/v1/allocation?step=fast', 'step');
    expect(await expectBad('/api/v1/allocation?format=xml', 'format')).toMatch(/json or csv/);
    expect(await expectBad('/api/v1/allocation?shareIdle=maybe', 'shareIdle')).toMatch(/true or false/);
    expect(await expectBad('/api/v1/allocation?aggregation=namespace', 'aggregation')).toMatch(
      /allowed parameters: window, aggregate/,
    );
    await expectBad('/api/v1/models?window=-1h', 'window');
    await expectBad('/api/v1/models?format=xlsx', 'format');
    await expectBad('/api/v1/jobs?idleByNode=2', 'idleByNode');
    await expectBad('/api/v1/budgets?window=7d', 'window');
    await expectBad('/api/v1/export/focus?window=soon', 'window');
    await expectBad('/api/v1/export/focus?billingAccountId=', 'billingAccountId');
  });
});

describe('an unusable pricing', () => {
  it('refuses cost answers with 503 naming the key, and the rest of the collector keeps working', async () => {
    // currency EUR with the built-in USD table needs pricing.exchangeRate. (A store of its own: a service with
    // other prices marks every roll-up for recomputing.)
    const euroStore = openStore(join(dir, 'euro.db'));
    const euro = createCostService(euroStore, { currency: 'EUR', refreshInterval: 0, now: () => NOW });
    const euroApp = makeApp(euroStore, euro);
    for (const path of ['/api/v1/allocation', '/api/v1/models', '/api/v1/budgets', '/api/v1/export/focus']) {
      const response = await euroApp.request(path);
      expect(response.status, path).toBe(503);
      expect(((await response.json()) as { detail: string }).detail).toContain('pricing.exchangeRate');
    }
    expect((await euroApp.request('/healthz')).status).toBe(200);
    const fixed = createCostService(euroStore, {
      currency: 'EUR',
      pricing: { exchangeRate: 0.9, cpuCoreHour: 0.04, memGiBHour: 0.005, gpuHour: { H100: 2, L4: 0.8 } },
      refreshInterval: 0,
      now: () => NOW,
    });
    expect(fixed.unavailable).toBeNull();
    expect(fixed.currency).toBe('EUR');
    euro.close();
    fixed.close();
    euroStore.close();
  });
});
