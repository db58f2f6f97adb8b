// Hourly cost roll-ups through the real store (a temporary SQLite file): ingest marks hours dirty, the roll-up step
// recomputes them (a late window for an hour changes that hour's roll-up), a pricing change recomputes everything,
// and on a generated history every node-hour satisfies Σ allocations + idle = node cost (relative error < 1e-9).
// The service's streamed answers (roll-ups for whole hours, raw windows for cut ones) equal the pure model's
// aggregateAllocations / jobCosts / modelCosts over the same raw windows.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Batch, type BatchInput, batchSchema } from '../../core/protocol/batch.ts';
import {
  type AggregateOptions,
  aggregateAllocations,
  allocateWindow,
  IDLE,
  jobCosts,
  modelCosts,
  type PricingConfig,
  pricesForWindow,
  type StoredModelWindow,
  type WindowAllocation,
} from '../cost/index.ts';
import { type AllocationQuery, createCostService } from '../cost-service.ts';
import { createCostQueries, HOUR_MS } from './cost-queries.ts';
import { openStore, type Store } from './store.ts';

const GIB = 2 ** 30;
const MINUTE = 60_000;
/** Monday 2026-10-05 00:00 UTC. */
const T0 = Date.UTC(2026, 9, 5);
const LATER = Date.UTC(2027, 0, 1);

let dir: string;
let store: Store;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mlcost-cost-queries-'));
  store = openStore(join(dir, 'mlcost.db'));
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

let sequence = 0;
function batch(windows: BatchInput['windows'], agentId = 'agent-1'): Batch {
  return batchSchema.parse({
    schemaVersion: 1,
    agentId,
    sequence: sequence++,
    sentAt: new Date(T0).toISOString(),
    windows,
  } satisfies BatchInput);
}

const iso = (ms: number) => new Date(ms).toISOString();

/** A window on `node` (4 cores, 16 GiB, no GPU) with one container using `cpu` cores and requesting 1 core. */
function cpuWindow(start: number, minutes: number, cpu: number) {
  return {
    start: iso(start),
    end: iso(start + minutes * MINUTE),
    node: { name: 'node-a', capacity: { cpuCores: 4, memoryBytes: 16 * GIB } },
    containers: [
      {
        namespace: 'team-a',
        pod: 'web-0',
        container: 'app',
        cpuCoresAvg: cpu,
        memoryBytesAvg: 2 * GIB,
        requests: { cpuCores: 1, memoryBytes: 4 * GIB },
      },
    ],
  };
}

const relErr = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), 1e-12);

