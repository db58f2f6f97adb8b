// /api/v1/models from the hourly served-model roll-ups (migration 0003) against the way it was computed before them:
// every serving pod's allocation rows of every hour read back and shared among the models it served (kept below as
// `modelsFromRows`, the reference). A simulated cluster is backfilled into a real store and rolled up; every model's
// every field must agree (numbers to a relative 1e-9), for aligned and cut ranges, with idle kept apart, shared
// cluster-wide or per node, and after upgrading a store written at schema version 2.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BatchInput, batchSchema } from '../../core/protocol/batch.ts';
import { backfill } from '../../simulator/backfill.ts';
import { generateCluster } from '../../simulator/cluster.ts';
import { PRICES } from '../../simulator/prices.ts';
import { addInto, emptyAllocation, finalize } from '../cost/allocation.ts';
import {
  type Allocation,
  allocateWindow,
  DEFAULT_GENERATED_TOKEN_WEIGHT,
  type ModelCost,
  modelCostOf,
  type PricingConfig,
  pricesForWindow,
  rollupWindows,
  type StoredModelWindow,
  type WindowAllocation,
} from '../cost/index.ts';
import { type CostService, createCostService, type ModelQuery, planSegments } from '../cost-service.ts';
import { createCostQueries, HOUR_MS } from './cost-queries.ts';
import { type Db, schemaVersion } from './database.ts';
import { openStore, type Store } from './store.ts';

const pricing: PricingConfig = {
  currency: PRICES.currency,
  cpuCoreHour: PRICES.cpuCoreHour,
  memGiBHour: PRICES.memoryGiBHour,
  gpuHour: PRICES.gpuHour,
  discounts: { 'on-demand': 0, spot: 1 - PRICES.spotFactor },
};
/** Sunday 2026-10-04 21:00 UTC: the history crosses midnight (the pods per day of migration 0003). */
const FROM = Date.UTC(2026, 9, 4, 21);
const HOURS = 6;
const END = FROM + HOURS * HOUR_MS;
const MINUTE = 60_000;

// The reference: models() as it was before the hourly served-model roll-ups.
const RES = [
  ['cpuCost', 'cpuIdleCost'],
  ['ramCost', 'ramIdleCost'],
  ['gpuCost', 'gpuIdleCost'],
] as const;

class Scopes {
  weights = new Map<string, number[]>();
  pools = new Map<string, number[]>();
  constructor(readonly byNode: boolean) {}
  scopeOf(row: Allocation) {
    return this.byNode ? (row.properties.node ?? '') : '';
  }
  entry(map: Map<string, number[]>, key: string) {
    let v = map.get(key);
    if (!v) {
      v = [0, 0, 0];
      map.set(key, v);
    }
    return v;
  }
  addRow(row: Allocation) {
    const w = this.entry(this.weights, this.scopeOf(row));
    RES.forEach(([c, i], k) => {
      w[k]! += row[c] - row[i];
    });
  }
  addIdle(row: Allocation) {
    const p = this.entry(this.pools, this.scopeOf(row));
    RES.forEach(([c], k) => {
      p[k]! += row[c];
    });
  }
  addTotals(scope: string, own: readonly number[], idle: readonly number[]) {
    const w = this.entry(this.weights, scope);
    const p = this.entry(this.pools, scope);
    for (let k = 0; k < 3; k++) {
      w[k]! += own[k]!;
      p[k]! += idle[k]!;
    }
  }
  factor(scope: string, k: number) {
    const weight = this.weights.get(scope)?.[k] ?? 0;
    return weight > 0 ? (this.pools.get(scope)?.[k] ?? 0) / weight : 0;
  }
}

