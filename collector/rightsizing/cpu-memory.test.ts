import { describe, expect, it } from 'vitest';
import { makeContext } from './context.ts';
import { recommendCpuMemory } from './cpu-memory.ts';
import { resolveOptions } from './options.ts';
import { replayRecommendation } from './replay.ts';
import { containerWindow, FIVE_MIN, GIB, MIB, PRICES, T0, windowsOf, workload } from './test-support.ts';
import type {
  ContainerSeries,
  NotEnoughData,
  Recommendation,
  RightsizingInput,
  WorkloadInfo,
} from './types.ts';

const ctxFor = (series: ContainerSeries, now: number, workloads: WorkloadInfo[] = []) => {
  const input: RightsizingInput = { now, containers: [series], prices: PRICES, workloads };
  return makeContext(input, resolveOptions());
};
const asRec = (result: unknown) => result as Recommendation;

describe('cpu-memory', () => {
  // 200 five-minute windows (16.67 h) of one pod; CPU climbs 5m, 10m, ... 1000m; memory 400 MiB, one 500 MiB peak.
  const web: ContainerSeries = {
    workload: workload('Deployment', 'web'),
    container: 'app',
    windows: windowsOf(200, (i, start, end) =>
      containerWindow(start, end, {
        cpuAvg: (i + 1) * 0.005,
        memMax: (i === 100 ? 500 : 400) * MIB,
        requestCpu: 2,
        requestMemory: GIB,
        limitMemory: GIB,
      }),
    ),
  };
  const now = T0 + 200 * FIVE_MIN;

  it('requests the p95 of CPU and the memory peak + 15%, and prices the difference', () => {
    const rec = asRec(recommendCpuMemory(web, ctxFor(web, now)));
    // p95 by nearest rank: rank ceil(0.95 × 200) = 190 → 190 × 5m = 950m.
    expect(rec.proposed.cpuCores).toBe(0.95);
    // 500 MiB × 1.15 = 575 MiB.
    expect(rec.proposed.memoryBytes).toBe(575 * MIB);
    // One replica all of its 16.67 h span → 730 h a month.
    // CPU (2 − 0.95) × 0.04 × 730 = 30.66; memory (1024 − 575)/1024 GiB × 0.005 × 730 = 1.6004; total 32.26.
    expect(rec.monthlySaving).toBe(32.26);
    // days = 16.67/24 = 0.694 → 0.694/1.694 = 0.410; points 200/1000 = 0.2; 0.410 × 0.2 = 0.08 → low.
    expect(rec.confidence).toEqual({ value: 0.08, label: 'low' });
    expect(rec.patch.type).toBe('strategic');
    expect(rec.patch.body).toEqual({
      spec: {
        template: {
          spec: {
            containers: [
              {
                name: 'app',
                resources: { requests: { cpu: '950m', memory: '575Mi' }, limits: { memory: '575Mi' } },
              },
            ],
          },
        },
      },
    });
    expect(rec.patch.command).toBe(
      `kubectl patch deployment.apps web -n team-a --type strategic -p '${JSON.stringify(rec.patch.body)}'`,
    );
    expect(rec.reason).toBe(
      'CPU 2 → 950m covers the p95 of 0.7 days of use, and memory 1Gi → 575Mi is the 500Mi peak plus 15%.',
    );
  });

  it('passes its own replay: memory not below the peak, CPU exceeded in at most 5% of windows', () => {
    const rec = asRec(recommendCpuMemory(web, ctxFor(web, now)));
    const replayed = replayRecommendation(web, rec);
    // Windows above 950m: 955m … 1000m are i = 190..199 → 10 of 200 = 5%, exactly the allowance.
    expect(replayed.cpuExceedWindows).toBe(10);
    expect(replayed.cpuExceedShare).toBe(0.05);
    expect(replayed.memoryBelowPeak).toBe(false);
    expect(replayed.ok).toBe(true);
  });

  it('bumps memory after an OOM kill (VPA: +20% on the limit it died at, then +15%)', () => {
    // 150 windows; memory 800 MiB under a 1 GiB limit; in window 50 it reaches 1 GiB and is OOM-killed (the flag then
    // stays on, as the stored flag does); CPU steady at its 100m request.
    const worker: ContainerSeries = {
      workload: workload('Deployment', 'worker'),
      container: 'app',
      windows: windowsOf(150, (i, start, end) =>
        containerWindow(start, end, {
          cpuAvg: 0.1,
          memMax: (i === 50 ? 1024 : 800) * MIB,
          requestCpu: 0.1,
          requestMemory: GIB,
          limitMemory: GIB,
          oomKilled: i >= 50,
          restarts: i >= 50 ? 1 : 0,
        }),
      ),
    };
    const rec = asRec(recommendCpuMemory(worker, ctxFor(worker, T0 + 150 * FIVE_MIN)));
    // One event (window 50). basis = max(1024 + 100, 1024 × 1.2 = 1228.8) = 1228.8 MiB; × 1.15 = 1413.12 → 1414 MiB.
    expect(rec.details.oomKills).toBe(1);
    expect(rec.proposed.memoryBytes).toBe(1414 * MIB);
    expect(rec.proposed.cpuCores).toBe(0.1);
    // (1024 − 1414)/1024 GiB × 0.005 × 730 = −1.3901 → −1.39: it costs more, and says so.
    expect(rec.monthlySaving).toBe(-1.39);
    expect(rec.reason).toContain('after 1 OOM kill(s) at 1Gi');
  });

  it('keeps an HPA-scaled CPU request at per-pod p95 / target and counts the HPA replicas in the saving', () => {
    // Two pods, 120 windows each (10 h), 200m each; HPA on CPU at 50%, min 2 replicas; requests 1 core, 512 MiB.
    const api: ContainerSeries = {
      workload: workload('Deployment', 'api'),
      container: 'app',
      windows: ['pod-0', 'pod-1'].flatMap((pod) =>
        windowsOf(120, (_i, start, end) =>
          containerWindow(start, end, {
            pod,
            cpuAvg: 0.2,
            memMax: 300 * MIB,
            requestCpu: 1,
            requestMemory: 512 * MIB,
          }),
        ),
      ),
    };
    const hpa: WorkloadInfo = {
      workload: api.workload,
      hpa: { resource: 'cpu', targetUtilization: 0.5, minReplicas: 2 },
    };
    const rec = asRec(recommendCpuMemory(api, ctxFor(api, T0 + 120 * FIVE_MIN, [hpa])));
    // 200m / 0.5 = 400m (not 200m: at 200m the HPA would see 100% and double the replicas).
    expect(rec.proposed.cpuCores).toBe(0.4);
    // 300 MiB × 1.15 = 345 MiB.
    expect(rec.proposed.memoryBytes).toBe(345 * MIB);
    // HPA replicas at 400m: ceil(0.4 total / (0.5 × 0.4)) = 2 = observed. Per hour, before 2 × (1 × 0.04 + 0.5 ×
    // 0.005) = 0.085; after 2 × (0.4 × 0.04 + 345/1024 × 0.005) = 0.035369; Δ 0.049631 × 730 = 36.23.
    expect(rec.monthlySaving).toBe(36.23);
    expect(rec.reason).toContain("over the HPA's 50% target");
  });

  it('floors tiny requests at 10m and 100Mi', () => {
    const idle: ContainerSeries = {
      workload: workload('Deployment', 'sidecar'),
      container: 'proxy',
      windows: windowsOf(100, (_i, start, end) =>
        containerWindow(start, end, {
          cpuAvg: 0.001,
          memMax: 20 * MIB,
          requestCpu: 0.5,
          requestMemory: 256 * MIB,
        }),
      ),
    };
    const rec = asRec(recommendCpuMemory(idle, ctxFor(idle, T0 + 100 * FIVE_MIN)));
    // 1m → floor 10m; 20 MiB × 1.15 = 23 MiB → floor 100 MiB.
    expect(rec.proposed).toEqual({ cpuCores: 0.01, memoryBytes: 100 * MIB });
  });

  it('says "not enough data" plainly below 3 h or 100 windows', () => {
    const young: ContainerSeries = {
      workload: workload('Deployment', 'new'),
      container: 'app',
      windows: windowsOf(20, (_i, start, end) => containerWindow(start, end, { cpuAvg: 0.1, memMax: GIB })),
    };
    const result = recommendCpuMemory(young, ctxFor(young, T0 + 20 * FIVE_MIN)) as NotEnoughData;
    // 20 windows × 5 min = 100 min = 1.7 h.
    expect(result.reason).toBe(
      'Not enough data: 1.7 h of history and 20 windows; a CPU and memory recommendation needs at least 3 h and 100 windows.',
    );
    expect('id' in result).toBe(false);
  });

  it('patches a PyTorchJob worker through its replica template, guarded by the container name', () => {
    const job: ContainerSeries = {
      workload: workload('PyTorchJob', 'bert'),
      container: 'pytorch',
      replicaType: 'worker',
      windows: windowsOf(120, (_i, start, end) =>
        containerWindow(start, end, { cpuAvg: 3, memMax: 10 * GIB, requestCpu: 8, requestMemory: 32 * GIB }),
      ),
    };
    const rec = asRec(recommendCpuMemory(job, ctxFor(job, T0 + 120 * FIVE_MIN)));
    const base = '/spec/pytorchReplicaSpecs/Worker/template/spec/containers/0';
    // 3 cores; 10 GiB × 1.15 = 11.5 GiB = 11776 MiB.
    expect(rec.patch.type).toBe('json');
    expect(rec.patch.body).toEqual([
      { op: 'test', path: `${base}/name`, value: 'pytorch' },
      { op: 'add', path: `${base}/resources/requests/cpu`, value: '3' },
      { op: 'add', path: `${base}/resources/requests/memory`, value: '11776Mi' },
      { op: 'add', path: `${base}/resources/limits/memory`, value: '11776Mi' },
    ]);
    expect(
      rec.patch.command.startsWith('kubectl patch pytorchjob.kubeflow.org bert -n team-a --type json'),
    ).toBe(true);
  });
});