describe('hourly roll-ups in the store', () => {
  // Prices: 0.04 per core-hour, 0.005 per GiB-hour, on demand.
  const pricing: PricingConfig = { cpuCoreHour: 0.04, memGiBHour: 0.005 };

  it('marks the hour of every new window dirty, and only new windows', () => {
    const queries = createCostQueries(store.db);
    const b = batch([cpuWindow(T0 + 10 * MINUTE, 20, 2), cpuWindow(T0 + 70 * MINUTE, 20, 2)]);
    store.writeBatch(b, T0);
    expect(queries.dirtyNodeHours(0, LATER, 10)).toEqual([
      { hour: T0, node: 'node-a' },
      { hour: T0 + HOUR_MS, node: 'node-a' },
    ]);
    queries.refreshNodeHours(
      queries.dirtyNodeHours(0, LATER, 10),
      (w) => allocateWindow(w, pricesForWindow(w)),
      0.01,
    );
    expect(queries.pendingNodeHours()).toBe(0);
    // The same batch again is a duplicate: nothing stored, nothing dirty.
    expect(store.writeBatch(b, T0).duplicate).toBe(true);
    expect(queries.pendingNodeHours()).toBe(0);
  });

  it('recomputes an hour when a late window arrives for it', async () => {
    const cost = createCostService(store, { pricing, refreshInterval: 0, now: () => LATER });
    const queries = createCostQueries(store.db);
    // Two 20-minute windows in hour T0: team-a/web-0 uses 2 cores on a 1-core request.
    store.writeBatch(batch([cpuWindow(T0, 20, 2), cpuWindow(T0 + 20 * MINUTE, 20, 2)]), T0);
    expect(await cost.refreshRollups()).toBe(1);
    let [hour] = queries.readHour(T0);
    // Node: 4 cores × 40/60 h × 0.04 = 0.106666…; 16 GiB × 40/60 h × 0.005 = 0.053333…
    expect(hour!.nodeCost.cpuCost).toBeCloseTo((4 * 40 * 0.04) / 60, 12);
    expect(hour!.nodeCost.ramCost).toBeCloseTo((16 * 40 * 0.005) / 60, 12);
    // The container: max(1, 2) = 2 cores × 40/60 h × 0.04 = 0.053333…
    expect(hour!.allocations[0]!.cpuCost).toBeCloseTo((2 * 40 * 0.04) / 60, 12);
    expect(hour!.end).toBe(T0 + 40 * MINUTE);

    // The third window of that hour arrives late (another batch, after the roll-up): using 3 cores.
    store.writeBatch(batch([cpuWindow(T0 + 40 * MINUTE, 20, 3)]), T0 + 2 * HOUR_MS);
    expect(queries.pendingNodeHours()).toBe(1);
    // The API path refreshes dirty hours before it reads them.
    const answer = await cost.allocation({
      window: { start: T0, end: T0 + HOUR_MS },
      aggregate: ['namespace'],
      includeIdle: true,
    });
    expect(queries.pendingNodeHours()).toBe(0);
    [hour] = queries.readHour(T0);
    // Node: 4 cores × 1 h × 0.04 = 0.16; container: 2 × 40/60 + 3 × 20/60 = 2.333… core-hours × 0.04 = 0.093333…
    expect(hour!.nodeCost.cpuCost).toBeCloseTo(0.16, 12);
    expect(hour!.allocations[0]!.cpuCoreHours).toBeCloseTo(7 / 3, 12);
    const team = answer.sets[0]!.allocations.find((row) => row.name === 'team-a')!;
    expect(team.cpuCost).toBeCloseTo((7 / 3) * 0.04, 12);
    // Memory: max(4, 2) = 4 GiB × 1 h × 0.005 = 0.02.
    expect(team.ramCost).toBeCloseTo(0.02, 12);
    // Idle: (0.16 − 0.093333…) + (16 × 0.005 − 0.02) = 0.066666… + 0.06.
    const idle = answer.sets[0]!.allocations.find((row) => row.name === IDLE)!;
    expect(idle.totalCost).toBeCloseTo(0.16 - (7 / 3) * 0.04 + 0.06, 12);
    expect(store.db.prepare('SELECT windows FROM cost_hourly_nodes').get()).toEqual({ windows: 3 });
  });

  it('recomputes every hour when the pricing changes', async () => {
    store.writeBatch(batch([cpuWindow(T0, 60, 1)]), T0);
    const first = createCostService(store, { pricing, refreshInterval: 0, now: () => LATER });
    await first.refreshRollups();
    const queries = createCostQueries(store.db);
    expect(queries.readHour(T0)[0]!.nodeCost.cpuCost).toBeCloseTo(0.16, 12);
    const second = createCostService(store, {
      pricing: { cpuCoreHour: 0.05, memGiBHour: 0.005 },
      refreshInterval: 0,
      now: () => LATER,
    });
    expect(queries.pendingNodeHours()).toBe(1);
    await second.refreshRollups();
    // 4 cores × 1 h × 0.05.
    expect(queries.readHour(T0)[0]!.nodeCost.cpuCost).toBeCloseTo(0.2, 12);
  });

  it('keeps costs and served-model tokens after the raw windows are deleted by retention', async () => {
    const serving = {
      ...cpuWindow(T0, 60, 1),
      models: [
        {
          namespace: 'team-a',
          pod: 'web-0',
          model: 'tiny',
          server: 'vllm' as const,
          requestsOk: 100,
          promptTokens: 300_000,
          generatedTokens: 100_000,
        },
      ],
    };
    store.writeBatch(batch([serving]), T0);
    const cost = createCostService(store, { pricing, refreshInterval: 0, now: () => LATER });
    await cost.refreshRollups();
    // Retention deletes every raw record (node, container and model windows).
    expect(store.pruneBefore(LATER)).toBeGreaterThan(0);
    expect(store.db.prepare('SELECT count(*) AS n FROM model_windows').get()).toEqual({ n: 0 });
    const window = { start: T0, end: T0 + HOUR_MS };
    const [set] = (await cost.allocation({ window, aggregate: ['namespace'] })).sets;
    // team-a/web-0: max(1, 1) core × 1 h × 0.04 + max(4, 2) GiB × 1 h × 0.005 = 0.04 + 0.02 = 0.06.
    expect(set!.allocations[0]!.totalCost).toBeCloseTo(0.06, 12);
    const [model] = await cost.models({ window });
    // 0.06 over 400k tokens: 0.15 per 1M tokens; 0.06 over 100 requests: 0.6 per 1k.
    expect(model).toMatchObject({
      model: 'tiny',
      promptTokens: 300_000,
      generatedTokens: 100_000,
      requests: 100,
    });
    expect(model!.costPerMillionTokens).toBeCloseTo(0.15, 12);
    expect(model!.costPer1kRequests).toBeCloseTo(0.6, 12);
  });

  it('does not recompute hours whose raw windows are past the retention', async () => {
    store.writeBatch(batch([cpuWindow(T0, 60, 1)]), T0);
    const cost = createCostService(store, {
      pricing,
      refreshInterval: 0,
      now: () => T0 + 40 * 24 * HOUR_MS,
      rawRetention: 30 * 24 * HOUR_MS,
    });
    expect(await cost.refreshRollups()).toBe(0);
    expect(createCostQueries(store.db).pendingNodeHours()).toBe(0);
  });
});

