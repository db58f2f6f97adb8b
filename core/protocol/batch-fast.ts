// A fast check of a batch against the wire schema, for the collector's ingest path. The zod schema in ./batch.ts
// stays the definition: this is a hand-written copy of its shape that says "valid, and here is exactly what zod
// would return" or "not sure" — never "invalid". On "not sure" parseBatch asks zod, which accepts or refuses with
// its own issues, so every refusal (and its message naming the field path) is zod's. When you change the schema,
// change this file with it: batch-fast.test.ts fails while the two disagree.
//
// What "exactly what zod would return" means: a new object for every object in the schema with its keys in the
// schema's order and unknown keys left out, defaults filled in ({} and [] fresh each time), optional keys copied
// only when present, records copied key by key (an own `__proto__` key skipped, as zod does).
import type { z } from 'zod';
import { BATCH_SCHEMA_VERSION, type Batch, batchSchema } from './batch.ts';

type Obj = Record<string, unknown>;

/** Thrown (one shared instance, never seen outside this file) when the input is not plainly valid. */
const NOT_SURE: unique symbol = Symbol('not sure');

function notSure(): never {
  throw NOT_SURE;
}

/** The schema's own ISO date-time pattern (zod's `z.iso.datetime({ offset: true })`), taken from the schema. */
const sentAtPattern: unknown = (batchSchema.shape.sentAt.def as { pattern?: unknown }).pattern;
const ISO_TIME = sentAtPattern instanceof RegExp ? sentAtPattern : undefined;

const SERVERS: ReadonlySet<unknown> = new Set([
  'vllm',
  'ray-vllm',
  'triton',
  'tgi',
  'torchserve',
  'kserve',
  'other',
]);
const VIA: ReadonlySet<unknown> = new Set(['exporter', 'device-id', 'mig-profile']);

function object(value: unknown): Obj {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) notSure();
  return value as Obj;
}

/** A new plain array of each item checked, as zod makes it. */
function array<T>(value: unknown, min: number, max: number, each: (item: unknown) => T): T[] {
  if (!Array.isArray(value) || value.length < min || value.length > max) notSure();
  const output = new Array<T>(value.length);
  for (let i = 0; i < value.length; i++) output[i] = each(value[i]);
  return output;
}

function string(value: unknown, min: number, max: number): string {
  if (typeof value !== 'string' || value.length < min || value.length > max) notSure();
  return value;
}

function isoTime(value: unknown): string {
  if (typeof value !== 'string' || ISO_TIME === undefined) notSure();
  ISO_TIME.lastIndex = 0;
  if (!ISO_TIME.test(value)) notSure();
  return value;
}

/** z.number().finite().nonnegative() */
function nonNegative(value: unknown): number {
  if (typeof value !== 'number' || !(value >= 0) || value === Number.POSITIVE_INFINITY) notSure();
  return value;
}

/** z.number().int().nonnegative(): zod's int() is a safe integer. */
function count(value: unknown): number {
  if (!Number.isSafeInteger(value) || (value as number) < 0) notSure();
  return value as number;
}

/** z.number().finite().min(0).max(1) */
function ratio(value: unknown): number {
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) notSure();
  return value;
}

/** z.number().finite().positive().max(1) */
function share(value: unknown): number {
  if (typeof value !== 'number' || !(value > 0 && value <= 1)) notSure();
  return value;
}

function finite(value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) notSure();
  return value;
}

function boolean(value: unknown): boolean {
  if (typeof value !== 'boolean') notSure();
  return value;
}

function oneOf(value: unknown, values: ReadonlySet<unknown>): unknown {
  if (!values.has(value)) notSure();
  return value;
}

/**
 * An optional key: copied when present. zod also copies a key that is present with the value undefined, which
 * JSON cannot express but a caller's object can.
 */
function optional<T>(input: Obj, output: Obj, key: string, check: (value: unknown) => T): void {
  const value = input[key];
  if (value !== undefined) output[key] = check(value);
  else if (key in input) output[key] = undefined;
}

const name = (value: unknown) => string(value, 1, 253);
const upTo = (max: number) => (value: unknown) => string(value, 0, max);
const upTo253 = upTo(253);
const upTo64 = upTo(64);
const upTo32 = upTo(32);

/** A record takes plain objects only: zod's isPlainObject, step by step (every object JSON.parse makes is one). */
function isPlainObject(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const maker = (value as Obj).constructor;
  if (maker === undefined || typeof maker !== 'function') return true;
  const prototype: unknown = maker.prototype;
  if (typeof prototype !== 'object' || prototype === null || Array.isArray(prototype)) return false;
  return Object.hasOwn(prototype, 'isPrototypeOf');
}

/** labels: z.record(z.string().max(317), z.string().max(1024)) with at most 128 keys. */
function labels(value: unknown): Obj {
  if (!isPlainObject(value)) notSure();
  const input = value as Obj;
  const output: Obj = {};
  let keys = 0;
  for (const key of Object.keys(input)) {
    if (key === '__proto__') continue;
    if (key.length > 317) notSure();
    output[key] = string(input[key], 0, 1024);
    keys += 1;
  }
  if (keys > 128) notSure();
  return output;
}

function capacity(value: unknown): Obj {
  const input = object(value);
  const output: Obj = { cpuCores: nonNegative(input.cpuCores), memoryBytes: nonNegative(input.memoryBytes) };
  optional(input, output, 'gpus', nonNegative);
  return output;
}

