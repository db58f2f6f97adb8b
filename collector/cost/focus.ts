// FinOps FOCUS 1.1 export: one row per pod (or node's idle) × resource × charge period, with every FOCUS 1.1
// column (nulls where a column does not apply), FOCUS types and formats, and a CSV writer. Pure; SPEC.md §11.

import { groupRows } from './aggregate.ts';
import { IDLE, type WindowAllocation } from './allocate.ts';
import type { Allocation } from './allocation.ts';
import { monthBounds } from './budgets.ts';
import { BYTES_PER_GIB } from './prices.ts';

export type FocusType = 'String' | 'Decimal' | 'DateTime' | 'JSON';
export type FocusLevel = 'Mandatory' | 'Conditional' | 'Recommended' | 'Custom';

export interface FocusColumn {
  name: string;
  type: FocusType;
  level: FocusLevel;
  /** True when FOCUS lets the column be null (empty in CSV). */
  nullable: boolean;
}

const col = (name: string, type: FocusType, level: FocusLevel, nullable: boolean): FocusColumn => ({
  name,
  type,
  level,
  nullable,
});

/** The FOCUS 1.1 columns in the specification's (alphabetical) order, then mlcost's own `x_` columns. */
export const FOCUS_COLUMNS: readonly FocusColumn[] = [
  col('AvailabilityZone', 'String', 'Recommended', true),
  col('BilledCost', 'Decimal', 'Mandatory', false),
  col('BillingAccountId', 'String', 'Mandatory', false),
  col('BillingAccountName', 'String', 'Mandatory', true),
  col('BillingCurrency', 'String', 'Mandatory', false),
  col('BillingPeriodEnd', 'DateTime', 'Mandatory', false),
  col('BillingPeriodStart', 'DateTime', 'Mandatory', false),
  col('CapacityReservationId', 'String', 'Conditional', true),
  col('CapacityReservationStatus', 'String', 'Conditional', true),
  col('ChargeCategory', 'String', 'Mandatory', false),
  col('ChargeClass', 'String', 'Mandatory', true),
  col('ChargeDescription', 'String', 'Mandatory', true),
  col('ChargeFrequency', 'String', 'Recommended', false),
  col('ChargePeriodEnd', 'DateTime', 'Mandatory', false),
  col('ChargePeriodStart', 'DateTime', 'Mandatory', false),
  col('CommitmentDiscountCategory', 'String', 'Conditional', true),
  col('CommitmentDiscountId', 'String', 'Conditional', true),
  col('CommitmentDiscountName', 'String', 'Conditional', true),
  col('CommitmentDiscountQuantity', 'Decimal', 'Conditional', true),
  col('CommitmentDiscountStatus', 'String', 'Conditional', true),
  col('CommitmentDiscountType', 'String', 'Conditional', true),
  col('CommitmentDiscountUnit', 'String', 'Conditional', true),
  col('ConsumedQuantity', 'Decimal', 'Conditional', true),
  col('ConsumedUnit', 'String', 'Conditional', true),
  col('ContractedCost', 'Decimal', 'Mandatory', false),
  col('ContractedUnitPrice', 'Decimal', 'Conditional', true),
  col('EffectiveCost', 'Decimal', 'Mandatory', false),
  col('InvoiceIssuerName', 'String', 'Mandatory', false),
  col('ListCost', 'Decimal', 'Mandatory', false),
  col('ListUnitPrice', 'Decimal', 'Conditional', true),
  col('PricingCategory', 'String', 'Conditional', true),
  col('PricingQuantity', 'Decimal', 'Mandatory', true),
  col('PricingUnit', 'String', 'Mandatory', true),
  col('ProviderName', 'String', 'Mandatory', false),
  col('PublisherName', 'String', 'Mandatory', false),
  col('RegionId', 'String', 'Conditional', true),
  col('RegionName', 'String', 'Conditional', true),
  col('ResourceId', 'String', 'Conditional', true),
  col('ResourceName', 'String', 'Conditional', true),
  col('ResourceType', 'String', 'Conditional', true),
  col('ServiceCategory', 'String', 'Mandatory', false),
  col('ServiceName', 'String', 'Mandatory', false),
  col('ServiceSubcategory', 'String', 'Recommended', false),
  col('SkuId', 'String', 'Conditional', true),
  col('SkuMeter', 'String', 'Conditional', true),
  col('SkuPriceDetails', 'JSON', 'Conditional', true),
  col('SkuPriceId', 'String', 'Conditional', true),
  col('SubAccountId', 'String', 'Conditional', true),
  col('SubAccountName', 'String', 'Conditional', true),
  col('Tags', 'JSON', 'Conditional', true),
  col('x_Node', 'String', 'Custom', true),
  col('x_Namespace', 'String', 'Custom', true),
  col('x_Pod', 'String', 'Custom', true),
  col('x_Resource', 'String', 'Custom', false),
  col('x_Efficiency', 'Decimal', 'Custom', true),
];

