// The default price table: per-GPU-hour, per-core-hour, per-GiB-hour and per-GB-month list prices in USD, each
// with where it came from and when. The figures live in the data file prices.json beside this module, checked here
// once at load; used when mlcost.yaml names no price, and every figure can be overridden there.
import { z } from 'zod';
import table from './prices.json' with { type: 'json' };

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
  /** When the price was in effect on the source page (`YYYY-MM`). */
  asOf: string;
  /** How the figure was derived from the source, when it is not read off directly. */
  derivation?: string;
}

const provenance = {
  source: z.string().min(10),
  url: z.string().regex(/^https:\/\/\S+$/, 'expected an https URL'),
  asOf: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'expected YYYY-MM'),
  derivation: z.string().min(1).optional(),
};
const priceFact = z.strictObject({ usd: z.number().finite().positive(), ...provenance });
const share = z.number().min(0).max(1);

const priceTableSchema = z.strictObject({
  about: z.string(),
  note: z.string().min(1),
  gpuHour: z.strictObject(
    Object.fromEntries(GPU_KEYS.map((key) => [key, priceFact])) as Record<GpuKey, typeof priceFact>,
  ),
  unknownGpuHour: priceFact,
  cpuCoreHour: priceFact,
  memoryGiBHour: priceFact,
  storageGBMonth: priceFact,
  discounts: z.strictObject({ 'on-demand': share, spot: share, reserved: share, ...provenance }),
});

/** The price data file, checked: every GPU key present, every figure positive and with its source and date. */
export function parsePriceTable(data: unknown): z.output<typeof priceTableSchema> {
  const parsed = priceTableSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`collector/cost/prices.json: ${issue?.path.join('.') || '(root)'}: ${issue?.message}`);
  }
  return parsed.data;
}

const TABLE = parsePriceTable(table);

/**
 * How the figures were gathered: recorded from the public price pages named, as the author knew them, not fetched
 * by a program. Cloud GPU prices move (AWS cut P4/P5 prices by up to 45% in June 2025): check the page and set
 * `pricing.gpuHour` in mlcost.yaml before treating a figure as your bill.
 */
export const PRICE_TABLE_NOTE: string = TABLE.note;

/**
 * Per-GPU-hour prices of the GPU part of a machine: OpenCost's default CPU and RAM prices are Google Cloud
 * us-central1 component prices, so GPU prices from the same price list (GPU component only) add up to a whole VM
 * price; where Google does not sell the GPU, the AWS instance price less its host's vCPUs and memory at those same
 * defaults gives the GPU part.
 */
export const GPU_PRICES: Record<GpuKey, PriceFact> = TABLE.gpuHour;

/** A GPU whose model no table key matches: OpenCost's default GPU price. */
export const UNKNOWN_GPU_PRICE: PriceFact = TABLE.unknownGpuHour;

export const CPU_CORE_HOUR: PriceFact = TABLE.cpuCoreHour;

/** Per GiB-hour, as OpenCost divides bytes by 1024³. */
export const MEMORY_GIB_HOUR: PriceFact = TABLE.memoryGiBHour;

export const STORAGE_GB_MONTH: PriceFact = TABLE.storageGBMonth;

/**
 * Discount by capacity type when mlcost.yaml sets none: spot from OpenCost's default spot prices (21.05% of its
 * on-demand ones for both CPU and RAM, i.e. 78.95% off). Reserved capacity varies by term and provider too much
 * for a default: 0 until configured.
 */
export const DEFAULT_DISCOUNTS: Readonly<Record<'on-demand' | 'spot' | 'reserved', number>> = {
  'on-demand': TABLE.discounts['on-demand'],
  spot: TABLE.discounts.spot,
  reserved: TABLE.discounts.reserved,
};

/** Hours in a billing month, as OpenCost and the clouds' monthly estimates count them. */
export const HOURS_PER_MONTH = 730;

/** Memory the pricing treats as one "GB" of RAM or storage: GiB, as OpenCost does. */
export const BYTES_PER_GIB = 2 ** 30;
