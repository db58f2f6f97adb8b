// The fast batch check against zod, the definition: on the simulator's real batches and on thousands of mutated
// copies of them (values at and past every bound, wrong types, missing and unknown keys, odd records), the fast
// check accepts exactly what zod accepts, returns exactly what zod returns (same values, same key order), and
// parseBatch refuses with zod's own issues.
import { describe, expect, it } from 'vitest';
import { generateCluster } from '../../simulator/cluster.ts';
import { nodeWindow } from '../../simulator/usage.ts';
import {
  type BatchInput,
  batchSchema,
  containerRecordSchema,
  describeSchemaIssues,
  gpuRecordSchema,
  holderSchema,
  modelRecordSchema,
  nodeRecordSchema,
  resourceAmountsSchema,
  windowSchema,
} from './batch.ts';
import { fastParseBatch, parseBatch } from './batch-fast.ts';

const MINUTE = 60_000;
const T0 = Date.UTC(2026, 10, 29, 12, 0, 0);

/** Agent-style batches (one window each) and a few multi-window ones, from clusters of every shape the simulator makes. */
function realBatches(): BatchInput[] {
  const batches: BatchInput[] = [];
  for (const [seed, nodes] of [
    [1, 12],
    [2, 8],
    [7, 6],
  ] as const) {
    const cluster = generateCluster({ seed, nodes, gpus: nodes * 8 });
    for (let minute = 0; minute < 2; minute++) {
      const start = T0 + minute * MINUTE;
      for (const node of cluster.nodes) {
        batches.push({
          schemaVersion: 1,
          agentId: node.name,
          sequence: minute,
          sentAt: new Date(start + MINUTE).toISOString(),
          windows: [nodeWindow(node, start, start + MINUTE)],
        });
      }
    }
    const node = cluster.nodes[0]!;
    batches.push({
      schemaVersion: 1,
      agentId: node.name,
      sequence: 99,
      sentAt: new Date(T0 + 10 * MINUTE).toISOString(),
      windows: [0, 1, 2].map((i) => nodeWindow(node, T0 + i * MINUTE, T0 + (i + 1) * MINUTE)),
    });
  }
  // The smallest batch the schema allows: every default left out.
  batches.push({
    schemaVersion: 1,
    agentId: 'a',
    sequence: 0,
    sentAt: '2026-11-29T12:01:00Z',
    windows: [
      {
        start: '2026-11-29T12:00:00+01:00',
        end: '2026-11-29T12:00:00.5+01:00',
        node: { name: 'n', capacity: { cpuCores: 0, memoryBytes: 0 } },
      },
    ],
  });
  return batches;
}

/** What the collector sees: the batch as JSON, read back. */
const wire = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

function expectSameAsZod(input: unknown, what = 'the fast check accepts exactly what zod accepts'): boolean {
  const zod = batchSchema.safeParse(input);
  const fast = fastParseBatch(input);
  const parsed = parseBatch(input);
  expect(fast !== undefined, what).toBe(zod.success);
  expect(parsed.success).toBe(zod.success);
  if (zod.success) {
    expect(fast).toStrictEqual(zod.data);
    expect(JSON.stringify(fast)).toBe(JSON.stringify(zod.data));
    expect(JSON.stringify(parsed.data)).toBe(JSON.stringify(zod.data));
  } else {
    expect(parsed.error).toBeDefined();
    expect(describeSchemaIssues(parsed.error!)).toBe(describeSchemaIssues(zod.error));
  }
  return zod.success;
}

/** mulberry32: a small seeded generator, so a failure repeats. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Path = Array<string | number>;
type Json = Record<string | number, unknown>;

/** Every path in a JSON value (the root excluded), objects and arrays included. */
function pathsOf(value: unknown, prefix: Path = [], out: Path[] = []): Path[] {
  if (Array.isArray(value)) {
    value.forEach((item, i) => {
      out.push([...prefix, i]);
      pathsOf(item, [...prefix, i], out);
    });
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      out.push([...prefix, key]);
      pathsOf(item, [...prefix, key], out);
    }
  }
  return out;
}

/** A path's place in the schema: array indexes and label names left out (`windows.*.node.labels.*`). */
const placeOf = (path: Path) =>
  path.map((key, i) => (typeof key === 'number' || path[i - 1] === 'labels' ? '*' : key)).join('.');

