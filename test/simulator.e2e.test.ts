// The real agent against the simulator's live endpoints: `mlcost agent --once --print` runs as a child process for
// two simulated nodes (a time-sliced L4 inference node and an H100 node), reading the simulated API server, kubelet,
// pod-resources socket, dcgm-exporter and model servers exactly as it reads real ones, and its records must match
// what windowsAt says for the same window:
//  - identity (requests, limits, owners, labels, QoS, restarts), capacity and GPU holders: exactly;
//  - CPU, memory, GPU activity, framebuffer, power: exactly when the agent's window lies within one simulated minute
//    (every endpoint serves that minute's value and the agent averages readings of it; CPU is a rate of the
//    kubelet's nanosecond counter, so it is compared to 1e-6), and otherwise within the range of the minutes it
//    spans (an average of readings cannot leave the range of what was read);
//  - model counters: between 0 and the window's increase (the agent's two scrapes fall inside its window).
// A third run on the A100 MIG node checks that the pod holding each MIG slice is found, and no one holds a free one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContainerRecord, GpuRecord, Holder, ModelRecord, UsageWindow } from '../core/protocol/batch.ts';
import { type Cluster, generateCluster, type SimNode } from '../simulator/cluster.ts';
import { SLOT_MS } from '../simulator/schedule.ts';
import { type Serving, serve } from '../simulator/serve.ts';
import { nodeWindow } from '../simulator/usage.ts';
import { cleanEnv, killAll, MlcostProcess } from './support/mlcost-process.ts';

// A Tuesday afternoon, 5 s into a minute and far from an hour boundary (where pods roll over).
const START = Date.parse('2025-06-03T14:20:05Z');

let cluster: Cluster;
let serving: Serving;
const agentWindows = new Map<string, UsageWindow>();

async function runAgent(node: SimNode): Promise<UsageWindow> {
  const config = serving.info.nodes.find((n) => n.name === node.name)!.agentConfig;
  const agent = new MlcostProcess(
    [
      'agent',
      '--once',
      '--print',
      '--config',
      config,
      '--interval',
      '2s',
      '--window',
      '2s',
      '--log-level',
      'warn',
    ],
    { env: cleanEnv() },
  );
  const exit = await agent.waitForExit(90_000);
  if (exit.code !== 0)
    throw new Error(`agent for ${node.name} exited ${exit.code}: ${agent.stderr.slice(-2000)}`);
  return JSON.parse(agent.stdout) as UsageWindow;
}

/** The generator's windows for the agent's window, split at minute boundaries (one per simulated minute). */
function expectedParts(node: SimNode, window: UsageWindow): UsageWindow[] {
  const start = serving.toSimTime(Date.parse(window.start));
  const end = serving.toSimTime(Date.parse(window.end));
  const parts: UsageWindow[] = [];
  for (let from = start; from < end; from = (Math.floor(from / SLOT_MS) + 1) * SLOT_MS) {
    parts.push(nodeWindow(node, from, Math.min(end, (Math.floor(from / SLOT_MS) + 1) * SLOT_MS)));
  }
  return parts;
}

/** `value` lies within the range of the parts' values (with a relative tolerance for rates of counters). */
function expectWithin(
  value: number | undefined,
  candidates: Array<number | undefined>,
  what: string,
  tolerance = 1e-9,
) {
  const known = candidates.filter((c): c is number => c !== undefined);
  expect(value, `${what}: agent reported nothing`).toBeDefined();
  expect(known.length, `${what}: the generator has no value`).toBeGreaterThan(0);
  const slack = tolerance * Math.max(1, ...known.map(Math.abs));
  expect(value!, what).toBeGreaterThanOrEqual(Math.min(...known) - slack);
  expect(value!, what).toBeLessThanOrEqual(Math.max(...known) + slack);
}

const holderKey = (h: Holder) => `${h.namespace}/${h.pod}/${h.container}/${h.share}/${h.via}`;
const sortedHolders = (holders: Holder[]) => holders.map(holderKey).sort();
const containerKey = (c: ContainerRecord) => `${c.namespace}/${c.pod}/${c.container}`;
const modelKey = (m: ModelRecord) => `${m.namespace}/${m.pod}/${m.model}/${m.server}`;
const json = <T>(value: T): T => JSON.parse(JSON.stringify(value));

