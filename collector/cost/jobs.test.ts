// Training-job cost worked by hand: a PyTorchJob with two workers over two hours (one idle GPU), and a kinds filter.
import { describe, expect, it } from 'vitest';
import { allocateWindow, type WindowAllocation } from './allocate.ts';
import type { StoredWindowInput } from './input.ts';
import { jobCosts, TRAINING_JOB_KINDS, unionHours } from './jobs.ts';
import { type PricingConfig, pricesForWindow } from './pricing.ts';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 10, 4, 8, 0, 0);
const PRICES: PricingConfig = { cpuCoreHour: 0.04, memGiBHour: 0.005, gpuHour: { H100: 4 } };

function trainingWindow(start: number, workers: Array<{ pod: string; activity: number }>): WindowAllocation {
  const input: StoredWindowInput = {
    start,
    end: start + HOUR,
    node: { name: 'h1', labels: {}, cpuCores: 8, memoryBytes: 0, gpus: workers.length },
    gpus: workers.map(({ pod, activity }, i) => ({
      gpuId: `GPU-${i}`,
      uuid: `GPU-${i}`,
      model: 'NVIDIA H100 80GB HBM3',
      activityAvg: activity,
      holders: [{ namespace: 'ml', pod, container: 'pytorch' }],
    })),
    containers: workers.map(({ pod }) => ({
      namespace: 'ml',
      pod,
      container: 'pytorch',
      requestCpu: 2,
      cpuAvg: 1,
      requestGpus: 1,
      mlJobKind: 'PyTorchJob',
      mlJobName: 'bert',
    })),
  };
  return allocateWindow(input, pricesForWindow(input, PRICES));
}

describe('jobCosts', () => {
  it('sums a job’s pods over its windows: cost, GPU-hours, GPU efficiency, duration', () => {
    const windows = [
      trainingWindow(T0, [
        { pod: 'bert-worker-0', activity: 0.8 },
        { pod: 'bert-worker-1', activity: 0 },
      ]),
      trainingWindow(T0 + 2 * HOUR, [{ pod: 'bert-worker-0', activity: 0.6 }]),
    ];
    const [bert] = jobCosts(windows);
    expect(bert).toMatchObject({ namespace: 'ml', kind: 'PyTorchJob', name: 'bert', pods: 2, nodes: 1 });
    // GPU-hours: 2 GPUs × 1 h + 1 GPU × 1 h = 3; GPU cost 3 × 4 = 12.
    expect(bert!.gpuHours).toBeCloseTo(3, 12);
    expect(bert!.gpuCost).toBeCloseTo(12, 12);
    // CPU: 3 pod-hours × 2 cores × 0.04 = 0.24; total 12.24.
    expect(bert!.cpuCost).toBeCloseTo(0.24, 12);
    expect(bert!.totalCost).toBeCloseTo(12.24, 12);
    // GPU efficiency = (0.8 × 1 + 0 × 1 + 0.6 × 1) / 3 GPU-hours = 1.4 / 3.
    expect(bert!.gpuEfficiency).toBeCloseTo(1.4 / 3, 12);
    // CPU efficiency = 3 core-hours used / 6 requested = 0.5.
    expect(bert!.cpuEfficiency).toBeCloseTo(0.5, 12);
    // First start T0 to last end T0 + 3 h: 3 h; it ran in 2 of them (the hour between had no pod).
    expect(bert!.durationHours).toBeCloseTo(3, 12);
    expect(bert!.runningHours).toBeCloseTo(2, 12);
  });

  it('filters by kind', () => {
    const windows = [trainingWindow(T0, [{ pod: 'w', activity: 1 }])];
    expect(jobCosts(windows, { kinds: TRAINING_JOB_KINDS })).toHaveLength(1);
    expect(jobCosts(windows, { kinds: ['PipelineRun'] })).toHaveLength(0);
  });

  it('measures the union of intervals', () => {
    expect(
      unionHours([
        [0, HOUR],
        [HOUR / 2, 2 * HOUR],
        [3 * HOUR, 4 * HOUR],
      ]),
    ).toBeCloseTo(3, 12); // [0, 2 h) ∪ [3 h, 4 h) = 3 h
  });
});