/** Values at and past the schema's bounds, and of every wrong type. */
const VALUES: unknown[] = [
  null,
  true,
  false,
  0,
  -0,
  -1,
  -1e-9,
  0.5,
  1,
  1.0000001,
  2,
  1.5,
  1e300,
  2 ** 53 - 1,
  2 ** 53,
  -(2 ** 53),
  '',
  '0',
  'x',
  'vllm',
  'other',
  'exporter',
  'mig-profile',
  'device-id',
  ...[31, 32, 33, 62, 63, 64, 65, 252, 253, 254, 316, 317, 318, 511, 512, 513, 1023, 1024, 1025].map((n) =>
    'é'.repeat(n),
  ),
  '2026-11-29T12:00:00Z',
  '2026-11-29T12:00:30.123456789Z',
  '2026-11-29T12:00:00+05:30',
  '2026-11-29T12:00:00',
  '2026-11-29 12:00:00Z',
  '2026-02-29T12:00:00Z',
  '2024-02-29T12:00:00Z',
  '2026-11-31T12:00:00Z',
  '2026-11-29T24:00:00Z',
  '2026-11-29T12:00Z',
  '2026-11-29T11:59:00-00:00',
  [],
  [1],
  [{}],
  {},
  { kind: 'Job', name: 'train' },
  { kind: '', name: 'train' },
  { cpuCores: 1, memoryBytes: 2 },
  { cpuCores: 1, memoryBytes: 2, gpus: -1 },
  { namespace: 'ns', pod: 'p' },
  { a: 'b', __proto__x: 'c' },
  JSON.parse('{"__proto__": "x", "team": "ml"}'),
  JSON.parse('{"__proto__": {"polluted": 1}}'),
];

/** Values JSON cannot carry, for a caller that hands over its own objects. */
const NOT_JSON: unknown[] = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, undefined, 1n];

function get(root: unknown, path: Path): unknown {
  let value = root;
  for (const key of path) value = (value as Json)[key];
  return value;
}

function set(root: unknown, path: Path, value: unknown): void {
  (get(root, path.slice(0, -1)) as Json)[path[path.length - 1]!] = value;
}

/** A fresh copy of a value from VALUES (objects holding an own __proto__ key keep it: JSON.parse makes them). */
const fresh = (value: unknown) => (value !== null && typeof value === 'object' ? wire(value) : value);

/** One random change to a copy of `batch` (a JSON value), at a place in the schema picked evenly. */
function mutate(batch: unknown, next: () => number): unknown {
  const copy = wire(batch);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const places = new Map<string, Path[]>();
  for (const path of pathsOf(copy)) {
    const place = placeOf(path);
    const found = places.get(place);
    if (found) found.push(path);
    else places.set(place, [path]);
  }
  const path = pick(pick([...places.values()]));
  const parent = get(copy, path.slice(0, -1)) as Json | unknown[];
  const key = path[path.length - 1]!;
  const value = get(copy, path);
  const kind = next();
  if (kind < 0.5) {
    (parent as Json)[key] = fresh(pick(VALUES));
  } else if (kind < 0.65) {
    if (Array.isArray(parent)) parent.splice(key as number, 1);
    else delete (parent as Json)[key];
  } else if (kind < 0.75 && value !== null && typeof value === 'object' && !Array.isArray(value)) {
    (value as Json)[pick(['unknownField', 'name', 'labels', 'gpus', 'share', 'kind'])] = fresh(pick(VALUES));
  } else if (kind < 0.85 && Array.isArray(value)) {
    if (next() < 0.5) value.length = 0;
    else value.push(...(wire(value.slice(0, 1 + Math.floor(next() * 3))) as unknown[]));
  } else if (typeof value === 'string') {
    (parent as Json)[key] = next() < 0.5 ? `${value}x` : value.slice(1);
  } else if (typeof value === 'number') {
    (parent as Json)[key] = value + pick([-1, 1, -0.5, 0.5, 1e-9, -value, value, 2 ** 53]);
  } else {
    (parent as Json)[key] = fresh(pick(VALUES));
  }
  return copy;
}

/**
 * A small real batch holding one of every record the schema has (a GPU with holders, a container of a served
 * model and one of an ML job, a model server), every optional object present, and each object's schema.
 */
