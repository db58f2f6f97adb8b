// The default price table: per-GPU-hour, per-core-hour, per-GiB-hour and per-GB-month list prices in USD, each
// with where it came from and when. Used when mlcost.yaml names no price; every figure can be overridden there.

/** Table keys for the GPU models mlcost prices out of the box (gpu-models.ts maps product strings onto them). */
export const GPU_KEYS = [
  'H200',
  'H100',
  'A100-80GB',
  'A100-40GB',
  'L40S',
  'L4',
  'A10G',
  'T4',
  'V100',
] as const;
export type GpuKey = (typeof GPU_KEYS)[number];

export interface PriceFact {
  /** USD per unit (GPU-hour, core-hour, GiB-hour, GB-month). */
  usd: number;
  source: string;
  url: string;
  /** When the price was in effect on the source page. */
  asOf: string;
  /** How the figure was derived from the source, when it is not read off directly. */
  derivation?: string;
}

/**
 * How the figures were gathered: recorded in 2026-11 from the public price pages named, as the author knew them,
 * not fetched by a program. Cloud GPU prices move (AWS cut P4/P5 prices by up to 45% in June 2025): check the page
 * and set `pricing.gpuHour` in mlcost.yaml before treating a figure as your bill.
 */
export const PRICE_TABLE_NOTE =
  'Public on-demand list prices (USD), recorded 2026-11 from the named pages and not fetched live; override them in mlcost.yaml.';

// OpenCost's default CPU and RAM prices are Google Cloud us-central1 component prices, so GPU prices from the
// same price list (GPU component only) add up to a whole VM price; where Google does not sell the GPU, the AWS
// instance price less its host's vCPUs and memory at those same defaults gives the GPU part.
const OPENCOST_DEFAULTS = 'OpenCost configs/default.json ("GCP us-central1" custom pricing defaults)';
const OPENCOST_URL = 'https://github.com/opencost/opencost/blob/develop/configs/default.json';
const GCP_GPU_PRICING = 'Google Cloud Compute Engine GPU pricing, us-central1, on-demand, GPU component';
const GCP_GPU_URL = 'https://cloud.google.com/compute/gpus-pricing';
const AWS_EC2_PRICING = 'AWS EC2 On-Demand pricing, us-east-1, Linux';
const AWS_EC2_URL = 'https://aws.amazon.com/ec2/pricing/on-demand/';
const AWS_CAPACITY_BLOCKS = 'AWS EC2 Capacity Blocks for ML pricing (effective accelerator hourly rate)';
const AWS_CAPACITY_BLOCKS_URL = 'https://aws.amazon.com/ec2/capacityblocks/pricing/';

export const GPU_PRICES: Record<GpuKey, PriceFact> = {
  H200: {
    usd: 5.5407,
    source: `${AWS_EC2_PRICING}; ratio from ${AWS_CAPACITY_BLOCKS}`,
    url: AWS_CAPACITY_BLOCKS_URL,
    asOf: '2025-06',
    derivation:
      'H100 figure below × (H200 5.408 / H100 4.916 $/accelerator-hour in Capacity Blocks, us-east-2) = 5.0367 × 1.1001',
  },
  H100: {
    usd: 5.0367,
    source: `${AWS_EC2_PRICING}, p5.48xlarge (8× H100 80GB, 192 vCPU, 2048 GiB) after the June 2025 price cut`,
    url: AWS_EC2_URL,
    asOf: '2025-06',
    derivation: '($55.04 − 192 × 0.031611 − 2048 × 0.004237) / 8 = (55.04 − 14.7467) / 8',
  },
  'A100-80GB': {
    usd: 3.93,
    source: `${GCP_GPU_PRICING}, NVIDIA A100 80GB (A2 ultra)`,
    url: GCP_GPU_URL,
    asOf: '2025-01',
  },
  'A100-40GB': {
    usd: 2.933908,
    source: `${GCP_GPU_PRICING}, NVIDIA A100 40GB (A2 high)`,
    url: GCP_GPU_URL,
    asOf: '2025-01',
  },
  L40S: {
    usd: 1.599,
    source: `${AWS_EC2_PRICING}, g6e.xlarge (1× L40S, 4 vCPU, 32 GiB)`,
    url: AWS_EC2_URL,
    asOf: '2025-01',
    derivation: '$1.861 − 4 × 0.031611 − 32 × 0.004237 = 1.861 − 0.2620',
  },
  L4: {
    usd: 0.6106,
    source: `${AWS_EC2_PRICING}, g6.xlarge (1× L4, 4 vCPU, 16 GiB)`,
    url: AWS_EC2_URL,
    asOf: '2025-01',
    derivation: '$0.8048 − 4 × 0.031611 − 16 × 0.004237 = 0.8048 − 0.1942',
  },
  A10G: {
    usd: 0.8118,
    source: `${AWS_EC2_PRICING}, g5.xlarge (1× A10G, 4 vCPU, 16 GiB)`,
    url: AWS_EC2_URL,
    asOf: '2025-01',
    derivation: '$1.006 − 4 × 0.031611 − 16 × 0.004237 = 1.006 − 0.1942',
  },
  T4: {
    usd: 0.35,
    source: `${GCP_GPU_PRICING}, NVIDIA T4 (attached to N1)`,
    url: GCP_GPU_URL,
    asOf: '2025-01',
  },
  V100: {
    usd: 2.48,
    source: `${GCP_GPU_PRICING}, NVIDIA V100 (attached to N1)`,
    url: GCP_GPU_URL,
    asOf: '2025-01',
  },
};

/** A GPU whose model no table key matches: OpenCost's default GPU price. */
export const UNKNOWN_GPU_PRICE: PriceFact = {
  usd: 0.95,
  source: `${OPENCOST_DEFAULTS}, "GPU"`,
  url: OPENCOST_URL,
  asOf: '2024-01',
};

export const CPU_CORE_HOUR: PriceFact = {
  usd: 0.031611,
  source: `${OPENCOST_DEFAULTS}, "CPU"`,
  url: OPENCOST_URL,
  asOf: '2024-01',
};

export const MEMORY_GIB_HOUR: PriceFact = {
  usd: 0.004237,
  source: `${OPENCOST_DEFAULTS}, "RAM" (per GiB-hour, as OpenCost divides bytes by 1024³)`,
  url: OPENCOST_URL,
  asOf: '2024-01',
};

export const STORAGE_GB_MONTH: PriceFact = {
  usd: 0.04,
  source: `${OPENCOST_DEFAULTS}, "storage" 0.00005479452 per GB-hour`,
  url: OPENCOST_URL,
  asOf: '2024-01',
  derivation: '0.00005479452 × 730 hours = 0.04',
};

/**
 * Spot discount when mlcost.yaml sets none: OpenCost's default spot prices are 21.05% of its on-demand ones for
 * both CPU (0.006655 / 0.031611) and RAM (0.000892 / 0.004237), i.e. 78.95% off. Reserved capacity varies by
 * term and provider too much for a default: 0 until configured.
 */
export const DEFAULT_DISCOUNTS = { 'on-demand': 0, spot: 0.7895, reserved: 0 } as const;

/** Hours in a billing month, as OpenCost and the clouds' monthly estimates count them. */
export const HOURS_PER_MONTH = 730;

/** Memory the pricing treats as one "GB" of RAM or storage: GiB, as OpenCost does. */
export const BYTES_PER_GIB = 2 ** 30;
