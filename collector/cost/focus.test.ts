// The FOCUS export: header = the FOCUS 1.1 columns, every value of its FOCUS type (DateTime ISO 8601 UTC with
// seconds and Z, Decimal without exponent or sign, ISO 4217 currency, JSON tags), mandatory columns non-null,
// and costs worked by hand on a spot node (list before the discount, effective after).
import { describe, expect, it } from 'vitest';
import { parseCsv } from '../../test/support/csv.ts';
import { allocateWindow } from './allocate.ts';
import { FOCUS_COLUMNS, focusCsv, focusDecimal, focusRows } from './focus.ts';
import type { StoredWindowInput } from './input.ts';
import { pricesForWindow } from './pricing.ts';

const GIB = 2 ** 30;
const T0 = Date.UTC(2026, 10, 2, 10, 0, 0);

function exportOne() {
  const input: StoredWindowInput = {
    start: T0,
    end: T0 + 3_600_000,
    node: {
      name: 'gpu-1',
      labels: {
        'karpenter.sh/capacity-type': 'spot',
        'topology.kubernetes.io/region': 'us-east-1',
        'topology.kubernetes.io/zone': 'us-east-1a',
      },
      cpuCores: 4,
      memoryBytes: 8 * GIB,
      gpus: 1,
    },
    gpus: [
      {
        gpuId: 'GPU-0',
        uuid: 'GPU-0',
        model: 'NVIDIA H100 80GB HBM3',
        activityAvg: 0.5,
        holders: [{ namespace: 'ml', pod: 'train-0', container: 'main' }],
      },
    ],
    containers: [
      {
        namespace: 'ml',
        pod: 'train-0',
        container: 'main',
        requestCpu: 2,
        cpuAvg: 1,
        requestMemory: 4 * GIB,
        requestGpus: 1,
        labels: { team: 'nlp, research', app: 'say "hi"' },
      },
    ],
    pvcs: [{ namespace: 'ml', name: 'ckpt', pod: 'train-0', requestedBytes: 10 * GIB }],
  };
  const prices = pricesForWindow(input, {
    cpuCoreHour: 0.04,
    memGiBHour: 0.005,
    gpuHour: { H100: 4 },
    storageGBMonth: 7.3,
    discounts: { spot: 0.5 },
  });
  return focusRows([allocateWindow(input, prices)], { billingAccountId: 'cluster-a' });
}