function sweepBase(): { batch: Json; objects: Array<{ path: Path; keys: string[] }> } {
  const cluster = generateCluster({ seed: 1, nodes: 12, gpus: 96 });
  const windows = cluster.nodes.map((node) => wire(nodeWindow(node, T0, T0 + MINUTE)) as Json);
  const all = <T>(field: string) => windows.flatMap((w) => w[field] as T[]);
  type Record = Json & { holders?: unknown[]; mlJob?: unknown; servedModel?: unknown; labels?: unknown };
  const gpu = all<Record>('gpus').find((g) => (g.holders?.length ?? 0) > 0)!;
  const served = all<Record>('containers').find((c) => c.servedModel && c.labels)!;
  const job = all<Record>('containers').find((c) => c.mlJob)!;
  const window = windows[0]!;
  window.gpus = [{ ...gpu, smActivityAvg: 0.5, energyJoules: 10 }];
  window.containers = [served, { ...job, workload: { kind: 'Job', name: 'j' } }];
  window.models = [all<Json>('models')[0]!];
  (window.node as Json).load1 = 1;
  const batch = {
    schemaVersion: 1,
    agentId: 'agent-1',
    sequence: 1,
    sentAt: '2026-11-29T12:01:00Z',
    windows: [window],
  };
  const keysOf = (schema: { shape: object }) => [...Object.keys(schema.shape), 'unknownField'];
  const objects = [
    { path: [], keys: keysOf(batchSchema) },
    { path: ['windows', 0], keys: keysOf(windowSchema) },
    { path: ['windows', 0, 'node'], keys: keysOf(nodeRecordSchema) },
    { path: ['windows', 0, 'node', 'capacity'], keys: keysOf(nodeRecordSchema.shape.capacity) },
    { path: ['windows', 0, 'node', 'allocatable'], keys: ['cpuCores', 'memoryBytes', 'gpus'] },
    {
      path: ['windows', 0, 'node', 'labels'],
      keys: ['team', 'k'.repeat(317), 'k'.repeat(318), '__proto__', '7'],
    },
    { path: ['windows', 0, 'gpus', 0], keys: keysOf(gpuRecordSchema) },
    { path: ['windows', 0, 'gpus', 0, 'holders', 0], keys: keysOf(holderSchema) },
    { path: ['windows', 0, 'containers', 0], keys: keysOf(containerRecordSchema) },
    { path: ['windows', 0, 'containers', 0, 'requests'], keys: keysOf(resourceAmountsSchema) },
    { path: ['windows', 0, 'containers', 0, 'limits'], keys: keysOf(resourceAmountsSchema) },
    { path: ['windows', 0, 'containers', 0, 'servedModel'], keys: ['kind', 'name', 'unknownField'] },
    { path: ['windows', 0, 'containers', 0, 'labels'], keys: ['app', 'k'.repeat(318)] },
    { path: ['windows', 0, 'containers', 1, 'mlJob'], keys: ['kind', 'name'] },
    { path: ['windows', 0, 'containers', 1, 'workload'], keys: ['kind', 'name'] },
    { path: ['windows', 0, 'models', 0], keys: keysOf(modelRecordSchema) },
  ];
  return { batch, objects };
}

