// The Allocation record (OpenCost's field names, plus GPU efficiency) and its arithmetic: sums that add exactly
// across containers, windows and nodes, and the averages and efficiencies derived from them.
import type { CapacityType } from '../../core/node-labels.ts';

export interface AllocationProperties {
  node?: string;
  nodePool?: string;
  instanceType?: string;
  capacityType?: CapacityType;
  region?: string;
  zone?: string;
  namespace?: string;
  pod?: string;
  container?: string;
  workloadKind?: string;
  workloadName?: string;
  mlJobKind?: string;
  mlJobName?: string;
  servedModel?: string;
  servedModelKind?: string;
  /** The pod's labels (for `label:<name>` roll-ups and FOCUS tags). */
  labels?: Record<string, string>;
  /** Product string of the GPUs the row holds (`mixed` when it holds several models). */
  gpuModel?: string;
  /** Fraction off list on this row's node. */
  discount?: number;
  /** True for the `__idle__` rows: capacity nobody held. */
  idle?: boolean;
}

/** Additive quantities: the sums every derived figure comes from. Hours are resource-hours over the row's span. */
export interface AllocationSums {
  cpuCoreHours: number;
  cpuCoreRequestHours: number;
  cpuCoreUsageHours: number;
  ramByteHours: number;
  ramByteRequestHours: number;
  ramByteUsageHours: number;
  gpuHours: number;
  /** GPU-hours × activity, over the held GPU-hours whose activity is known. */
  gpuActiveHours: number;
  /** Held GPU-hours whose activity is known: gpuEfficiency's denominator. */
  gpuMeasuredHours: number;
  pvByteHours: number;
  /** Resource costs; each includes its `…IdleCost` share when idle is shared. */
  cpuCost: number;
  ramCost: number;
  gpuCost: number;
  pvCost: number;
  cpuIdleCost: number;
  ramIdleCost: number;
  gpuIdleCost: number;
}

export interface Allocation extends AllocationSums {
  name: string;
  properties: AllocationProperties;
  /** Epoch milliseconds, UTC. */
  start: number;
  end: number;
  minutes: number;
  /** Averages over [start, end): resource-hours / span hours. */
  cpuCores: number;
  cpuCoreRequestAverage: number;
  cpuCoreUsageAverage: number;
  ramBytes: number;
  ramByteRequestAverage: number;
  ramByteUsageAverage: number;
  gpuCount: number;
  cpuEfficiency: number;
  ramEfficiency: number;
  /** Mean activity over held GPU time; null when no held GPU time has a known activity. */
  gpuEfficiency: number | null;
  totalEfficiency: number;
  totalCost: number;
}

const SUM_KEYS: ReadonlyArray<keyof AllocationSums> = [
  'cpuCoreHours',
  'cpuCoreRequestHours',
  'cpuCoreUsageHours',
  'ramByteHours',
  'ramByteRequestHours',
  'ramByteUsageHours',
  'gpuHours',
  'gpuActiveHours',
  'gpuMeasuredHours',
  'pvByteHours',
  'cpuCost',
  'ramCost',
  'gpuCost',
  'pvCost',
  'cpuIdleCost',
  'ramIdleCost',
  'gpuIdleCost',
];

/** A row with nothing in it yet: a plain literal (this runs once per container per window, so no spreads). */
export function emptyAllocation(
  name: string,
  properties: AllocationProperties,
  start: number,
  end: number,
): Allocation {
  return {
    name,
    properties,
    start,
    end,
    minutes: (end - start) / 60_000,
    cpuCoreHours: 0,
    cpuCoreRequestHours: 0,
    cpuCoreUsageHours: 0,
    ramByteHours: 0,
    ramByteRequestHours: 0,
    ramByteUsageHours: 0,
    gpuHours: 0,
    gpuActiveHours: 0,
    gpuMeasuredHours: 0,
    pvByteHours: 0,
    cpuCost: 0,
    ramCost: 0,
    gpuCost: 0,
    pvCost: 0,
    cpuIdleCost: 0,
    ramIdleCost: 0,
    gpuIdleCost: 0,
    cpuCores: 0,
    cpuCoreRequestAverage: 0,
    cpuCoreUsageAverage: 0,
    ramBytes: 0,
    ramByteRequestAverage: 0,
    ramByteUsageAverage: 0,
    gpuCount: 0,
    cpuEfficiency: 0,
    ramEfficiency: 0,
    gpuEfficiency: null,
    totalEfficiency: 0,
    totalCost: 0,
  };
}

