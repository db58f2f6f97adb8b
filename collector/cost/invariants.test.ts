// Property-style invariants over generated windows (seeded, so failures replay): for every window and resource,
// Σ allocations + idle = node cost (relative error < 1e-9); no GPU or slice is held more than once (a device's
// shares sum to ≤ 1, and held + taken-by-request + free = 1); GPU-hours are conserved; roll-ups with idle shared
// (cluster-wide or per node) still add up to the nodes plus the volumes.
import { describe, expect, it } from 'vitest';
import { aggregateAllocations } from './aggregate.ts';
import { allocateWindow, type WindowAllocation } from './allocate.ts';
import type { StoredContainer, StoredGpu, StoredWindowInput } from './input.ts';
import { type PricingConfig, pricesForWindow } from './pricing.ts';
import { rollupWindows } from './rollup.ts';

const GIB = 2 ** 30;
const T0 = Date.UTC(2026, 10, 1);

/** mulberry32: a small seeded PRNG. */
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
    maybe: <T>(value: T, p = 0.5): T | undefined => (next() < p ? value : undefined),
  };
}

const MODELS = [
  'NVIDIA H100 80GB HBM3',
  'NVIDIA A100-SXM4-80GB',
  'NVIDIA L4',
  'Tesla T4',
  'GRID A100-10C',
  undefined,
];
const PROFILES = ['1g.10gb', '2g.20gb', '3g.40gb', '4g.40gb', '7g.80gb', '1g.20gb', 'bogus'];
const CAPACITY: ReadonlyArray<Record<string, string>> = [
  {},
  { 'karpenter.sh/capacity-type': 'spot' },
  { 'karpenter.sh/capacity-type': 'reserved' },
  { 'eks.amazonaws.com/capacityType': 'ON_DEMAND' },
];
const GPU_RESOURCES = [
  'nvidia.com/gpu',
  'nvidia.com/gpu.shared',
  'nvidia.com/mig-3g.40gb',
  'nvidia.com/mig-1g.10gb',
];

