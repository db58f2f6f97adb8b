// The cost model's public API: prices, allocation of node windows, roll-ups, served models, training jobs,
// budgets and the FOCUS export. Pure functions over stored rows and prices; the store and API call these.
export {
  type AggregateBy,
  type AggregateOptions,
  type AllocationSet,
  aggregateAllocations,
  aggregateKey,
  groupRows,
  isAggregateBy,
  shareIdle,
  UNALLOCATED,
} from './aggregate.ts';
export {
  type AllocateOptions,
  allocateWindow,
  DEFAULT_GPU_IDLE_THRESHOLD,
  type GpuDeviceUse,
  type GpuUnitKind,
  type GpuWaste,
  type GpuWasteItem,
  IDLE,
  type NodeCost,
  type NodeIdle,
  POD_LEVEL,
  requestedGpuShare,
  UNMOUNTED,
  type WindowAllocation,
} from './allocate.ts';
export type { Allocation, AllocationProperties, AllocationSums } from './allocation.ts';
export {
  type BudgetConfig,
  type BudgetStatus,
  budgetConfigSchema,
  budgetScope,
  budgetSpend,
  budgetsConfigSchema,
  evaluateBudget,
  inBudgetScope,
  monthBounds,
  RUN_RATE_DAYS,
  type SpendPoint,
} from './budgets.ts';
export {
  FOCUS_COLUMNS,
  type FocusColumn,
  type FocusOptions,
  type FocusRow,
  focusCsv,
  focusDateTime,
  focusDecimal,
  focusRows,
} from './focus.ts';
export { type GpuModelMatch, matchGpuModel } from './gpu-models.ts';
export type {
  StoredContainer,
  StoredGpu,
  StoredHolder,
  StoredModelWindow,
  StoredNode,
  StoredPvc,
  StoredWindowInput,
} from './input.ts';
export { type JobCost, type JobCostOptions, jobCosts, TRAINING_JOB_KINDS, unionHours } from './jobs.ts';
export { migFraction, parseMigProfile } from './mig.ts';
export {
  DEFAULT_GENERATED_TOKEN_WEIGHT,
  type ModelCost,
  type ModelCostOptions,
  modelCostOf,
  modelCosts,
} from './models.ts';
export { GPU_KEYS, GPU_PRICES, type GpuKey, PRICE_TABLE_NOTE, type PriceFact } from './prices.ts';
export {
  type NodePrices,
  type NodeShape,
  type PriceSource,
  type PricingConfig,
  parsePricingConfig,
  physicalGpuModels,
  pricesForWindow,
  pricingConfigSchema,
  resolveNodePrices,
} from './pricing.ts';
export { rollupWindows } from './rollup.ts';