function node(value: unknown): Obj {
  const input = object(value);
  const output: Obj = { name: name(input.name), capacity: capacity(input.capacity) };
  optional(input, output, 'allocatable', capacity);
  output.labels = input.labels === undefined ? {} : labels(input.labels);
  optional(input, output, 'cpuUsedCoresAvg', nonNegative);
  optional(input, output, 'cpuUsedCoresMax', nonNegative);
  optional(input, output, 'memoryUsedBytesAvg', nonNegative);
  optional(input, output, 'memoryUsedBytesMax', nonNegative);
  optional(input, output, 'load1', nonNegative);
  optional(input, output, 'simulated', boolean);
  return output;
}

function holder(value: unknown): Obj {
  const input = object(value);
  const output: Obj = { namespace: name(input.namespace), pod: name(input.pod) };
  optional(input, output, 'container', upTo253);
  optional(input, output, 'share', share);
  optional(input, output, 'via', (via) => oneOf(via, VIA));
  return output;
}

function gpu(value: unknown): Obj {
  const input = object(value);
  const output: Obj = { id: name(input.id), uuid: name(input.uuid) };
  optional(input, output, 'index', count);
  optional(input, output, 'model', upTo253);
  optional(input, output, 'migProfile', upTo64);
  optional(input, output, 'migInstanceId', count);
  optional(input, output, 'activityAvg', ratio);
  optional(input, output, 'activityMax', ratio);
  optional(input, output, 'smActivityAvg', ratio);
  optional(input, output, 'tensorActivityAvg', ratio);
  optional(input, output, 'memoryUsedBytesMax', nonNegative);
  optional(input, output, 'memoryTotalBytes', nonNegative);
  optional(input, output, 'powerWattsAvg', nonNegative);
  optional(input, output, 'energyJoules', nonNegative);
  optional(input, output, 'temperatureCelsiusMax', finite);
  optional(input, output, 'smClockMhzAvg', nonNegative);
  optional(input, output, 'lastXid', count);
  output.holders = input.holders === undefined ? [] : array(input.holders, 0, 64, holder);
  return output;
}

function resources(value: unknown): Obj {
  const output: Obj = {};
  if (value === undefined) return output;
  const input = object(value);
  optional(input, output, 'cpuCores', nonNegative);
  optional(input, output, 'memoryBytes', nonNegative);
  optional(input, output, 'gpus', nonNegative);
  optional(input, output, 'gpuResource', upTo253);
  return output;
}

function workload(value: unknown): Obj {
  const input = object(value);
  return { kind: string(input.kind, 1, 63), name: name(input.name) };
}

function container(value: unknown): Obj {
  const input = object(value);
  const output: Obj = {
    namespace: name(input.namespace),
    pod: name(input.pod),
    container: name(input.container),
  };
  optional(input, output, 'cpuCoresAvg', nonNegative);
  optional(input, output, 'cpuCoresMax', nonNegative);
  optional(input, output, 'cpuCoresP95', nonNegative);
  optional(input, output, 'memoryBytesAvg', nonNegative);
  optional(input, output, 'memoryBytesMax', nonNegative);
  output.requests = resources(input.requests);
  output.limits = resources(input.limits);
  optional(input, output, 'podUid', upTo64);
  optional(input, output, 'qosClass', upTo32);
  optional(input, output, 'workload', workload);
  optional(input, output, 'mlJob', workload);
  optional(input, output, 'servedModel', workload);
  optional(input, output, 'restarts', nonNegative);
  optional(input, output, 'oomKilled', boolean);
  optional(input, output, 'labels', labels);
  return output;
}

/** A counter that defaults to 0: nonNegative.default(0). */
const zeroed = (value: unknown) => (value === undefined ? 0 : nonNegative(value));

function model(value: unknown): Obj {
  const input = object(value);
  const output: Obj = {
    namespace: name(input.namespace),
    pod: name(input.pod),
    model: string(input.model, 1, 512),
    server: oneOf(input.server, SERVERS),
    requestsOk: zeroed(input.requestsOk),
    requestsFailed: zeroed(input.requestsFailed),
    promptTokens: zeroed(input.promptTokens),
    generatedTokens: zeroed(input.generatedTokens),
    latencySecondsSum: zeroed(input.latencySecondsSum),
    latencyCount: zeroed(input.latencyCount),
  };
  optional(input, output, 'queueLengthMax', nonNegative);
  optional(input, output, 'kvCacheUsageMax', ratio);
  return output;
}

const list = <T>(value: unknown, max: number, each: (item: unknown) => T): T[] =>
  value === undefined ? [] : array(value, 0, max, each);

function window(value: unknown): Obj {
  const input = object(value);
  const output: Obj = {
    start: isoTime(input.start),
    end: isoTime(input.end),
    node: node(input.node),
    gpus: list(input.gpus, 4096, gpu),
    containers: list(input.containers, 20_000, container),
    models: list(input.models, 4096, model),
  };
  if (!(Date.parse(output.end as string) > Date.parse(output.start as string))) notSure();
  return output;
}

/**
 * The batch zod would make of `input` when it is valid, or undefined when this check is not sure (zod decides
 * then). Never undefined for a batch an agent sends.
 */
export function fastParseBatch(input: unknown): Batch | undefined {
  try {
    const batch = object(input);
    if (batch.schemaVersion !== BATCH_SCHEMA_VERSION) return undefined;
    return {
      schemaVersion: BATCH_SCHEMA_VERSION,
      agentId: name(batch.agentId),
      sequence: count(batch.sequence),
      sentAt: isoTime(batch.sentAt),
      windows: array(batch.windows, 1, 1440, window),
    } as Batch;
  } catch (error) {
    if (error === NOT_SURE) return undefined;
    throw error;
  }
}

/** batchSchema.safeParse with the fast check first: the same answer, and on a refusal zod's own issues. */
export function parseBatch(input: unknown): z.ZodSafeParseResult<Batch> {
  const fast = fastParseBatch(input);
  if (fast !== undefined) return { success: true, data: fast };
  return batchSchema.safeParse(input);
}
