// Roll-ups and idle sharing, worked by hand: idle shared back by cost weight per resource (cluster-wide and per
// node), steps, and the keys for namespace, workload, label, training job, pipeline run, Knative service and model.
import { describe, expect, it } from 'vitest';
import { aggregateAllocations, aggregateKey, UNALLOCATED } from './aggregate.ts';
import { allocateWindow, IDLE, type WindowAllocation } from './allocate.ts';
import type { StoredContainer, StoredWindowInput } from './input.ts';
import { type PricingConfig, pricesForWindow } from './pricing.ts';

const GIB = 2 ** 30;
const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 10, 2, 0, 0, 0);
const PRICES: PricingConfig = { cpuCoreHour: 0.04, memGiBHour: 0.005 };

function allocated(
  node: string,
  containers: StoredContainer[],
  start = T0,
  shape: { cpuCores: number; memoryBytes: number } = { cpuCores: 4, memoryBytes: 8 * GIB },
): WindowAllocation {
  const input: StoredWindowInput = {
    start,
    end: start + HOUR,
    node: { name: node, labels: { 'karpenter.sh/nodepool': `pool-${node}` }, ...shape },
    gpus: [],
    containers,
  };
  return allocateWindow(input, pricesForWindow(input, PRICES));
}

const c = (
  namespace: string,
  pod: string,
  cores: number,
  gib: number,
  extra: Partial<StoredContainer> = {},
) => ({
  namespace,
  pod,
  container: 'main',
  requestCpu: cores,
  requestMemory: gib * GIB,
  ...extra,
});

