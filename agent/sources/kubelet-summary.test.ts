import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cpuRate, createSummaryRateStep, parseSummary } from './kubelet-summary.ts';

// A real /stats/summary from a GKE node (DataDog/integrations-core, BSD-3-Clause; see test/fixtures/real/SOURCES.md).
const FIXTURE = readFileSync(
  new URL('../../test/fixtures/real/kubelet/stats_summary.datadog-gke-2019.json', import.meta.url),
  'utf8',
);

type Json = {
  node: { cpu: { time: string; usageCoreNanoSeconds: number } };
  pods: Array<{
    podRef: { name: string };
    containers: Array<{
      name: string;
      startTime: string;
      cpu: { time: string; usageCoreNanoSeconds: number };
    }>;
  }>;
};

/** The fixture with one container's and the node's CPU counters moved on, as a later scrape would show them. */
function laterReading(edit: (json: Json) => void): Json {
  const json = JSON.parse(FIXTURE) as Json;
  edit(json);
  return json;
}

function agentContainer(json: Json) {
  const pod = json.pods.find((p) => p.podRef.name === 'dd-agent-ntepl')!;
  return pod.containers.find((c) => c.name === 'agent')!;
}

describe('parseSummary on the real GKE fixture', () => {
  const reading = parseSummary(FIXTURE);

  it('reads every container of every pod', () => {
    expect(reading.nodeName).toBe('gke-lenaic-pool-1-1c8b424c-wnkn');
    expect(reading.containers).toHaveLength(17);
  });

  it('reads working sets as the JSON states them', () => {
    const ws = (pod: string, container: string) =>
      reading.containers.find((c) => c.pod === pod && c.container === container)?.memoryWorkingSetBytes;
    // Read by hand from the fixture:
    //   datadog/dd-agent-ntepl, container "agent"                     → workingSetBytes 86441984 (line 146)
    //   kube-system/fluentd-gcp-v3.1.1-czdmd, container "fluentd-gcp" → workingSetBytes 161161216 (line 809)
    //   lenaic/demo-app-success-c485bc67b-klj45, container "lenaic"   → workingSetBytes 462848 (line 1353)
    //   node                                                          → workingSetBytes 1447833600 (line 71)
    expect(ws('dd-agent-ntepl', 'agent')).toBe(86441984);
    expect(ws('fluentd-gcp-v3.1.1-czdmd', 'fluentd-gcp')).toBe(161161216);
    expect(ws('demo-app-success-c485bc67b-klj45', 'lenaic')).toBe(462848);
    expect(reading.node.memoryWorkingSetBytes).toBe(1447833600);
  });

  it('keeps pod identity and the cumulative CPU counter with its time', () => {
    const agent = reading.containers.find((c) => c.pod === 'dd-agent-ntepl' && c.container === 'agent');
    expect(agent).toEqual({
      namespace: 'datadog',
      pod: 'dd-agent-ntepl',
      podUid: '12ceeaa9-33ca-11e6-ac8f-42010af00003',
      container: 'agent',
      startTime: '2019-11-19T10:43:31Z',
      cpu: { timeMs: Date.parse('2019-11-20T13:13:11Z'), usageCoreNanoSeconds: 2505102601908 },
      memoryWorkingSetBytes: 86441984,
    });
  });

  it('gives memory but no CPU rate at the first reading', () => {
    const usage = createSummaryRateStep()(reading);
    expect(usage.containers.every((c) => c.cpuUsedCores === undefined)).toBe(true);
    expect(usage.node).toEqual({ memoryUsedBytes: 1447833600 });
    expect(usage.containers.find((c) => c.container === 'agent')?.memoryWorkingSetBytes).toBe(86441984);
  });
});