/** mulberry32: a small seeded PRNG, so a failure replays. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (min: number, max: number) => min + Math.floor(next() * (max - min + 1)),
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!,
  };
}

const GPU_MODELS = ['NVIDIA H100 80GB HBM3', 'NVIDIA A100-SXM4-80GB', 'NVIDIA L4'];
const PROFILES = ['1g.10gb', '2g.20gb', '3g.40gb'];

interface SimPod {
  namespace: string;
  pod: string;
  containers: string[];
  labels: Record<string, string>;
  mlJob?: { kind: string; name: string };
  model?: string;
  requestCpu: number;
  requestMemory: number;
}

/**
 * `nodes` nodes over `hours` hours: windows of 5 to 25 minutes (some crossing an hour boundary), pods with
 * fixed identities (labels, jobs, served models) whose usage varies, whole GPUs, MIG slices and time-sliced
 * GPUs with holders, free GPUs and unreported ones, and model records for the serving pods.
 */
function generateHistory(seed: number, nodes: number, hours: number): Batch[] {
  const r = rng(seed);
  const batches: Batch[] = [];
  for (let n = 0; n < nodes; n++) {
    const name = `node-${n}`;
    const gpuModel = r.pick(GPU_MODELS);
    const boards = r.int(0, 4);
    const labels: Record<string, string> = {
      'node.kubernetes.io/instance-type': r.pick(['p5.48xlarge', 'g6.12xlarge', 'm6i.8xlarge']),
      'karpenter.sh/nodepool': r.pick(['gpu', 'cpu']),
      ...(r.next() < 0.3 ? { 'karpenter.sh/capacity-type': 'spot' } : {}),
    };
    const pods: SimPod[] = Array.from({ length: r.int(1, 6) }, (_, i) => {
      const namespace = r.pick(['team-a', 'team-b', 'serving']);
      const serving = namespace === 'serving';
      return {
        namespace,
        pod: `${namespace}-p${n}-${i}`,
        containers: Array.from({ length: r.int(1, 2) }, (_, c) => `c${c}`),
        labels: { team: r.pick(['ml', 'data', 'web']) },
        ...(!serving && r.next() < 0.5
          ? { mlJob: { kind: r.pick(['PyTorchJob', 'TrainJob']), name: `job-${r.int(0, 2)}` } }
          : {}),
        ...(serving ? { model: r.pick(['llama', 'qwen']) } : {}),
        requestCpu: r.pick([0, 0.5, 2, 4]),
        requestMemory: r.pick([0, 2, 8]) * GIB,
      };
    });
    const mig = boards > 0 && r.next() < 0.3;
    const shared = boards > 0 && !mig && r.next() < 0.3;
    let at = T0 + r.int(0, 10) * MINUTE;
    const end = T0 + hours * HOUR_MS;
    const windows: BatchInput['windows'] = [];
    while (at < end) {
      const length = r.int(5, 25) * MINUTE;
      const gpus: NonNullable<BatchInput['windows'][number]['gpus']> = [];
      for (let b = 0; b < boards; b++) {
        const uuid = `GPU-${seed}-${n}-${b}`;
        const holderPod = () => r.pick(pods);
        if (mig) {
          PROFILES.forEach((profile, gi) => {
            const holder = r.next() < 0.7 ? holderPod() : undefined;
            gpus.push({
              id: `${uuid}/${gi}`,
              uuid,
              model: gpuModel,
              migProfile: profile,
              activityAvg: r.pick([0, 0.005, r.next()]),
              holders: holder ? [{ namespace: holder.namespace, pod: holder.pod }] : [],
            });
          });
        } else {
          const holders = shared
            ? Array.from({ length: r.int(0, 4) }, () => {
                const p = holderPod();
                return { namespace: p.namespace, pod: p.pod, share: 0.25 };
              })
            : r.next() < 0.7
              ? [{ namespace: holderPod().namespace, pod: holderPod().pod }]
              : [];
          gpus.push({ id: uuid, uuid, model: gpuModel, activityAvg: r.pick([0, 0.005, r.next()]), holders });
        }
      }
      const containers = pods.flatMap((p) =>
        p.containers.map((container) => ({
          namespace: p.namespace,
          pod: p.pod,
          container,
          cpuCoresAvg: r.next() * 6,
          memoryBytesAvg: r.next() * 12 * GIB,
          requests: { cpuCores: p.requestCpu, memoryBytes: p.requestMemory },
          labels: p.labels,
          ...(p.mlJob ? { mlJob: p.mlJob } : {}),
          ...(p.model ? { servedModel: { kind: 'InferenceService', name: p.model } } : {}),
        })),
      );
      const models = pods
        .filter((p) => p.model && r.next() < 0.8)
        .map((p) => ({
          namespace: p.namespace,
          pod: p.pod,
          model: p.model!,
          server: 'vllm' as const,
          requestsOk: r.int(0, 500),
          requestsFailed: r.int(0, 5),
          promptTokens: r.int(0, 100_000),
          generatedTokens: r.int(0, 100_000),
        }));
      windows.push({
        start: iso(at),
        end: iso(at + length),
        node: {
          name,
          capacity: { cpuCores: 32, memoryBytes: 128 * GIB, gpus: boards + (r.next() < 0.1 ? 1 : 0) },
          labels,
        },
        gpus,
        containers,
        models,
      });
      at += length + (r.next() < 0.1 ? 5 * MINUTE : 0);
    }
    for (let i = 0; i < windows.length; i += 50) batches.push(batch(windows.slice(i, i + 50), `agent-${n}`));
  }
  // Deliver out of order, as agents with spools do.
  return batches.sort(() => r.next() - 0.5);
}