function modelsFromRows(db: Db, query: ModelQuery): ModelCost[] {
  const queries = createCostQueries(db);
  const servedModelsHourly = db.prepare<
    [number, number],
    { namespace: string; pod: string; model: string; server: string }
  >(
    `SELECT namespace, pod, model, max(server) AS server FROM cost_hourly_models WHERE hour >= ? AND hour < ?
     GROUP BY namespace, pod, model`,
  );
  const hourModelWindows = (hour: number): StoredModelWindow[] =>
    db
      .prepare<[number], Omit<StoredModelWindow, 'start' | 'end'>>(
        `SELECT node, namespace, pod, model, server, requests_ok AS requestsOk, requests_failed AS requestsFailed,
           prompt_tokens AS promptTokens, generated_tokens AS generatedTokens
         FROM cost_hourly_models WHERE hour = ? ORDER BY node, namespace, pod, model`,
      )
      .all(hour)
      .map((m) => ({ ...m, start: hour, end: hour + HOUR_MS }));
  /** Every row of a pod that is a served model's identity this hour or is listed. */
  const servingRows = (hour: number, servingPods: ReadonlySet<string>): Allocation[] => {
    const rows = queries.readHour(hour).flatMap((w) => w.allocations);
    const name = (r: Allocation) => `${r.properties.namespace}/${r.properties.pod}`;
    const identity = new Set(rows.filter((r) => r.properties.servedModel !== undefined).map(name));
    return rows.filter((r) => identity.has(name(r)) || servingPods.has(name(r)));
  };
  const { window } = query;
  const allocate = (w: Parameters<typeof pricesForWindow>[0]): WindowAllocation =>
    allocateWindow(w, pricesForWindow(w, pricing));
  const weight = query.generatedTokenWeight ?? DEFAULT_GENERATED_TOKEN_WEIGHT;
  const scopes = new Scopes(query.idleByNode ?? false);
  const namespaces = query.namespaces && query.namespaces.length > 0 ? new Set(query.namespaces) : null;
  type Acc = {
    model: string;
    namespace: string;
    server: string | null;
    pods: Set<string>;
    row: Allocation;
    own: Map<string, number[]>;
    promptTokens: number;
    generatedTokens: number;
    requestsOk: number;
    requestsFailed: number;
  };
  const accs = new Map<string, Acc>();
  const accumulator = (
    model: string,
    namespace: string,
    server: string | null,
    start: number,
    end: number,
  ) => {
    const key = `${namespace}|${model}`;
    let acc = accs.get(key);
    if (!acc) {
      acc = {
        model,
        namespace,
        server,
        pods: new Set(),
        row: emptyAllocation(model, {}, start, end),
        own: new Map(),
        promptTokens: 0,
        generatedTokens: 0,
        requestsOk: 0,
        requestsFailed: 0,
      };
      accs.set(key, acc);
    }
    if (acc.server === null && server !== null) acc.server = server;
    return acc;
  };
  const segments = planSegments(window, window.end - window.start);
  const rollups = segments.filter((s) => s.rollup);
  const firstHour = rollups[0]?.start;
  const lastHourEnd = rollups.at(-1)?.end;
  const servedByPod = new Map<string, Map<string, string>>();
  for (const s of [
    ...(firstHour !== undefined && lastHourEnd !== undefined
      ? servedModelsHourly.all(firstHour, lastHourEnd)
      : []),
    ...segments.filter((s) => !s.rollup).flatMap((s) => queries.servedModels(s.start, s.end)),
  ]) {
    const key = `${s.namespace}/${s.pod}`;
    const served = servedByPod.get(key) ?? new Map<string, string>();
    served.set(s.model, s.server);
    servedByPod.set(key, served);
  }
  let segmentModels = new Map<string, StoredModelWindow[]>();
  const addPodRows = (allocations: readonly Allocation[]) => {
    const pods = new Map<string, Allocation[]>();
    for (const row of allocations) {
      const p = row.properties;
      if (!p.node || !p.namespace || !p.pod) continue;
      const key = `${p.node}|${p.namespace}|${p.pod}`;
      pods.set(key, [...(pods.get(key) ?? []), row]);
    }
    for (const [key, rows] of pods) {
      const { namespace, pod } = rows[0]!.properties as { namespace: string; pod: string };
      const podName = `${namespace}/${pod}`;
      let served: Array<{ model: string; server: string | null; tokens: number; requests: number }>;
      const inWindow = segmentModels.get(key);
      const servedModel = rows.every((r) => r.properties.servedModel === rows[0]!.properties.servedModel)
        ? rows[0]!.properties.servedModel
        : undefined;
      if (inWindow) {
        served = inWindow.map((m) => ({
          model: m.model,
          server: m.server,
          tokens: m.promptTokens + m.generatedTokens,
          requests: m.requestsOk + m.requestsFailed,
        }));
      } else if (servedByPod.has(podName)) {
        served = [...servedByPod.get(podName)!].map(([model, server]) => ({
          model,
          server,
          tokens: 0,
          requests: 0,
        }));
      } else if (servedModel) {
        served = [{ model: servedModel, server: null, tokens: 0, requests: 0 }];
      } else continue;
      const tokens = served.reduce((sum, s) => sum + s.tokens, 0);
      const requests = served.reduce((sum, s) => sum + s.requests, 0);
      const start = Math.min(...rows.map((r) => r.start));
      const end = Math.max(...rows.map((r) => r.end));
      for (const s of served) {
        const share =
          tokens > 0 ? s.tokens / tokens : requests > 0 ? s.requests / requests : 1 / served.length;
        const acc = accumulator(s.model, namespace, s.server, start, end);
        for (const row of rows) {
          addInto(acc.row, row, share);
          const own = acc.own.get(scopes.scopeOf(row)) ?? [0, 0, 0];
          RES.forEach(([c, i], k) => {
            own[k]! += share * (row[c] - row[i]);
          });
          acc.own.set(scopes.scopeOf(row), own);
        }
        acc.pods.add(podName);
      }
    }
  };
  const servingPods = new Set(servedByPod.keys());
  const withRollups =
    firstHour !== undefined && lastHourEnd !== undefined
      ? new Set(queries.hoursWithRollups(firstHour, lastHourEnd))
      : new Set<number>();
  for (const segment of segments) {
    segmentModels = new Map();
    for (const m of segment.rollup
      ? hourModelWindows(segment.start)
      : queries.modelWindowsSummed(segment.start, segment.end)) {
      const key = `${m.node}|${m.namespace}|${m.pod}`;
      segmentModels.set(key, [...(segmentModels.get(key) ?? []), m]);
      const acc = accumulator(m.model, m.namespace, m.server, m.start, m.end);
      acc.promptTokens += m.promptTokens;
      acc.generatedTokens += m.generatedTokens;
      acc.requestsOk += m.requestsOk;
      acc.requestsFailed += m.requestsFailed;
      acc.pods.add(`${m.namespace}/${m.pod}`);
    }
    if (segment.rollup) {
      if (!withRollups.has(segment.start)) continue;
      for (const t of queries.scopeTotals(segment.start, scopes.byNode))
        scopes.addTotals(t.scope, t.own, t.idle);
      addPodRows(servingRows(segment.start, servingPods));
    } else {
      for (const node of queries.nodesWithWindows(segment.start, segment.end)) {
        const windows = queries.readWindows(node, segment.start, segment.end).map(allocate);
        for (const w of rollupWindows(windows, HOUR_MS)) {
          for (const row of w.allocations) scopes.addRow(row);
          scopes.addIdle(w.idle);
          addPodRows(w.allocations);
        }
      }
    }
  }
  return [...accs.values()]
    .filter((acc) => !namespaces || namespaces.has(acc.namespace))
    .map((acc) => {
      if (query.shareIdle) {
        for (const [scope, own] of acc.own) {
          RES.forEach(([c, i], k) => {
            const add = own[k]! * scopes.factor(scope, k);
            if (add === 0) return;
            acc.row[c] += add;
            acc.row[i] += add;
          });
        }
      }
      return modelCostOf(acc, finalize(acc.row), weight);
    })
    .sort((a, b) => b.totalCost - a.totalCost);
}