describe('aggregateAllocations', () => {
  it('shares idle back by weight: each row gets idle × its cost of that resource / all rows’ cost of it', () => {
    const windows = [allocated('n1', [c('a', 'pa', 1.5, 2), c('b', 'pb', 0.5, 2)])];
    // Node: CPU 4 × 0.04 = 0.16, RAM 8 × 0.005 = 0.04. a: CPU 1.5 × 0.04 = 0.06, RAM 2 × 0.005 = 0.01.
    // b: CPU 0.5 × 0.04 = 0.02, RAM 0.01. Idle CPU 0.16 − 0.08 = 0.08; idle RAM 0.04 − 0.02 = 0.02.
    const [plain] = aggregateAllocations(windows, { aggregate: 'namespace', includeIdle: true });
    const names = plain!.allocations.map((r) => [r.name, Number(r.totalCost.toFixed(12))]);
    expect(names).toEqual([
      [IDLE, 0.1], // 0.08 + 0.02
      ['a', 0.07], // 0.06 + 0.01
      ['b', 0.03], // 0.02 + 0.01
    ]);

    const [shared] = aggregateAllocations(windows, {
      aggregate: 'namespace',
      shareIdle: true,
      includeIdle: true,
    });
    const a = shared!.allocations.find((r) => r.name === 'a')!;
    const b = shared!.allocations.find((r) => r.name === 'b')!;
    // CPU weights 0.06 : 0.02 = 3 : 1 → a gets 0.08 × 3/4 = 0.06, b 0.08 × 1/4 = 0.02.
    expect(a.cpuIdleCost).toBeCloseTo(0.06, 12);
    expect(b.cpuIdleCost).toBeCloseTo(0.02, 12);
    // RAM weights 0.01 : 0.01 → 0.01 each.
    expect(a.ramIdleCost).toBeCloseTo(0.01, 12);
    expect(b.ramIdleCost).toBeCloseTo(0.01, 12);
    expect(a.totalCost).toBeCloseTo(0.14, 12); // 0.06 + 0.06 + 0.01 + 0.01
    expect(b.totalCost).toBeCloseTo(0.06, 12); // 0.02 + 0.02 + 0.01 + 0.01
    expect(shared!.allocations.some((r) => r.name === IDLE)).toBe(false); // all of idle was shared
    // Sharing moves cost, not efficiency: a's CPU efficiency stays usage/request (0 used here).
    expect(a.cpuEfficiency).toBe(0);
  });

  it('shares idle within each node when idleByNode, and keeps what no row can take as __idle__', () => {
    const windows = [
      allocated('n1', [c('a', 'pa', 1, 0)]), // CPU 0.04, RAM 0; idle CPU 0.12, idle RAM 0.04
      allocated('n2', [c('b', 'pb', 2, 4)]), // CPU 0.08, RAM 0.02; idle CPU 0.08, idle RAM 0.02
    ];
    const [set] = aggregateAllocations(windows, {
      aggregate: 'namespace',
      shareIdle: true,
      idleByNode: true,
      includeIdle: true,
    });
    const byName = Object.fromEntries(set!.allocations.map((r) => [r.name, r]));
    expect(byName['a']!.totalCost).toBeCloseTo(0.16, 12); // 0.04 + n1's idle CPU 0.12; no RAM on n1 to share to
    expect(byName['b']!.totalCost).toBeCloseTo(0.2, 12); // 0.08 + 0.08 + 0.02 + 0.02
    // n1's RAM idle (0.04) had no RAM cost to follow: it stays idle, on n1's row.
    expect(byName[`n1/${IDLE}`]!.totalCost).toBeCloseTo(0.04, 12);
    expect(byName[`n2/${IDLE}`]).toBeUndefined();
  });

  it('splits a range into steps and places windows by their start', () => {
    const windows = [
      allocated('n1', [c('a', 'pa', 1, 0)], T0),
      allocated('n1', [c('a', 'pa', 2, 0)], T0 + HOUR),
      allocated('n1', [c('a', 'pa', 3, 0)], T0 + 2 * HOUR),
    ];
    const sets = aggregateAllocations(windows, {
      aggregate: 'namespace',
      step: 2 * HOUR,
      range: { start: T0, end: T0 + 4 * HOUR },
    });
    expect(sets.map((s) => [s.start, s.end])).toEqual([
      [T0, T0 + 2 * HOUR],
      [T0 + 2 * HOUR, T0 + 4 * HOUR],
    ]);
    // Step 1: (1 + 2) core-hours × 0.04 = 0.12; averages over the row's own 2 h span: 1.5 cores.
    expect(sets[0]!.allocations[0]!.cpuCost).toBeCloseTo(0.12, 12);
    expect(sets[0]!.allocations[0]!.cpuCores).toBeCloseTo(1.5, 12);
    expect(sets[1]!.allocations[0]!.cpuCost).toBeCloseTo(0.12, 12); // 3 × 0.04
  });

  it('keys rows by every roll-up the API offers', () => {
    const windows = [
      allocated('n1', [
        c('ml', 'trainer-0', 1, 1, {
          mlJobKind: 'PyTorchJob',
          mlJobName: 'bert',
          workloadKind: 'PyTorchJob',
          workloadName: 'bert',
          labels: { team: 'nlp' },
        }),
        c('ml', 'step-1', 1, 1, { mlJobKind: 'PipelineRun', mlJobName: 'run-7', labels: { team: 'nlp' } }),
        c('srv', 'llm-00001-deployment-x', 1, 1, {
          servedModel: 'llm',
          labels: { 'serving.knative.dev/service': 'llm', team: 'serving' },
        }),
      ]),
    ];
    const rows = windows[0]!.allocations;
    const byPod = (pod: string) => rows.find((r) => r.properties.pod === pod)!;
    expect(aggregateKey(byPod('trainer-0'), 'job')).toBe('ml/PyTorchJob/bert');
    expect(aggregateKey(byPod('step-1'), 'job')).toBe(UNALLOCATED);
    expect(aggregateKey(byPod('step-1'), 'pipelineRun')).toBe('ml/run-7');
    expect(aggregateKey(byPod('llm-00001-deployment-x'), 'knativeService')).toBe('srv/llm');
    expect(aggregateKey(byPod('llm-00001-deployment-x'), 'model')).toBe('srv/llm');
    expect(aggregateKey(byPod('trainer-0'), 'workload')).toBe('ml/PyTorchJob/bert');
    expect(aggregateKey(byPod('trainer-0'), 'nodePool')).toBe('pool-n1');
    expect(aggregateKey(byPod('trainer-0'), 'label:team')).toBe('nlp');
    expect(aggregateKey(byPod('trainer-0'), 'label:missing')).toBe(UNALLOCATED);

    const [set] = aggregateAllocations(windows, { aggregate: ['namespace', 'label:team'] });
    expect(set!.allocations.map((r) => r.name).sort()).toEqual(['ml/nlp', 'srv/serving']);
    const nlp = set!.allocations.find((r) => r.name === 'ml/nlp')!;
    expect(nlp.cpuCost).toBeCloseTo(0.08, 12); // 2 pods × 1 core × 0.04
    expect(nlp.properties.labels).toEqual({ team: 'nlp' }); // kept where every merged row agrees
    expect(nlp.properties.pod).toBeUndefined();
  });
});
