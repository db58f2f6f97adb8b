// Hand-worked allocation scenarios: whole GPUs, mixed MIG slices on one A100, a time-sliced GPU shared by four
// pods, a spot node, an instance-type price split, a pod using more than it requested, and PVCs. Every expected
// figure is worked out by hand in the comment beside it, from the prices set in each test.
import { describe, expect, it } from 'vitest';
import { allocateWindow, POD_LEVEL, UNMOUNTED, type WindowAllocation } from './allocate.ts';
import type { Allocation } from './allocation.ts';
import type { StoredContainer, StoredGpu, StoredNode, StoredWindowInput } from './input.ts';
import { type PricingConfig, pricesForWindow } from './pricing.ts';

const GIB = 2 ** 30;
const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 10, 2, 10, 0, 0);

/** Round prices so the arithmetic below is done by hand: $0.04/core-h, $0.005/GiB-h. */
const PRICES: PricingConfig = {
  cpuCoreHour: 0.04,
  memGiBHour: 0.005,
  gpuHour: { H100: 4, 'A100-80GB': 3.5, L4: 0.8 },
};

function container(namespace: string, pod: string, extra: Partial<StoredContainer> = {}): StoredContainer {
  return { namespace, pod, container: 'main', ...extra };
}

function gpu(gpuId: string, extra: Partial<StoredGpu> = {}): StoredGpu {
  return { gpuId, uuid: gpuId, holders: [], ...extra };
}

function window(
  parts: Omit<Partial<StoredWindowInput>, 'node'> & { node?: Partial<StoredNode> },
): StoredWindowInput {
  return {
    start: T0,
    end: T0 + HOUR,
    gpus: [],
    containers: [],
    ...parts,
    node: { name: 'node-1', labels: {}, cpuCores: 8, memoryBytes: 32 * GIB, ...parts.node },
  };
}

function allocate(input: StoredWindowInput, config: PricingConfig = PRICES): WindowAllocation {
  return allocateWindow(input, pricesForWindow(input, config));
}

function row(result: WindowAllocation, name: string): Allocation {
  const found = result.allocations.find((a) => a.name === name);
  if (!found) throw new Error(`no allocation ${name}: ${result.allocations.map((a) => a.name).join(', ')}`);
  return found;
}

