// The window aggregator: averages and peaks of a window's samples, per node and per GPU, checked against values
// worked out by hand; and merging what several sources return in one collection.
import { describe, expect, it } from 'vitest';
import { windowSchema } from '../core/protocol/batch.ts';
import type { Samples } from './samples.ts';
import { mergeSamples, percentile, WindowAccumulator } from './window.ts';

const GIB = 1024 ** 3;
const MIB = 1024 ** 2;
const START = Date.UTC(2025, 2, 10, 8, 0, 0);
const END = START + 60_000;

function node(cpuUsedCores: number | undefined, memoryUsedBytes: number | undefined): Samples {
  return { node: { cpuCores: 16, memoryBytes: 64 * GIB, cpuUsedCores, memoryUsedBytes, load1: 1.25 } };
}

describe('WindowAccumulator: node', () => {
  it('averages and peaks CPU and memory over the samples', () => {
    const acc = new WindowAccumulator(START);
    // cpu: 2, 4, 3, 7 → sum 16 over 4 samples, avg 4, max 7.
    // memory: 4, 6, 8, 6 GiB → sum 24 GiB over 4, avg 6 GiB, max 8 GiB.
    acc.add(node(2, 4 * GIB));
    acc.add(node(4, 6 * GIB));
    acc.add(node(3, 8 * GIB));
    acc.add(node(7, 6 * GIB));
    expect(acc.samples).toBe(4);
    const window = acc.close(END, 'node-7');
    expect(window).toBeDefined();
    expect(window!.start).toBe('2025-03-10T08:00:00.000Z');
    expect(window!.end).toBe('2025-03-10T08:01:00.000Z');
    expect(window!.node).toMatchObject({
      name: 'node-7',
      capacity: { cpuCores: 16, memoryBytes: 64 * GIB },
      cpuUsedCoresAvg: 4,
      cpuUsedCoresMax: 7,
      memoryUsedBytesAvg: 6 * GIB,
      memoryUsedBytesMax: 8 * GIB,
      load1: 1.25,
    });
    expect(window!.gpus).toEqual([]);
    expect(windowSchema.safeParse(window).success).toBe(true);
  });

  it('leaves out readings a sample does not have, rather than counting them as zero', () => {
    const acc = new WindowAccumulator(START);
    // cpu readings 3 and 5 (the middle sample has none) → avg 4, not 8/3.
    acc.add(node(3, 2 * GIB));
    acc.add(node(undefined, undefined));
    acc.add(node(5, 4 * GIB));
    acc.add({}); // a collection where every source failed
    const window = acc.close(END, 'n')!;
    expect(window.node.cpuUsedCoresAvg).toBe(4);
    expect(window.node.cpuUsedCoresMax).toBe(5);
    expect(window.node.memoryUsedBytesAvg).toBe(3 * GIB);
    expect(acc.samples).toBe(4);
  });

  it('ignores NaN and infinite readings', () => {
    const acc = new WindowAccumulator(START);
    acc.add(node(1, GIB));
    acc.add(node(Number.NaN, Number.POSITIVE_INFINITY));
    acc.add(node(3, 3 * GIB));
    const window = acc.close(END, 'n')!;
    expect(window.node.cpuUsedCoresAvg).toBe(2);
    expect(window.node.memoryUsedBytesMax).toBe(3 * GIB);
  });

  it('has no usage figures when no sample had any', () => {
    const acc = new WindowAccumulator(START);
    acc.add({ node: { cpuCores: 2, memoryBytes: GIB } });
    const window = acc.close(END, 'n')!;
    expect(window.node.cpuUsedCoresAvg).toBeUndefined();
    expect(window.node.cpuUsedCoresMax).toBeUndefined();
    expect(window.node.memoryUsedBytesAvg).toBeUndefined();
  });

  it('closes to nothing when no source gave the node’s size', () => {
    const acc = new WindowAccumulator(START);
    acc.add({ node: { cpuUsedCores: 1 } });
    acc.add({ gpus: [{ id: 'GPU-1', uuid: 'GPU-1', activity: 0.5 }] });
    expect(acc.close(END, 'n')).toBeUndefined();
  });

  it('takes the latest capacity and labels seen in the window', () => {
    const acc = new WindowAccumulator(START);
    acc.add({ node: { cpuCores: 8, memoryBytes: 16 * GIB, labels: { zone: 'a' } } });
    acc.add({ node: { cpuCores: 12, memoryBytes: 32 * GIB } });
    const window = acc.close(END, 'n')!;
    expect(window.node.capacity).toMatchObject({ cpuCores: 12, memoryBytes: 32 * GIB });
    expect(window.node.labels).toEqual({ zone: 'a' });
  });
});

