// The agent → collector wire protocol: a numbered batch of usage windows, versioned and validated with zod on both sides.
import { z } from 'zod';

export const BATCH_SCHEMA_VERSION = 1;

/** Names and label values are bounded so a hostile or broken agent cannot grow the store without limit. */
const name = z.string().min(1).max(253);
const labelValue = z.string().max(1024);
const labels = z.record(z.string().max(317), labelValue).refine((value) => Object.keys(value).length <= 128, {
  message: 'at most 128 labels',
});
const nonNegative = z.number().finite().nonnegative();
const ratio = z.number().finite().min(0).max(1);
const isoTime = z.iso.datetime({ offset: true });

export const resourceAmountsSchema = z.object({
  cpuCores: nonNegative.optional(),
  memoryBytes: nonNegative.optional(),
  /** Whole GPUs, MIG slices or shared replicas, as the resource name says (`nvidia.com/gpu`). */
  gpus: nonNegative.optional(),
  gpuResource: z.string().max(253).optional(),
});

export const nodeRecordSchema = z.object({
  name,
  capacity: z.object({ cpuCores: nonNegative, memoryBytes: nonNegative, gpus: nonNegative.optional() }),
  allocatable: z
    .object({ cpuCores: nonNegative, memoryBytes: nonNegative, gpus: nonNegative.optional() })
    .optional(),
  labels: labels.default({}),
  cpuUsedCoresAvg: nonNegative.optional(),
  cpuUsedCoresMax: nonNegative.optional(),
  memoryUsedBytesAvg: nonNegative.optional(),
  memoryUsedBytesMax: nonNegative.optional(),
  load1: nonNegative.optional(),
  /** True when the record was made by `mlcost simulate`, never by a real node. */
  simulated: z.boolean().optional(),
});

export const holderSchema = z.object({
  namespace: name,
  pod: name,
  container: z.string().max(253).optional(),
  /** Share of the device this holder has: 1 for a whole GPU or MIG slice, 1/replicas for time-slicing or MPS. */
  share: z.number().finite().positive().max(1).optional(),
  /** How the holder was found: the exporter's own labels, a device id match, or a MIG profile match. */
  via: z.enum(['exporter', 'device-id', 'mig-profile']).optional(),
});
const workloadRef = z.object({ kind: z.string().min(1).max(63), name });

export const gpuRecordSchema = z.object({
  /** GPU UUID, or `<parent UUID>/<GPU instance id>` for a MIG instance. */
  id: name,
  uuid: name,
  index: z.number().int().nonnegative().optional(),
  model: z.string().max(253).optional(),
  migProfile: z.string().max(64).optional(),
  migInstanceId: z.number().int().nonnegative().optional(),
  activityAvg: ratio.optional(),
  activityMax: ratio.optional(),
  smActivityAvg: ratio.optional(),
  tensorActivityAvg: ratio.optional(),
  memoryUsedBytesMax: nonNegative.optional(),
  memoryTotalBytes: nonNegative.optional(),
  powerWattsAvg: nonNegative.optional(),
  energyJoules: nonNegative.optional(),
  temperatureCelsiusMax: z.number().finite().optional(),
  smClockMhzAvg: nonNegative.optional(),
  lastXid: z.number().int().nonnegative().optional(),
  /** Pods holding this GPU or slice during the window; several when it is time-sliced or shared by MPS. */
  holders: z.array(holderSchema).max(64).default([]),
});

export const containerRecordSchema = z.object({
  namespace: name,
  pod: name,
  container: name,
  cpuCoresAvg: nonNegative.optional(),
  cpuCoresMax: nonNegative.optional(),
  cpuCoresP95: nonNegative.optional(),
  memoryBytesAvg: nonNegative.optional(),
  memoryBytesMax: nonNegative.optional(),
  requests: resourceAmountsSchema.default({}),
  limits: resourceAmountsSchema.default({}),
  podUid: z.string().max(64).optional(),
  qosClass: z.string().max(32).optional(),
  workload: workloadRef.optional(),
  mlJob: workloadRef.optional(),
  servedModel: workloadRef.optional(),
  restarts: nonNegative.optional(),
  /** True when the container's last termination in or before this window was an OOM kill. */
  oomKilled: z.boolean().optional(),
  labels: labels.optional(),
});

export const modelRecordSchema = z.object({
  namespace: name,
  pod: name,
  model: z.string().min(1).max(512),
  server: z.enum(['vllm', 'ray-vllm', 'triton', 'tgi', 'torchserve', 'kserve', 'other']),
  requestsOk: nonNegative.default(0),
  requestsFailed: nonNegative.default(0),
  promptTokens: nonNegative.default(0),
  generatedTokens: nonNegative.default(0),
  latencySecondsSum: nonNegative.default(0),
  latencyCount: nonNegative.default(0),
  queueLengthMax: nonNegative.optional(),
  kvCacheUsageMax: ratio.optional(),
});

export const windowSchema = z
  .object({
    start: isoTime,
    end: isoTime,
    node: nodeRecordSchema,
    gpus: z.array(gpuRecordSchema).max(4096).default([]),
    containers: z.array(containerRecordSchema).max(20_000).default([]),
    models: z.array(modelRecordSchema).max(4096).default([]),
  })
  .refine((window) => Date.parse(window.end) > Date.parse(window.start), {
    message: 'end must be after start',
    path: ['end'],
  });

export const batchSchema = z.object({
  schemaVersion: z.literal(BATCH_SCHEMA_VERSION),
  agentId: name,
  sequence: z.number().int().nonnegative(),
  sentAt: isoTime,
  windows: z.array(windowSchema).min(1).max(1440),
});

export type ResourceAmounts = z.infer<typeof resourceAmountsSchema>;
export type NodeRecord = z.infer<typeof nodeRecordSchema>;
export type GpuRecord = z.infer<typeof gpuRecordSchema>;
export type Holder = z.infer<typeof holderSchema>;
export type ContainerRecord = z.infer<typeof containerRecordSchema>;
export type ModelRecord = z.infer<typeof modelRecordSchema>;
export type UsageWindow = z.infer<typeof windowSchema>;
export type Batch = z.infer<typeof batchSchema>;
/** What a sender writes: defaults may be left out. */
export type BatchInput = z.input<typeof batchSchema>;

/** Describes the first few schema problems in one line, naming each field's path. */
export function describeSchemaIssues(error: z.ZodError, limit = 3): string {
  return error.issues
    .slice(0, limit)
    .map((issue) => `${issue.path.length ? issue.path.join('.') : '(batch)'}: ${issue.message}`)
    .join('; ');
}
