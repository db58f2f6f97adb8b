// Pricing: the `pricing:` section of mlcost.yaml (zod schema) and the prices one node is charged at, from its
// labels (instance type, capacity type, GPU product), its GPUs' models and that configuration. Pure.
import { z } from 'zod';
import { type CapacityType, describeNodeCostLabels } from '../../core/node-labels.ts';
import { matchGpuModel } from './gpu-models.ts';
import type { StoredWindowInput } from './input.ts';
import {
  BYTES_PER_GIB,
  CPU_CORE_HOUR,
  DEFAULT_DISCOUNTS,
  GPU_PRICES,
  HOURS_PER_MONTH,
  MEMORY_GIB_HOUR,
  STORAGE_GB_MONTH,
  UNKNOWN_GPU_PRICE,
} from './prices.ts';

const price = z.number().finite().nonnegative();
/** A discount is a fraction off list; 1 (free) is refused so list cost can always be recovered from cost. */
const discount = z.number().finite().min(0).lt(1);
const capacityType = z.enum(['on-demand', 'spot', 'reserved']);
/** GPU-hour prices keyed by table key (`H100`, `A100-80GB`), by exact product string, or `default`. */
const gpuHourMap = z.record(z.string().min(1), price);

const nodeRuleSchema = z.object({
  /** Shown as the price source (`node-rule:<name>`). */
  name: z.string().min(1).optional(),
  /** Node labels that must all be equal for the rule to apply; the first matching rule wins. */
  match: z.record(z.string().min(1), z.string()).refine((m) => Object.keys(m).length > 0, 'match is empty'),
  /** The whole node's hourly list price, split into CPU, memory and GPU parts (SPEC.md §2). */
  hourly: price.optional(),
  cpuCoreHour: price.optional(),
  memGiBHour: price.optional(),
  gpuHour: gpuHourMap.optional(),
  discount: discount.optional(),
  capacityType: capacityType.optional(),
});

export const pricingConfigSchema = z
  .object({
    /** ISO 4217 code of every configured price; the built-in table is USD. */
    currency: z
      .string()
      .regex(/^[A-Z]{3}$/, 'expected an ISO 4217 code')
      .default('USD'),
    /** Units of `currency` per USD, applied to built-in prices only. Required when currency is not USD. */
    exchangeRate: z.number().finite().positive().optional(),
    cpuCoreHour: price.optional(),
    memGiBHour: price.optional(),
    storageGBMonth: price.optional(),
    /** Storage price per GB-month by StorageClass name. */
    storageClasses: z.record(z.string().min(1), price).optional(),
    gpuHour: gpuHourMap.optional(),
    /** Hourly on-demand list price of a whole node by `node.kubernetes.io/instance-type`. */
    instanceTypes: z.record(z.string().min(1), price).optional(),
    nodes: z.array(nodeRuleSchema).optional(),
    /** Fraction off list by capacity type (Karpenter, EKS, GKE and AKS labels). */
    discounts: z.object({ 'on-demand': discount, spot: discount, reserved: discount }).partial().optional(),
    /** Capacity type of a node no label describes. */
    defaultCapacityType: capacityType.default('on-demand'),
  })
  .refine((config) => config.currency === 'USD' || config.exchangeRate !== undefined, {
    message: 'exchangeRate (units of currency per USD) is required when currency is not USD',
    path: ['exchangeRate'],
  });

export type PricingConfig = z.input<typeof pricingConfigSchema>;
export type NodeRule = z.infer<typeof nodeRuleSchema>;

/** Where a node's prices came from, most specific first. */
export type PriceSource = `node-rule:${string}` | `instance-type:${string}` | 'config' | 'default';

export interface NodePrices {
  /** List prices per unit-hour, before `discount`. */
  cpuCoreHour: number;
  memGiBHour: number;
  /** Per physical device, keyed by the product string given (a vGPU is its share of the board). */
  gpuHourByModel: Record<string, number>;
  /** For a GPU of unknown model (or one the node counts but no exporter reported). */
  gpuHourDefault: number;
  storageGiBHour: number;
  storageGiBHourByClass: Record<string, number>;
  /** Fraction off list for this node's capacity type; storage is not discounted. */
  discount: number;
  capacityType: CapacityType;
  currency: string;
  source: PriceSource;
}

/** A node's capacity, to split an hourly node price; `gpus` has one product string per physical GPU. */
export interface NodeShape {
  cpuCores: number;
  memoryBytes: number;
  gpus: ReadonlyArray<string | null | undefined>;
}

export interface ParsedPricing {
  currency: string;
  exchangeRate?: number | undefined;
  cpuCoreHour?: number | undefined;
  memGiBHour?: number | undefined;
  storageGBMonth?: number | undefined;
  storageClasses?: Record<string, number> | undefined;
  gpuHour?: Record<string, number> | undefined;
  instanceTypes?: Record<string, number> | undefined;
  nodes?: NodeRule[] | undefined;
  discounts?: Partial<Record<CapacityType, number>> | undefined;
  defaultCapacityType: CapacityType;
}

const parsedConfigs = new WeakMap<object, ParsedPricing>();

/** Validates a pricing config once per object: resolveNodePrices runs per node window, the config rarely changes. */
export function parsePricingConfig(pricingConfig: PricingConfig = {}): ParsedPricing {
  const cached = parsedConfigs.get(pricingConfig);
  if (cached) return cached;
  const parsed = pricingConfigSchema.parse(pricingConfig) as ParsedPricing;
  parsedConfigs.set(pricingConfig, parsed);
  return parsed;
}

