// Rightsizing: a pure engine over stored usage windows that says what to change (CPU and memory requests, GPUs,
// MIG slices, sharing, GPU models, replicas, abandoned workloads), what it saves, how sure it is, and the patch.
export { recommendAbandoned, type WorkloadView } from './abandoned.ts';
export { confidenceOf } from './confidence.ts';
export { type Context, makeContext, workloadKey } from './context.ts';
export { cpuUse, memoryUse, recommendCpuMemory, requestSaving, sizeCpuMemory } from './cpu-memory.ts';
export { analyze, recommend } from './engine.ts';
export { GPU_CATALOG, type GpuKey, type GpuSpec, gpuKeyOf, gpuSpecOf, slowdown } from './gpu-catalog.ts';
export { deviceUsed, recommendGpuCount } from './gpu-count.ts';
export { recommendGpuIdle } from './gpu-idle.ts';
export { candidateSpecs, cheapestFit, recommendGpuModel } from './gpu-model.ts';
export {
  deviceConfig,
  existingPools,
  recommendGpuSharing,
  type SharingMode,
  sharingRatio,
} from './gpu-sharing.ts';
export { hpaFloor, hpaReplicas } from './hpa.ts';
export {
  compareWithKrr,
  KRR_DEFAULTS,
  type KrrComparison,
  type KrrOptions,
  krrProposal,
  type Proposal,
} from './krr-baseline.ts';
export { recommendMigProfile, smallestFittingProfile } from './mig-profile.ts';
export { MIG_PROFILES, type MigProfileSpec, migProfileOf } from './mig-profiles.ts';
export { DEFAULT_OPTIONS, HOURS_PER_MONTH, type RightsizingOptions, resolveOptions } from './options.ts';
export { type ReplayResult, replay, replayRecommendation, wouldBeOomKills } from './replay.ts';
export { recommendReplicas, replicaHourCost, servingSlots } from './replicas.ts';
export type * from './types.ts';
