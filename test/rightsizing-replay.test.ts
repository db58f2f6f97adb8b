// Issue 7, acceptance 2: replayed against the stored history, no memory recommendation is below the workload's
// observed peak and no CPU recommendation is exceeded by the workload's use in more than the stated percentile's
// share of windows (5% at p95).
//
// A seeded fleet (steady, bursty, diurnal, leaking, memory-spiking, nightly OOM-killed, sidecar, late-starting,
// uneven replicas, a PyTorchJob) is written through the store's batch writer twice: 3 days of 1-minute windows
// (the live agent's; the service reads them as 5-minute points, each standing for its busiest minute) and 14
// days of 10-minute windows (read as they are). Every cpu-memory recommendation the service makes is replayed
// (replayRecommendation) against the raw stored windows of its workload's container, read back with plain SQL,
// and compared with what the engine proposes from those raw windows directly.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  analyze,
  type ContainerSeries,
  type ContainerWindow,
  type PriceLookup,
  replayRecommendation,
} from '../collector/rightsizing/index.ts';
import { createRightsizingService } from '../collector/rightsizing-service.ts';
import { openStore, type Store } from '../collector/store/store.ts';
import type { Batch, ContainerRecord, UsageWindow } from '../core/protocol/batch.ts';

const MIB = 2 ** 20;
const GIB = 2 ** 30;
const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const END = Date.parse('2026-11-15T00:00:00Z');
const NAMESPACE = 'replay';
const PRICING = { cpuCoreHour: 0.04, memGiBHour: 0.005 };
const PRICES: PriceLookup = { currency: 'USD', cpuCoreHour: 0.04, memGiBHour: 0.005, gpuHour: () => 1 };

/** mulberry32: a small seeded generator, so the fleet is the same on every run. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Use {
  cpu: number;
  mem: number;
  /** An OOM kill in this window (at the limit). */
  oom?: boolean;
}

interface ContainerSpec {
  /** The workload as the engine names it, and how the agent reports it. */
  kind: string;
  name: string;
  mlJob?: boolean;
  pod: string;
  container: string;
  labels?: Record<string, string>;
  /** Runs from FROM + startAfter. */
  startAfter?: number;
  requestCpu: number;
  requestMemory: number;
  limitMemory?: number;
  /** `t`: ms since the history's start; `total`: the history's length; `i`: the window's index. */
  use(rand: () => number, t: number, total: number, i: number): Use;
}

const hourOfDay = (t: number) => (t % DAY) / HOUR;
const daytime = (t: number) => Math.max(0, Math.sin((2 * Math.PI * hourOfDay(t)) / 24));