function compare(node: SimNode, actual: UsageWindow, options: { exactHolders: boolean }): void {
  const parts = expectedParts(node, actual).map(json);
  // The agent's window is two readings two seconds apart: within one simulated minute, or across one boundary.
  expect(parts.length).toBeLessThanOrEqual(2);
  const expected = parts[0]!;

  // Node: what it is exactly, its use within the minutes read.
  // Everything but the use, exactly; `simulated` is the generator's own mark, which the agent does not set.
  const described = (n: UsageWindow['node']) => ({
    name: n.name,
    capacity: n.capacity,
    allocatable: n.allocatable,
    labels: n.labels,
    load1: n.load1,
  });
  expect(expected.node.simulated).toBe(true);
  expect(json(described(actual.node))).toEqual(json(described(expected.node)));
  expectWithin(
    actual.node.cpuUsedCoresAvg,
    parts.map((p) => p.node.cpuUsedCoresAvg),
    'node CPU',
    1e-6,
  );
  expectWithin(
    actual.node.memoryUsedBytesAvg,
    parts.map((p) => p.node.memoryUsedBytesAvg),
    'node memory',
  );

  // GPUs and MIG slices.
  expect(actual.gpus.map((g) => g.id).sort()).toEqual(expected.gpus.map((g) => g.id).sort());
  for (const gpu of actual.gpus) {
    const same = parts.map((p) => p.gpus.find((g) => g.id === gpu.id)!);
    const want = same[0]!;
    expect(gpu).toMatchObject({
      uuid: want.uuid,
      index: want.index,
      model: want.model,
      memoryTotalBytes: want.memoryTotalBytes,
      lastXid: 0,
      ...(want.migProfile ? { migProfile: want.migProfile, migInstanceId: want.migInstanceId } : {}),
    });
    for (const field of [
      'activityAvg',
      'tensorActivityAvg',
      'memoryUsedBytesMax',
      'powerWattsAvg',
      'smClockMhzAvg',
    ] as const) {
      if (want[field] === undefined) expect(gpu[field], `${gpu.id} ${field}`).toBeUndefined();
      else
        expectWithin(
          gpu[field],
          same.map((g: GpuRecord) => g[field]),
          `${gpu.id} ${field}`,
        );
    }
    if (options.exactHolders)
      expect(sortedHolders(gpu.holders), `holders of ${gpu.id}`).toEqual(sortedHolders(want.holders));
    else for (const holder of want.holders) expect(sortedHolders(gpu.holders)).toContain(holderKey(holder));
  }

  // Containers: identity exactly, usage within the minutes read.
  expect(actual.containers.map(containerKey).sort()).toEqual(expected.containers.map(containerKey).sort());
  for (const c of actual.containers) {
    const same = parts.map((p) => p.containers.find((e) => containerKey(e) === containerKey(c))!);
    const want = same[0]!;
    const identity = (r: ContainerRecord) => ({
      requests: r.requests,
      limits: r.limits,
      podUid: r.podUid,
      qosClass: r.qosClass,
      workload: r.workload,
      mlJob: r.mlJob,
      servedModel: r.servedModel,
      restarts: r.restarts,
      oomKilled: r.oomKilled,
      labels: r.labels,
    });
    expect(json(identity(c)), containerKey(c)).toEqual(json(identity(want)));
    expectWithin(
      c.cpuCoresAvg,
      same.map((e) => e.cpuCoresAvg),
      `${containerKey(c)} CPU`,
      1e-6,
    );
    expectWithin(
      c.memoryBytesAvg,
      same.map((e) => e.memoryBytesAvg),
      `${containerKey(c)} memory`,
    );
  }

  // Served models: the same models; counters within the window's increase; gauges within the minutes read.
  expect(actual.models.map(modelKey).sort()).toEqual(expected.models.map(modelKey).sort());
  for (const m of actual.models) {
    const same = parts.map((p) => p.models.find((e) => modelKey(e) === modelKey(m))!);
    for (const field of ['requestsOk', 'requestsFailed', 'promptTokens', 'generatedTokens'] as const) {
      expect(m[field]).toBeGreaterThanOrEqual(0);
      expect(m[field], `${modelKey(m)} ${field}`).toBeLessThanOrEqual(
        same.reduce((sum, e) => sum + e[field], 0),
      );
    }
    expectWithin(
      m.queueLengthMax,
      same.map((e) => e.queueLengthMax),
      `${modelKey(m)} queue`,
    );
    if (same[0]!.kvCacheUsageMax !== undefined) {
      expectWithin(
        m.kvCacheUsageMax,
        same.map((e) => e.kvCacheUsageMax),
        `${modelKey(m)} KV cache`,
      );
    }
  }
}

const pool = (name: string) => cluster.nodes.find((n) => n.pool === name)!;

beforeAll(async () => {
  cluster = generateCluster({ seed: 11, nodes: 3, mix: { h100: 1, 'l4-shared': 1, 'a100-mig': 1 } });
  serving = await serve({ cluster, startAt: START });
  const nodes = [pool('l4-shared'), pool('h100'), pool('a100-mig')];
  const windows = await Promise.all(nodes.map(runAgent));
  nodes.forEach((node, i) => {
    agentWindows.set(node.pool, windows[i]!);
  });
}, 120_000);

afterAll(async () => {
  await killAll();
  await serving?.close();
});

describe('the real agent against simulate --serve', () => {
  it('reports for a time-sliced L4 node what the generator says, holders with their 1/4 shares included', () => {
    const window = agentWindows.get('l4-shared')!;
    expect(window.gpus).toHaveLength(8);
    expect(window.containers).toHaveLength(17);
    expect(window.models.length).toBeGreaterThanOrEqual(24);
    compare(pool('l4-shared'), window, { exactHolders: true });
  });

  it('reports for an H100 node what the generator says', () => {
    const window = agentWindows.get('h100')!;
    expect(window.gpus).toHaveLength(8);
    compare(pool('h100'), window, { exactHolders: true });
  });

  it('finds the pod holding every MIG slice of the A100 node, and otherwise matches the generator', () => {
    const window = agentWindows.get('a100-mig')!;
    expect(window.gpus).toHaveLength(8 + 34);
    compare(pool('a100-mig'), window, { exactHolders: false });
  });

  // A MIG device id from pod-resources that the exporter's pod labels already attributed must not be given again,
  // by profile, to a free slice of the same profile.
  it('names no holder for the free MIG slices of the A100 node', () => {
    compare(pool('a100-mig'), agentWindows.get('a100-mig')!, { exactHolders: true });
  });
});