describe('generated history through the store', () => {
  const pricing: PricingConfig = { instanceTypes: { 'p5.48xlarge': 98.32 } };
  const SEED = 20261005;
  const NODES = 6;
  const HOURS = 8;
  const range = { start: T0, end: T0 + (HOURS + 1) * HOUR_MS };

  /** The pure model over the raw windows, straight from the store. */
  function rawAllocated(): WindowAllocation[] {
    const queries = createCostQueries(store.db);
    return queries
      .nodesWithWindows(range.start, range.end)
      .flatMap((node) => queries.readWindows(node, range.start, range.end))
      .map((w) => allocateWindow(w, pricesForWindow(w, pricing)));
  }

  async function ingested() {
    for (const b of generateHistory(SEED, NODES, HOURS)) store.writeBatch(b, T0);
    const cost = createCostService(store, {
      pricing,
      refreshInterval: 0,
      now: () => LATER,
      chunkNodeHours: 7,
    });
    await cost.refreshRollups();
    return cost;
  }

  it('every stored node-hour: Σ allocations + idle = node cost, per resource (relative error < 1e-9)', async () => {
    await ingested();
    const queries = createCostQueries(store.db);
    let checked = 0;
    for (const hour of queries.hoursWithRollups(range.start, range.end)) {
      for (const w of queries.readHour(hour)) {
        for (const [cost, node] of [
          ['cpuCost', w.nodeCost.cpuCost],
          ['ramCost', w.nodeCost.ramCost],
          ['gpuCost', w.nodeCost.gpuCost],
        ] as const) {
          const sum = w.allocations.reduce((s, row) => s + row[cost], 0) + w.idle[cost];
          expect(relErr(sum, node), `${w.node} ${hour} ${cost}`).toBeLessThan(1e-9);
        }
        // GPU-hours are conserved too, and every held GPU is held at most once.
        const gpuHours = w.allocations.reduce((s, row) => s + row.gpuHours, 0) + w.idle.gpuHours;
        expect(relErr(gpuHours, w.nodeCost.gpuHours)).toBeLessThan(1e-9);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(NODES * HOURS - 1);
    // The roll-ups cost what the raw windows cost.
    const raw = rawAllocated();
    const rawTotal = raw.reduce((s, w) => s + w.nodeCost.totalCost, 0);
    const stored = store.db.prepare('SELECT sum(total_cost) AS total FROM cost_hourly_nodes').get() as {
      total: number;
    };
    expect(relErr(stored.total, rawTotal)).toBeLessThan(1e-9);
  });

  it('through the API path too: Σ allocations + idle = Σ node costs, with idle kept apart or shared', async () => {
    const cost = await ingested();
    const nodeTotal = rawAllocated().reduce((s, w) => s + w.nodeCost.totalCost + w.storageCost, 0);
    for (const options of [
      { shareIdle: false, idleByNode: false },
      { shareIdle: true, idleByNode: false },
      { shareIdle: true, idleByNode: true },
    ]) {
      // A range cut mid-hour at both ends, in 90-minute steps: raw windows for cut hours, roll-ups for the rest.
      const answer = await cost.allocation({
        window: range,
        aggregate: ['namespace'],
        includeIdle: true,
        step: 90 * MINUTE,
        ...options,
      });
      const total = answer.sets.flatMap((s) => s.allocations).reduce((s, row) => s + row.totalCost, 0);
      expect(relErr(total, nodeTotal), JSON.stringify(options)).toBeLessThan(1e-9);
    }
  });

  it('answers what aggregateAllocations answers over the raw windows', async () => {
    const cost = await ingested();
    const raw = rawAllocated();
    const queries: Array<Omit<AllocationQuery, 'window'> & { window?: AllocationQuery['window'] }> = [
      { aggregate: ['namespace'] },
      { aggregate: ['namespace'], includeIdle: true, shareIdle: true },
      { aggregate: ['cluster'], includeIdle: true, shareIdle: true, step: 3 * HOUR_MS },
      { aggregate: ['label:team'], includeIdle: true, shareIdle: true, idleByNode: true },
      { aggregate: ['job'], step: 2 * HOUR_MS },
      { aggregate: ['pod'], includeIdle: true, idleByNode: true },
      { aggregate: ['node', 'namespace'], shareIdle: true, step: 45 * MINUTE },
      // Cut mid-hour: both edges come from raw windows.
      {
        aggregate: ['model'],
        includeIdle: true,
        shareIdle: true,
        window: { start: T0 + 17 * MINUTE, end: T0 + 5 * HOUR_MS + 43 * MINUTE },
        step: HOUR_MS,
      },
    ];
    for (const q of queries) {
      const window = q.window ?? range;
      const answer = await cost.allocation({ ...q, window });
      const options: AggregateOptions = {
        aggregate: q.aggregate,
        range: window,
        ...(q.step ? { step: q.step } : {}),
        includeIdle: q.includeIdle ?? false,
        shareIdle: q.shareIdle ?? false,
        idleByNode: q.idleByNode ?? false,
      };
      const expected = aggregateAllocations(raw, options);
      expect(answer.sets.length).toBe(expected.length);
      answer.sets.forEach((set, i) => {
        const want = expected[i]!;
        expect([set.start, set.end]).toEqual([want.start, want.end]);
        const byName = new Map(want.allocations.map((row) => [row.name, row]));
        expect(set.allocations.map((row) => row.name).sort()).toEqual([...byName.keys()].sort());
        for (const row of set.allocations) {
          const other = byName.get(row.name)!;
          for (const field of [
            'cpuCost',
            'ramCost',
            'gpuCost',
            'totalCost',
            'cpuIdleCost',
            'gpuIdleCost',
            'cpuCoreHours',
            'gpuHours',
            'cpuEfficiency',
            'ramEfficiency',
            'totalEfficiency',
          ] as const) {
            expect(
              relErr(row[field], other[field]),
              `${JSON.stringify(q)} ${row.name} ${field}`,
            ).toBeLessThan(1e-9);
          }
          if (other.gpuEfficiency === null) expect(row.gpuEfficiency).toBeNull();
          else expect(relErr(row.gpuEfficiency!, other.gpuEfficiency)).toBeLessThan(1e-9);
        }
      });
    }
  });

  it('answers what jobCosts and modelCosts answer over the same windows', async () => {
    const cost = await ingested();
    const raw = rawAllocated();
    for (const shareIdle of [false, true]) {
      const jobs = await cost.jobs({ window: range, shareIdle });
      const want = jobCosts(raw, { shareIdle });
      expect(jobs.map((j) => `${j.namespace}/${j.kind}/${j.name}`).sort()).toEqual(
        want.map((j) => `${j.namespace}/${j.kind}/${j.name}`).sort(),
      );
      for (const job of jobs) {
        const other = want.find(
          (j) => j.namespace === job.namespace && j.kind === job.kind && j.name === job.name,
        )!;
        expect(relErr(job.totalCost, other.totalCost)).toBeLessThan(1e-9);
        expect(relErr(job.idleCost, other.idleCost)).toBeLessThan(1e-9);
        expect(relErr(job.gpuHours, other.gpuHours)).toBeLessThan(1e-9);
        expect(relErr(job.totalEfficiency, other.totalEfficiency)).toBeLessThan(1e-9);
        expect([job.pods, job.nodes]).toEqual([other.pods, other.nodes]);
      }

      // Each serving pod serves one model, so splitting its cost per hour or per window gives the same.
      const modelWindows = store.db
        .prepare<[], StoredModelWindow>(
          `SELECT node, start, end, namespace, pod, model, server, requests_ok AS requestsOk,
             requests_failed AS requestsFailed, prompt_tokens AS promptTokens, generated_tokens AS generatedTokens
           FROM model_windows`,
        )
        .all();
      const models = await cost.models({ window: range, shareIdle });
      const wantModels = modelCosts(raw, modelWindows, { shareIdle });
      expect(models.length).toBe(wantModels.length);
      expect(models.length).toBeGreaterThan(0);
      for (const model of models) {
        const other = wantModels.find((m) => m.namespace === model.namespace && m.model === model.model)!;
        expect(relErr(model.totalCost, other.totalCost)).toBeLessThan(1e-9);
        expect([model.promptTokens, model.generatedTokens, model.requests]).toEqual([
          other.promptTokens,
          other.generatedTokens,
          other.requests,
        ]);
        expect(relErr(model.costPerMillionTokens!, other.costPerMillionTokens!)).toBeLessThan(1e-9);
        expect(relErr(model.costPerMillionPromptTokens!, other.costPerMillionPromptTokens!)).toBeLessThan(
          1e-9,
        );
        expect(model.pods).toBe(other.pods);
      }
    }
  });
});
