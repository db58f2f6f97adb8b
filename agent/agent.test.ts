// The agent loop driven by tick(now) with explicit times and a fake sink that records batches: where windows
// start and end, what they hold, sequence numbers (also across a restart), failing sources and a failing sink.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../core/logger.ts';
import { type BatchInput, batchSchema } from '../core/protocol/batch.ts';
import { Agent, type AgentOptions } from './agent.ts';
import { createAgentMetrics } from './metrics.ts';
import type { Samples } from './samples.ts';
import { SequenceFile } from './sequence-file.ts';
import type { BatchSink } from './sink.ts';
import type { Source } from './source.ts';

const GIB = 1024 ** 3;
/** 2024-01-01T00:00:00Z, a whole number of minutes since the epoch. */
const BASE = Date.UTC(2024, 0, 1, 0, 0, 0);
const SECOND = 1000;
const at = (seconds: number) => BASE + seconds * SECOND;
const iso = (seconds: number) => new Date(at(seconds)).toISOString();

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mlcost-agent-'));
});
afterEach(() => {
  vi.useRealTimers();
  rmSync(dir, { recursive: true, force: true });
});

/** A host-like source whose n-th collection (1-based) reports n cores and n GiB in use. */
function countingSource(name = 'counting'): Source & { calls: number } {
  const source = {
    name,
    calls: 0,
    async collect(): Promise<Samples> {
      source.calls += 1;
      return {
        node: {
          cpuCores: 4,
          memoryBytes: 16 * GIB,
          cpuUsedCores: source.calls,
          memoryUsedBytes: source.calls * GIB,
        },
      };
    },
  };
  return source;
}

class RecordingSink implements BatchSink {
  readonly batches: BatchInput[] = [];
  failNext = 0;
  attempts = 0;
  async send(batch: BatchInput): Promise<void> {
    this.attempts += 1;
    if (this.failNext > 0) {
      this.failNext -= 1;
      throw new Error('collector unreachable');
    }
    // What the collector would accept: the batch must satisfy the wire schema.
    batchSchema.parse(batch);
    this.batches.push(structuredClone(batch));
  }
}

function makeAgent(overrides: Partial<AgentOptions> = {}) {
  const registry = new Registry();
  const sink = new RecordingSink();
  const options: AgentOptions = {
    agentId: 'agent-test',
    nodeName: 'node-test',
    intervalMs: 15 * SECOND,
    windowMs: 60 * SECOND,
    sourceTimeoutMs: 1000,
    sources: [countingSource()],
    sink,
    sequence: new SequenceFile(join(dir, 'agent', 'seq.json')),
    metrics: createAgentMetrics(registry),
    logger: silentLogger,
    ...overrides,
  };
  return { agent: new Agent(options), sink: (options.sink as RecordingSink) ?? sink, registry };
}

const windowsOf = (sink: RecordingSink) => sink.batches.flatMap((b) => b.windows);