const relErr = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), 1e-12);

const EXACT = new Set<keyof ModelCost>(['pods', 'start', 'end']);

/** Every field of every row equal: strings, nulls and counts exactly, other numbers to a relative 1e-9. */
function expectSameModels(got: readonly ModelCost[], want: readonly ModelCost[]): void {
  const key = (m: ModelCost) => `${m.namespace}|${m.model}`;
  expect(got.map(key).sort()).toEqual(want.map(key).sort());
  const byKey = new Map(want.map((m) => [key(m), m]));
  for (const m of got) {
    const other = byKey.get(key(m))!;
    for (const field of Object.keys(other) as Array<keyof ModelCost>) {
      const a = m[field];
      const b = other[field];
      if (typeof a === 'number' && typeof b === 'number' && !EXACT.has(field)) {
        expect(relErr(a, b), `${key(m)} ${field}: ${a} vs ${b}`).toBeLessThan(1e-9);
      } else {
        expect(a, `${key(m)} ${field}`).toEqual(b);
      }
    }
  }
  // The same order, where costs differ by more than rounding.
  for (let i = 1; i < got.length; i++) {
    expect(got[i - 1]!.totalCost).toBeGreaterThanOrEqual(got[i]!.totalCost * (1 - 1e-12));
  }
  expect(got.map(key)).toEqual(want.map(key));
}

