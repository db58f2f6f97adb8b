// Prices the ground truth uses to put money on planted waste. They are the simulator's own, stated in the truth
// file so a test can recompute with mlcost's prices instead; the resource-hours in the truth file do not depend
// on them.
//  - CPU and memory: OpenCost's default custom prices (configs/default.json: 0.031611 $/core-hour, 0.004237
//    $/GiB-hour; ../shared/reference/cost-and-rightsizing-anchors.md §1).
//  - GPUs: illustrative on-demand prices per GPU-hour, approximately what public clouds listed for these models in
//    2024-2025 (they vary by provider, region and commitment by a factor of two or more). Not quotes.
//  - Spot capacity at 40% of on-demand (approximately; providers advertise discounts of up to 60-90%).

export interface PriceSheet {
  currency: string;
  cpuCoreHour: number;
  memoryGiBHour: number;
  /** By GPU model name as dcgm-exporter reports it. */
  gpuHour: Record<string, number>;
  /** Spot price as a share of on-demand. */
  spotFactor: number;
  /** Hours in an average month (8760 / 12), the FinOps convention for monthly figures. */
  hoursPerMonth: number;
}

export const PRICES: PriceSheet = {
  currency: 'USD',
  cpuCoreHour: 0.031611,
  memoryGiBHour: 0.004237,
  gpuHour: {
    'NVIDIA H100 80GB HBM3': 6.0,
    'NVIDIA A100-SXM4-80GB': 3.5,
    'NVIDIA L4': 0.8,
  },
  spotFactor: 0.4,
  hoursPerMonth: 730,
};

/** Price of one GPU-hour of `model` on a node of `capacityType`. */
export function gpuHourPrice(model: string, capacityType: 'on-demand' | 'spot', prices = PRICES): number {
  const price = prices.gpuHour[model];
  if (price === undefined) throw new Error(`no GPU price for ${model}`);
  return capacityType === 'spot' ? price * prices.spotFactor : price;
}

/** A node's price factor: spot capacity costs spotFactor of on-demand, CPU and memory included. */
export function capacityFactor(capacityType: 'on-demand' | 'spot', prices = PRICES): number {
  return capacityType === 'spot' ? prices.spotFactor : 1;
}
