import { describe, expect, it } from 'vitest';
import { makeContext } from './context.ts';
import { GPU_CATALOG } from './gpu-catalog.ts';
import { recommendMigProfile, smallestFittingProfile } from './mig-profile.ts';
import { resolveOptions } from './options.ts';
import { GIB, gpuWindow, HOUR_MS, PRICES, T0, windowsOf, workload } from './test-support.ts';
import type { GpuSeries } from './types.ts';

const H100 = 'NVIDIA H100 80GB HBM3';
const ctxAt = (now: number) => makeContext({ now, containers: [], prices: PRICES }, resolveOptions());
const NOW = T0 + 24 * HOUR_MS;

/** 24 h on one H100: 28 of 288 windows at `high` activity, the rest at `low`; memory peak `peakGiB`. */
const embedder = (low: number, high: number, peakGiB: number, fields = {}): GpuSeries => ({
  workload: workload('Deployment', 'embedder'),
  container: 'server',
  windows: windowsOf(288, (i, start, end) =>
    gpuWindow(start, end, {
      model: H100,
      activityAvg: i < 28 ? high : low,
      memoryUsedMax: peakGiB * GIB,
      ...fields,
    }),
  ),
});

describe('mig-profile', () => {
  it('moves a light H100 workload to the smallest slice with the memory and the SMs it needs', () => {
    // p95 by nearest rank: rank ceil(0.95 × 288) = 274 falls in the 28 windows at 15% (ranks 261-288) → 0.15.
    // Needs: memory 12 GiB × 1.15 = 13.8 GiB; compute 0.15 of the board.
    // 1g.10gb: 9.75 GiB < 13.8 ✗. 1g.20gb: 19.62 GiB ✓ and 26/132 = 0.197 SMs ≥ 0.15 ✓ → 1g.20gb.
    const rec = recommendMigProfile(embedder(0.1, 0.15, 12), ctxAt(NOW))!;
    expect(rec.proposed.migProfile).toBe('1g.20gb');
    // A slice is billed at compute slices / 7: $4 × 1/7 = $0.5714/h. ($4 − 0.5714) × 730 = $2502.86.
    expect(rec.monthlySaving).toBe(2502.86);
    expect(rec.patch.body).toEqual({
      spec: {
        template: {
          spec: {
            containers: [
              {
                name: 'server',
                resources: {
                  limits: { 'nvidia.com/gpu': null, 'nvidia.com/mig-1g.20gb': 1 },
                  requests: { 'nvidia.com/gpu': null, 'nvidia.com/mig-1g.20gb': 1 },
                },
              },
            ],
          },
        },
      },
    });
    expect(rec.reason).toBe(
      'Peak GPU memory 12.0 GiB (+15% = 13.8 GiB) and p95 activity 15% fit a 1g.20gb slice (19.62 GiB, 19.7% of ' +
        'the SMs), the smallest H100 profile that does.',
    );
  });

  it('needs more SMs when the p95 activity is higher', () => {
    // p95 0.25: 1g.20gb 0.197 ✗, 2g.20gb 32/132 = 0.242 ✗, 3g.40gb 60/132 = 0.455 ✓ → 3g.40gb at 3/7 × $4 = $1.714/h.
    const rec = recommendMigProfile(embedder(0.1, 0.25, 12), ctxAt(NOW))!;
    expect(rec.proposed.migProfile).toBe('3g.40gb');
    // ($4 − 1.7143) × 730 = $1668.57.
    expect(rec.monthlySaving).toBe(1668.57);
  });

  it('says nothing when no profile below the whole board fits', () => {
    // 70 GiB × 1.15 = 80.5 GiB > 79.25 GiB of 7g.80gb.
    expect(recommendMigProfile(embedder(0.1, 0.15, 70), ctxAt(NOW))).toBeUndefined();
  });

  it('shrinks an oversized slice, reading slice activity in board units', () => {
    // On a 3g.40gb slice: 20% of the slice = 0.2 × 60/132 = 0.0909 of the board; memory 8 × 1.15 = 9.2 GiB.
    // 1g.10gb: 9.75 GiB ✓, 16/132 = 0.121 ≥ 0.0909 ✓.
    const rec = recommendMigProfile(embedder(0.2, 0.2, 8, { migProfile: '3g.40gb' }), ctxAt(NOW))!;
    expect(rec.proposed.migProfile).toBe('1g.10gb');
    // From 3/7 to 1/7 of $4: 8/7 × 730 = $834.29.
    expect(rec.monthlySaving).toBe(834.29);
    const limits = (
      rec.patch.body as { spec: { template: { spec: { containers: Array<{ resources: object }> } } } }
    ).spec.template.spec.containers[0]!.resources;
    expect(limits).toMatchObject({ limits: { 'nvidia.com/mig-3g.40gb': null, 'nvidia.com/mig-1g.10gb': 1 } });
  });

  it('has tables for A100 40GB/80GB, H100 and H200', () => {
    // 4 GiB and 10% of the board: A100 40GB → 1g.5gb (4.75 GiB, 14/108 = 0.13); H200 → 1g.18gb (16 GiB).
    expect(smallestFittingProfile(GPU_CATALOG['A100-40GB'], 4 * GIB, 0.1)?.name).toBe('1g.5gb');
    expect(smallestFittingProfile(GPU_CATALOG['A100-80GB'], 15 * GIB, 0.1)?.name).toBe('1g.20gb');
    expect(smallestFittingProfile(GPU_CATALOG.H200, 4 * GIB, 0.1)?.name).toBe('1g.18gb');
    // 40 GiB on an H200 → 3g.71gb (65 GiB); 0.5 of the board → 4g.71gb (64/132 = 0.485) ✗ → 7g.141gb.
    expect(smallestFittingProfile(GPU_CATALOG.H200, 40 * GIB, 0.3)?.name).toBe('3g.71gb');
    expect(smallestFittingProfile(GPU_CATALOG.H200, 40 * GIB, 0.5)?.name).toBe('7g.141gb');
  });
});
