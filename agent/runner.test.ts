// Running sources: each in parallel with its own timeout; a failing or hanging source marks its own
// mlcost_agent_source_up 0 and never stops the others, whose samples still arrive.
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createAgentMetrics } from './metrics.ts';
import { runSources } from './runner.ts';
import type { Samples } from './samples.ts';
import type { Source } from './source.ts';

const GIB = 1024 ** 3;

function metrics() {
  const registry = new Registry();
  return { registry, metrics: createAgentMetrics(registry) };
}

async function gaugeValues(registry: Registry, name: string): Promise<Record<string, number>> {
  const metric = registry.getSingleMetric(name);
  if (!metric) throw new Error(`${name} is not registered`);
  const { values } = await metric.get();
  return Object.fromEntries(values.map((v) => [String(v.labels['source']), v.value]));
}

const goodSource = (samples: Samples, name = 'good'): Source => ({ name, collect: async () => samples });
const failingSource = (message: string, name = 'broken'): Source => ({
  name,
  collect: async () => {
    throw new Error(message);
  },
});

describe('runSources', () => {
  it('marks a failing source down and a working one up, and keeps the working one’s samples', async () => {
    const { registry, metrics: m } = metrics();
    const samples: Samples = { node: { cpuCores: 4, memoryBytes: 8 * GIB, cpuUsedCores: 1.5 } };
    const outcomes = await runSources([failingSource('device not found'), goodSource(samples)], {
      timeoutMs: 1000,
      metrics: m,
    });

    expect(outcomes).toHaveLength(2);
    const [broken, good] = outcomes;
    expect(broken).toMatchObject({ source: 'broken', ok: false, samples: {}, error: 'device not found' });
    expect(good).toMatchObject({ source: 'good', ok: true, samples });
    expect(await gaugeValues(registry, 'mlcost_agent_source_up')).toEqual({ broken: 0, good: 1 });
    const durations = await gaugeValues(registry, 'mlcost_agent_source_duration_seconds');
    expect(Object.keys(durations).sort()).toEqual(['broken', 'good']);
    for (const seconds of Object.values(durations)) expect(seconds).toBeGreaterThanOrEqual(0);
  });

  it('turns a thrown non-Error into a failure too', async () => {
    const { registry, metrics: m } = metrics();
    const weird: Source = {
      name: 'weird',
      collect: () => Promise.reject('plain string'),
    };
    const [outcome] = await runSources([weird], { timeoutMs: 1000, metrics: m });
    expect(outcome).toMatchObject({ ok: false, error: 'plain string' });
    expect(await gaugeValues(registry, 'mlcost_agent_source_up')).toEqual({ weird: 0 });
  });

  it('cuts a hanging source at its timeout, aborting its signal, while the others answer', async () => {
    const { registry, metrics: m } = metrics();
    let aborted = false;
    const hanging: Source = {
      name: 'hanging',
      collect: (signal) =>
        new Promise<Samples>(() => {
          signal.addEventListener('abort', () => {
            aborted = true;
          });
        }),
    };
    const started = performance.now();
    const outcomes = await runSources([hanging, goodSource({ node: { cpuCores: 2, memoryBytes: GIB } })], {
      timeoutMs: 150,
      metrics: m,
    });
    const elapsed = performance.now() - started;

    expect(elapsed).toBeGreaterThanOrEqual(140);
    expect(elapsed).toBeLessThan(2000);
    expect(aborted).toBe(true);
    expect(outcomes[0]).toMatchObject({ source: 'hanging', ok: false, samples: {} });
    expect(outcomes[0]?.error).toMatch(/timed out after 150 ms/);
    expect(outcomes[0]?.seconds).toBeGreaterThanOrEqual(0.14);
    expect(outcomes[1]).toMatchObject({ source: 'good', ok: true, samples: { node: { cpuCores: 2 } } });
    expect(await gaugeValues(registry, 'mlcost_agent_source_up')).toEqual({ hanging: 0, good: 1 });
  });

  it('runs sources in parallel: every source is started before any has answered', async () => {
    let active = 0;
    let mostAtOnce = 0;
    const slow = (name: string): Source => ({
      name,
      collect: async () => {
        active += 1;
        mostAtOnce = Math.max(mostAtOnce, active);
        await new Promise((resolve) => setTimeout(resolve, 50));
        active -= 1;
        return {};
      },
    });
    const outcomes = await runSources([slow('a'), slow('b'), slow('c')], { timeoutMs: 5000 });
    expect(outcomes.map((o) => [o.source, o.ok])).toEqual([
      ['a', true],
      ['b', true],
      ['c', true],
    ]);
    expect(mostAtOnce).toBe(3);
  });

  it('brings a source back up once it answers again', async () => {
    const { registry, metrics: m } = metrics();
    let fail = true;
    const flaky: Source = {
      name: 'flaky',
      collect: async () => {
        if (fail) throw new Error('not yet');
        return {};
      },
    };
    await runSources([flaky], { timeoutMs: 1000, metrics: m });
    expect(await gaugeValues(registry, 'mlcost_agent_source_up')).toEqual({ flaky: 0 });
    fail = false;
    await runSources([flaky], { timeoutMs: 1000, metrics: m });
    expect(await gaugeValues(registry, 'mlcost_agent_source_up')).toEqual({ flaky: 1 });
  });
});