describe('focusRows', () => {
  it('has one row per pod resource and per idle resource, costs worked by hand', () => {
    const rows = exportOne();
    const pick = (resource: string, idle: boolean) =>
      rows.find((r) => r['x_Resource'] === resource && (r['ResourceType'] === 'Node') === idle)!;
    // Spot at 50% off: CPU 2 × 0.04 = 0.08 list, 0.04 effective; RAM 4 × 0.005 = 0.02 list, 0.01 effective;
    // GPU 4 list, 2 effective; PVC 10 GiB × 7.30/730 = 0.10, not discounted.
    expect(pick('cpu', false)['ListCost']).toBeCloseTo(0.08, 12);
    expect(pick('cpu', false)['EffectiveCost']).toBeCloseTo(0.04, 12);
    expect(pick('cpu', false)['PricingQuantity']).toBeCloseTo(2, 12); // core-hours
    expect(pick('cpu', false)['ListUnitPrice']).toBeCloseTo(0.04, 12);
    expect(pick('memory', false)['EffectiveCost']).toBeCloseTo(0.01, 12);
    expect(pick('gpu', false)['EffectiveCost']).toBeCloseTo(2, 12);
    expect(pick('gpu', false)['ListCost']).toBeCloseTo(4, 12);
    expect(pick('gpu', false)['SkuId']).toBe('mlcost:gpu:NVIDIA H100 80GB HBM3');
    expect(pick('storage', false)['EffectiveCost']).toBeCloseTo(0.1, 12);
    expect(pick('storage', false)['ListCost']).toBeCloseTo(0.1, 12);
    expect(pick('storage', false)['ServiceCategory']).toBe('Storage');
    // Idle on the node: CPU (4 − 2) × 0.04 × 0.5 = 0.04; RAM (8 − 4) × 0.005 × 0.5 = 0.01; no idle GPU.
    expect(pick('cpu', true)['EffectiveCost']).toBeCloseTo(0.04, 12);
    expect(pick('memory', true)['EffectiveCost']).toBeCloseTo(0.01, 12);
    expect(rows.filter((r) => r['ResourceType'] === 'Node').map((r) => r['x_Resource'])).toEqual([
      'cpu',
      'memory',
    ]);
    // Everything sums to the node (2 × 0.04 + 2 × 0.01 + 2 = 2.10) plus the volume (0.10).
    const total = rows.reduce((sum, r) => sum + (r['EffectiveCost'] as number), 0);
    expect(total).toBeCloseTo(2.2, 12);
    expect(pick('gpu', false)['PricingCategory']).toBe('Dynamic'); // spot
    expect(pick('cpu', false)['RegionId']).toBe('us-east-1');
    expect(pick('cpu', false)['AvailabilityZone']).toBe('us-east-1a');
    expect(pick('cpu', false)['SubAccountId']).toBe('ml');
  });

  it('writes CSV whose header is the FOCUS columns and whose values have the FOCUS types', () => {
    const csv = focusCsv(exportOne());
    const [header, ...lines] = parseCsv(csv);
    expect(header).toEqual(FOCUS_COLUMNS.map((c) => c.name));
    for (const required of [
      'BilledCost',
      'BillingAccountId',
      'BillingAccountName',
      'BillingCurrency',
      'BillingPeriodEnd',
      'BillingPeriodStart',
      'ChargeCategory',
      'ChargeClass',
      'ChargeDescription',
      'ChargePeriodEnd',
      'ChargePeriodStart',
      'ContractedCost',
      'EffectiveCost',
      'InvoiceIssuerName',
      'ListCost',
      'PricingQuantity',
      'PricingUnit',
      'ProviderName',
      'PublisherName',
      'ServiceCategory',
      'ServiceName',
    ]) {
      expect(header).toContain(required);
    }
    expect(lines.length).toBe(6);
    for (const line of lines) {
      expect(line).toHaveLength(FOCUS_COLUMNS.length);
      FOCUS_COLUMNS.forEach((column, i) => {
        const value = line[i]!;
        if (value === '') {
          expect(column.nullable, `${column.name} must not be null`).toBe(true);
          return;
        }
        if (column.type === 'DateTime') expect(value).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
        if (column.type === 'Decimal') expect(value).toMatch(/^-?\d+(\.\d+)?$/);
        if (column.type === 'JSON') expect(() => JSON.parse(value)).not.toThrow();
      });
      const get = (name: string) => line[FOCUS_COLUMNS.findIndex((c) => c.name === name)]!;
      expect(get('BillingCurrency')).toMatch(/^[A-Z]{3}$/);
      expect(get('BillingPeriodStart')).toBe('2026-11-01T00:00:00Z');
      expect(get('BillingPeriodEnd')).toBe('2026-12-01T00:00:00Z');
      expect(get('ChargePeriodStart')).toBe('2026-11-02T10:00:00Z');
      expect(get('ChargePeriodEnd')).toBe('2026-11-02T11:00:00Z');
      expect(get('ChargeCategory')).toBe('Usage');
      expect(['Core-Hours', 'GiB-Hours', 'GPU-Hours']).toContain(get('PricingUnit'));
      expect(['Compute', 'Storage']).toContain(get('ServiceCategory'));
    }
    const tags = JSON.parse(lines[0]![FOCUS_COLUMNS.findIndex((c) => c.name === 'Tags')]!) as Record<
      string,
      string
    >;
    expect(tags['team']).toBe('nlp, research'); // user labels unprefixed, commas and quotes survive CSV
    expect(tags['app']).toBe('say "hi"');
    expect(tags['mlcost/namespace']).toBe('ml');
  });

  it('formats decimals without exponents', () => {
    expect(focusDecimal(1e-7)).toBe('0.0000001');
    expect(focusDecimal(3e-7)).toBe('0.0000003');
    expect(focusDecimal(-1.25e-9)).toBe('-0.00000000125');
    expect(focusDecimal(0.00005479452)).toBe('0.00005479452');
    expect(focusDecimal(-2.5)).toBe('-2.5');
    expect(focusDecimal(0)).toBe('0');
    expect(() => focusDecimal(Number.NaN)).toThrow();
  });
});
