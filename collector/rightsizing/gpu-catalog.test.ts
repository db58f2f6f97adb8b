import { describe, expect, it } from 'vitest';
import { matchGpuModel } from '../cost/gpu-models.ts';
import { migFraction } from '../cost/mig.ts';
import { GPU_KEYS } from '../cost/prices.ts';
import { GPU_CATALOG, type GpuKey, gpuKeyOf, gpuSpecOf } from './gpu-catalog.ts';
import { boardActivity } from './gpu-usage.ts';
import { MIG_PROFILES, type MigProfileSpec, migProfileOf } from './mig-profiles.ts';
import { migSliceHour } from './pricing.ts';
import { gpuWindow, HOUR_MS, PRICES, T0 } from './test-support.ts';

describe('gpu catalogue: the cost model decides which GPU a product string is', () => {
  it('has specs for every price table key, and its own names and labels map back to their key', () => {
    expect(Object.keys(GPU_CATALOG).sort()).toEqual([...GPU_KEYS].sort());
    for (const spec of Object.values(GPU_CATALOG)) {
      expect(gpuKeyOf(spec.name)).toBe(spec.key);
      expect(gpuKeyOf(spec.productLabel)).toBe(spec.key);
    }
  });

  it.each([
    'NVIDIA H100 80GB HBM3',
    'NVIDIA-H100-80GB-HBM3-SHARED',
    'nvidia-tesla-a100',
    'NVIDIA A100-SXM4-80GB',
    'A100-SXM4-40GB-MIG-1g.5gb',
    'GRID A100D-80C',
    'NVIDIA T4G',
    'Tesla V100S-PCIE-32GB',
    'NVIDIA GH200 480GB',
    'NVIDIA L40',
    'h100',
  ])('%s: same key as matchGpuModel', (name) => {
    expect(gpuKeyOf(name)).toBe(matchGpuModel(name).key);
  });

  it('takes the cost model matches the old copy missed', () => {
    expect(gpuSpecOf('GRID A100D-80C')?.key).toBe('A100-80GB');
    expect(gpuSpecOf('NVIDIA T4G')?.key).toBe('T4');
    expect(gpuSpecOf('Tesla V100S-PCIE-32GB')?.key).toBe('V100');
    expect(gpuSpecOf('NVIDIA GH200 480GB')).toBeUndefined();
    expect(gpuSpecOf(undefined)).toBeUndefined();
  });
});

describe('MIG profiles: names parsed by the cost model', () => {
  it('finds a table profile under every spelling the cost model parses', () => {
    for (const name of ['3g.40gb', '3G.40GB', 'nvidia.com/mig-3g.40gb', '3g.40gb+me', '1c.3g.40gb']) {
      expect(migProfileOf('A100-80GB', name)?.name).toBe('3g.40gb');
    }
    expect(migProfileOf('A100-40GB', 'A100-SXM4-40GB-MIG-1g.5gb')?.name).toBe('1g.5gb');
    expect(migProfileOf('H200', 'nvidia.com/mig-7g.141gb')?.sms).toBe(132);
  });

  it('finds nothing for another board, an unknown board or a name that does not parse', () => {
    expect(migProfileOf('H100', '1g.5gb')).toBeUndefined();
    expect(migProfileOf('L4', '1g.10gb')).toBeUndefined();
    expect(migProfileOf(undefined, '1g.10gb')).toBeUndefined();
    expect(migProfileOf('H100', 'whole')).toBeUndefined();
    expect(migProfileOf('H100', undefined)).toBeUndefined();
  });

  it('every table profile name parses back to its own compute slices', () => {
    for (const [key, profiles] of Object.entries(MIG_PROFILES) as [GpuKey, MigProfileSpec[]][]) {
      for (const profile of profiles) {
        expect(migProfileOf(key, profile.name)).toBe(profile);
        expect(migFraction(profile.name, key)).toBeCloseTo(profile.computeSlices / 7, 12);
      }
    }
  });

  it('prices a slice at the share the cost model bills (a compute instance at its own slices)', () => {
    const model = 'NVIDIA A100-SXM4-80GB';
    const whole = PRICES.gpuHour(model);
    expect(migSliceHour(PRICES, model, '3g.40gb')).toBeCloseTo((whole * 3) / 7, 12);
    expect(migSliceHour(PRICES, model, 'nvidia.com/mig-7g.80gb')).toBeCloseTo(whole, 12);
    expect(migSliceHour(PRICES, model, '1c.3g.40gb')).toBeCloseTo(whole / 7, 12);
    expect(migSliceHour(PRICES, model, 'whole')).toBeCloseTo(whole, 12);
  });

  it('scales activity to board units by table SMs, else by compute slices over 7', () => {
    const at = (model: string, migProfile: string) => gpuWindow(T0, T0 + HOUR_MS, { model, migProfile });
    expect(boardActivity(at('NVIDIA H100 80GB HBM3', '3g.40gb'), 0.5)).toBeCloseTo((0.5 * 60) / 132, 12);
    expect(boardActivity(at('NVIDIA L4', '2g.12gb'), 0.7)).toBeCloseTo(0.2, 12);
    expect(boardActivity(at('NVIDIA L4', 'odd'), 0.7)).toBe(0.7);
  });
});
