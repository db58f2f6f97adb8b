// Prices: GPU product strings to table keys (dcgm, nvidia-smi, GFD, GKE, Karpenter spellings), MIG shares, the
// default table's provenance, precedence of node rules / instance types / config / defaults, and the schema.
import { describe, expect, it } from 'vitest';
import { matchGpuModel } from './gpu-models.ts';
import { migFraction, parseMigProfile } from './mig.ts';
import {
  CPU_CORE_HOUR,
  DEFAULT_DISCOUNTS,
  GPU_KEYS,
  GPU_PRICES,
  MEMORY_GIB_HOUR,
  STORAGE_GB_MONTH,
} from './prices.ts';
import { pricingConfigSchema, resolveNodePrices } from './pricing.ts';

describe('matchGpuModel', () => {
  it.each([
    ['NVIDIA H100 80GB HBM3', 'H100'],
    ['NVIDIA-H100-80GB-HBM3', 'H100'],
    ['NVIDIA-H100-80GB-HBM3-SHARED', 'H100'],
    ['nvidia-h100-80gb', 'H100'],
    ['NVIDIA H200', 'H200'],
    ['NVIDIA A100-SXM4-80GB', 'A100-80GB'],
    ['NVIDIA A100 80GB PCIe', 'A100-80GB'],
    ['nvidia-a100-80gb', 'A100-80GB'],
    ['NVIDIA A100-SXM4-40GB', 'A100-40GB'],
    ['A100-SXM4-40GB-MIG-1g.5gb', 'A100-40GB'],
    ['nvidia-tesla-a100', 'A100-40GB'],
    ['GRID A100-10C', 'A100-40GB'],
    ['NVIDIA L40S', 'L40S'],
    ['NVIDIA L4', 'L4'],
    ['nvidia-l4', 'L4'],
    ['NVIDIA A10G', 'A10G'],
    ['a10g', 'A10G'],
    ['Tesla T4', 'T4'],
    ['nvidia-tesla-t4', 'T4'],
    ['Tesla V100-SXM2-16GB', 'V100'],
  ])('%s → %s', (name, key) => {
    expect(matchGpuModel(name).key).toBe(key);
  });

  it('leaves unknown models and look-alikes unmatched', () => {
    expect(matchGpuModel('NVIDIA L40').key).toBeUndefined();
    expect(matchGpuModel('NVIDIA GH200 480GB').key).toBeUndefined();
    expect(matchGpuModel('NVIDIA GeForce RTX 4090').key).toBeUndefined();
    expect(matchGpuModel(undefined).key).toBeUndefined();
  });

  it('sizes a vGPU profile as its share of the board: GRID A100-10C is 10 of 40 GB', () => {
    expect(matchGpuModel('GRID A100-10C').fraction).toBeCloseTo(0.25, 12);
    expect(matchGpuModel('NVIDIA A100-SXM4-40GB').fraction).toBe(1);
  });
});

describe('migFraction', () => {
  it('prices a slice by compute slices over 7', () => {
    expect(migFraction('1g.10gb', 'A100-80GB')).toBeCloseTo(1 / 7, 12);
    expect(migFraction('3g.40gb', 'A100-80GB')).toBeCloseTo(3 / 7, 12);
    expect(migFraction('7g.80gb', 'H100')).toBe(1);
    expect(migFraction('nvidia.com/mig-2g.20gb', 'H100')).toBeCloseTo(2 / 7, 12);
    expect(migFraction('1g.10gb+me', 'H100')).toBeCloseTo(1 / 7, 12);
    expect(migFraction('1c.3g.40gb', 'A100-80GB')).toBeCloseTo(1 / 7, 12); // one compute instance of a 3g GI
    expect(migFraction('whole', 'H100')).toBeUndefined();
    expect(parseMigProfile('A100-SXM4-40GB-MIG-1g.5gb')).toEqual({ computeSlices: 1, memoryGb: 5 });
  });
});

