// Rightsizing's points, made in JS from each node's windows, against SQL's own GROUP BY over the same store (the way
// they were made before, kept here as the reference): a simulated cluster's one-minute windows, so five of them
// merge into each 5-minute point, must give the same points with the same values, NULLs included.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backfill } from '../../simulator/backfill.ts';
import { generateCluster } from '../../simulator/cluster.ts';
import { pointsOf, sqlMax, sqlSum } from './rightsizing-points.ts';
import { createRightsizingQueries } from './rightsizing-queries.ts';
import { openStore, type Store } from './store.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const POINT = 5 * MINUTE;
/** A Monday 10:00 UTC: office hours, so notebooks, training and serving are all busy or idle in turn. */
const FROM = Date.UTC(2026, 9, 5, 10);
const TO = FROM + 2 * 60 * MINUTE;

// The reference: the points as SQL grouped them (namespace, pod, container or model, or GPU and holder, and slot).
const SQL_CONTAINER_POINTS = `
  SELECT namespace, pod, container, max(node) AS node, min(start) AS start, max(end) AS end,
    max(cpu_avg) AS cpuAvg, max(cpu_p95) AS cpuP95, max(cpu_max) AS cpuMax,
    max(memory_avg) AS memAvg, max(memory_max) AS memMax,
    max(request_cpu) AS requestCpu, max(request_memory) AS requestMemory,
    max(request_gpus) AS requestGpus, max(gpu_resource) AS gpuResource,
    max(limit_cpu) AS limitCpu, max(limit_memory) AS limitMemory,
    max(restarts) AS restarts, max(oom_killed) AS oomKilled
  FROM container_windows WHERE start >= :from AND start < :to
  GROUP BY namespace, pod, container, start - start % :point`;
const SQL_GPU_POINTS = `
  SELECT g.gpu_id AS gpuId, max(g.node) AS node, min(g.start) AS start, max(g.end) AS end,
    json_extract(h.value, '$.pod') AS pod, json_extract(h.value, '$.container') AS container,
    max(json_extract(h.value, '$.share')) AS share, max(g.model) AS model, max(g.mig_profile) AS migProfile,
    max(g.activity_avg) AS activityAvg, max(g.activity_max) AS activityMax,
    max(g.memory_used_max) AS memoryUsedMax, max(g.memory_total) AS memoryTotal
  FROM gpu_windows g, json_each(g.holders) h
  WHERE g.start >= :from AND g.start < :to AND json_extract(h.value, '$.pod') IS NOT NULL
  GROUP BY g.gpu_id, json_extract(h.value, '$.namespace'), json_extract(h.value, '$.pod'),
    json_extract(h.value, '$.container'), g.start - g.start % :point`;
const SQL_MODEL_POINTS = `
  SELECT namespace, pod, model, min(start) AS start, max(end) AS end,
    sum(requests_ok) AS requestsOk, sum(requests_failed) AS requestsFailed,
    sum(prompt_tokens) AS promptTokens, sum(generated_tokens) AS generatedTokens,
    sum(latency_sum) AS latencySum, sum(latency_count) AS latencyCount,
    max(queue_max) AS queueMax, max(kv_cache_max) AS kvCacheMax
  FROM model_windows WHERE start >= :from AND start < :to
  GROUP BY namespace, pod, model, start - start % :point`;

/**
 * A comparable text for a point: its fields in a fixed order, undefined and NULL both as null, numbers to 12
 * significant digits (SQLite's sum() adds with compensation, JS in plain order: the last bits may differ).
 */
function canonical(point: Record<string, unknown>, fields: readonly string[]): string {
  return JSON.stringify(
    fields.map((field) => {
      const value = point[field] ?? null;
      return typeof value === 'number' ? Number(value.toPrecision(12)) : value;
    }),
  );
}

const CONTAINER_FIELDS = [
  'pod',
  'start',
  'end',
  'cpuAvg',
  'cpuP95',
  'cpuMax',
  'memAvg',
  'memMax',
  'requestCpu',
  'requestMemory',
  'requestGpus',
  'gpuResource',
  'limitCpu',
  'limitMemory',
  'restarts',
  'oomKilled',
] as const;
const GPU_FIELDS = [
  'gpuId',
  'pod',
  'start',
  'end',
  'share',
  'model',
  'migProfile',
  'activityAvg',
  'activityMax',
  'memoryUsedMax',
  'memoryTotal',
] as const;
const MODEL_FIELDS = [
  'pod',
  'start',
  'end',
  'requestsOk',
  'requestsFailed',
  'promptTokens',
  'generatedTokens',
  'latencySum',
  'latencyCount',
  'queueMax',
  'kvCacheMax',
] as const;

const sorted = (texts: string[]) => [...texts].sort();

