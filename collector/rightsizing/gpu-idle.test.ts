import { describe, expect, it } from 'vitest';
import { makeContext } from './context.ts';
import { recommendGpuIdle } from './gpu-idle.ts';
import { resolveOptions } from './options.ts';
import {
  FIVE_MIN,
  gpuWindow,
  HOUR_MS,
  modelWindow,
  PRICES,
  T0,
  windowsOf,
  workload,
} from './test-support.ts';
import type { GpuSeries, ModelSeries } from './types.ts';

const H100 = 'NVIDIA H100 80GB HBM3';
const DAY = 288; // five-minute windows in 24 h
const ctxAt = (now: number) => makeContext({ now, containers: [], prices: PRICES }, resolveOptions());

describe('gpu-idle', () => {
  it('reclaims a notebook GPU idle for 12 h, saving the idle share of its cost', () => {
    // 24 h holding one H100 ($4/h): busy (50%) the first 12 h, then at 1% for the last 12 h.
    const notebook: GpuSeries = {
      workload: workload('Notebook', 'alice'),
      container: 'notebook',
      windows: windowsOf(DAY, (i, start, end) =>
        gpuWindow(start, end, { model: H100, activityAvg: i < 144 ? 0.5 : 0.01, memoryUsedMax: 2e9 }),
      ),
    };
    const rec = recommendGpuIdle(notebook, ctxAt(T0 + 24 * HOUR_MS))!;
    expect(rec.action).toBe('reclaim');
    // Idle run: 144 windows × 5 min = 12 h ≥ 4 h, and it reaches now.
    expect(rec.current.idleHours).toBe(12);
    // Idle cost 12 h × $4 = $48 over a 24 h span → × 730/24 = $1460 a month (half its $2920).
    expect(rec.monthlySaving).toBe(1460);
    // 12 / (12 + 4) = 0.75 → high.
    expect(rec.confidence).toEqual({ value: 0.75, label: 'high' });
    expect(rec.patch.type).toBe('merge');
    expect(rec.patch.body).toEqual({ metadata: { annotations: { 'kubeflow-resource-stopped': 'mlcost' } } });
    expect(rec.reason).toBe(
      `It holds 1 ${H100} that stayed under 5% activity for 12.0 h (idle 50% of its held time): stop it and give the GPUs back.`,
    );
  });

  it('says nothing when the idle spell is over or too short', () => {
    // Idle 6 h in the middle, busy again now.
    const busyNow: GpuSeries = {
      workload: workload('Notebook', 'bob'),
      container: 'notebook',
      windows: windowsOf(DAY, (i, start, end) =>
        gpuWindow(start, end, { model: H100, activityAvg: i >= 100 && i < 172 ? 0.01 : 0.4 }),
      ),
    };
    expect(recommendGpuIdle(busyNow, ctxAt(T0 + 24 * HOUR_MS))).toBeUndefined();
    // Idle only the last 3 h (36 windows) < 4 h.
    const brief: GpuSeries = {
      ...busyNow,
      windows: windowsOf(DAY, (i, start, end) =>
        gpuWindow(start, end, { model: H100, activityAvg: i >= 252 ? 0.01 : 0.4 }),
      ),
    };
    expect(recommendGpuIdle(brief, ctxAt(T0 + 24 * HOUR_MS))).toBeUndefined();
  });

  it('scales an inference server with no requests and idle GPUs for 8 h to zero', () => {
    // InferenceService on one H100: requests and 30% activity for 16 h, then none and 2% for 8 h.
    const ref = workload('InferenceService', 'llm');
    const gpus: GpuSeries = {
      workload: ref,
      container: 'kserve-container',
      windows: windowsOf(DAY, (i, start, end) =>
        gpuWindow(start, end, { model: H100, activityAvg: i < 192 ? 0.3 : 0.02 }),
      ),
    };
    const model: ModelSeries = {
      workload: ref,
      model: 'llama',
      windows: windowsOf(DAY, (i, start, end) =>
        modelWindow(start, end, i < 192 ? { requestsOk: 100, latencySum: 50, latencyCount: 100 } : {}),
      ),
    };
    const rec = recommendGpuIdle(gpus, ctxAt(T0 + 24 * HOUR_MS), model)!;
    expect(rec.action).toBe('scale-to-zero');
    // 96 windows × 5 min = 8 h idle × $4 = $32 over 24 h → × 730/24 = $973.33.
    expect(rec.monthlySaving).toBe(973.33);
    // 8 / (8 + 4) = 0.67 → medium.
    expect(rec.confidence).toEqual({ value: 0.67, label: 'medium' });
    expect(rec.patch.body).toEqual({ spec: { predictor: { minReplicas: 0 } } });
    expect(rec.patch.command).toContain(
      'kubectl patch inferenceservice.serving.kserve.io llm -n team-a --type merge',
    );
  });

  it('does not call a GPU idle when it served requests, however low the activity', () => {
    const ref = workload('Deployment', 'tiny-model');
    const gpus: GpuSeries = {
      workload: ref,
      container: 'server',
      windows: windowsOf(DAY, (_i, start, end) => gpuWindow(start, end, { model: H100, activityAvg: 0.01 })),
    };
    const model: ModelSeries = {
      workload: ref,
      model: 'small',
      windows: windowsOf(DAY, (_i, start, end) => modelWindow(start, end, { requestsOk: 1 })),
    };
    expect(recommendGpuIdle(gpus, ctxAt(T0 + DAY * FIVE_MIN), model)).toBeUndefined();
  });

  it('reports a training run that hung and was stopped while idle, spreading its waste over the history', () => {
    // Input history: 48 h of data (a daemon's windows from T0). A PyTorchJob on two H100s ($4/h each) starts at
    // 24 h, trains 6 h, hangs (0% activity) for 6 h and is killed at 36 h, 12 h before now.
    const daemon = windowsOf(DAY * 2, (_i, start, end) =>
      gpuWindow(start, end, { gpuId: 'GPU-9', pod: 'd' }),
    );
    const job: GpuSeries = {
      workload: workload('PyTorchJob', 'sft-x7k2q'),
      container: 'pytorch',
      windows: [0, 1].flatMap((gpu) =>
        windowsOf(
          144,
          (i, start, end) =>
            gpuWindow(start, end, { model: H100, gpuId: `GPU-${gpu}`, activityAvg: i < 72 ? 0.9 : 0 }),
          T0 + 24 * HOUR_MS,
        ),
      ),
    };
    const now = T0 + 48 * HOUR_MS;
    const ctx = makeContext(
      {
        now,
        containers: [],
        gpus: [job, { workload: workload('DaemonSet', 'd'), windows: daemon }],
        prices: PRICES,
      },
      resolveOptions(),
    );
    const rec = recommendGpuIdle(job, ctx)!;
    expect(rec.action).toBe('reclaim');
    expect(rec.current).toMatchObject({ gpus: 2, idleHours: 6, stoppedAt: '2026-11-02T12:00:00.000Z' });
    expect(rec.details.stillHeld).toBe(false);
    // Idle 6 h × 2 × $4 = $48, over the 48 h of history (not the job's own 24 h) → × 730/48 = $730 a month.
    expect(rec.monthlySaving).toBe(730);
    // Training kinds: idle from 1 h (trainingIdleHours); 6 / (6 + 1) = 0.86 → high.
    expect(rec.confidence).toEqual({ value: 0.86, label: 'high' });
    expect(rec.patch.body).toEqual({ spec: { runPolicy: { suspend: true } } });
    expect(rec.reason).toContain('until it stopped at 2026-11-02T12:00:00.000Z');

    // A notebook idle 3 h before it was deleted: under its 4 h threshold, nothing; a job idle as long is hung.
    const shortIdle = (kind: string): GpuSeries => ({
      workload: workload(kind, 'x'),
      container: 'main',
      windows: windowsOf(
        72,
        (i, start, end) => gpuWindow(start, end, { model: H100, activityAvg: i < 36 ? 0.5 : 0 }),
        T0 + 24 * HOUR_MS,
      ),
    });
    expect(recommendGpuIdle(shortIdle('Notebook'), ctx)).toBeUndefined();
    expect(recommendGpuIdle(shortIdle('TFJob'), ctx)?.current.idleHours).toBe(3);
  });
});