export type FocusValue = string | number | null;
export type FocusRow = Record<string, FocusValue>;

export interface FocusOptions {
  /** Who the costs are billed to: the cluster, typically. */
  billingAccountId: string;
  billingAccountName?: string;
  /** Who made the resources available; default `Kubernetes`. */
  providerName?: string;
  publisherName?: string;
  invoiceIssuerName?: string;
  /** Charge period length in ms, aligned to the UTC epoch; default one hour. */
  chargePeriod?: number;
  /** Emit the nodes' idle capacity as its own rows, so the export sums to what the nodes cost. Default true. */
  includeIdle?: boolean;
}

type Resource = 'cpu' | 'memory' | 'gpu' | 'storage';

/** `2026-11-01T00:00:00Z`: FOCUS DateTime (ISO 8601, UTC, seconds, `Z`). */
export function focusDateTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A FOCUS Decimal: plain digits and one point, never an exponent or a `+`. */
export function focusDecimal(value: number): string {
  if (!Number.isFinite(value)) throw new Error(`not a finite number: ${value}`);
  if (value === 0) return '0';
  const text = String(value);
  if (!/e/i.test(text)) return text;
  // Tiny values: 15 significant digits in fixed notation (more would print binary noise), trailing zeros cut.
  const digits = Math.min(100, Math.max(0, 14 - Math.floor(Math.log10(Math.abs(value)))));
  return value.toFixed(digits).replace(/\.?0+$/, '');
}

const PRICING_CATEGORY = { 'on-demand': 'Standard', spot: 'Dynamic', reserved: 'Other' } as const;

function tags(row: Allocation): string {
  const p = row.properties;
  // Pod labels are the user-defined tags (unprefixed); what mlcost derives is provider-defined: `mlcost/`.
  const out: Record<string, string> = { ...(p.labels ?? {}) };
  if (p.node) out['mlcost/node'] = p.node;
  if (p.nodePool) out['mlcost/node-pool'] = p.nodePool;
  if (p.namespace) out['mlcost/namespace'] = p.namespace;
  if (p.workloadKind && p.workloadName) out['mlcost/workload'] = `${p.workloadKind}/${p.workloadName}`;
  if (p.mlJobKind && p.mlJobName) out['mlcost/ml-job'] = `${p.mlJobKind}/${p.mlJobName}`;
  if (p.servedModel) out['mlcost/served-model'] = p.servedModel;
  if (p.capacityType) out['mlcost/capacity-type'] = p.capacityType;
  if (p.idle) out['mlcost/idle'] = 'true';
  return JSON.stringify(Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b))));
}

function resourceFigures(row: Allocation, resource: Resource) {
  switch (resource) {
    case 'cpu':
      return {
        cost: row.cpuCost - row.cpuIdleCost,
        quantity: row.cpuCoreHours,
        unit: 'Core-Hours',
        meter: 'CPU',
        efficiency: row.cpuEfficiency,
      };
    case 'memory':
      return {
        cost: row.ramCost - row.ramIdleCost,
        quantity: row.ramByteHours / BYTES_PER_GIB,
        unit: 'GiB-Hours',
        meter: 'Memory',
        efficiency: row.ramEfficiency,
      };
    case 'gpu':
      return {
        cost: row.gpuCost - row.gpuIdleCost,
        quantity: row.gpuHours,
        unit: 'GPU-Hours',
        meter: 'GPU',
        efficiency: row.gpuEfficiency,
      };
    case 'storage':
      return {
        cost: row.pvCost,
        quantity: row.pvByteHours / BYTES_PER_GIB,
        unit: 'GiB-Hours',
        meter: 'Storage',
        efficiency: null,
      };
  }
}

/**
 * FOCUS rows for allocated windows: container rows summed per (node, namespace, pod, charge period), idle per
 * (node, charge period), one row per resource with a cost or quantity. No idle is shared: idle has its own rows.
 */
