// The default price table as a data file (prices.json): it is checked at load (every GPU key, positive figures,
// an https source and a YYYY-MM date), and each derived figure is what its written derivation gives, worked by
// hand from the source prices and OpenCost's CPU/RAM defaults (0.031611 $/core-hour, 0.004237 $/GiB-hour).
import { describe, expect, it } from 'vitest';
import { matchGpuModel } from './gpu-models.ts';
import table from './prices.json' with { type: 'json' };
import {
  CPU_CORE_HOUR,
  DEFAULT_DISCOUNTS,
  GPU_KEYS,
  GPU_PRICES,
  MEMORY_GIB_HOUR,
  parsePriceTable,
  STORAGE_GB_MONTH,
  UNKNOWN_GPU_PRICE,
} from './prices.ts';

interface EditableTable {
  gpuHour: Record<string, Record<string, unknown>>;
  cpuCoreHour: Record<string, unknown>;
}
const copy = () => JSON.parse(JSON.stringify(table)) as EditableTable;

describe('prices.json', () => {
  it('is the table prices.ts exports', () => {
    expect(GPU_PRICES.H100).toEqual(table.gpuHour.H100);
    expect(UNKNOWN_GPU_PRICE.usd).toBe(0.95);
    expect(CPU_CORE_HOUR.usd).toBe(0.031611);
    expect(MEMORY_GIB_HOUR.usd).toBe(0.004237);
    expect(STORAGE_GB_MONTH.usd).toBe(0.04);
    expect(DEFAULT_DISCOUNTS).toEqual({ 'on-demand': 0, spot: 0.7895, reserved: 0 });
    expect(Object.keys(table.gpuHour)).toEqual([...GPU_KEYS]);
  });

  it('refuses a table missing a GPU, with an unknown field, a non-https source or a bad date', () => {
    const missing = copy();
    delete missing.gpuHour['T4'];
    expect(() => parsePriceTable(missing)).toThrow(/gpuHour\.T4/);
    const extra = copy();
    extra.gpuHour['B200'] = { ...extra.gpuHour['H200'] };
    expect(() => parsePriceTable(extra)).toThrow(/gpuHour/);
    const http = copy();
    http.gpuHour['L4']!['url'] = 'http://aws.amazon.com/ec2/pricing/on-demand/';
    expect(() => parsePriceTable(http)).toThrow(/gpuHour\.L4\.url/);
    const date = copy();
    date.cpuCoreHour['asOf'] = '2024-13';
    expect(() => parsePriceTable(date)).toThrow(/cpuCoreHour\.asOf/);
    const zero = copy();
    zero.gpuHour['V100']!['usd'] = 0;
    expect(() => parsePriceTable(zero)).toThrow(/gpuHour\.V100\.usd/);
  });

  it('derives the AWS GPU parts as written: instance price less vCPUs and memory at the defaults', () => {
    // p5.48xlarge: 192 × 0.031611 = 6.069312; 2048 × 0.004237 = 8.677376; (55.04 − 14.746688) / 8 = 5.036664.
    expect(GPU_PRICES.H100.usd).toBe(5.0367);
    expect((55.04 - 192 * 0.031611 - 2048 * 0.004237) / 8).toBeCloseTo(5.036664, 9);
    // H200: 5.036664 × 5.408 / 4.916 = 5.036664 × 1.1000814 = 5.54074.
    expect(GPU_PRICES.H200.usd).toBe(5.5407);
    expect((5.036664 * 5.408) / 4.916).toBeCloseTo(5.54074, 5);
    // x.xlarge hosts (4 vCPU): 4 × 0.031611 = 0.126444; 16 GiB × 0.004237 = 0.067792; 32 GiB = 0.135584.
    expect(GPU_PRICES.L40S.usd).toBe(1.599); // 1.861 − 0.262028 = 1.598972
    expect(1.861 - 0.126444 - 0.135584).toBeCloseTo(1.598972, 9);
    expect(GPU_PRICES.L4.usd).toBe(0.6106); // 0.8048 − 0.194236 = 0.610564
    expect(0.8048 - 0.126444 - 0.067792).toBeCloseTo(0.610564, 9);
    expect(GPU_PRICES.A10G.usd).toBe(0.8118); // 1.006 − 0.194236 = 0.811764
    expect(1.006 - 0.126444 - 0.067792).toBeCloseTo(0.811764, 9);
    // The rest are read off Google Cloud's GPU price list.
    expect([
      GPU_PRICES['A100-80GB'].usd,
      GPU_PRICES['A100-40GB'].usd,
      GPU_PRICES.T4.usd,
      GPU_PRICES.V100.usd,
    ]).toEqual([3.93, 2.933908, 0.35, 2.48]);
  });

  it('derives storage and the spot discount from OpenCost’s defaults as written', () => {
    // 0.00005479452 $/GB-hour × 730 h = 0.0399999996 ≈ 0.04 $/GB-month.
    expect(0.00005479452 * 730).toBeCloseTo(0.04, 9);
    // spot CPU 0.006655 / 0.031611 = 0.210528; spot RAM 0.000892 / 0.004237 = 0.210526; 1 − 0.2105 = 0.7895.
    expect(1 - 0.006655 / 0.031611).toBeCloseTo(0.7895, 4);
    expect(1 - 0.000892 / 0.004237).toBeCloseTo(0.7895, 4);
  });
});

describe('matchGpuModel: V100*', () => {
  it.each([
    'Tesla V100-SXM2-16GB',
    'Tesla V100-PCIE-32GB',
    'Tesla V100S-PCIE-32GB',
    'GRID V100X-4Q',
    'GRID V100D-8Q',
    'GRID V100DX-16C',
    'GRID V100L-2Q',
  ])('%s → V100', (name) => {
    expect(matchGpuModel(name).key).toBe('V100');
  });
});
