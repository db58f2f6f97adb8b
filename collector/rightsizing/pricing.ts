// Hourly prices of what a recommendation changes, from the PriceLookup: a MIG slice (compute slices / 7 of its
// board unless the lookup prices slices itself), a held GPU (its share when time-sliced), CPU and memory, each
// times the window's node price factor (a spot node pays its discounted price).
import { migFraction } from '../cost/mig.ts';
import { gpuKeyOf } from './gpu-catalog.ts';
import { GIB } from './options.ts';
import type { GpuWindow, PriceLookup } from './types.ts';

/**
 * A MIG instance per hour. The default is collector/cost/mig.ts's own share (compute slices over 7, a compute
 * instance's slices for `1c.3g.40gb`; a fully carved board then sums to exactly one GPU), so a saving here is a
 * saving on the cost report. A profile that does not parse is charged the whole GPU.
 */
export function migSliceHour(prices: PriceLookup, model: string | undefined, profile: string): number {
  if (prices.migSliceHour) return prices.migSliceHour(model, profile);
  return prices.gpuHour(model) * (migFraction(profile, gpuKeyOf(model)) ?? 1);
}

/** Share of the lookup's prices the window's node pays (1 unless the store says otherwise). */
export const priceFactorOf = (window: { priceFactor?: number }) => window.priceFactor ?? 1;

/** What holding this device for an hour costs this holder, on its node. */
export function deviceHour(prices: PriceLookup, window: GpuWindow): number {
  const list = window.migProfile
    ? migSliceHour(prices, window.model, window.migProfile)
    : prices.gpuHour(window.model) * (window.share ?? 1);
  return list * priceFactorOf(window);
}

/** CPU cores and memory bytes per hour. */
export function requestHour(prices: PriceLookup, cpuCores: number, memoryBytes: number): number {
  return cpuCores * prices.cpuCoreHour + (memoryBytes / GIB) * prices.memGiBHour;
}
