// The generator: deterministic for a seed, different across seeds, pools laid out as documented, every node and
// pod marked simulated, node labels as GPU Feature Discovery and Karpenter write them, seats countable by hand.
import { describe, expect, it } from 'vitest';
import { describeNodeCostLabels, physicalGpuCount } from '../core/node-labels.ts';
import { generateCluster, planPools, uniqueTag } from './cluster.ts';
import { hashInts, Rng, unitAt } from './random.ts';

/** Everything of a cluster but object identity, as comparable data. */
function shape(seed: number, nodes: number) {
  const cluster = generateCluster({ seed, nodes });
  return JSON.parse(JSON.stringify(cluster.nodes, (key, value) => (key === 'node' ? undefined : value)));
}

describe('seeded randomness', () => {
  it('repeats a stream for a seed and differs across seeds', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const c = new Rng(43);
    const first = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(first);
    expect(Array.from({ length: 5 }, () => c.next())).not.toEqual(first);
    for (const value of first) expect(value >= 0 && value < 1).toBe(true);
  });

  it('hashes integers statelessly into [0, 1)', () => {
    expect(unitAt(1, 2, 3)).toBe(unitAt(1, 2, 3));
    expect(unitAt(1, 2, 3)).not.toBe(unitAt(1, 2, 4));
    expect(hashInts(7, 29_000_000)).not.toBe(hashInts(7, 29_000_001));
    const values = Array.from({ length: 10_000 }, (_, i) => unitAt(99, i));
    const mean = values.reduce((s, v) => s + v, 0) / values.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.02);
  });

  it('makes unique name tags', () => {
    const tags = new Set(Array.from({ length: 50_000 }, (_, i) => uniqueTag(i)));
    expect(tags.size).toBe(50_000);
    for (const tag of [...tags].slice(0, 100)) expect(tag).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]{4}$/);
  });
});

describe('generateCluster', () => {
  it('gives the same cluster for the same seed and a different one for another seed', () => {
    expect(shape(5, 12)).toEqual(shape(5, 12));
    expect(shape(5, 12)).not.toEqual(shape(6, 12));
  });

  it('lays out three GPU nodes in four by default, interleaving the pools', () => {
    const plan = planPools({ seed: 1, nodes: 20 });
    expect(plan.filter((p) => p !== 'cpu')).toHaveLength(15);
    expect(plan.slice(0, 5)).toEqual(['h100', 'cpu', 'a100-mig', 'l4', 'h100']);
    // 40,000 GPUs on 5,000 nodes: every node an 8-GPU node.
    expect(planPools({ seed: 1, nodes: 5000, gpus: 40_000 }).includes('cpu')).toBe(false);
    expect(generateCluster({ seed: 1, nodes: 50, gpus: 400 }).gpuCount).toBe(400);
    expect(planPools({ seed: 1, nodes: 4, mix: { l4: 1, cpu: 1 } }).sort()).toEqual([
      'cpu',
      'cpu',
      'l4',
      'l4',
    ]);
  });

  it('labels nodes as GFD and Karpenter do, and marks them simulated', () => {
    const cluster = generateCluster({
      seed: 2,
      nodes: 5,
      mix: { h100: 1, 'a100-mig': 1, l4: 1, 'l4-shared': 1, cpu: 1 },
    });
    const byPool = new Map(cluster.nodes.map((n) => [n.pool, n]));
    for (const node of cluster.nodes) {
      expect(node.labels['mlcost.io/simulated']).toBe('true');
      expect(['spot', 'on-demand']).toContain(node.labels['karpenter.sh/capacity-type']);
    }
    const h100 = describeNodeCostLabels(byPool.get('h100')!.labels);
    expect(h100).toMatchObject({ instanceType: 'p5.48xlarge', region: 'us-east-1' });
    expect(h100.gpu).toMatchObject({ model: 'NVIDIA-H100-80GB-HBM3', count: 8, migStrategy: 'none' });
    const a100 = byPool.get('a100-mig')!;
    expect(a100.labels['nvidia.com/mig.strategy']).toBe('mixed');
    expect(a100.capacity['nvidia.com/mig-1g.10gb']).toBe(String(2 * (2 + 7 + 0 + 1)));
    expect(a100.capacity['nvidia.com/gpu']).toBeUndefined();
    expect(physicalGpuCount(a100.labels, a100.capacity)).toBe(8);
    const shared = byPool.get('l4-shared')!;
    expect(describeNodeCostLabels(shared.labels).gpu).toMatchObject({
      product: 'NVIDIA-L4-SHARED',
      model: 'NVIDIA-L4',
      replicas: 4,
      sharingStrategy: 'time-slicing',
    });
    expect(shared.capacity['nvidia.com/gpu']).toBe('32');
    expect(physicalGpuCount(shared.labels, shared.capacity)).toBe(8);
    expect(byPool.get('cpu')!.gpus).toHaveLength(0);
  });

  it('places a hand-countable set of seats per pool, with planted waste on every pool', () => {
    const cluster = generateCluster({
      seed: 3,
      nodes: 4,
      mix: { 'a100-mig': 1, l4: 1, 'l4-shared': 1, cpu: 1 },
    });
    const seats = Object.fromEntries(cluster.nodes.map((n) => [n.pool, n.seats]));
    // daemon + per layout A/B/C/D: 4 + 4 + 2 + 3 occupied slices, twice.
    expect(seats['a100-mig']).toHaveLength(1 + 26);
    expect(seats['a100-mig']!.filter((s) => s.planted?.kind === 'idle-gpu')).toHaveLength(1);
    // daemon + 5 vLLM + Triton + the embedding service (planted sliceable).
    expect(seats['l4']!.map((s) => s.kind)).toEqual([
      'daemon',
      'vllm',
      'vllm',
      'vllm',
      'vllm',
      'vllm',
      'triton',
      'embedding',
    ]);
    expect(seats['l4']!.filter((s) => s.planted?.kind === 'sliceable-gpu')).toHaveLength(1);
    // daemon + two servers per time-sliced GPU.
    expect(seats['l4-shared']).toHaveLength(1 + 16);
    // daemon + 4 services (2 planted over-requested) + the leaking service + the ETL CronJob.
    expect(seats['cpu']!.map((s) => s.planted?.kind ?? s.kind)).toEqual([
      'daemon',
      'over-requested',
      'over-requested',
      'cpu-service',
      'cpu-service',
      'oom-loop',
      'etl',
    ]);
    for (const node of cluster.nodes) {
      for (const seat of node.seats) expect(seat.labels['mlcost.io/simulated']).toBe('true');
    }
  });

  it('gives every long-running controller a name unique in its namespace', () => {
    const cluster = generateCluster({ seed: 4, nodes: 300 });
    // Jobs and training jobs are named per run (base name + suffix); the node daemon is one DaemonSet.
    const names = cluster.nodes.flatMap((n) =>
      n.seats
        .filter((s) => !['Job', 'PyTorchJob', 'TFJob', 'DaemonSet'].includes(s.controller))
        .map((s) => `${s.namespace}/${s.controller}/${s.baseName}`),
    );
    expect(new Set(names).size).toBe(names.length);
  });
});