describe('window boundaries', () => {
  it('closes the first window at the first interval boundary and later ones at window boundaries', async () => {
    const { agent, sink } = makeAgent();

    await agent.tick(at(7)); // first sample at :07; first window ends at the next 15 s boundary, :15
    expect(sink.batches).toHaveLength(0);

    await agent.tick(at(15)); // closes [:07, :15); opens [:15, 1:00)
    expect(sink.batches).toHaveLength(1);
    expect(sink.batches[0]!.windows).toHaveLength(1);
    expect(sink.batches[0]!.windows[0]).toMatchObject({ start: iso(7), end: iso(15) });

    await agent.tick(at(30));
    await agent.tick(at(45));
    expect(sink.batches).toHaveLength(1);

    await agent.tick(at(60)); // closes [:15, 1:00)
    await agent.tick(at(75));
    await agent.tick(at(90));
    await agent.tick(at(105));
    await agent.tick(at(120)); // closes [1:00, 2:00)

    expect(windowsOf(sink).map((w) => [w.start, w.end])).toEqual([
      [iso(7), iso(15)],
      [iso(15), iso(60)],
      [iso(60), iso(120)],
    ]);
    expect(sink.batches.map((b) => b.sequence)).toEqual([0, 1, 2]);
    expect(sink.batches.every((b) => b.agentId === 'agent-test' && b.schemaVersion === 1)).toBe(true);
  });

  it('aggregates exactly the samples taken inside each window', async () => {
    const { agent, sink } = makeAgent();
    for (const seconds of [7, 15, 30, 45, 60, 75, 90, 105, 120]) await agent.tick(at(seconds));
    const nodes = windowsOf(sink).map((w) => w.node);
    // Collection n reports n cores and n GiB.
    // Window 1: collection 1 → avg 1, max 1.
    // Window 2: collections 2, 3, 4 (at :15, :30, :45) → avg 3, max 4.
    // Window 3: collections 5, 6, 7, 8 (at 1:00 … 1:45) → avg 6.5, max 8.
    expect(nodes.map((n) => [n.cpuUsedCoresAvg, n.cpuUsedCoresMax])).toEqual([
      [1, 1],
      [3, 4],
      [6.5, 8],
    ]);
    expect(nodes.map((n) => n.memoryUsedBytesAvg)).toEqual([1 * GIB, 3 * GIB, 6.5 * GIB]);
    expect(nodes.every((n) => n.name === 'node-test' && n.capacity.cpuCores === 4)).toBe(true);
  });

  it('aligns later windows to the window length in UTC even when ticks come late', async () => {
    const { agent, sink } = makeAgent();
    await agent.tick(at(3));
    await agent.tick(at(16)); // late by 1 s: still closes the first window at :15
    await agent.tick(at(61)); // closes [:15, 1:00)
    expect(windowsOf(sink).map((w) => [w.start, w.end])).toEqual([
      [iso(3), iso(15)],
      [iso(15), iso(60)],
    ]);
  });

  it('after a long pause closes the stale window at its own end and starts the next at the first new sample', async () => {
    const { agent, sink } = makeAgent();
    await agent.tick(at(0)); // first window [0:00, 0:15)
    await agent.tick(at(15)); // closes it; opens [0:15, 1:00)
    await agent.tick(at(305)); // 5:05, long after 1:00: closes [0:15, 1:00); opens [5:05, 6:00)
    await agent.tick(at(360)); // closes [5:05, 6:00)
    expect(windowsOf(sink).map((w) => [w.start, w.end])).toEqual([
      [iso(0), iso(15)],
      [iso(15), iso(60)],
      [iso(305), iso(360)],
    ]);
  });

  it('does not send a window in which no source told the node’s size', async () => {
    const empty: Source = { name: 'empty', collect: async () => ({}) };
    const { agent, sink, registry } = makeAgent({ sources: [empty] });
    await agent.tick(at(1));
    await agent.tick(at(15));
    await agent.tick(at(60));
    expect(sink.batches).toHaveLength(0);
    const made = await registry.getSingleMetric('mlcost_agent_windows_total')!.get();
    expect(made.values[0]?.value ?? 0).toBe(0);
  });
});

describe('sources', () => {
  it('a failing source reads 0 in mlcost_agent_source_up, another 1, and the other’s samples still arrive', async () => {
    const broken: Source = {
      name: 'nvidia-smi',
      collect: async () => {
        throw new Error('NVIDIA-SMI has failed because it could not communicate with the NVIDIA driver');
      },
    };
    const { agent, sink, registry } = makeAgent({ sources: [broken, countingSource('host')] });
    await agent.tick(at(1));
    await agent.tick(at(15));
    const { values } = await registry.getSingleMetric('mlcost_agent_source_up')!.get();
    expect(Object.fromEntries(values.map((v) => [v.labels['source'], v.value]))).toEqual({
      'nvidia-smi': 0,
      host: 1,
    });
    expect(sink.batches).toHaveLength(1);
    expect(sink.batches[0]!.windows[0]!.node).toMatchObject({
      capacity: { cpuCores: 4, memoryBytes: 16 * GIB },
      cpuUsedCoresAvg: 1,
    });
  });

  it('a hanging source is cut by the source timeout and the tick goes on', async () => {
    const hanging: Source = { name: 'hang', collect: () => new Promise<Samples>(() => {}) };
    const { agent, sink, registry } = makeAgent({
      sources: [hanging, countingSource()],
      sourceTimeoutMs: 100,
    });
    const started = performance.now();
    await agent.tick(at(1));
    await agent.tick(at(15));
    expect(performance.now() - started).toBeLessThan(2000);
    expect(sink.batches).toHaveLength(1);
    const { values } = await registry.getSingleMetric('mlcost_agent_source_up')!.get();
    expect(values.find((v) => v.labels['source'] === 'hang')?.value).toBe(0);
  });
});