const FLEET: ContainerSpec[] = [
  ...['steady-0', 'steady-1'].map(
    (pod): ContainerSpec => ({
      kind: 'Deployment',
      name: 'steady',
      pod,
      container: 'app',
      requestCpu: 1,
      requestMemory: 2 * GIB,
      use: (r) => ({ cpu: 0.3 + 0.05 * (r() - 0.5), mem: 500 * MIB + 50 * MIB * r() }),
    }),
  ),
  {
    kind: 'Deployment',
    name: 'bursty',
    pod: 'bursty-0',
    container: 'app',
    requestCpu: 2,
    requestMemory: GIB,
    use: (r) => ({ cpu: r() < 0.08 ? 1.2 + 0.3 * r() : 0.1 + 0.02 * r(), mem: 300 * MIB + 20 * MIB * r() }),
  },
  {
    kind: 'StatefulSet',
    name: 'diurnal',
    pod: 'diurnal-0',
    container: 'db',
    requestCpu: 1.5,
    requestMemory: 4 * GIB,
    use: (r, t) => ({ cpu: 0.2 + 0.6 * daytime(t) + 0.05 * r(), mem: GIB + 0.5 * GIB * daytime(t) }),
  },
  {
    kind: 'Deployment',
    name: 'leak',
    pod: 'leak-0',
    container: 'app',
    requestCpu: 0.5,
    requestMemory: 4 * GIB,
    use: (r, t, total) => ({ cpu: 0.05 + 0.01 * r(), mem: 200 * MIB + (t / total) * 1.3 * GIB }),
  },
  {
    kind: 'Deployment',
    name: 'spiky',
    pod: 'spiky-0',
    container: 'app',
    requestCpu: 1,
    requestMemory: 6 * GIB,
    use: (r, _t, _total, i) => ({
      cpu: 0.25 + 0.02 * r(),
      mem: r() < 0.002 || i === 500 ? 3 * GIB : 800 * MIB,
    }),
  },
  {
    // Killed every night at 02:00 at its 1 GiB limit.
    kind: 'Deployment',
    name: 'nightly',
    pod: 'nightly-0',
    container: 'app',
    requestCpu: 1,
    requestMemory: GIB,
    limitMemory: GIB,
    use: (r, t) => {
      const oom = t % DAY === 2 * HOUR;
      return { cpu: 0.4 + 0.05 * r(), mem: oom ? GIB : 600 * MIB + 50 * MIB * r(), oom };
    },
  },
  {
    kind: 'Deployment',
    name: 'web',
    pod: 'web-0',
    container: 'app',
    requestCpu: 2,
    requestMemory: 4 * GIB,
    use: (r) => ({ cpu: 0.6 + 0.2 * r(), mem: 1.2 * GIB + 0.1 * GIB * r() }),
  },
  {
    kind: 'Deployment',
    name: 'web',
    pod: 'web-0',
    container: 'proxy',
    requestCpu: 0.5,
    requestMemory: 512 * MIB,
    use: (r) => ({ cpu: 0.02 + 0.01 * r(), mem: 60 * MIB + 5 * MIB * r() }),
  },
  {
    // Starts a day and 7 minutes in (mid-point), under-requested: the proposal raises CPU.
    kind: 'Deployment',
    name: 'late',
    pod: 'late-0',
    container: 'app',
    startAfter: DAY + 7 * MINUTE,
    requestCpu: 0.25,
    requestMemory: GIB,
    use: (r) => ({ cpu: 0.7 + 0.1 * r(), mem: 700 * MIB + 30 * MIB * r() }),
  },
  ...[0.2, 0.5, 0.9].map(
    (load, k): ContainerSpec => ({
      kind: 'Deployment',
      name: 'uneven',
      pod: `uneven-${k}`,
      container: 'app',
      requestCpu: 2,
      requestMemory: 2 * GIB,
      use: (r) => ({ cpu: load + 0.1 * r(), mem: 400 * MIB + 100 * MIB * k + 20 * MIB * r() }),
    }),
  ),
  ...['train-worker-0', 'train-worker-1'].map(
    (pod): ContainerSpec => ({
      kind: 'PyTorchJob',
      name: 'train',
      mlJob: true,
      pod,
      container: 'pytorch',
      labels: { 'training.kubeflow.org/replica-type': 'worker', 'training.kubeflow.org/job-name': 'train' },
      requestCpu: 8,
      requestMemory: 32 * GIB,
      use: (r) => ({ cpu: 3.5 + 0.3 * (r() - 0.5), mem: 10 * GIB + GIB * r() }),
    }),
  ),
];

/** (workload, container) series the fleet has: each must get a cpu-memory recommendation. */
const SERIES = [...new Set(FLEET.map((spec) => `${spec.kind}/${spec.name}/${spec.container}`))];