describe('default price table', () => {
  it('has every required GPU model, each with a source, a URL and a date', () => {
    expect([...GPU_KEYS].sort()).toEqual([
      'A100-40GB',
      'A100-80GB',
      'A10G',
      'H100',
      'H200',
      'L4',
      'L40S',
      'T4',
      'V100',
    ]);
    for (const fact of [...Object.values(GPU_PRICES), CPU_CORE_HOUR, MEMORY_GIB_HOUR, STORAGE_GB_MONTH]) {
      expect(fact.usd).toBeGreaterThan(0);
      expect(fact.source.length).toBeGreaterThan(10);
      expect(fact.url).toMatch(/^https:\/\//);
      expect(fact.asOf).toMatch(/^\d{4}-\d{2}$/);
    }
  });

  it('uses OpenCost’s defaults for CPU, RAM and storage', () => {
    expect(CPU_CORE_HOUR.usd).toBe(0.031611);
    expect(MEMORY_GIB_HOUR.usd).toBe(0.004237);
    expect(STORAGE_GB_MONTH.usd).toBe(0.04);
    expect(DEFAULT_DISCOUNTS.spot).toBeCloseTo(1 - 0.006655 / 0.031611, 4);
  });
});

describe('resolveNodePrices', () => {
  const h100 = 'NVIDIA H100 80GB HBM3';

  it('falls back to the table, and to OpenCost’s $0.95 for an unknown GPU', () => {
    const prices = resolveNodePrices({}, [h100, 'Mystery GPU']);
    expect(prices.source).toBe('default');
    expect(prices.cpuCoreHour).toBe(0.031611);
    expect(prices.gpuHourByModel[h100]).toBe(GPU_PRICES.H100.usd);
    expect(prices.gpuHourByModel['Mystery GPU']).toBe(0.95);
    expect(prices.capacityType).toBe('on-demand');
    expect(prices.discount).toBe(0);
    expect(prices.storageGiBHour).toBeCloseTo(0.04 / 730, 15);
  });

  it('prefers a node rule over config over the table, and an exact product string over a table key', () => {
    const config = {
      cpuCoreHour: 0.05,
      gpuHour: { H100: 3, [h100]: 2.5 },
      nodes: [
        { name: 'onprem', match: { 'mlcost.io/site': 'dc1' }, cpuCoreHour: 0.01, gpuHour: { H100: 1 } },
      ],
    };
    expect(resolveNodePrices({}, [h100], config).gpuHourByModel[h100]).toBe(2.5);
    expect(
      resolveNodePrices({}, ['NVIDIA-H100-80GB-HBM3'], config).gpuHourByModel['NVIDIA-H100-80GB-HBM3'],
    ).toBe(3);
    const onprem = resolveNodePrices({ 'mlcost.io/site': 'dc1' }, ['NVIDIA-H100-80GB-HBM3'], config);
    expect(onprem.source).toBe('node-rule:onprem');
    expect(onprem.cpuCoreHour).toBe(0.01);
    expect(onprem.gpuHourByModel['NVIDIA-H100-80GB-HBM3']).toBe(1);
  });

  it('reads capacity type from provider labels and applies its discount', () => {
    const config = { discounts: { spot: 0.7, reserved: 0.3 } };
    expect(resolveNodePrices({ 'eks.amazonaws.com/capacityType': 'SPOT' }, [], config).discount).toBe(0.7);
    expect(resolveNodePrices({ 'cloud.google.com/gke-spot': 'true' }, [], config).capacityType).toBe('spot');
    expect(resolveNodePrices({ 'karpenter.sh/capacity-type': 'reserved' }, [], config).discount).toBe(0.3);
    expect(resolveNodePrices({ 'karpenter.sh/capacity-type': 'spot' }, []).discount).toBe(
      DEFAULT_DISCOUNTS.spot,
    );
  });

  it('converts the USD table with exchangeRate and keeps configured prices as given', () => {
    const prices = resolveNodePrices({}, ['Tesla T4'], {
      currency: 'EUR',
      exchangeRate: 0.5,
      memGiBHour: 0.01,
    });
    expect(prices.currency).toBe('EUR');
    expect(prices.gpuHourByModel['Tesla T4']).toBeCloseTo(0.175, 12); // 0.35 USD × 0.5
    expect(prices.memGiBHour).toBe(0.01);
  });
});

describe('pricingConfigSchema', () => {
  it('accepts a full mlcost.yaml pricing section', () => {
    const result = pricingConfigSchema.safeParse({
      currency: 'USD',
      cpuCoreHour: 0.03,
      memGiBHour: 0.004,
      storageGBMonth: 0.08,
      storageClasses: { gp3: 0.08 },
      gpuHour: { H100: 3.9, default: 1 },
      instanceTypes: { 'p5.48xlarge': 55.04 },
      nodes: [{ name: 'lab', match: { 'kubernetes.io/hostname': 'lab-1' }, hourly: 2, discount: 0.2 }],
      discounts: { spot: 0.65, reserved: 0.35 },
      defaultCapacityType: 'on-demand',
    });
    expect(result.success).toBe(true);
  });

  it('refuses a discount of 1 or more, negative prices, and a non-USD currency without a rate', () => {
    expect(pricingConfigSchema.safeParse({ discounts: { spot: 1 } }).success).toBe(false);
    expect(pricingConfigSchema.safeParse({ cpuCoreHour: -1 }).success).toBe(false);
    expect(pricingConfigSchema.safeParse({ currency: 'EUR' }).success).toBe(false);
    expect(pricingConfigSchema.safeParse({ nodes: [{ match: {} }] }).success).toBe(false);
  });
});
