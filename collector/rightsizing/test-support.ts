// Builders for the rightsizing tests: a fixed price table and series of windows, so each scenario states only
// what it is about and its expected numbers can be worked out by hand.
import { gpuKeyOf } from './gpu-catalog.ts';
import { GIB, HOUR_MS, MIB } from './options.ts';
import type { ContainerWindow, GpuWindow, ModelWindow, PriceLookup, WorkloadRef } from './types.ts';

export { GIB, HOUR_MS, MIB };

/** Round numbers so expectations can be worked by hand. */
export const GPU_HOUR: Record<string, number> = {
  H200: 5,
  H100: 4,
  'A100-80GB': 3,
  'A100-40GB': 2,
  L40S: 1.5,
  A10G: 0.8,
  L4: 0.6,
  T4: 0.35,
  V100: 1,
};

export const PRICES: PriceLookup = {
  currency: 'USD',
  cpuCoreHour: 0.04,
  memGiBHour: 0.005,
  gpuHour: (model) => GPU_HOUR[gpuKeyOf(model) ?? ''] ?? 1,
};

/** 2026-11-01T00:00:00Z */
export const T0 = Date.parse('2026-11-01T00:00:00Z');
export const FIVE_MIN = 5 * 60_000;

export const workload = (kind: string, name: string, namespace = 'team-a'): WorkloadRef => ({
  namespace,
  kind,
  name,
});

/** `count` windows of `stepMs` from `start`, one per index, built by `make(i)`. */
export function windowsOf<T>(
  count: number,
  make: (i: number, start: number, end: number) => T,
  start = T0,
  stepMs = FIVE_MIN,
): T[] {
  return Array.from({ length: count }, (_, i) => make(i, start + i * stepMs, start + (i + 1) * stepMs));
}

export const containerWindow = (
  start: number,
  end: number,
  fields: Partial<ContainerWindow>,
): ContainerWindow => ({
  start,
  end,
  pod: 'pod-0',
  ...fields,
});

export const gpuWindow = (start: number, end: number, fields: Partial<GpuWindow>): GpuWindow => ({
  start,
  end,
  pod: 'pod-0',
  container: 'main',
  gpuId: 'GPU-0',
  ...fields,
});

export const modelWindow = (start: number, end: number, fields: Partial<ModelWindow>): ModelWindow => ({
  start,
  end,
  pod: 'pod-0',
  requestsOk: 0,
  requestsFailed: 0,
  latencySum: 0,
  latencyCount: 0,
  ...fields,
});