function ingest(store: Store, from: number, windowMs: number): number {
  const count = (END - from) / windowMs;
  const state = FLEET.map((spec, k) => ({ spec, rand: random(1000 + k), restarts: 0, oomKilled: false }));
  const windows: UsageWindow[] = [];
  let sequence = 0;
  let rows = 0;
  const flush = () => {
    if (windows.length === 0) return;
    const batch: Batch = {
      schemaVersion: 1,
      agentId: 'replay-node',
      sequence: sequence++,
      sentAt: windows.at(-1)!.end,
      windows: windows.splice(0),
    };
    store.writeBatch(batch, END);
  };
  for (let i = 0; i < count; i++) {
    const start = from + i * windowMs;
    const t = start - from;
    const containers: ContainerRecord[] = [];
    for (const pod of state) {
      const { spec } = pod;
      if (t < (spec.startAfter ?? 0)) continue;
      const use = spec.use(pod.rand, t, END - from, i);
      if (use.oom) {
        pod.restarts += 1;
        pod.oomKilled = true;
      }
      containers.push({
        namespace: NAMESPACE,
        pod: spec.pod,
        container: spec.container,
        cpuCoresAvg: use.cpu,
        cpuCoresMax: use.cpu * 1.3,
        memoryBytesAvg: use.mem * 0.9,
        memoryBytesMax: use.mem,
        requests: { cpuCores: spec.requestCpu, memoryBytes: spec.requestMemory },
        limits: spec.limitMemory ? { memoryBytes: spec.limitMemory } : {},
        ...(spec.mlJob
          ? { mlJob: { kind: spec.kind, name: spec.name } }
          : { workload: { kind: spec.kind, name: spec.name } }),
        restarts: pod.restarts,
        oomKilled: pod.oomKilled,
        ...(spec.labels ? { labels: spec.labels } : {}),
      });
      rows++;
    }
    windows.push({
      start: new Date(start).toISOString(),
      end: new Date(start + windowMs).toISOString(),
      node: { name: 'replay-node', capacity: { cpuCores: 64, memoryBytes: 256 * GIB }, labels: {} },
      gpus: [],
      containers,
      models: [],
    });
    if (windows.length === 1440) flush();
  }
  flush();
  return rows;
}

interface RawRow {
  start: number;
  end: number;
  pod: string;
  cpu_avg: number | null;
  cpu_max: number | null;
  memory_avg: number | null;
  memory_max: number | null;
  request_cpu: number | null;
  request_memory: number | null;
  limit_memory: number | null;
  restarts: number | null;
  oom_killed: number | null;
}

/** Every stored window of one workload's container, as stored (no downsampling), with plain SQL. */
function rawSeries(store: Store, kind: string, name: string, container: string): ContainerSeries {
  const pods = FLEET.filter(
    (spec) => spec.kind === kind && spec.name === name && spec.container === container,
  ).map((spec) => spec.pod);
  const rows = store.db
    .prepare<unknown[], RawRow>(
      `SELECT start, end, pod, cpu_avg, cpu_max, memory_avg, memory_max, request_cpu, request_memory, limit_memory,
         restarts, oom_killed
       FROM container_windows
       WHERE namespace = ? AND container = ? AND pod IN (${pods.map(() => '?').join(', ')})
       ORDER BY start, pod`,
    )
    .all(NAMESPACE, container, ...pods);
  const windows: ContainerWindow[] = rows.map((row) => ({
    start: row.start,
    end: row.end,
    pod: row.pod,
    cpuAvg: row.cpu_avg ?? undefined,
    cpuMax: row.cpu_max ?? undefined,
    memAvg: row.memory_avg ?? undefined,
    memMax: row.memory_max ?? undefined,
    requestCpu: row.request_cpu ?? undefined,
    requestMemory: row.request_memory ?? undefined,
    limitMemory: row.limit_memory ?? undefined,
    restarts: row.restarts ?? undefined,
    oomKilled: row.oom_killed === null ? undefined : row.oom_killed === 1,
  }));
  return { workload: { namespace: NAMESPACE, kind, name }, container, windows };
}