describe('fastParseBatch', () => {
  const batches = realBatches();

  it('accepts every real batch, and returns what zod returns, key order included', () => {
    for (const batch of batches) {
      expect(fastParseBatch(wire(batch))).toBeDefined();
      expect(expectSameAsZod(wire(batch))).toBe(true);
    }
  });

  it('agrees with zod on the batches as built, keys with undefined values included', () => {
    for (const batch of batches) expectSameAsZod(batch);
    const [first] = batches;
    const window = { ...first!.windows[0]!, gpus: undefined, models: undefined };
    expectSameAsZod({ ...first, windows: [window] });
    expectSameAsZod({ ...first, windows: [{ ...window, node: { ...window.node, load1: undefined } }] });
  });

  it('agrees with zod on every value of the catalogue at every key of every record, and with the key gone', () => {
    const { batch, objects } = sweepBase();
    expect(expectSameAsZod(batch)).toBe(true);
    let accepted = 0;
    let refused = 0;
    for (const { path, keys } of objects) {
      expect(get(batch, path), placeOf(path)).toBeTypeOf('object');
      for (const key of keys) {
        for (const value of [...VALUES, ...NOT_JSON, 'delete']) {
          const copy = wire(batch);
          if (value === 'delete') delete (get(copy, path) as Json)[key];
          else set(copy, [...path, key], fresh(value));
          const what = `${placeOf([...path, key])} = ${value === 'delete' ? 'deleted' : String(value).slice(0, 40)}`;
          if (expectSameAsZod(copy, what)) accepted++;
          else refused++;
        }
      }
    }
    expect(accepted).toBeGreaterThan(1000);
    expect(refused).toBeGreaterThan(1000);
  });

  it('agrees with zod on thousands of randomly mutated batches', () => {
    const next = random(20261129);
    let accepted = 0;
    let refused = 0;
    for (let trial = 0; trial < 1500; trial++) {
      const batch = batches[Math.floor(next() * batches.length)]!;
      let input = mutate(batch, next);
      if (next() < 0.25) input = mutate(input, next);
      if (expectSameAsZod(input)) accepted++;
      else refused++;
    }
    // The mutations reach both sides of the schema's bounds.
    expect(accepted).toBeGreaterThan(150);
    expect(refused).toBeGreaterThan(150);
  });

  it('agrees with zod at the bounds of records and arrays', () => {
    const base = wire(batches[0]) as {
      windows: Array<{
        start: string;
        end: string;
        node: { labels: Record<string, string> };
        gpus: Array<{ holders: unknown[] }>;
        containers: unknown[];
      }>;
    };
    const variant = (change: (batch: typeof base) => void) => {
      const copy = wire(base) as typeof base;
      change(copy);
      return copy;
    };
    const labels = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 'v']));
    expect(expectSameAsZod(variant((b) => (b.windows[0]!.node.labels = labels(128))))).toBe(true);
    expect(expectSameAsZod(variant((b) => (b.windows[0]!.node.labels = labels(129))))).toBe(false);
    // A __proto__ key is left out of the result and not counted.
    const proto = JSON.parse(`{"__proto__": 5, ${JSON.stringify(labels(128)).slice(1)}`);
    expect(expectSameAsZod(variant((b) => (b.windows[0]!.node.labels = proto)))).toBe(true);
    expect(
      expectSameAsZod(variant((b) => (b.windows[0]!.node.labels = { ['k'.repeat(317)]: 'v', '7': 'a' }))),
    ).toBe(true);
    expect(expectSameAsZod(variant((b) => (b.windows[0]!.node.labels = { ['k'.repeat(318)]: 'v' })))).toBe(
      false,
    );
    expect(expectSameAsZod(variant((b) => (b.windows[0]!.node.labels = [] as never)))).toBe(false);
    const holder = { namespace: 'ns', pod: 'p' };
    const gpu = { id: 'g', uuid: 'g' };
    expect(
      expectSameAsZod(variant((b) => (b.windows[0]!.gpus = [{ ...gpu, holders: Array(64).fill(holder) }]))),
    ).toBe(true);
    expect(
      expectSameAsZod(variant((b) => (b.windows[0]!.gpus = [{ ...gpu, holders: Array(65).fill(holder) }]))),
    ).toBe(false);
    expect(expectSameAsZod(variant((b) => (b.windows[0]!.end = b.windows[0]!.start)))).toBe(false);
    expect(
      expectSameAsZod(
        variant((b) => (b.windows[0]!.end = new Date(Date.parse(b.windows[0]!.start) - 1).toISOString())),
      ),
    ).toBe(false);
    const container = { namespace: 'ns', pod: 'p', container: 'c' };
    expect(expectSameAsZod(variant((b) => (b.windows[0]!.containers = Array(20_000).fill(container))))).toBe(
      true,
    );
    expect(expectSameAsZod(variant((b) => (b.windows[0]!.containers = Array(20_001).fill(container))))).toBe(
      false,
    );
    const small = {
      start: '2026-11-29T12:00:00Z',
      end: '2026-11-29T12:01:00Z',
      node: { name: 'n', capacity: { cpuCores: 1, memoryBytes: 1 } },
    };
    expect(expectSameAsZod(variant((b) => (b.windows = Array(1440).fill(small))))).toBe(true);
    expect(expectSameAsZod(variant((b) => (b.windows = Array(1441).fill(small))))).toBe(false);
    expect(expectSameAsZod(variant((b) => (b.windows = [])))).toBe(false);
  });

  it('leaves anything that is not a batch object to zod', () => {
    for (const input of [null, undefined, 1, 'batch', [], {}, { schemaVersion: 2 }, { schemaVersion: '1' }]) {
      expect(fastParseBatch(input)).toBeUndefined();
      expectSameAsZod(input);
    }
  });

  it('returns new objects, sharing nothing with its input', () => {
    const input = wire(batches[0]) as { windows: Array<{ node: { labels: object } }> };
    const parsed = fastParseBatch(input)!;
    expect(parsed.windows).not.toBe(input.windows);
    expect(parsed.windows[0]!.node).not.toBe(input.windows[0]!.node);
    expect(parsed.windows[0]!.node.labels).not.toBe(input.windows[0]!.node.labels);
  });
});