function matches(rule: NodeRule, labels: Record<string, string>): boolean {
  return Object.entries(rule.match).every(([key, value]) => labels[key] === value);
}

/**
 * The prices one node is charged at. Precedence per resource: a matching `nodes` rule, then the instance type's
 * hourly price (split by SPEC.md §2), then the per-resource config, then the built-in table (× exchangeRate).
 * `gpuModels` are the product strings of the node's GPUs (any repeats are fine); `shape` is needed to split an
 * hourly node price, and ignored otherwise.
 */
export function resolveNodePrices(
  nodeLabels: Record<string, string>,
  gpuModels: ReadonlyArray<string | null | undefined>,
  pricingConfig: PricingConfig = {},
  shape?: NodeShape,
): NodePrices {
  const config = parsePricingConfig(pricingConfig);
  const fx = config.exchangeRate ?? 1;
  const described = describeNodeCostLabels(nodeLabels);
  const rule = config.nodes?.find((candidate) => matches(candidate, nodeLabels));
  const capacity = rule?.capacityType ?? described.capacityType ?? config.defaultCapacityType;

  const gpuListPrice = (model: string | null | undefined): number => {
    const { key, fraction } = matchGpuModel(model);
    const exact = model ? (rule?.gpuHour?.[model] ?? config.gpuHour?.[model]) : undefined;
    if (exact !== undefined) return exact;
    const byKey = key
      ? (rule?.gpuHour?.[key] ?? config.gpuHour?.[key] ?? GPU_PRICES[key].usd * fx)
      : undefined;
    const base =
      byKey ?? rule?.gpuHour?.['default'] ?? config.gpuHour?.['default'] ?? UNKNOWN_GPU_PRICE.usd * fx;
    return base * fraction;
  };

  let cpuCoreHour = rule?.cpuCoreHour ?? config.cpuCoreHour ?? CPU_CORE_HOUR.usd * fx;
  let memGiBHour = rule?.memGiBHour ?? config.memGiBHour ?? MEMORY_GIB_HOUR.usd * fx;
  const models = new Set<string>();
  for (const model of gpuModels) if (model) models.add(model);
  for (const model of shape?.gpus ?? []) if (model) models.add(model);
  const gpuHourByModel: Record<string, number> = {};
  for (const model of models) gpuHourByModel[model] = gpuListPrice(model);
  let gpuHourDefault = gpuListPrice(described.gpu?.model);

  let source: PriceSource =
    rule !== undefined
      ? `node-rule:${rule.name ?? JSON.stringify(rule.match)}`
      : config.cpuCoreHour !== undefined || config.memGiBHour !== undefined || config.gpuHour !== undefined
        ? 'config'
        : 'default';

  const hourly =
    rule?.hourly ?? (described.instanceType ? config.instanceTypes?.[described.instanceType] : undefined);
  if (hourly !== undefined && shape) {
    // OpenCost's split, with each GPU weighted by its own list price rather than one fixed GPU:RAM ratio.
    const list =
      shape.cpuCores * cpuCoreHour +
      (shape.memoryBytes / BYTES_PER_GIB) * memGiBHour +
      shape.gpus.reduce<number>((sum, model) => sum + (model ? gpuHourByModel[model]! : gpuHourDefault), 0);
    if (list > 0) {
      const k = hourly / list;
      cpuCoreHour *= k;
      memGiBHour *= k;
      for (const model of Object.keys(gpuHourByModel)) gpuHourByModel[model]! *= k;
      gpuHourDefault *= k;
      if (rule?.hourly === undefined) source = `instance-type:${described.instanceType}`;
    }
  }

  const storageGBMonth = config.storageGBMonth ?? STORAGE_GB_MONTH.usd * fx;
  const storageGiBHourByClass: Record<string, number> = {};
  for (const [name, monthly] of Object.entries(config.storageClasses ?? {})) {
    storageGiBHourByClass[name] = monthly / HOURS_PER_MONTH;
  }

  return {
    cpuCoreHour,
    memGiBHour,
    gpuHourByModel,
    gpuHourDefault,
    storageGiBHour: storageGBMonth / HOURS_PER_MONTH,
    storageGiBHourByClass,
    discount: rule?.discount ?? config.discounts?.[capacity] ?? DEFAULT_DISCOUNTS[capacity],
    capacityType: capacity,
    currency: config.currency,
    source,
  };
}

/** Product strings of the window's physical GPUs, one per board: MIG instances count once, by parent UUID. */
export function physicalGpuModels(window: StoredWindowInput): Array<string | undefined> {
  const byUuid = new Map<string, string | undefined>();
  for (const gpu of window.gpus) {
    const uuid = gpu.uuid.toLowerCase();
    if (!byUuid.has(uuid) || byUuid.get(uuid) === undefined) byUuid.set(uuid, gpu.model ?? undefined);
  }
  const models = [...byUuid.values()];
  const labelModel = describeNodeCostLabels(window.node.labels).gpu?.model;
  const unseen = Math.max(0, Math.round(window.node.gpus ?? 0) - models.length);
  for (let i = 0; i < unseen; i++) models.push(labelModel);
  return models;
}

/** The prices of a stored window's node: resolveNodePrices with the window's GPUs and capacity as the shape. */
export function pricesForWindow(window: StoredWindowInput, pricingConfig: PricingConfig = {}): NodePrices {
  const gpus = physicalGpuModels(window);
  return resolveNodePrices(window.node.labels, gpus, pricingConfig, {
    cpuCores: window.node.cpuCores,
    memoryBytes: window.node.memoryBytes,
    gpus,
  });
}
