import { describe, expect, it } from 'vitest';
import { makeContext } from './context.ts';
import { recommendGpuSharing, sharingRatio } from './gpu-sharing.ts';
import { resolveOptions } from './options.ts';
import { GIB, gpuWindow, HOUR_MS, MIB, PRICES, T0, windowsOf, workload } from './test-support.ts';
import type { GpuSeries } from './types.ts';

const T4 = 'Tesla T4';
const ctxAt = (now: number) => makeContext({ now, containers: [], prices: PRICES }, resolveOptions());
const NOW = T0 + 24 * HOUR_MS;

const notebook = (name: string, activity: number, peakGiB: number, namespace = 'team-a'): GpuSeries => ({
  workload: workload('Notebook', name, namespace),
  container: 'notebook',
  windows: windowsOf(288, (_i, start, end) =>
    gpuWindow(start, end, {
      pod: `${name}-0`,
      gpuId: `GPU-${name}`,
      model: T4,
      activityAvg: activity,
      memoryUsedMax: peakGiB * GIB,
      memoryTotal: 15360 * MIB,
    }),
  ),
});

describe('gpu-sharing', () => {
  it('time-slices three light notebooks onto one T4', () => {
    const series = [
      notebook('nb-1', 0.1, 2),
      notebook('nb-2', 0.15, 3),
      notebook('nb-3', 0.2, 4),
      // Too busy to share (p95 50% > 30%), and one in another namespace: neither joins the group.
      notebook('busy', 0.5, 2),
      notebook('other', 0.1, 2, 'team-b'),
    ];
    const recs = recommendGpuSharing(series, ctxAt(NOW), () => false);
    expect(recs.map((rec) => rec.target.name)).toEqual(['nb-1', 'nb-2', 'nb-3']);
    // Ratio = min(8, ⌊0.8 / 0.2⌋ = 4, ⌊15 GiB / (4 GiB × 1.15 = 4.6 GiB)⌋ = 3, 3 pods) = 3.
    expect(recs[0]!.proposed).toMatchObject({ replicasPerGpu: 3, sharingMode: 'time-slicing' });
    // Each pays 1/3 of a $0.35 T4: 0.35 × 730 × (1 − 1/3) = $170.33.
    expect(recs.map((rec) => rec.monthlySaving)).toEqual([170.33, 170.33, 170.33]);
    expect(recs[0]!.details.deviceConfig).toBe(
      [
        'version: v1',
        'sharing:',
        '  timeSlicing:',
        '    renameByDefault: true',
        '    resources:',
        '      - name: nvidia.com/gpu',
        '        replicas: 3',
        '',
      ].join('\n'),
    );
    const base = '/spec/template/spec/containers/0';
    expect(recs[0]!.patch.body).toEqual([
      { op: 'test', path: `${base}/name`, value: 'notebook' },
      { op: 'remove', path: `${base}/resources/limits/nvidia.com~1gpu` },
      { op: 'add', path: `${base}/resources/limits/nvidia.com~1gpu.shared`, value: '1' },
    ]);
  });

  it('uses MPS when every member is a model server', () => {
    const recs = recommendGpuSharing([notebook('a', 0.1, 2), notebook('b', 0.1, 2)], ctxAt(NOW), () => true);
    // Ratio = min(8, ⌊0.8/0.1⌋ = 8, ⌊15/2.3⌋ = 6, 2 pods) = 2.
    expect(recs[0]!.proposed).toMatchObject({ replicasPerGpu: 2, sharingMode: 'mps' });
  });

  it('bounds the ratio by the busiest member and the largest memory peak', () => {
    const options = { shareTargetActivity: 0.8, shareMaxRatio: 8, gpuMemoryMarginFraction: 0.15 };
    // ⌊0.8/0.25⌋ = 3; ⌊16 GiB / (2 GiB × 1.15)⌋ = 6; 10 pods → 3.
    expect(sharingRatio([0.05, 0.25], [1 * GIB, 2 * GIB], 16 * GIB, 10, options)).toBe(3);
    // A single 9 GiB pod: ⌊16 / 10.35⌋ = 1 → no sharing.
    expect(sharingRatio([0.05, 0.05], [9 * GIB, 1 * GIB], 16 * GIB, 10, options)).toBe(1);
  });

  it('moves a lone light pod into the time-sliced pool the cluster already runs for its product', () => {
    // The embedding server alone on a whole L4 ($0.6/h): p95 5%, peak 1900 MiB. The cluster time-slices L4s four
    // ways (a holder with share 0.25). Fits 4 ways: 5% ≤ 0.8/4 = 20%; 1900 MiB × 1.15 = 2185 MiB ≤ 23033/4 = 5758 MiB.
    const embedder: GpuSeries = {
      workload: workload('Deployment', 'embedder', 'platform'),
      container: 'triton',
      windows: windowsOf(288, (_i, start, end) =>
        gpuWindow(start, end, {
          model: 'NVIDIA L4',
          activityAvg: 0.05,
          memoryUsedMax: 1900 * MIB,
          memoryTotal: 23033 * MIB,
        }),
      ),
    };
    const pooled: GpuSeries = {
      workload: workload('Deployment', 'tiny-llm', 'serving'),
      container: 'vllm',
      windows: windowsOf(288, (_i, start, end) =>
        gpuWindow(start, end, {
          pod: 'tiny-0',
          gpuId: 'GPU-shared',
          model: 'NVIDIA L4',
          share: 0.25,
          activityAvg: 0.3,
        }),
      ),
    };
    const recs = recommendGpuSharing([embedder, pooled], ctxAt(NOW), () => true);
    expect(recs).toHaveLength(1);
    expect(recs[0]!.action).toBe('join-shared-pool');
    // 0.6 × 730 × (1 − 1/4) = $328.50.
    expect(recs[0]!.monthlySaving).toBe(328.5);
    expect(recs[0]!.patch.body).toEqual({
      spec: {
        template: {
          spec: {
            nodeSelector: { 'nvidia.com/gpu.product': 'NVIDIA-L4-SHARED', 'nvidia.com/gpu.replicas': '4' },
          },
        },
      },
    });
  });
});