export function focusRows(windows: readonly WindowAllocation[], options: FocusOptions): FocusRow[] {
  const period = options.chargePeriod ?? 3_600_000;
  const currencyOf = new Map<string, string>();
  const priceSourceOf = new Map<string, string>();
  for (const w of windows) {
    currencyOf.set(w.node, w.currency);
    priceSourceOf.set(w.node, w.priceSource);
  }
  const periodOf = (row: Allocation) => Math.floor(row.start / period) * period;
  const rows = groupRows(
    windows.flatMap((w) => w.allocations),
    (row) => `${row.properties.node}|${row.properties.namespace}|${row.properties.pod}|${periodOf(row)}`,
  );
  if (options.includeIdle ?? true) {
    rows.push(
      ...groupRows(
        windows.map((w) => w.idle),
        (row) => `${row.properties.node}|${IDLE}|${periodOf(row)}`,
      ),
    );
  }

  const provider = options.providerName ?? 'Kubernetes';
  const out: FocusRow[] = [];
  for (const row of rows) {
    const p = row.properties;
    const node = p.node ?? '';
    const chargeStart = periodOf(row);
    const billing = monthBounds(chargeStart);
    const discount = p.discount ?? 0;
    const capacityType = p.capacityType ?? 'on-demand';
    const resources: Resource[] = ['cpu', 'memory', 'gpu', 'storage'];
    for (const resource of resources) {
      const f = resourceFigures(row, resource);
      if (f.cost === 0 && f.quantity === 0) continue;
      // Storage is not discounted by capacity type; compute list cost is cost before the node's discount.
      const listCost = resource === 'storage' ? f.cost : f.cost / (1 - discount);
      const sku = resource === 'gpu' ? `mlcost:gpu:${p.gpuModel ?? 'unknown'}` : `mlcost:${resource}`;
      const subject = p.idle
        ? `idle capacity on node ${node}`
        : `pod ${p.namespace}/${p.pod} on node ${node}`;
      out.push({
        AvailabilityZone: p.zone ?? null,
        BilledCost: f.cost,
        BillingAccountId: options.billingAccountId,
        BillingAccountName: options.billingAccountName ?? options.billingAccountId,
        BillingCurrency: currencyOf.get(node) ?? 'USD',
        BillingPeriodEnd: focusDateTime(billing.end),
        BillingPeriodStart: focusDateTime(billing.start),
        CapacityReservationId: null,
        CapacityReservationStatus: null,
        ChargeCategory: 'Usage',
        ChargeClass: null,
        ChargeDescription: `${f.meter} ${f.unit.toLowerCase()} held by ${subject}`,
        ChargeFrequency: 'Usage-Based',
        ChargePeriodEnd: focusDateTime(chargeStart + period),
        ChargePeriodStart: focusDateTime(chargeStart),
        CommitmentDiscountCategory: null,
        CommitmentDiscountId: null,
        CommitmentDiscountName: null,
        CommitmentDiscountQuantity: null,
        CommitmentDiscountStatus: null,
        CommitmentDiscountType: null,
        CommitmentDiscountUnit: null,
        ConsumedQuantity: f.quantity,
        ConsumedUnit: f.unit,
        ContractedCost: f.cost,
        ContractedUnitPrice: f.quantity > 0 ? f.cost / f.quantity : null,
        EffectiveCost: f.cost,
        InvoiceIssuerName: options.invoiceIssuerName ?? provider,
        ListCost: listCost,
        ListUnitPrice: f.quantity > 0 ? listCost / f.quantity : null,
        PricingCategory: resource === 'storage' ? 'Standard' : PRICING_CATEGORY[capacityType],
        PricingQuantity: f.quantity,
        PricingUnit: f.unit,
        ProviderName: provider,
        PublisherName: options.publisherName ?? provider,
        RegionId: p.region ?? null,
        RegionName: p.region ?? null,
        ResourceId: p.idle
          ? `${options.billingAccountId}/nodes/${node}`
          : `${options.billingAccountId}/namespaces/${p.namespace}/pods/${p.pod}`,
        ResourceName: p.idle ? node : (p.pod ?? null),
        ResourceType: p.idle ? 'Node' : 'Pod',
        ServiceCategory: resource === 'storage' ? 'Storage' : 'Compute',
        ServiceName: 'Kubernetes',
        ServiceSubcategory: resource === 'storage' ? 'Block Storage' : 'Containers',
        SkuId: sku,
        SkuMeter: f.meter,
        SkuPriceDetails: null,
        SkuPriceId: `${sku}:${resource === 'storage' ? 'standard' : capacityType}:${priceSourceOf.get(node) ?? 'default'}`,
        SubAccountId: p.idle ? null : (p.namespace ?? null),
        SubAccountName: p.idle ? null : (p.namespace ?? null),
        Tags: tags(row),
        x_Node: node || null,
        x_Namespace: p.idle ? null : (p.namespace ?? null),
        x_Pod: p.idle ? null : (p.pod ?? null),
        x_Resource: resource,
        x_Efficiency: p.idle ? null : f.efficiency,
      });
    }
  }
  return out;
}

function csvField(value: FocusValue, type: FocusType): string {
  if (value === null) return '';
  const text = typeof value === 'number' ? (type === 'Decimal' ? focusDecimal(value) : String(value)) : value;
  return /[",\r\n]/.test(text) || text !== text.trim() ? `"${text.replace(/"/g, '""')}"` : text;
}

/** RFC 4180 CSV (CRLF line ends) with the FOCUS header; nulls are empty fields. */
export function focusCsv(rows: readonly FocusRow[]): string {
  const lines = [FOCUS_COLUMNS.map((c) => c.name).join(',')];
  for (const row of rows) {
    lines.push(FOCUS_COLUMNS.map((c) => csvField(row[c.name] ?? null, c.type)).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}