describe('delivery', () => {
  it('keeps a batch the sink refused and delivers it, with the same sequence and in order, on the next tick', async () => {
    const { agent, sink } = makeAgent();
    await agent.tick(at(1));
    sink.failNext = 1;
    await agent.tick(at(15)); // closes window 0; the send fails
    expect(sink.batches).toHaveLength(0);
    await agent.tick(at(30)); // retried
    expect(sink.batches.map((b) => b.sequence)).toEqual([0]);
    sink.failNext = 5;
    await agent.tick(at(60)); // closes window 1; fails
    await agent.tick(at(75)); // fails again
    sink.failNext = 0;
    await agent.tick(at(90));
    expect(sink.batches.map((b) => [b.sequence, b.windows[0]!.start])).toEqual([
      [0, iso(1)],
      [1, iso(15)],
    ]);
  });

  it('drops the oldest pending batches beyond maxPendingBatches', async () => {
    const { agent, sink } = makeAgent({ intervalMs: 1000, windowMs: 1000, maxPendingBatches: 2 });
    sink.failNext = 1000;
    for (let s = 0; s <= 5; s++) await agent.tick(at(s)); // windows close at 1..5 → sequences 0..4
    sink.failNext = 0;
    await agent.tick(at(5.5));
    expect(sink.batches.map((b) => b.sequence)).toEqual([3, 4]);
  });

  it('stop() closes the current window where it is and delivers it', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const { agent, sink } = makeAgent();
    await agent.tick(at(1));
    await agent.tick(at(15));
    await agent.tick(at(30));
    vi.setSystemTime(at(40));
    await agent.stop();
    expect(windowsOf(sink).map((w) => [w.start, w.end])).toEqual([
      [iso(1), iso(15)],
      [iso(15), iso(40)],
    ]);
  });
});

describe('sequence numbers', () => {
  it('persist across a new Agent with the same sequence file', async () => {
    const file = join(dir, 'agent', 'node-test.sequence.json');
    const first = makeAgent({ sequence: new SequenceFile(file) });
    for (const s of [1, 15, 60, 120]) await first.agent.tick(at(s));
    expect(first.sink.batches.map((b) => b.sequence)).toEqual([0, 1, 2]);

    // A restart: a new process reads the same file and carries on after the last number taken.
    const second = makeAgent({ sequence: new SequenceFile(file) });
    for (const s of [200, 215, 260]) await second.agent.tick(at(s));
    expect(second.sink.batches.map((b) => b.sequence)).toEqual([3, 4]);
  });

  it('never reuse a number taken for a batch that was never delivered', async () => {
    const file = join(dir, 'seq.json');
    const first = makeAgent({ sequence: new SequenceFile(file) });
    first.sink.failNext = 100;
    await first.agent.tick(at(1));
    await first.agent.tick(at(15)); // sequence 0 taken, not delivered; the process then dies
    const second = makeAgent({ sequence: new SequenceFile(file) });
    await second.agent.tick(at(100));
    await second.agent.tick(at(105));
    expect(second.sink.batches.map((b) => b.sequence)).toEqual([1]);
  });

  it('start at 0 with no file', () => {
    expect(new SequenceFile(join(dir, 'fresh', 'seq.json')).take()).toBe(0);
  });
});
