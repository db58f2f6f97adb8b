import { describe, expect, it } from 'vitest';
import { makeContext } from './context.ts';
import { GPU_CATALOG } from './gpu-catalog.ts';
import { candidateSpecs, recommendGpuModel } from './gpu-model.ts';
import { resolveOptions } from './options.ts';
import { GIB, gpuWindow, HOUR_MS, PRICES, T0, windowsOf, workload } from './test-support.ts';
import type { GpuSeries } from './types.ts';

const A100 = 'NVIDIA A100-SXM4-80GB';
const ctxAt = (now: number) => makeContext({ now, containers: [], prices: PRICES }, resolveOptions());
const NOW = T0 + 24 * HOUR_MS;
// The cluster runs A100 80GB ($3/h), L40S ($1.5/h) and L4 ($0.6/h).
const cluster = candidateSpecs([A100, 'NVIDIA L40S', 'NVIDIA L4']);

const classifier = (activity: number): GpuSeries => ({
  workload: workload('Deployment', 'classifier'),
  container: 'server',
  windows: windowsOf(288, (_i, start, end) =>
    gpuWindow(start, end, { model: A100, activityAvg: activity, memoryUsedMax: 10 * GIB }),
  ),
});

describe('gpu-model', () => {
  it('moves a light A100 workload to the cheapest card its memory fits and that runs it with headroom', () => {
    // Memory 10 GiB × 1.15 = 11.5 GiB: L4 (22.49 GiB) and L40S (44.98 GiB) both hold it.
    // Slowdown A100 → L4 = max(312/121 = 2.58, 2.039/0.3 = 6.80) = 6.80; 8% × 6.80 = 54.4% ≤ 60% ✓ → L4 at $0.6.
    const rec = recommendGpuModel(classifier(0.08), ctxAt(NOW), cluster)!;
    expect(rec.proposed.gpuModel).toBe('L4');
    expect(rec.details.projectedActivity).toBe(0.5437);
    // ($3 − $0.6) × 730 = $1752.
    expect(rec.monthlySaving).toBe(1752);
    expect(rec.patch.body).toEqual({
      spec: { template: { spec: { nodeSelector: { 'nvidia.com/gpu.product': 'NVIDIA-L4' } } } },
    });
  });

  it('falls back to a faster cheaper card when the cheapest would run too hot', () => {
    // 10% × 6.80 = 68% > 60% on an L4 ✗; L40S: max(312/362, 2.039/0.864 = 2.36) → 23.6% ✓ → ($3 − $1.5) × 730 = $1095.
    const rec = recommendGpuModel(classifier(0.1), ctxAt(NOW), cluster)!;
    expect(rec.proposed.gpuModel).toBe('L40S');
    expect(rec.monthlySaving).toBe(1095);
  });

  it('says nothing when no cheaper card in the cluster fits', () => {
    // 40% on an A100: 40% × 2.36 = 94% on an L40S ✗, 272% on an L4 ✗.
    expect(recommendGpuModel(classifier(0.4), ctxAt(NOW), cluster)).toBeUndefined();
    // Only A100s in the cluster: nothing to move to.
    expect(recommendGpuModel(classifier(0.08), ctxAt(NOW), [GPU_CATALOG['A100-80GB']])).toBeUndefined();
  });
});