const QUERIES: Array<{ name: string; query: ModelQuery }> = [
  { name: 'whole hours', query: { window: { start: FROM, end: END } } },
  {
    name: 'cut hours at both ends',
    query: { window: { start: FROM + 17 * MINUTE, end: END - 40 * MINUTE } },
  },
  {
    name: 'inside one hour',
    query: { window: { start: FROM + 2 * HOUR_MS + 5 * MINUTE, end: FROM + 2 * HOUR_MS + 50 * MINUTE } },
  },
  { name: 'shared idle', query: { window: { start: FROM + HOUR_MS, end: END }, shareIdle: true } },
  {
    name: 'idle shared per node, cut',
    query: { window: { start: FROM + 30 * MINUTE, end: END }, shareIdle: true, idleByNode: true },
  },
  {
    name: 'wider than the history',
    query: { window: { start: FROM - 2 * HOUR_MS, end: END + 3 * HOUR_MS } },
  },
  { name: 'token weight', query: { window: { start: FROM, end: END - HOUR_MS }, generatedTokenWeight: 4 } },
];

describe('served-model costs from the hourly roll-ups', () => {
  let dir: string;
  let store: Store;
  let cost: CostService;
  const open = (file: string) => {
    store = openStore(file);
    cost = createCostService(store, { pricing, refreshInterval: 0, now: () => END + HOUR_MS });
  };
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mlcost-model-costs-'));
    open(join(dir, 'mlcost.db'));
    const cluster = generateCluster({ seed: 7, nodes: 24 });
    backfill(store, cluster, { from: FROM, to: END, windowMs: 15 * MINUTE });
    await cost.refreshRollups();
  }, 120_000);
  afterAll(() => {
    cost?.close();
    store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the simulated history has serving pods, models shared by several pods, and pods serving several models', () => {
    const rows = store.db
      .prepare<[], { models: number; pods: number }>(
        'SELECT count(DISTINCT model) AS models, count(DISTINCT pod) AS pods FROM cost_hourly_model_costs',
      )
      .get()!;
    expect(rows.models).toBeGreaterThan(3);
    expect(rows.pods).toBeGreaterThan(3);
  });

  for (const { name, query } of QUERIES) {
    it(`answers as before: ${name}`, async () => {
      const got = await cost.models(query);
      const want = modelsFromRows(store.db, query);
      expect(want.length).toBeGreaterThan(0);
      expectSameModels(got, want);
    });
  }

  it('keeps the answer when a store at schema version 2 is upgraded', async () => {
    const query: ModelQuery = { window: { start: FROM + 10 * MINUTE, end: END }, shareIdle: true };
    const before = modelsFromRows(store.db, query);
    // Back to version 2: the tables and index of migration 0003 gone.
    store.db.exec(`
      DROP TABLE cost_hourly_model_costs;
      DROP TABLE cost_hourly_model_unmatched;
      DROP TABLE cost_hourly_model_sums;
      DROP TABLE cost_daily_model_pods;
      DROP INDEX cost_hourly_models_by_pod;
      PRAGMA user_version = 2;`);
    const file = store.file;
    cost.close();
    store.close();
    open(file);
    expect(schemaVersion(store.db)).toBe(3);
    expect(createCostQueries(store.db).pendingNodeHours()).toBe(0);
    expectSameModels(await cost.models(query), before);
    for (const { query } of QUERIES) {
      expectSameModels(await cost.models(query), modelsFromRows(store.db, query));
    }
  });
});