/**
 * Adds `source`'s sums (× weight, for a row split between several owners) into `target` in place, widens its
 * span and keeps only the properties both share.
 */
export function addInto(target: Allocation, source: AllocationSums & Partial<Allocation>, weight = 1): void {
  for (const key of SUM_KEYS) target[key] += source[key] * weight;
  if (source.start !== undefined && source.start < target.start) target.start = source.start;
  if (source.end !== undefined && source.end > target.end) target.end = source.end;
  if (source.properties) target.properties = intersectProperties(target.properties, source.properties);
}

/** OpenCost's rule when rows merge: a property survives only when every row agrees on it. */
export function intersectProperties(a: AllocationProperties, b: AllocationProperties): AllocationProperties {
  const out: AllocationProperties = {};
  for (const key of Object.keys(a) as Array<keyof AllocationProperties>) {
    if (key === 'labels') continue;
    if (a[key] === b[key]) (out as Record<string, unknown>)[key] = a[key];
  }
  if (a.labels && b.labels) {
    const labels: Record<string, string> = {};
    for (const [key, value] of Object.entries(a.labels)) if (b.labels[key] === value) labels[key] = value;
    out.labels = labels;
  }
  return out;
}

/** usage / request as OpenCost computes it: no request → 1 when anything was used, else 0. */
export function requestEfficiency(usageHours: number, requestHours: number): number {
  if (requestHours > 0) return usageHours / requestHours;
  return usageHours > 0 ? 1 : 0;
}

/** Fills the derived fields from the sums (in place) and returns the row. */
export function finalize(row: Allocation): Allocation {
  const hours = (row.end - row.start) / 3_600_000;
  const per = (value: number) => (hours > 0 ? value / hours : 0);
  row.minutes = hours * 60;
  row.cpuCores = per(row.cpuCoreHours);
  row.cpuCoreRequestAverage = per(row.cpuCoreRequestHours);
  row.cpuCoreUsageAverage = per(row.cpuCoreUsageHours);
  row.ramBytes = per(row.ramByteHours);
  row.ramByteRequestAverage = per(row.ramByteRequestHours);
  row.ramByteUsageAverage = per(row.ramByteUsageHours);
  row.gpuCount = per(row.gpuHours);
  row.cpuEfficiency = requestEfficiency(row.cpuCoreUsageHours, row.cpuCoreRequestHours);
  row.ramEfficiency = requestEfficiency(row.ramByteUsageHours, row.ramByteRequestHours);
  row.gpuEfficiency = row.gpuMeasuredHours > 0 ? row.gpuActiveHours / row.gpuMeasuredHours : null;
  row.totalCost = row.cpuCost + row.ramCost + row.gpuCost + row.pvCost;
  row.totalEfficiency = totalEfficiency(row);
  return row;
}

/**
 * Cost-weighted efficiency with GPUs in: (cpuEff·cpu$ + ramEff·ram$ + gpuEff·gpu$ₘ) / (cpu$ + ram$ + gpu$ₘ), with
 * each resource's own cost (shared idle left out) and gpu$ₘ the part of GPU cost whose activity is known.
 */
export function totalEfficiency(row: Allocation): number {
  const cpu = row.cpuCost - row.cpuIdleCost;
  const ram = row.ramCost - row.ramIdleCost;
  const gpuOwn = row.gpuCost - row.gpuIdleCost;
  const gpu =
    row.gpuHours > 0 && row.gpuEfficiency !== null ? gpuOwn * (row.gpuMeasuredHours / row.gpuHours) : 0;
  const weight = cpu + ram + gpu;
  if (weight <= 0) return 0;
  return (row.cpuEfficiency * cpu + row.ramEfficiency * ram + (row.gpuEfficiency ?? 0) * gpu) / weight;
}

/**
 * A copy whose sums and properties can be changed without touching the original. Label maps are shared: the
 * cost model never edits one in place (merging makes a new map).
 */
export function cloneAllocation(row: Allocation): Allocation {
  return { ...row, properties: { ...row.properties } };
}
