// Usage windows: valid protocol records, a pure function of time (any order of asking gives the same records),
// exact where a window covers few slots, counters that add up across windows, holders as the agent attributes them.
import { describe, expect, it } from 'vitest';
import { batchSchema, type UsageWindow } from '../core/protocol/batch.ts';
import { generateCluster } from './cluster.ts';
import { HOUR, MINUTE } from './schedule.ts';
import { nodeWindow, samplePoints, windowsAt } from './usage.ts';

const T0 = Date.parse('2025-06-03T14:00:00Z'); // a Tuesday afternoon
const cluster = generateCluster({
  seed: 21,
  nodes: 6,
  mix: { h100: 2, 'a100-mig': 1, l4: 1, 'l4-shared': 1, cpu: 1 },
});

const json = (value: unknown) => JSON.parse(JSON.stringify(value));

describe('windowsAt', () => {
  it('gives valid protocol records, every node marked simulated', () => {
    const windows = windowsAt(cluster, T0, HOUR);
    expect(windows).toHaveLength(cluster.nodes.length);
    const batch = batchSchema.parse({
      schemaVersion: 1,
      agentId: 'sim',
      sequence: 0,
      sentAt: new Date(T0).toISOString(),
      windows,
    });
    for (const window of batch.windows) {
      expect(window.node.simulated).toBe(true);
      expect(window.node.labels['mlcost.io/simulated']).toBe('true');
      for (const c of window.containers) expect(c.labels?.['mlcost.io/simulated']).toBe('true');
    }
  });

  it('is a pure function of time: asking in another order gives the same records', () => {
    const forward = [0, 1, 2].map((h) => json(windowsAt(cluster, T0 + h * HOUR, HOUR)));
    const backward = [2, 1, 0].map((h) => json(windowsAt(cluster, T0 + h * HOUR, HOUR))).reverse();
    expect(backward).toEqual(forward);
    const again = json(
      generateCluster({ seed: 21, nodes: 6, mix: { h100: 2, 'a100-mig': 1, l4: 1, 'l4-shared': 1, cpu: 1 } }),
    );
    expect(again).toEqual(json(cluster));
  });

  it('summarises short windows from every slot and long ones from six', () => {
    expect(samplePoints(T0, T0 + 5 * MINUTE)).toMatchObject({ exact: true, slots: 5 });
    expect(samplePoints(T0 + 10_000, T0 + 70_000).points.map((p) => p.weight)).toEqual([50_000, 10_000]);
    expect(samplePoints(T0, T0 + HOUR)).toMatchObject({ exact: false, slots: 60 });
  });

  it('adds up: counters of five one-minute windows equal those of the five-minute window', () => {
    const node = cluster.nodes.find((n) => n.pool === 'l4-shared')!;
    const whole = nodeWindow(node, T0, T0 + 5 * MINUTE);
    const parts: UsageWindow[] = [0, 1, 2, 3, 4].map((m) =>
      nodeWindow(node, T0 + m * MINUTE, T0 + (m + 1) * MINUTE),
    );
    expect(whole.models.length).toBeGreaterThan(0);
    for (const model of whole.models) {
      const pieces = parts.map((w) => w.models.find((m) => m.pod === model.pod && m.model === model.model)!);
      for (const field of ['requestsOk', 'requestsFailed', 'promptTokens', 'generatedTokens'] as const) {
        expect(pieces.reduce((sum, m) => sum + m[field], 0)).toBe(model[field]);
      }
      expect(pieces.reduce((sum, m) => sum + m.latencySecondsSum, 0)).toBeCloseTo(model.latencySecondsSum, 6);
    }
    // A window split inside a minute: the served counters' partial-slot rule keeps the sum exact.
    const a = nodeWindow(node, T0, T0 + 90_000);
    const b = nodeWindow(node, T0 + 90_000, T0 + 3 * MINUTE);
    const ab = nodeWindow(node, T0, T0 + 3 * MINUTE);
    for (const model of ab.models) {
      const first = a.models.find((m) => m.pod === model.pod && m.model === model.model)!;
      const second = b.models.find((m) => m.pod === model.pod && m.model === model.model)!;
      expect(first.requestsOk + second.requestsOk).toBe(model.requestsOk);
      expect(first.promptTokens + second.promptTokens).toBe(model.promptTokens);
    }
  });

  it('names holders as the agent attributes them: exporter labels, or device ids with a share on time-sliced GPUs', () => {
    const windows = windowsAt(cluster, T0, HOUR);
    const shared = windows.find((w) => w.node.name.startsWith('sim-l4s'))!;
    for (const gpu of shared.gpus) {
      expect(gpu.holders).toHaveLength(2);
      for (const holder of gpu.holders) expect(holder).toMatchObject({ share: 0.25, via: 'device-id' });
    }
    const mig = windows.find((w) => w.node.name.startsWith('sim-a100'))!;
    const parents = mig.gpus.filter((g) => g.migProfile === undefined);
    expect(parents).toHaveLength(8);
    for (const parent of parents) expect(parent.holders).toEqual([]);
    const slices = mig.gpus.filter((g) => g.migProfile !== undefined);
    expect(slices).toHaveLength(34);
    expect(slices.filter((g) => g.holders.length === 1)).toHaveLength(26);
    for (const slice of slices)
      for (const holder of slice.holders) expect(holder).toMatchObject({ share: 1, via: 'exporter' });
  });

  it('plants what the ground truth promises: an idle notebook reads zero, the embedding service a sliver of its GPU', () => {
    const windows = windowsAt(cluster, T0, HOUR);
    const mig = windows.find((w) => w.node.name.startsWith('sim-a100'))!;
    const idleSeat = cluster.nodes
      .find((n) => n.pool === 'a100-mig')!
      .seats.find((s) => s.planted?.kind === 'idle-gpu')!;
    const idle = mig.gpus.find((g) => g.holders.some((h) => h.container === idleSeat.containers[0]!.name))!;
    expect(idle.activityMax).toBe(0);
    const l4 = windows.find((w) => w.node.name.startsWith('sim-l4-'))!;
    const embedding = l4.gpus.find((g) => g.holders.some((h) => h.pod.startsWith('embeddings-')))!;
    expect(embedding.activityMax!).toBeLessThan(0.1);
    expect(embedding.memoryUsedBytesMax!).toBeLessThan(3 * 2 ** 30);
    const cpu = windows.find((w) => w.node.name.startsWith('sim-cpu'))!;
    const over = cpu.containers.filter((c) => c.requests.cpuCores === 6);
    expect(over).toHaveLength(2);
    for (const c of over) expect(c.cpuCoresAvg!).toBeLessThan(1);
  });
});