describe('allocateWindow', () => {
  it('prices whole GPUs by holder, CPU and memory at max(request, usage), and tells held-idle from used', () => {
    const result = allocate(
      window({
        node: { gpus: 2 },
        gpus: [
          gpu('GPU-0', {
            model: 'NVIDIA H100 80GB HBM3',
            activityAvg: 0.9,
            holders: [{ namespace: 'a', pod: 'train' }],
          }),
          gpu('GPU-1', {
            model: 'NVIDIA H100 80GB HBM3',
            activityAvg: 0,
            holders: [{ namespace: 'b', pod: 'nb' }],
          }),
        ],
        containers: [
          container('a', 'train', {
            requestCpu: 2,
            cpuAvg: 1,
            requestMemory: 8 * GIB,
            memoryAvg: 4 * GIB,
            requestGpus: 1,
          }),
          container('b', 'nb', {
            requestCpu: 1,
            cpuAvg: 0.5,
            requestMemory: 4 * GIB,
            memoryAvg: 4 * GIB,
            requestGpus: 1,
          }),
        ],
      }),
    );
    // Node: 8 cores × 0.04 = 0.32; 32 GiB × 0.005 = 0.16; 2 H100 × 4 = 8; total 8.48.
    expect(result.nodeCost.cpuCost).toBeCloseTo(0.32, 12);
    expect(result.nodeCost.ramCost).toBeCloseTo(0.16, 12);
    expect(result.nodeCost.gpuCost).toBeCloseTo(8, 12);
    expect(result.nodeCost.totalCost).toBeCloseTo(8.48, 12);

    const train = row(result, 'a/train/main');
    expect(train.cpuCoreHours).toBeCloseTo(2, 12); // max(2 requested, 1 used) × 1 h
    expect(train.cpuCost).toBeCloseTo(0.08, 12); // 2 × 0.04
    expect(train.ramCost).toBeCloseTo(0.04, 12); // max(8, 4) GiB × 0.005
    expect(train.gpuHours).toBeCloseTo(1, 12); // one whole GPU for 1 h
    expect(train.gpuCost).toBeCloseTo(4, 12); // 1 × 4
    expect(train.totalCost).toBeCloseTo(4.12, 12); // 0.08 + 0.04 + 4
    expect(train.cpuEfficiency).toBeCloseTo(0.5, 12); // 1 used / 2 requested
    expect(train.ramEfficiency).toBeCloseTo(0.5, 12); // 4 / 8
    expect(train.gpuEfficiency).toBeCloseTo(0.9, 12); // mean activity over held time
    // (0.5 × 0.08 + 0.5 × 0.04 + 0.9 × 4) / 4.12 = 3.66 / 4.12
    expect(train.totalEfficiency).toBeCloseTo(3.66 / 4.12, 12);

    const nb = row(result, 'b/nb/main');
    expect(nb.totalCost).toBeCloseTo(4.06, 12); // 1 × 0.04 + 4 × 0.005 + 4
    expect(nb.gpuEfficiency).toBe(0);
    // (0.5 × 0.04 + 1 × 0.02 + 0 × 4) / 4.06 = 0.04 / 4.06: OpenCost would say 0.75 (CPU and RAM only).
    expect(nb.totalEfficiency).toBeCloseTo(0.04 / 4.06, 12);

    // Idle: CPU 0.32 − (0.08 + 0.04) = 0.20; RAM 0.16 − (0.04 + 0.02) = 0.10; GPU 8 − 8 = 0.
    expect(result.idle.cpuCost).toBeCloseTo(0.2, 12);
    expect(result.idle.ramCost).toBeCloseTo(0.1, 12);
    expect(result.idle.gpuCost).toBeCloseTo(0, 12);
    expect(result.idle.totalCost).toBeCloseTo(0.3, 12);

    // GPU-1 is held but idle (activity 0 < 0.01): 1 GPU-hour, $4; nothing is free.
    expect(result.gpuWaste.free.cost).toBeCloseTo(0, 12);
    expect(result.gpuWaste.heldIdle.gpuHours).toBeCloseTo(1, 12);
    expect(result.gpuWaste.heldIdle.cost).toBeCloseTo(4, 12);
    expect(result.gpuWaste.heldIdle.devices.map((d) => d.gpuId)).toEqual(['GPU-1']);
    // Held but unused: 4 × (1 − 0.9) + 4 × (1 − 0) = 0.4 + 4 = 4.4
    expect(result.gpuWaste.heldUnusedCost).toBeCloseTo(4.4, 12);
  });

  it('prices MIG slices of mixed profiles on one A100 by compute slices (g/7), free slices as free', () => {
    const uuid = 'GPU-a100';
    const slice = (gi: number, profile: string, holder?: string): StoredGpu =>
      gpu(`${uuid}/${gi}`, {
        uuid,
        model: 'NVIDIA A100-SXM4-80GB',
        migProfile: profile,
        activityAvg: 0.5,
        holders: holder ? [{ namespace: 'ml', pod: holder, container: 'main' }] : [],
      });
    const result = allocate(
      window({
        node: { gpus: 1 },
        gpus: [
          slice(1, '3g.40gb', 'x'),
          slice(2, '2g.20gb', 'y'),
          slice(3, '1g.10gb', 'z'),
          slice(4, '1g.10gb'),
        ],
        containers: [container('ml', 'x'), container('ml', 'y'), container('ml', 'z')],
      }),
    );
    // A100 80GB at 3.50/h; 3 + 2 + 1 + 1 = 7 of 7 compute slices carved.
    expect(result.nodeCost.gpuCost).toBeCloseTo(3.5, 12);
    expect(row(result, 'ml/x/main').gpuCost).toBeCloseTo(1.5, 12); // 3/7 × 3.50
    expect(row(result, 'ml/x/main').gpuHours).toBeCloseTo(3 / 7, 12);
    expect(row(result, 'ml/y/main').gpuCost).toBeCloseTo(1.0, 12); // 2/7 × 3.50
    expect(row(result, 'ml/z/main').gpuCost).toBeCloseTo(0.5, 12); // 1/7 × 3.50
    // The unheld 1g.10gb slice: 1/7 × 3.50 = 0.50, free and idle.
    expect(result.gpuWaste.free.cost).toBeCloseTo(0.5, 12);
    expect(result.gpuWaste.free.devices.map((d) => [d.gpuId, d.kind])).toEqual([[`${uuid}/4`, 'mig']]);
    expect(result.idle.gpuCost).toBeCloseTo(0.5, 12); // 3.50 − (1.50 + 1.00 + 0.50)
    expect(row(result, 'ml/x/main').gpuEfficiency).toBeCloseTo(0.5, 12);
  });

  it('counts the uncarved part of a MIG GPU as free capacity', () => {
    const uuid = 'GPU-a100';
    const result = allocate(
      window({
        node: { gpus: 1 },
        gpus: [
          gpu(`${uuid}/1`, {
            uuid,
            model: 'A100-SXM4-80GB',
            migProfile: '3g.40gb',
            holders: [{ namespace: 'ml', pod: 'x' }],
          }),
          gpu(`${uuid}/2`, {
            uuid,
            model: 'A100-SXM4-80GB',
            migProfile: '2g.20gb',
            holders: [{ namespace: 'ml', pod: 'y' }],
          }),
        ],
        containers: [container('ml', 'x'), container('ml', 'y')],
      }),
    );
    // 3/7 × 3.50 = 1.50 and 2/7 × 3.50 = 1.00 held; the 2/7 never carved = 1.00 free.
    expect(row(result, 'ml/x/main').gpuCost).toBeCloseTo(1.5, 12);
    expect(row(result, 'ml/y/main').gpuCost).toBeCloseTo(1.0, 12);
    expect(result.gpuWaste.free.cost).toBeCloseTo(1.0, 12);
    expect(result.gpuWaste.free.devices[0]?.kind).toBe('mig-unpartitioned');
  });

  it('splits a time-sliced GPU shared by four pods into quarters', () => {
    const pods = ['p1', 'p2', 'p3', 'p4'];
    const result = allocate(
      window({
        node: {
          gpus: 1,
          labels: { 'nvidia.com/gpu.replicas': '4', 'nvidia.com/gpu.sharing-strategy': 'time-slicing' },
        },
        gpus: [
          gpu('GPU-l4', {
            model: 'NVIDIA L4',
            activityAvg: 0.6,
            holders: pods.map((pod) => ({ namespace: 'inf', pod, container: 'main', share: 0.25 })),
          }),
        ],
        containers: pods.map((pod) =>
          container('inf', pod, { requestGpus: 1, gpuResource: 'nvidia.com/gpu.shared' }),
        ),
      }),
    );
    for (const pod of pods) {
      const r = row(result, `inf/${pod}/main`);
      expect(r.gpuHours).toBeCloseTo(0.25, 12); // 1/4 replica × 1 h
      expect(r.gpuCost).toBeCloseTo(0.2, 12); // 0.25 × 0.80, not a whole 0.80
      expect(r.gpuEfficiency).toBeCloseTo(0.6, 12); // the device's activity: DCGM has no per-pod split
    }
    expect(result.idle.gpuCost).toBeCloseTo(0, 12); // 0.80 − 4 × 0.20
  });

  it('never holds a shared GPU more than once when the replica count was unknown (shares 1 each)', () => {
    const result = allocate(
      window({
        node: { gpus: 1 },
        gpus: [
          gpu('GPU-l4', {
            model: 'NVIDIA L4',
            holders: ['p1', 'p2', 'p3', 'p4'].map((pod) => ({
              namespace: 'inf',
              pod,
              container: 'main',
              share: 1,
            })),
          }),
        ],
        containers: ['p1', 'p2', 'p3', 'p4'].map((pod) => container('inf', pod)),
      }),
    );
    // Shares 1 + 1 + 1 + 1 = 4 > 1 are scaled to 1/4 each: 0.25 × 0.80 = 0.20.
    expect(row(result, 'inf/p1/main').gpuCost).toBeCloseTo(0.2, 12);
    expect(result.gpuDevices[0]?.heldShare).toBeCloseTo(1, 12);
  });

  it('leaves an unused replica of a shared GPU free', () => {
    const result = allocate(
      window({
        node: { gpus: 1 },
        gpus: [
          gpu('GPU-l4', {
            model: 'NVIDIA L4',
            holders: ['p1', 'p2', 'p3'].map((pod) => ({
              namespace: 'inf',
              pod,
              container: 'main',
              share: 0.25,
            })),
          }),
        ],
        containers: ['p1', 'p2', 'p3'].map((pod) => container('inf', pod)),
      }),
    );
    // 3 × 0.25 held; the fourth quarter: 0.25 × 0.80 = 0.20 free.
    expect(result.gpuWaste.free.cost).toBeCloseTo(0.2, 12);
    expect(result.idle.gpuCost).toBeCloseTo(0.2, 12);
  });

  it('discounts a spot node by the configured spot discount', () => {
    const result = allocate(
      window({
        node: {
          cpuCores: 4,
          memoryBytes: 16 * GIB,
          gpus: 1,
          labels: { 'karpenter.sh/capacity-type': 'spot' },
        },
        gpus: [gpu('GPU-0', { model: 'NVIDIA-H100-80GB-HBM3', holders: [{ namespace: 'a', pod: 'p' }] })],
        containers: [container('a', 'p', { requestCpu: 4, requestMemory: 16 * GIB, requestGpus: 1 })],
      }),
      { ...PRICES, discounts: { spot: 0.6 } },
    );
    const p = row(result, 'a/p/main');
    expect(p.properties.capacityType).toBe('spot');
    expect(p.cpuCost).toBeCloseTo(0.064, 12); // 4 × 0.04 × (1 − 0.6)
    expect(p.ramCost).toBeCloseTo(0.032, 12); // 16 × 0.005 × 0.4
    expect(p.gpuCost).toBeCloseTo(1.6, 12); // 4 × 0.4
    expect(p.totalCost).toBeCloseTo(1.696, 12);
    expect(result.nodeCost.totalCost).toBeCloseTo(1.696, 12); // the pod holds the whole node
    expect(result.idle.totalCost).toBeCloseTo(0, 12);
  });

  it('splits an instance-type hourly price into CPU, memory and GPU parts in proportion to list prices', () => {
    const input = window({
      node: {
        cpuCores: 8,
        memoryBytes: 64 * GIB,
        gpus: 1,
        labels: { 'node.kubernetes.io/instance-type': 'gpu.test' },
      },
      gpus: [gpu('GPU-0', { model: 'NVIDIA H100 80GB HBM3', holders: [{ namespace: 'a', pod: 'p' }] })],
      containers: [container('a', 'p', { requestCpu: 1, requestMemory: 1 * GIB })],
    });
    const prices = pricesForWindow(input, { ...PRICES, instanceTypes: { 'gpu.test': 9.28 } });
    // List: 8 × 0.04 + 64 × 0.005 + 4 = 0.32 + 0.32 + 4 = 4.64; k = 9.28 / 4.64 = 2.
    expect(prices.source).toBe('instance-type:gpu.test');
    expect(prices.cpuCoreHour).toBeCloseTo(0.08, 12); // 0.04 × 2
    expect(prices.memGiBHour).toBeCloseTo(0.01, 12); // 0.005 × 2
    expect(prices.gpuHourByModel['NVIDIA H100 80GB HBM3']).toBeCloseTo(8, 12); // 4 × 2
    const result = allocateWindow(input, prices);
    expect(result.nodeCost.totalCost).toBeCloseTo(9.28, 12); // the node costs what the instance costs
    expect(row(result, 'a/p/main').totalCost).toBeCloseTo(8.09, 12); // 0.08 + 0.01 + 8
  });

  it('charges a pod that uses more than it requested for its usage; efficiency above 1, as OpenCost reports it', () => {
    const result = allocate(
      window({
        containers: [
          container('a', 'burst', { requestCpu: 1, cpuAvg: 2.5, requestMemory: 2 * GIB, memoryAvg: 3 * GIB }),
        ],
      }),
    );
    const burst = row(result, 'a/burst/main');
    expect(burst.cpuCoreHours).toBeCloseTo(2.5, 12); // max(1, 2.5) × 1 h
    expect(burst.cpuCost).toBeCloseTo(0.1, 12); // 2.5 × 0.04
    expect(burst.ramByteHours / GIB).toBeCloseTo(3, 12); // max(2, 3) GiB × 1 h
    expect(burst.ramCost).toBeCloseTo(0.015, 12); // 3 × 0.005
    expect(burst.cpuEfficiency).toBeCloseTo(2.5, 12); // 2.5 used / 1 requested
    expect(burst.ramEfficiency).toBeCloseTo(1.5, 12); // 3 / 2
    // (2.5 × 0.1 + 1.5 × 0.015) / 0.115 = (0.25 + 0.0225) / 0.115
    expect(burst.totalEfficiency).toBeCloseTo(0.2725 / 0.115, 12);
  });

  it('prices PVCs by requested size and storage class, mounted ones split over the pod containers', () => {
    const result = allocate(
      window({
        end: T0 + 2 * HOUR,
        containers: [container('d', 'db'), { ...container('d', 'db'), container: 'sidecar' }],
        pvcs: [
          { namespace: 'd', name: 'data', pod: 'db', storageClass: 'fast', requestedBytes: 100 * GIB },
          { namespace: 'd', name: 'old', storageClass: 'standard', requestedBytes: 50 * GIB },
        ],
      }),
      { ...PRICES, storageGBMonth: 0.73, storageClasses: { fast: 7.3 } },
    );
    // fast: 7.30 / 730 = 0.01 per GiB-hour; 100 GiB × 2 h × 0.01 = 2.00, half to each container.
    expect(row(result, 'd/db/main').pvCost).toBeCloseTo(1.0, 12);
    expect(row(result, 'd/db/sidecar').pvCost).toBeCloseTo(1.0, 12);
    expect(row(result, 'd/db/main').pvByteHours / GIB).toBeCloseTo(100, 12); // 100 GiB × 2 h / 2 containers
    // standard (not configured): 0.73 / 730 = 0.001; 50 GiB × 2 h × 0.001 = 0.10, unmounted.
    expect(row(result, `d/${UNMOUNTED}/${UNMOUNTED}`).pvCost).toBeCloseTo(0.1, 12);
    expect(result.storageCost).toBeCloseTo(2.1, 12);
    // Volumes are not part of the node: node idle is untouched (16 h-units of CPU etc. all idle).
    expect(result.idle.totalCost).toBeCloseTo(result.nodeCost.totalCost, 12);
  });

  it('falls back to requests for GPUs no device assignment names, from the free pool, priced as it', () => {
    const result = allocate(
      window({
        node: { gpus: 2, labels: { 'nvidia.com/gpu.product': 'NVIDIA-H100-80GB-HBM3' } },
        containers: [container('a', 'p', { requestGpus: 1, gpuResource: 'nvidia.com/gpu' })],
      }),
    );
    // Two H100 the node counts but no exporter reported: 2 × 4 = 8 on the node; the pod requests 1 → 4.
    expect(result.nodeCost.gpuCost).toBeCloseTo(8, 12);
    expect(row(result, 'a/p/main').gpuCost).toBeCloseTo(4, 12);
    expect(result.gpuWaste.free.cost).toBeCloseTo(4, 12);
    expect(result.idle.gpuCost).toBeCloseTo(4, 12);
  });

  it('gives a holder without a container record a pod-level row', () => {
    const result = allocate(
      window({
        node: { gpus: 1 },
        gpus: [gpu('GPU-0', { model: 'NVIDIA H100 80GB HBM3', holders: [{ namespace: 'a', pod: 'gone' }] })],
      }),
    );
    expect(row(result, `a/gone/${POD_LEVEL}`).gpuCost).toBeCloseTo(4, 12);
  });
});