describe('WindowAccumulator: GPUs', () => {
  const gpu = (activity: number, powerWatts: number, temperatureCelsius: number, memoryUsedMib: number) => ({
    id: 'GPU-1111',
    uuid: 'GPU-1111',
    index: 0,
    model: 'NVIDIA A100-SXM4-80GB',
    activity,
    powerWatts,
    temperatureCelsius,
    memoryUsedBytes: memoryUsedMib * MIB,
    memoryTotalBytes: 81920 * MIB,
    smClockMhz: 1410,
  });

  it('averages activity and power, and peaks temperature and memory, per GPU', () => {
    const acc = new WindowAccumulator(START);
    // activity 0.2, 0.5, 0.8 → avg 0.5, max 0.8; power 100, 250, 400 W → avg 250 W;
    // temperature 60, 72, 65 → max 72; memory 1000, 3000, 2000 MiB → max 3000 MiB.
    acc.add({ ...node(1, GIB), gpus: [gpu(0.2, 100, 60, 1000)] });
    acc.add({ ...node(1, GIB), gpus: [gpu(0.5, 250, 72, 3000)] });
    acc.add({ ...node(1, GIB), gpus: [gpu(0.8, 400, 65, 2000)] });
    const window = acc.close(END, 'n')!;
    expect(window.gpus).toHaveLength(1);
    const [record] = window.gpus;
    expect(record).toMatchObject({
      id: 'GPU-1111',
      uuid: 'GPU-1111',
      index: 0,
      model: 'NVIDIA A100-SXM4-80GB',
      activityMax: 0.8,
      powerWattsAvg: 250,
      temperatureCelsiusMax: 72,
      memoryUsedBytesMax: 3000 * MIB,
      memoryTotalBytes: 81920 * MIB,
      smClockMhzAvg: 1410,
    });
    expect(record!.activityAvg).toBeCloseTo(0.5, 12);
    // With no GPU count from the node itself, capacity counts the GPUs seen.
    expect(window.node.capacity.gpus).toBe(1);
    expect(windowSchema.safeParse(window).success).toBe(true);
  });

  it('keeps GPUs apart by id and clamps activity to 0..1', () => {
    const acc = new WindowAccumulator(START);
    acc.add({
      ...node(1, GIB),
      gpus: [
        { id: 'GPU-a', uuid: 'GPU-a', activity: 1.2 },
        { id: 'GPU-b', uuid: 'GPU-b', activity: 0.1 },
      ],
    });
    acc.add({
      ...node(1, GIB),
      gpus: [
        { id: 'GPU-a', uuid: 'GPU-a', activity: 0.9 },
        { id: 'GPU-b', uuid: 'GPU-b', activity: 0.3 },
      ],
    });
    const window = acc.close(END, 'n')!;
    const byId = Object.fromEntries(window.gpus.map((g) => [g.id, g]));
    // GPU-a: (1.2 + 0.9) / 2 = 1.05 → clamped to 1; max 1.2 → 1.
    expect(byId['GPU-a']).toMatchObject({ activityAvg: 1, activityMax: 1 });
    // GPU-b: (0.1 + 0.3) / 2 = 0.2, max 0.3.
    expect(byId['GPU-b']!.activityAvg).toBeCloseTo(0.2, 12);
    expect(byId['GPU-b']!.activityMax).toBe(0.3);
    expect(window.node.capacity.gpus).toBe(2);
  });
});

describe('WindowAccumulator: containers', () => {
  it('averages, peaks and takes the nearest-rank p95 of each container’s CPU', () => {
    const acc = new WindowAccumulator(START);
    // cpu 0.5, 1.5, 1.0, 3.0 → avg 1.5, max 3; p95 by nearest rank: ceil(0.95 × 4) = 4th of sorted → 3.
    // memory 100, 300, 200, 200 MiB → avg 200 MiB, max 300 MiB.
    const readings: Array<[number, number]> = [
      [0.5, 100],
      [1.5, 300],
      [1.0, 200],
      [3.0, 200],
    ];
    for (const [cpu, memoryMib] of readings) {
      acc.add({
        ...node(1, GIB),
        containers: [
          {
            namespace: 'ml',
            pod: 'trainer-0',
            container: 'main',
            cpuUsedCores: cpu,
            memoryWorkingSetBytes: memoryMib * MIB,
          },
        ],
      });
    }
    const window = acc.close(END, 'n')!;
    expect(window.containers).toHaveLength(1);
    expect(window.containers[0]).toMatchObject({
      namespace: 'ml',
      pod: 'trainer-0',
      container: 'main',
      cpuCoresAvg: 1.5,
      cpuCoresMax: 3,
      cpuCoresP95: 3,
      memoryBytesAvg: 200 * MIB,
      memoryBytesMax: 300 * MIB,
    });
  });
});

describe('percentile', () => {
  it('is the nearest rank', () => {
    // 20 values 1..20: p95 → rank ceil(19) = 19 → 19; p50 → rank 10 → 10; p100 → 20.
    const values = Array.from({ length: 20 }, (_, i) => 20 - i);
    expect(percentile(values, 95)).toBe(19);
    expect(percentile(values, 50)).toBe(10);
    expect(percentile(values, 100)).toBe(20);
    expect(percentile([], 95)).toBeUndefined();
    expect(percentile([7], 95)).toBe(7);
  });
});

describe('mergeSamples', () => {
  it('merges node fields from several sources and concatenates their GPUs', () => {
    const merged = mergeSamples([
      { node: { cpuCores: 8, memoryBytes: 16 * GIB, cpuUsedCores: 2 } },
      { gpus: [{ id: 'GPU-a', uuid: 'GPU-a' }] },
      { node: { load1: 0.75, cpuUsedCores: undefined } },
      { gpus: [{ id: 'GPU-b', uuid: 'GPU-b' }] },
      {},
    ]);
    expect(merged.node).toEqual({ cpuCores: 8, memoryBytes: 16 * GIB, cpuUsedCores: 2, load1: 0.75 });
    expect(merged.gpus?.map((g) => g.id)).toEqual(['GPU-a', 'GPU-b']);
  });

  it('gives empty samples for no sources', () => {
    expect(mergeSamples([])).toEqual({});
  });
});