const dir = mkdtempSync(join(tmpdir(), 'mlcost-replay-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each([
  { label: '3 days of 1-minute windows, read as 5-minute points', days: 3, windowMs: MINUTE, merged: 5 },
  { label: '14 days of 10-minute windows, read as they are', days: 14, windowMs: 10 * MINUTE, merged: 1 },
])('replay over $label', ({ days, windowMs, merged }) => {
  it('never proposes memory below an observed peak, nor CPU exceeded in more than 5% of windows', async () => {
    const store = openStore(join(dir, `replay-${windowMs}.db`));
    try {
      const rows = ingest(store, END - days * DAY, windowMs);
      const service = createRightsizingService(store, { pricing: PRICING, clock: () => END });
      const result = await service.current();
      // The points read: one per pod, container and 5 minutes (the late pod's first point is a partial one).
      expect(result.stats.containerPoints).toBeGreaterThanOrEqual(Math.floor(rows / merged));
      expect(result.stats.containerPoints).toBeLessThanOrEqual(Math.ceil(rows / merged) + FLEET.length);

      const cpuMemory = result.report.recommendations.filter((rec) => rec.kind === 'cpu-memory');
      expect(
        cpuMemory.map((rec) => `${rec.target.kind}/${rec.target.name}/${rec.target.container}`).sort(),
      ).toEqual([...SERIES].sort());
      expect(result.report.notEnoughData).toEqual([]);

      for (const rec of cpuMemory) {
        const { kind, name, container } = rec.target;
        const raw = rawSeries(store, kind, name, container!);
        const replayed = replayRecommendation(raw, rec);
        const context = `${rec.id}: ${JSON.stringify(replayed)}`;
        expect(Number(rec.details.cpuPercentile), context).toBe(95);
        expect(replayed.windows, context).toBe(raw.windows.length);
        expect(replayed.memoryBelowPeak, context).toBe(false);
        expect(replayed.proposedMemoryBytes, context).toBeGreaterThanOrEqual(
          Math.max(...raw.windows.map((w) => w.memMax ?? 0)),
        );
        expect(replayed.wouldBeOomKills, context).toBe(0);
        expect(replayed.cpuExceedShare, context).toBeLessThanOrEqual(replayed.allowedCpuExceedShare);
        expect(replayed.ok, context).toBe(true);

        // The engine on the raw windows: points keep the memory peak exactly, and the CPU proposal from points
        // (each its busiest window) is never below the one from raw windows.
        const direct = analyze({ now: END, prices: PRICES, containers: [raw] }).recommendations.find(
          (other) => other.kind === 'cpu-memory',
        );
        expect(direct, context).toBeDefined();
        expect(rec.proposed.memoryBytes, context).toBe(direct!.proposed.memoryBytes);
        expect(Number(rec.proposed.cpuCores), context).toBeGreaterThanOrEqual(
          Number(direct!.proposed.cpuCores),
        );
        if (merged === 1) expect(rec.proposed, context).toEqual(direct!.proposed);
      }

      // The nightly OOM kills raise memory above the 1 GiB limit it died at (VPA bump): 1.2 GiB × 1.15.
      const nightly = cpuMemory.find((rec) => rec.target.name === 'nightly')!;
      expect(nightly.proposed.memoryBytes).toBe(Math.ceil((1.2 * 1.15 * GIB) / MIB) * MIB);
      expect(Number(nightly.proposed.memoryBytes)).toBeGreaterThan(Number(nightly.current.memoryBytes));
      expect(nightly.details.oomKills).toBe(days);
      // The PyTorchJob's workers are one series, sized together, patched at the Worker replica template.
      const train = cpuMemory.find((rec) => rec.target.name === 'train')!;
      expect(train.target.kind).toBe('PyTorchJob');
      expect(train.patch.type).toBe('json');
      expect(JSON.stringify(train.patch.body)).toContain(
        '/spec/pytorchReplicaSpecs/Worker/template/spec/containers/0',
      );
    } finally {
      store.close();
    }
  });
});