describe('the CPU rate step', () => {
  it('turns two readings into cores, worked by hand', () => {
    const step = createSummaryRateStep();
    step(parseSummary(FIXTURE));
    const second = laterReading((json) => {
      // agent: 13:13:11Z → 13:13:21Z is 10 s; 2506352601908 − 2505102601908 = 1250000000 ns = 1.25 CPU-seconds;
      // 1.25 s / 10 s = 0.125 cores.
      const agent = agentContainer(json);
      agent.cpu = { time: '2019-11-20T13:13:21Z', usageCoreNanoSeconds: 2506352601908 };
      // node: 13:13:10Z → 13:13:25Z is 15 s; 49368244626551 − 49365244626551 = 3000000000 ns = 3 CPU-seconds;
      // 3 s / 15 s = 0.2 cores.
      json.node.cpu = { time: '2019-11-20T13:13:25Z', usageCoreNanoSeconds: 49368244626551 };
    });
    const usage = step(parseSummary(second));
    expect(usage.containers.find((c) => c.container === 'agent')?.cpuUsedCores).toBeCloseTo(0.125, 12);
    expect(usage.node.cpuUsedCores).toBeCloseTo(0.2, 12);
    // Containers whose counters did not move since the first reading (same time) have no interval yet.
    expect(usage.containers.find((c) => c.container === 'fluentd-gcp')?.cpuUsedCores).toBeUndefined();
  });

  it('gives no rate when the counter goes backwards, then measures from the new base', () => {
    const step = createSummaryRateStep();
    step(parseSummary(FIXTURE));
    const reset = laterReading((json) => {
      agentContainer(json).cpu = { time: '2019-11-20T13:13:21Z', usageCoreNanoSeconds: 1_000_000_000 };
    });
    expect(
      step(parseSummary(reset)).containers.find((c) => c.container === 'agent')?.cpuUsedCores,
    ).toBeUndefined();
    const after = laterReading((json) => {
      // 1.5e9 − 1.0e9 = 0.5 CPU-seconds over 13:13:21Z → 13:13:26Z (5 s) = 0.1 cores.
      agentContainer(json).cpu = { time: '2019-11-20T13:13:26Z', usageCoreNanoSeconds: 1_500_000_000 };
    });
    expect(
      step(parseSummary(after)).containers.find((c) => c.container === 'agent')?.cpuUsedCores,
    ).toBeCloseTo(0.1, 12);
  });

  it('gives no rate across a container restart even when the new counter is higher', () => {
    const step = createSummaryRateStep();
    step(parseSummary(FIXTURE));
    const restarted = laterReading((json) => {
      const agent = agentContainer(json);
      agent.startTime = '2019-11-20T13:13:15Z';
      agent.cpu = { time: '2019-11-20T13:13:21Z', usageCoreNanoSeconds: 2600000000000 };
    });
    expect(
      step(parseSummary(restarted)).containers.find((c) => c.container === 'agent')?.cpuUsedCores,
    ).toBeUndefined();
  });

  it('repeats the last rate while the kubelet serves the same cached sample', () => {
    const step = createSummaryRateStep();
    step(parseSummary(FIXTURE));
    const second = laterReading((json) => {
      agentContainer(json).cpu = { time: '2019-11-20T13:13:21Z', usageCoreNanoSeconds: 2506352601908 };
    });
    step(parseSummary(second));
    const again = step(parseSummary(second));
    expect(again.containers.find((c) => c.container === 'agent')?.cpuUsedCores).toBeCloseTo(0.125, 12);
    const third = laterReading((json) => {
      // Measured from the 13:13:21Z base: 0.5 CPU-seconds over 5 s = 0.1 cores.
      agentContainer(json).cpu = { time: '2019-11-20T13:13:26Z', usageCoreNanoSeconds: 2506852601908 };
    });
    expect(
      step(parseSummary(third)).containers.find((c) => c.container === 'agent')?.cpuUsedCores,
    ).toBeCloseTo(0.1, 12);
  });

  it('cpuRate refuses a missing base, backwards time and backwards counters', () => {
    const base = { timeMs: 10_000, usageCoreNanoSeconds: 5e9 };
    expect(cpuRate(undefined, base)).toBeUndefined();
    expect(cpuRate(base, { timeMs: 9_000, usageCoreNanoSeconds: 6e9 })).toBeUndefined();
    expect(cpuRate(base, { timeMs: 12_000, usageCoreNanoSeconds: 4e9 })).toBeUndefined();
    expect(cpuRate(base, { timeMs: 12_000, usageCoreNanoSeconds: 9e9 })).toBe(2);
  });
});

describe('parseSummary errors', () => {
  it('says a truncated body is not valid JSON', () => {
    expect(() => parseSummary(FIXTURE.slice(0, 5000))).toThrow(
      /kubelet \/stats\/summary: the body is not valid JSON \(5000 characters; truncated\?\)/,
    );
  });

  it('names the part of the summary that is wrong', () => {
    expect(() => parseSummary('[]')).toThrow('expected a JSON object with "node" and "pods"');
    expect(() => parseSummary('{"pods": []}')).toThrow('"node" is missing or not an object');
    expect(() => parseSummary('{"node": {}, "pods": {}}')).toThrow('"pods" is not an array');
    expect(() => parseSummary('{"node": {}, "pods": [{"containers": []}]}')).toThrow('pods[0] has no podRef');
  });

  it('accepts a node with no pods and containers without stats', () => {
    const reading = parseSummary({
      node: { nodeName: 'n1' },
      pods: [{ podRef: { name: 'p', namespace: 'ns' }, containers: [{ name: 'c' }] }],
    });
    expect(reading).toEqual({
      nodeName: 'n1',
      node: {},
      containers: [{ namespace: 'ns', pod: 'p', container: 'c' }],
    });
  });
});