function generateWindow(seed: number): { input: StoredWindowInput; config: PricingConfig } {
  const r = rng(seed);
  const start = T0 + r.int(0, 24 * 30) * 3_600_000;
  const hours = r.pick([1 / 60, 0.5, 1, 3]);
  const name = `node-${r.int(0, 5)}`;
  const pods = Array.from({ length: r.int(0, 12) }, (_, i) => ({
    namespace: r.pick(['a', 'b', 'c']),
    pod: `pod-${i}`,
  }));

  const containers: StoredContainer[] = [];
  for (const pod of pods) {
    for (let c = 0; c < r.int(1, 3); c++) {
      const requestGpus = r.maybe(r.int(1, 2), 0.3);
      containers.push({
        ...pod,
        container: `c${c}`,
        cpuAvg: r.maybe(r.next() * 8, 0.8) ?? null,
        memoryAvg: r.maybe(r.next() * 64 * GIB, 0.8) ?? null,
        requestCpu: r.maybe(r.next() * 4, 0.7) ?? null,
        requestMemory: r.maybe(r.next() * 32 * GIB, 0.7) ?? null,
        requestGpus: requestGpus ?? null,
        gpuResource: requestGpus ? r.pick(GPU_RESOURCES) : null,
        mlJobKind: r.maybe('PyTorchJob', 0.2) ?? null,
        mlJobName: 'job',
        labels: { team: r.pick(['x', 'y']) },
      });
    }
  }

  const holder = () => {
    const pod =
      r.next() < 0.85 && pods.length > 0 ? r.pick(pods) : { namespace: 'ghost', pod: `gone-${r.int(0, 3)}` };
    return {
      ...pod,
      container: r.maybe(`c${r.int(0, 3)}`, 0.6),
      share: r.maybe(r.pick([1, 0.5, 0.25, 1 / 3, 0.75]), 0.8),
    };
  };
  const gpus: StoredGpu[] = [];
  const boards = r.int(0, 8);
  for (let b = 0; b < boards; b++) {
    const uuid = `GPU-${seed}-${b}`;
    const model = r.pick(MODELS);
    if (r.next() < 0.3) {
      for (let gi = 0; gi < r.int(1, 9); gi++) {
        gpus.push({
          gpuId: `${uuid}/${gi}`,
          uuid,
          model: model ?? null,
          migProfile: r.pick(PROFILES),
          activityAvg: r.maybe(r.next(), 0.7) ?? null,
          holders: Array.from({ length: r.int(0, 2) }, holder),
        });
      }
    } else {
      const copies = r.next() < 0.1 ? 2 : 1; // a board reported twice (dcgm and nvidia-smi)
      for (let k = 0; k < copies; k++) {
        gpus.push({
          gpuId: uuid,
          uuid,
          model: model ?? null,
          activityAvg: r.maybe(r.pick([0, 0.005, r.next()]), 0.8) ?? null,
          holders: Array.from({ length: r.int(0, 5) }, holder),
        });
      }
    }
  }

  const labels: Record<string, string> = {
    ...r.pick(CAPACITY),
    'node.kubernetes.io/instance-type': r.pick(['m', 'g', 'p']),
  };
  if (r.next() < 0.3)
    labels['nvidia.com/gpu.product'] = r.pick([
      'NVIDIA-H100-80GB-HBM3',
      'Tesla-T4-SHARED',
      'A100-SXM4-40GB-MIG-1g.5gb',
    ]);
  if (r.next() < 0.3) {
    labels['nvidia.com/gpu.replicas'] = String(r.int(2, 8));
    labels['nvidia.com/gpu.sharing-strategy'] = r.pick(['time-slicing', 'mps']);
  }
  if (r.next() < 0.2) labels['nvidia.com/mig.strategy'] = 'single';

  const input: StoredWindowInput = {
    start,
    end: start + hours * 3_600_000,
    node: {
      name,
      labels,
      cpuCores: r.int(1, 128),
      memoryBytes: r.int(1, 2048) * GIB,
      gpus: r.maybe(boards + r.int(-1, 3), 0.8) ?? null,
    },
    gpus,
    containers,
    pvcs: Array.from({ length: r.int(0, 3) }, (_, i) => ({
      namespace: r.pick(['a', 'b']),
      name: `pvc-${i}`,
      pod: r.maybe(pods.length > 0 ? r.pick(pods).pod : 'none', 0.7) ?? null,
      storageClass: r.maybe('fast', 0.5) ?? null,
      requestedBytes: r.int(1, 1000) * GIB,
    })),
  };
  const config: PricingConfig = {
    discounts: { spot: r.next() * 0.9, reserved: r.next() * 0.5 },
    instanceTypes: r.next() < 0.5 ? { g: r.next() * 100 } : {},
    storageClasses: { fast: 0.1 },
    gpuHour: r.next() < 0.5 ? { default: 1.5 } : {},
  };
  return { input, config };
}

function relativeError(actual: number, expected: number): number {
  return Math.abs(actual - expected) / Math.max(Math.abs(expected), 1e-9);
}

function checkWindow(result: WindowAllocation): void {
  const sum = (pick: (row: WindowAllocation['allocations'][number]) => number) =>
    result.allocations.reduce((total, row) => total + pick(row), 0);
  const node = result.nodeCost;
  for (const [resource, total] of [
    ['cpuCost', node.cpuCost],
    ['ramCost', node.ramCost],
    ['gpuCost', node.gpuCost],
  ] as const) {
    expect(relativeError(sum((row) => row[resource]) + result.idle[resource], total), resource).toBeLessThan(
      1e-9,
    );
  }
  const compute = sum((row) => row.cpuCost + row.ramCost + row.gpuCost);
  expect(relativeError(compute + result.idle.totalCost, node.totalCost)).toBeLessThan(1e-9);
  expect(
    relativeError(
      sum((row) => row.pvCost),
      result.storageCost,
    ),
  ).toBeLessThan(1e-9);

  // No device is held more than once; every part of every device is accounted for once.
  const badDevices = result.gpuDevices.filter((device) => {
    const shares = device.holders.reduce((total, h) => total + h.share, 0);
    return (
      shares > 1 + 1e-12 ||
      Math.abs(shares - device.heldShare) > 1e-12 ||
      Math.abs(device.heldShare + device.requestShare + device.freeShare - 1) > 1e-12 ||
      device.freeShare < -1e-12
    );
  });
  expect(badDevices).toEqual([]);
  const boards = new Map<string, number>();
  for (const device of result.gpuDevices)
    boards.set(device.uuid, (boards.get(device.uuid) ?? 0) + device.fraction);
  for (const fraction of boards.values()) expect(Math.abs(fraction - 1)).toBeLessThan(1e-12);

  // GPU-hours and GPU money are conserved: held + taken by request + free = the node's boards.
  const gpuHours = sum((row) => row.gpuHours) + result.gpuWaste.free.gpuHours;
  expect(relativeError(gpuHours, node.gpuHours)).toBeLessThan(1e-9);
  // Idle GPU money is exactly the free GPUs' (relative to the node's GPU cost: both may be ~0).
  expect(
    Math.abs(result.idle.gpuCost - result.gpuWaste.free.cost) / Math.max(node.gpuCost, 1e-9),
  ).toBeLessThan(1e-9);
  expect(result.gpuWaste.heldIdle.cost).toBeLessThanOrEqual(sum((row) => row.gpuCost) * (1 + 1e-9) + 1e-12);

  const notFinite: string[] = [];
  for (const row of [...result.allocations, result.idle]) {
    for (const [key, value] of Object.entries(row)) {
      if (typeof value === 'number' && !Number.isFinite(value)) notFinite.push(`${row.name}.${key}`);
    }
  }
  expect(notFinite).toEqual([]);
}