let dir: string;
let store: Store;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'mlcost-points-'));
  store = openStore(join(dir, 'store.sqlite'));
  backfill(store, generateCluster({ seed: 3, nodes: 12 }), { from: FROM, to: TO, windowMs: MINUTE });
});

afterAll(() => {
  store?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('rightsizing points from one-minute windows', () => {
  it('are the points SQL groups: every container, GPU holder and model point, with the same values', () => {
    // Read from 23 hours before the first window: a node's rows are read a day at a time counted from there, so
    // the second day starts an hour into the windows and points on both sides of it must come out whole.
    const series = createRightsizingQueries(store.db).readSeries({ from: FROM + HOUR - DAY, to: TO }, POINT);
    const params = { from: FROM, to: TO, point: POINT };

    const withOomFlag = (row: Record<string, unknown>) => ({
      ...row,
      oomKilled: row.oomKilled === null ? null : (row.oomKilled as number) > 0,
    });
    const expectedContainers = store.db
      .prepare(SQL_CONTAINER_POINTS)
      .all(params)
      .map((row) => canonical(withOomFlag(row as Record<string, unknown>), CONTAINER_FIELDS));
    const actualContainers = series.containers.flatMap((s) =>
      s.windows.map((w) => canonical(w as unknown as Record<string, unknown>, CONTAINER_FIELDS)),
    );
    expect(expectedContainers.length).toBeGreaterThan(1000);
    // One-minute windows: five to a point, so the points are a fifth of the rows.
    const rows = store.db.prepare('SELECT count(*) FROM container_windows').pluck().get() as number;
    expect(expectedContainers.length).toBeLessThan(rows / 4);
    expect(sorted(actualContainers)).toEqual(sorted(expectedContainers));

    const expectedGpus = store.db
      .prepare(SQL_GPU_POINTS)
      .all(params)
      .map((row) => canonical(row as Record<string, unknown>, GPU_FIELDS));
    const actualGpus = series.gpus.flatMap((s) =>
      s.windows.map((w) => canonical(w as unknown as Record<string, unknown>, GPU_FIELDS)),
    );
    expect(expectedGpus.length).toBeGreaterThan(100);
    expect(sorted(actualGpus)).toEqual(sorted(expectedGpus));

    const expectedModels = store.db
      .prepare(SQL_MODEL_POINTS)
      .all(params)
      .map((row) => canonical(row as Record<string, unknown>, MODEL_FIELDS));
    const actualModels = series.models.flatMap((s) =>
      s.windows.map((w) => canonical(w as unknown as Record<string, unknown>, MODEL_FIELDS)),
    );
    expect(expectedModels.length).toBeGreaterThan(100);
    expect(sorted(actualModels)).toEqual(sorted(expectedModels));
  });

  it('gives every series its points in time order, whichever nodes they came from', () => {
    const series = createRightsizingQueries(store.db).readSeries({ from: FROM, to: TO }, POINT);
    for (const s of [...series.containers, ...series.gpus, ...series.models]) {
      const starts = s.windows.map((w) => w.start);
      expect(starts).toEqual([...starts].sort((a, b) => a - b));
    }
  });
});

describe('pointsOf', () => {
  const row = (start: number, key: string, value: number | null) => ({ start, key, value });
  const merge = (point: { value: number | null }, next: { value: number | null }) => {
    point.value = sqlMax(point.value, next.value);
  };

  it('merges rows of a key within a slot, and gives a slot once the next begins, in first-seen order', () => {
    const rows = [row(0, 'b', 1), row(0, 'a', null), row(60, 'a', 3), row(120, 'b', null), row(300, 'a', 2)];
    expect([...pointsOf(rows, 300, (r) => r.key, merge)]).toEqual([
      { start: 0, key: 'b', value: 1 },
      { start: 0, key: 'a', value: 3 },
      { start: 300, key: 'a', value: 2 },
    ]);
  });

  it('refuses rows out of start order rather than making two points of one slot', () => {
    const rows = [row(300, 'a', 1), row(0, 'a', 2)];
    expect(() => [...pointsOf(rows, 300, (r) => r.key, merge)]).toThrow(/out of start order/);
  });

  it('skips NULLs as SQL max() and sum() do', () => {
    expect(sqlMax(null, null)).toBeNull();
    expect(sqlMax(null, 2)).toBe(2);
    expect(sqlMax(3, null)).toBe(3);
    expect(sqlMax('nvidia.com/gpu', 'nvidia.com/mig-1g.10gb')).toBe('nvidia.com/mig-1g.10gb');
    expect(sqlSum(null, null)).toBeNull();
    expect(sqlSum(null, 2)).toBe(2);
    expect(sqlSum(1, 2)).toBe(3);
  });
});
