import { describe, expect, it } from 'vitest';
import { makeContext } from './context.ts';
import { recommendGpuCount } from './gpu-count.ts';
import { resolveOptions } from './options.ts';
import { GIB, gpuWindow, HOUR_MS, PRICES, T0, windowsOf, workload } from './test-support.ts';
import type { GpuSeries } from './types.ts';

const A100 = 'NVIDIA A100-SXM4-80GB';
const ctxAt = (now: number) => makeContext({ now, containers: [], prices: PRICES }, resolveOptions());

describe('gpu-count', () => {
  it('asks a 4-GPU worker that only ever uses 2 to request 2', () => {
    // One PyTorchJob worker pod for 24 h holding 4 A100 80GB ($3/h): GPUs 0-1 busy (60%, 30 GiB), GPUs 2-3 never
    // busy and holding only a 0.4 GiB CUDA context.
    const windows = [0, 1, 2, 3].flatMap((g) =>
      windowsOf(288, (_i, start, end) =>
        gpuWindow(start, end, {
          pod: 'train-worker-0',
          container: 'pytorch',
          gpuId: `GPU-${g}`,
          model: A100,
          activityAvg: g < 2 ? 0.6 : 0,
          activityMax: g < 2 ? 0.8 : 0,
          memoryUsedMax: g < 2 ? 30 * GIB : 0.4 * GIB,
        }),
      ),
    );
    const series: GpuSeries = {
      workload: workload('PyTorchJob', 'train'),
      container: 'pytorch',
      replicaType: 'worker',
      windows,
    };
    const rec = recommendGpuCount(series, ctxAt(T0 + 24 * HOUR_MS))!;
    expect(rec.current).toEqual({ gpusPerPod: 4 });
    expect(rec.proposed).toEqual({ gpusPerPod: 2 });
    // 2 spare GPUs × 24 h × $3 = $144 over a 24 h span → × 730/24 = $4380.
    expect(rec.monthlySaving).toBe(4380);
    // 1 day → 0.5; 288 pod-windows / 1000 = 0.288; 0.5 × 0.288 = 0.144 → 0.14, low.
    expect(rec.confidence).toEqual({ value: 0.14, label: 'low' });
    const base = '/spec/pytorchReplicaSpecs/Worker/template/spec/containers/0';
    expect(rec.patch.body).toEqual([
      { op: 'test', path: `${base}/name`, value: 'pytorch' },
      { op: 'add', path: `${base}/resources/limits/nvidia.com~1gpu`, value: '2' },
    ]);
  });

  it('leaves a pod that uses all its GPUs, and a pod using none (that is gpu-idle)', () => {
    const make = (activity: number) =>
      [0, 1].flatMap((g) =>
        windowsOf(288, (_i, start, end) =>
          gpuWindow(start, end, { gpuId: `GPU-${g}`, model: A100, activityAvg: activity }),
        ),
      );
    const ref = workload('Deployment', 'pair');
    expect(
      recommendGpuCount({ workload: ref, container: 'main', windows: make(0.5) }, ctxAt(T0 + 24 * HOUR_MS)),
    ).toBe(undefined);
    expect(
      recommendGpuCount({ workload: ref, container: 'main', windows: make(0) }, ctxAt(T0 + 24 * HOUR_MS)),
    ).toBe(undefined);
  });
});
