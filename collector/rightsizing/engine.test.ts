import { describe, expect, it } from 'vitest';
import { analyze, recommend } from './engine.ts';
import {
  containerWindow,
  FIVE_MIN,
  GIB,
  gpuWindow,
  HOUR_MS,
  MIB,
  PRICES,
  T0,
  windowsOf,
  workload,
} from './test-support.ts';
import type { RightsizingInput } from './types.ts';

const NOW = T0 + 4 * 24 * HOUR_MS;

// The same scenarios as the unit tests, ending at one `now`, so each figure is the one worked out there.
const input: RightsizingInput = {
  now: NOW,
  prices: PRICES,
  containers: [
    // cpu-memory.test: 200 windows, p95 950m, peak 500 MiB → $32.26.
    {
      workload: workload('Deployment', 'web'),
      container: 'app',
      windows: windowsOf(
        200,
        (i, start, end) =>
          containerWindow(start, end, {
            cpuAvg: (i + 1) * 0.005,
            memMax: (i === 100 ? 500 : 400) * MIB,
            requestCpu: 2,
            requestMemory: GIB,
            limitMemory: GIB,
          }),
        NOW - 200 * FIVE_MIN,
      ),
    },
    // abandoned.test: two replicas at 2m CPU for 4 days, 500m and 1 GiB each.
    {
      workload: workload('Deployment', 'old-api'),
      container: 'app',
      windows: ['old-api-0', 'old-api-1'].flatMap((pod) =>
        windowsOf(4 * 288, (_i, start, end) =>
          containerWindow(start, end, {
            pod,
            cpuAvg: 0.002,
            memMax: 200 * MIB,
            requestCpu: 0.5,
            requestMemory: GIB,
          }),
        ),
      ),
    },
    // Too young to judge: 20 windows.
    {
      workload: workload('Deployment', 'new'),
      container: 'app',
      windows: windowsOf(
        20,
        (_i, start, end) => containerWindow(start, end, { cpuAvg: 0.1 }),
        NOW - 20 * FIVE_MIN,
      ),
    },
  ],
  gpus: [
    // gpu-model.test's classifier: A100 80GB ($3/h), 10 GiB, 8% activity, the last 24 h.
    {
      workload: workload('Deployment', 'classifier'),
      container: 'server',
      windows: windowsOf(
        288,
        (_i, start, end) =>
          gpuWindow(start, end, {
            model: 'NVIDIA A100-SXM4-80GB',
            activityAvg: 0.08,
            memoryUsedMax: 10 * GIB,
          }),
        NOW - 24 * HOUR_MS,
      ),
    },
  ],
};

describe('engine', () => {
  it('runs every kind, keeps one GPU change per workload, lets "abandoned" absorb the rest, sorts by saving', () => {
    const report = analyze(input, { availableGpuModels: ['NVIDIA L4'] });
    const summary = report.recommendations.map((rec) => [rec.kind, rec.target.name, rec.monthlySaving]);
    // classifier: MIG 1g.20gb (11.5 GiB ≤ 19.5 GiB; 14/108 = 0.13 ≥ 0.08) at $3/7 → ($3 − 0.4286) × 730 = $1877.14,
    // more than the L4 move (($3 − 0.6) × 730 = $1752), which becomes its alternative.
    // old-api: abandoned, 2 × $0.025 × 730 = $36.50; its cpu-memory finding (10m, 230 MiB) is an alternative:
    // 2 × ((0.5 − 0.01) × 0.04 + (1024 − 230)/1024 × 0.005) × 730 = $34.28.
    // web: cpu-memory $32.26.
    expect(summary).toEqual([
      ['mig-profile', 'classifier', 1877.14],
      ['abandoned', 'old-api', 36.5],
      ['cpu-memory', 'web', 32.26],
    ]);
    expect(report.recommendations[0]!.alternatives).toEqual([
      {
        kind: 'gpu-model',
        action: 'change-gpu-model',
        proposed: { gpuModel: 'L4', hourly: 0.6 },
        monthlySaving: 1752,
      },
    ]);
    expect(report.recommendations[1]!.alternatives?.map((alt) => [alt.kind, alt.monthlySaving])).toEqual([
      ['cpu-memory', 34.28],
    ]);
    expect(report.notEnoughData.map((item) => item.target.name)).toEqual(['new']);
  });

  it('filters by minimum saving and can list every GPU finding instead of the best one', () => {
    expect(
      recommend(input, { minMonthlySaving: 100, availableGpuModels: ['NVIDIA L4'] }).map((rec) => rec.kind),
    ).toEqual(['mig-profile']);
    const all = recommend(input, { exclusiveGpu: false, availableGpuModels: ['NVIDIA L4'] });
    expect(all.filter((rec) => rec.target.name === 'classifier').map((rec) => rec.kind)).toEqual([
      'mig-profile',
      'gpu-model',
    ]);
  });

  it("reclaims a hung gang as one finding, and prices every saving at its node's price factor", () => {
    // A PyTorchJob's master (1 pod) and workers (2 pods), one H100 ($4/h) each, all idle the last 12 h of a day,
    // still held; the workers run on spot nodes that pay 40% (priceFactor 0.4).
    const start = NOW - 24 * HOUR_MS;
    const gang = (replicaType: string, pods: string[], priceFactor?: number) => ({
      workload: workload('PyTorchJob', 'sft'),
      container: 'pytorch',
      replicaType,
      windows: pods.flatMap((pod) =>
        windowsOf(
          288,
          (i, from, to) =>
            gpuWindow(from, to, {
              pod,
              gpuId: `GPU-${pod}`,
              model: 'NVIDIA H100 80GB HBM3',
              activityAvg: i < 144 ? 0.9 : 0,
              ...(priceFactor ? { priceFactor } : {}),
            }),
          start,
        ),
      ),
    });
    // An over-requested service on a spot node: 4 cores requested, 1 used, for the same day.
    const service = {
      workload: workload('Deployment', 'api'),
      container: 'app',
      windows: windowsOf(
        288,
        (_i, from, to) =>
          containerWindow(from, to, {
            cpuAvg: 1,
            memMax: GIB,
            requestCpu: 4,
            requestMemory: Math.ceil(1.15 * GIB),
            priceFactor: 0.4,
          }),
        start,
      ),
    };
    const recs = recommend({
      now: NOW,
      prices: PRICES,
      containers: [service],
      gpus: [gang('master', ['sft-master-0']), gang('worker', ['sft-worker-0', 'sft-worker-1'], 0.4)],
    });
    const idle = recs.filter((rec) => rec.kind === 'gpu-idle');
    expect(idle).toHaveLength(1);
    expect(idle[0]!.current).toMatchObject({ gpus: 3, replicas: 3, idleHours: 12 });
    // Idle 12 h × $4 × (1 + 0.4 + 0.4) = $86.40 over the day's history → × 730/24 = $2628 a month.
    expect(idle[0]!.monthlySaving).toBe(2628);
    // CPU 4 → 1 core at $0.04 × 0.4 → $0.048/h → × 730 = $35.04 a month (memory stays within 5%).
    const cpu = recs.find((rec) => rec.kind === 'cpu-memory')!;
    expect(cpu.proposed.cpuCores).toBe(1);
    expect(cpu.monthlySaving).toBe(35.04);
  });
});
