// Backfill and ground truth: the store receives exactly the windows counted by hand for a small cluster, every node
// marked simulated; the same seed gives an identical store (digest of every row) and a byte-identical truth file;
// another seed gives different ones.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../collector/store/store.ts';
import { backfill, storeDigest } from './backfill.ts';
import { generateCluster } from './cluster.ts';
import { DAY, HOUR, MINUTE } from './schedule.ts';
import { stableStringify } from './stable-json.ts';
import { groundTruth } from './truth.ts';

const dir = mkdtempSync(join(tmpdir(), 'mlcost-sim-backfill-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const END = Date.parse('2025-06-04T00:00:00Z');
const small = (seed: number) =>
  generateCluster({ seed, nodes: 4, mix: { l4: 1, 'l4-shared': 1, 'a100-mig': 1, cpu: 1 } });

function backfilled(name: string, seed: number, days = 1, windowMs = HOUR) {
  const store = openStore(join(dir, `${name}.db`));
  const result = backfill(store, small(seed), { from: END - days * DAY, to: END, windowMs });
  return { store, result };
}

function count(store: ReturnType<typeof openStore>, sql: string): number {
  return (store.db.prepare(sql).get() as { n: number }).n;
}

describe('backfill', () => {
  it('stores the windows counted by hand for one day of a four-node cluster', () => {
    const { store, result } = backfilled('counted', 7);
    // 4 nodes × 24 hourly windows.
    expect(count(store, 'SELECT count(*) AS n FROM node_windows')).toBe(96);
    // L4: 8 GPUs; time-sliced L4: 8; A100: 8 GPUs + 34 MIG slices (layouts 4+7+2+4, twice); CPU node: none.
    expect(count(store, 'SELECT count(*) AS n FROM gpu_windows')).toBe((8 + 8 + 42) * 24);
    // L4: daemon + 5 vLLM + Triton + embeddings = 8; time-sliced L4: daemon + 16 = 17; A100: daemon + 26 occupied
    // slices = 27; CPU: daemon + 4 services + leaking service = 6, and the ETL CronJob in 12 of the 24 hours.
    expect(count(store, 'SELECT count(*) AS n FROM container_windows')).toBe((8 + 17 + 27 + 6) * 24 + 12);
    // Models per hour: L4 5 vLLM + 2 Triton models + 1 embedding model = 8; time-sliced L4 8 vLLM + 8 × 2 Triton =
    // 24; A100 per 4 GPUs (vLLM 1, Triton 2 each): A 1+2+1, B 1+1, C 2+1, D 1+2 = 12, twice = 24.
    expect(count(store, 'SELECT count(*) AS n FROM model_windows')).toBe((8 + 24 + 24) * 24);
    expect(result).toEqual({
      nodeWindows: 96,
      gpuWindows: 1392,
      containerWindows: 1404,
      modelWindows: 1344,
      batches: 4,
    });
    // Every node marked simulated; each window's start and end stored; the ETL pod holds 4 cores for 12 hours.
    expect(count(store, 'SELECT count(*) AS n FROM nodes WHERE simulated = 1')).toBe(4);
    expect(count(store, 'SELECT count(*) AS n FROM node_windows WHERE end - start <> 3600000')).toBe(0);
    expect(
      count(
        store,
        "SELECT sum(request_cpu * (end - start)) / 3600000 AS n FROM container_windows WHERE container = 'etl'",
      ),
    ).toBe(48);
    const nodes = store.nodes.listNodes();
    expect(nodes.every((n) => n.simulated && n.labels['mlcost.io/simulated'] === 'true')).toBe(true);
    store.close();
  });

  it('writes identical stores for the same seed and different ones for another seed', () => {
    const a = backfilled('same-a', 11, 1, 15 * MINUTE);
    const b = backfilled('same-b', 11, 1, 15 * MINUTE);
    const c = backfilled('other', 12, 1, 15 * MINUTE);
    const digest = storeDigest(a.store);
    expect(storeDigest(b.store)).toBe(digest);
    expect(storeDigest(c.store)).not.toBe(digest);
    // Backfilling again is idempotent: every batch is a duplicate.
    backfill(a.store, small(11), { from: END - DAY, to: END, windowMs: 15 * MINUTE });
    expect(storeDigest(a.store)).toBe(digest);
    for (const { store } of [a, b, c]) store.close();
  });

  it('refuses windows that do not divide an hour', () => {
    const store = openStore(join(dir, 'refused.db'));
    expect(() => backfill(store, small(1), { from: END - DAY, to: END, windowMs: 7 * MINUTE })).toThrow(
      /divides an hour/,
    );
    expect(() => backfill(store, small(1), { from: END - DAY, to: END, windowMs: 2 * HOUR })).toThrow(
      /divides an hour/,
    );
    store.close();
  });
});

describe('ground truth', () => {
  const range = { from: END - 2 * DAY, to: END, windowMs: HOUR };

  it('is byte-identical for the same seed and differs for another', () => {
    const text = stableStringify(groundTruth(small(7), range));
    expect(stableStringify(groundTruth(small(7), range))).toBe(text);
    expect(stableStringify(groundTruth(small(8), range))).not.toBe(text);
  });

  it('lists the planted waste with its saving, and resource-hours per namespace that match the store', () => {
    const truth = JSON.parse(stableStringify(groundTruth(small(7), range))) as {
      idleGpus: Array<{ reason: string; gpuHours: number; monthlySaving: number }>;
      overRequested: Array<{ cpuRequestCores: number; cpuUsedAvgCores: number; monthlySaving: number }>;
      sliceableGpuUsers: Array<{ suggestion: string; activityMax: number }>;
      oomLoops: Array<{ oomKillsInRange: number }>;
      namespaces: Record<string, { cpuCoreHoursRequested: number; gpuHours: number }>;
    };
    // The A100 node's planted idle notebook on a 1g.10gb slice: 1/7 of a GPU for 48 hours.
    const notebook = truth.idleGpus.find((i) => i.reason === 'notebook-never-used')!;
    expect(notebook.gpuHours).toBeCloseTo(48 / 7, 5);
    expect(notebook.monthlySaving).toBeCloseTo((48 / 7 / 48) * 730 * 3.5, 1);
    expect(truth.overRequested).toHaveLength(2);
    for (const item of truth.overRequested) {
      expect(item.cpuRequestCores / item.cpuUsedAvgCores).toBeGreaterThan(5);
      expect(item.monthlySaving).toBeGreaterThan(0);
    }
    expect(truth.sliceableGpuUsers).toHaveLength(1);
    expect(truth.sliceableGpuUsers[0]!.suggestion).toBe('time-slicing, 4 replicas per GPU');
    expect(truth.oomLoops.reduce((sum, o) => sum + o.oomKillsInRange, 0)).toBeGreaterThanOrEqual(2);

    const store = openStore(join(dir, 'truth.db'));
    backfill(store, small(7), range);
    const rows = store.db
      .prepare(
        'SELECT namespace, sum(request_cpu * (end - start)) / 3600000.0 AS cpu FROM container_windows GROUP BY namespace',
      )
      .all() as Array<{ namespace: string; cpu: number }>;
    for (const row of rows)
      expect(truth.namespaces[row.namespace]!.cpuCoreHoursRequested).toBeCloseTo(row.cpu, 6);
    store.close();
  });
});