// Pods the simulator does not make: a pod whose records start after its first hours were rolled up (and stop for
// an hour), a pod known only by its served-model identity, with records in one hour for two models, a pod serving
// two models by tokens, then by requests, then neither, records of a pod with no container windows, and a pod whose
// first records are in the cut hour at the range's end (not rolled up yet).
describe('served-model costs: pods without records of their own', () => {
  const GIB = 2 ** 30;
  const WINDOW = 15 * MINUTE;
  let dir: string;
  let store: Store;
  let cost: CostService;
  let sequence = 0;
  const iso = (ms: number) => new Date(ms).toISOString();
  const container = (pod: string, cpu: number, servedModel?: string) => ({
    namespace: 'serve',
    pod,
    container: 'main',
    cpuCoresAvg: cpu,
    memoryBytesAvg: GIB,
    requests: { cpuCores: 1, memoryBytes: 2 * GIB },
    ...(servedModel ? { servedModel: { kind: 'InferenceService', name: servedModel } } : {}),
  });
  const record = (pod: string, model: string, tokens: number, requests: number) => ({
    namespace: 'serve',
    pod,
    model,
    server: 'vllm' as const,
    requestsOk: requests,
    promptTokens: tokens,
    generatedTokens: tokens / 4,
  });
  /** One window of each node at `start` (hour index h, quarter q). */
  function windows(start: number): BatchInput['windows'] {
    const h = Math.floor((start - FROM) / HOUR_MS);
    const q = Math.floor((start % HOUR_MS) / WINDOW);
    const node = (name: string) => ({ name, capacity: { cpuCores: 8, memoryBytes: 32 * GIB } });
    const aContainers = [container('warm', 1 + q / 4), container('multi', 2), container('web', 1)];
    const aModels = [
      ...(h >= 2 && h !== 4 ? [record('warm', 'm1', 1000 * (q + 1), 10)] : []),
      ...(q === 0
        ? [record('multi', 'm1', 3000, 5), record('multi', 'm3', 1000, 5)]
        : q === 1
          ? [record('multi', 'm1', 0, 1), record('multi', 'm3', 0, 3)]
          : q === 2
            ? [record('multi', 'm1', 0, 0), record('multi', 'm3', 0, 0)]
            : []),
      ...(h === 3 ? [record('ghost', 'm4', 500, 2)] : []),
    ];
    const bContainers = [container('ident', 2, 'm2'), ...(h >= 3 ? [container('late', 1)] : [])];
    const bModels = [
      ...(h === 1 ? [record('ident', 'm2', 200, 1), record('ident', 'm3', 600, 1)] : []),
      ...(h === 5 ? [record('late', 'm5', 100, 1)] : []),
    ];
    return [
      {
        start: iso(start),
        end: iso(start + WINDOW),
        node: node('node-a'),
        containers: aContainers,
        models: aModels,
      },
      {
        start: iso(start),
        end: iso(start + WINDOW),
        node: node('node-b'),
        containers: bContainers,
        models: bModels,
      },
    ];
  }
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mlcost-model-costs-'));
    store = openStore(join(dir, 'mlcost.db'));
    cost = createCostService(store, { pricing, refreshInterval: 0, now: () => END + HOUR_MS });
    // As a live collector: each hour rolled up once it is over, before the next hour's windows arrive.
    for (let hour = FROM; hour < END; hour += HOUR_MS) {
      for (let start = hour; start < hour + HOUR_MS; start += WINDOW) {
        store.writeBatch(
          batchSchema.parse({
            schemaVersion: 1,
            agentId: 'agent',
            sequence: sequence++,
            sentAt: iso(start),
            windows: windows(start),
          } satisfies BatchInput),
          start + WINDOW,
        );
      }
      if (hour < END - HOUR_MS) await cost.refreshRollups({ to: hour + HOUR_MS });
    }
  });
  afterAll(() => {
    cost?.close();
    store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const windowsToAsk: Array<{ name: string; query: ModelQuery }> = [
    { name: 'before any record of warm', query: { window: { start: FROM, end: FROM + 2 * HOUR_MS } } },
    { name: 'whole hours', query: { window: { start: FROM, end: END - HOUR_MS } } },
    {
      name: 'without the hour of ident’s records',
      query: { window: { start: FROM + 2 * HOUR_MS, end: END - HOUR_MS } },
    },
    {
      name: 'late pod in the cut hour',
      query: { window: { start: FROM + 20 * MINUTE, end: END - 20 * MINUTE } },
    },
    {
      name: 'late pod, idle shared per node',
      query: { window: { start: FROM + HOUR_MS, end: END - 10 * MINUTE }, shareIdle: true, idleByNode: true },
    },
    { name: 'shared idle', query: { window: { start: FROM, end: END - HOUR_MS }, shareIdle: true } },
  ];
  for (const { name, query } of windowsToAsk) {
    it(`answers as before: ${name}`, async () => {
      const got = await cost.models(query);
      const want = modelsFromRows(store.db, query);
      expect(want.length).toBeGreaterThan(1);
      expectSameModels(got, want);
    });
  }

  it('rebuilds the hours a pod served in before its first records arrived', () => {
    const unmatched = store.db
      .prepare<[], { pod: string; n: number }>(
        'SELECT pod, count(*) AS n FROM cost_hourly_model_unmatched GROUP BY pod ORDER BY pod',
      )
      .all();
    // warm: hours 0, 1 (before its records) and 4; ident: every hour but 1; late: not yet (no record rolled up).
    expect(unmatched).toEqual([
      { pod: 'ident', n: 4 },
      { pod: 'warm', n: 3 },
    ]);
  });
  it('forgets the pods of pruned hours', async () => {
    const queries = createCostQueries(store.db);
    queries.pruneRollupsBefore(FROM + 3 * HOUR_MS + 30 * MINUTE);
    const masks = store.db
      .prepare<[], { day: number; mask: number }>('SELECT day, mask FROM cost_daily_model_pods')
      .all();
    expect(masks.length).toBeGreaterThan(0);
    for (const { day, mask } of masks) {
      for (let bit = 0; bit < 24; bit++) {
        if (mask & (1 << bit)) expect(day + bit * HOUR_MS).toBeGreaterThanOrEqual(FROM + 4 * HOUR_MS);
      }
    }
    const query: ModelQuery = { window: { start: FROM, end: END - HOUR_MS } };
    expectSameModels(await cost.models(query), modelsFromRows(store.db, query));
  });
});