describe('cost invariants on generated windows', () => {
  const windows: WindowAllocation[] = [];
  for (let seed = 1; seed <= 400; seed++) {
    const { input, config } = generateWindow(seed);
    windows.push(allocateWindow(input, pricesForWindow(input, config)));
  }

  it('Σ allocations + idle = node cost, per resource, in every window; no GPU held more than once', () => {
    for (const result of windows) checkWindow(result);
    // The generator does exercise what it should: MIG, shared GPUs, request fallback, free and held-idle GPUs.
    const devices = windows.flatMap((w) => w.gpuDevices);
    expect(devices.some((d) => d.kind === 'mig')).toBe(true);
    expect(devices.some((d) => d.kind === 'mig-unpartitioned')).toBe(true);
    expect(devices.some((d) => d.kind === 'unreported')).toBe(true);
    expect(devices.some((d) => d.holders.length > 1)).toBe(true);
    expect(devices.some((d) => d.requestShare > 0)).toBe(true);
    expect(windows.some((w) => w.gpuWaste.heldIdle.devices.length > 0)).toBe(true);
  });

  it.each([
    { shareIdle: false, idleByNode: false },
    { shareIdle: true, idleByNode: false },
    { shareIdle: true, idleByNode: true },
  ])('roll-ups keep the total (%o)', (options) => {
    const expected = windows.reduce((total, w) => total + w.nodeCost.totalCost + w.storageCost, 0);
    for (const aggregate of ['namespace', 'node', 'label:team', 'job'] as const) {
      const sets = aggregateAllocations(windows, {
        aggregate,
        includeIdle: true,
        step: 86_400_000,
        ...options,
      });
      const total = sets.reduce(
        (sum, set) => sum + set.allocations.reduce((s, row) => s + row.totalCost, 0),
        0,
      );
      expect(relativeError(total, expected), aggregate).toBeLessThan(1e-9);
    }
  });

  it('hourly roll-ups keep every window invariant and give the same roll-ups as the raw windows', () => {
    const hourly = rollupWindows(windows);
    expect(hourly.length).toBeLessThan(windows.length);
    for (const result of hourly) {
      for (const resource of ['cpuCost', 'ramCost', 'gpuCost'] as const) {
        const allocated = result.allocations.reduce((sum, row) => sum + row[resource], 0);
        expect(relativeError(allocated + result.idle[resource], result.nodeCost[resource])).toBeLessThan(
          1e-9,
        );
      }
      expect(
        Math.abs(result.idle.gpuCost - result.gpuWaste.free.cost) / Math.max(result.nodeCost.gpuCost, 1e-9),
      ).toBeLessThan(1e-9);
    }
    const options = {
      aggregate: 'namespace',
      shareIdle: true,
      includeIdle: true,
      step: 86_400_000,
      range: { start: T0, end: T0 + 31 * 86_400_000 },
    } as const;
    const raw = aggregateAllocations(windows, options);
    const rolled = aggregateAllocations(hourly, options);
    raw.forEach((set, i) => {
      const byName = new Map(rolled[i]!.allocations.map((row) => [row.name, row.totalCost]));
      for (const row of set.allocations)
        expect(relativeError(byName.get(row.name) ?? 0, row.totalCost), row.name).toBeLessThan(1e-9);
    });
  });
});
