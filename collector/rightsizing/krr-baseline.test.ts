import { describe, expect, it } from 'vitest';
import { makeContext } from './context.ts';
import { recommendCpuMemory } from './cpu-memory.ts';
import { compareWithKrr, krrProposal } from './krr-baseline.ts';
import { resolveOptions } from './options.ts';
import { replayRecommendation } from './replay.ts';
import {
  containerWindow,
  FIVE_MIN,
  GIB,
  HOUR_MS,
  MIB,
  PRICES,
  T0,
  windowsOf,
  workload,
} from './test-support.ts';
import type { ContainerSeries, ContainerWindow, RightsizingInput, WorkloadInfo } from './types.ts';

/** mulberry32: a small seeded PRNG, so the generated fleet is the same on every run. */
function rng(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    between: (low: number, high: number) => low + (high - low) * next(),
    int: (low: number, high: number) => Math.floor(low + (high - low + 1) * next()),
    /** Standard normal (Box-Muller). */
    normal: () => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next()),
  };
}

const TRAIN_DAYS = 14;
const EVAL_DAYS = 7;
const STEP = 2 * FIVE_MIN; // ten-minute windows keep the test quick; the rules do not depend on the length
const PER_DAY = 144;
const NOW = T0 + TRAIN_DAYS * 24 * HOUR_MS;

interface Generated {
  train: ContainerSeries[];
  evaluation: ContainerSeries[];
  workloads: WorkloadInfo[];
}

/**
 * A fleet of 27 workloads over 14 days (to recommend from) and the 7 days after (to score on), in ten-minute
 * windows. Memory in the evaluation days is the true demand (no limit cut it short), so a proposal below it is a
 * would-be OOM kill; in the training days a container whose demand passes its limit is OOM-killed at the limit.
 * - 10 steady services (1-3 replicas, diurnal CPU, steady memory with small daily bumps), requests 1.5-4× use
 * - 4 bursty services (2% of windows at 4× CPU)
 * - 3 HPA'd services that never leave minReplicas, 3 that scale every day (HPA on CPU, target 60%)
 * - 3 services whose nightly batch needs 1.3× their memory limit (OOM-killed every night)
 * - 2 services whose memory grows 2% a day
 * - 1 near-idle sidecar (floors), and 1 deployed 2 h ago (not enough data)
 */
function generateFleet(seed: number): Generated {
  const r = rng(seed);
  const train: ContainerSeries[] = [];
  const evaluation: ContainerSeries[] = [];
  const workloads: WorkloadInfo[] = [];
  const diurnal = (i: number) => 1 + 0.3 * Math.sin((2 * Math.PI * (i % PER_DAY)) / PER_DAY);
  const noise = (sd: number) => Math.max(0.2, 1 + sd * r.normal());

  function add(
    name: string,
    replicas: (i: number) => number,
    use: (i: number, pod: number, replicasNow: number) => { cpu: number; memory: number },
    requests: { cpu: number; memory: number; limit: number },
    startWindow = 0,
    hpa?: WorkloadInfo['hpa'],
  ) {
    const ref = workload('Deployment', name);
    if (hpa) workloads.push({ workload: ref, hpa });
    const trainWindows: ContainerWindow[] = [];
    const evalWindows: ContainerWindow[] = [];
    const restarts = new Map<number, number>();
    const killed = new Set<number>();
    const total = (TRAIN_DAYS + EVAL_DAYS) * PER_DAY;
    for (let i = startWindow; i < total; i += 1) {
      const start = T0 + i * STEP;
      const end = start + STEP;
      const n = replicas(i);
      for (let pod = 0; pod < n; pod += 1) {
        const { cpu, memory } = use(i, pod, n);
        const base = {
          start,
          end,
          pod: `${name}-${pod}`,
          cpuAvg: cpu,
          requestCpu: requests.cpu,
          requestMemory: requests.memory,
          limitMemory: requests.limit,
        };
        if (i < TRAIN_DAYS * PER_DAY) {
          const oom = memory > requests.limit;
          if (oom) {
            restarts.set(pod, (restarts.get(pod) ?? 0) + 1);
            killed.add(pod);
          }
          trainWindows.push({
            ...base,
            memMax: Math.min(memory, requests.limit),
            oomKilled: killed.has(pod),
            restarts: restarts.get(pod) ?? 0,
          });
        } else {
          evalWindows.push({ ...base, memMax: memory });
        }
      }
    }
    train.push({ workload: ref, container: 'app', windows: trainWindows });
    evaluation.push({ workload: ref, container: 'app', windows: evalWindows });
  }

  for (let k = 0; k < 10; k += 1) {
    const cpu = r.between(0.1, 1);
    const memory = r.between(200, 4096) * MIB;
    const replicas = r.int(1, 3);
    const ratio = r.between(1.5, 4);
    add(
      `steady-${k}`,
      () => replicas,
      (i) => ({
        cpu: cpu * diurnal(i) * noise(0.15),
        memory: memory * (1 + 0.03 * r.normal() ** 2 + (i % PER_DAY === 50 ? 0.1 : 0)),
      }),
      { cpu: cpu * ratio, memory: memory * ratio, limit: memory * ratio },
    );
  }
  for (let k = 0; k < 4; k += 1) {
    const cpu = r.between(0.05, 0.5);
    const memory = r.between(300, 2048) * MIB;
    add(
      `bursty-${k}`,
      () => 2,
      () => ({
        cpu: cpu * (r.next() < 0.02 ? 4 : 1) * noise(0.2),
        memory: memory * (1 + 0.02 * Math.abs(r.normal())),
      }),
      { cpu: cpu * 3, memory: memory * 2, limit: memory * 2 },
    );
  }
  for (let k = 0; k < 6; k += 1) {
    // HPA on CPU at 60%, request 1 core: replicas = clamp(ceil(load / 0.6), min 2, max 8), each pod load / replicas.
    const scales = k >= 3;
    const peak = scales ? r.between(3, 4) : r.between(0.3, 0.6);
    const memory = r.between(300, 1024) * MIB;
    const load = (i: number) =>
      peak * (0.35 + 0.65 * Math.max(0, Math.sin((Math.PI * (i % PER_DAY)) / PER_DAY)));
    const replicasAt = (i: number) => Math.min(8, Math.max(2, Math.ceil(load(i) / 0.6)));
    add(
      `hpa-${k}`,
      replicasAt,
      (i, _pod, n) => ({
        cpu: (load(i) / n) * noise(0.1),
        memory: memory * (1 + 0.02 * Math.abs(r.normal())),
      }),
      { cpu: 1, memory: 2 * GIB, limit: 2 * GIB },
      0,
      { resource: 'cpu', targetUtilization: 0.6, minReplicas: 2, maxReplicas: 8 },
    );
  }
  for (let k = 0; k < 3; k += 1) {
    const memory = r.between(512, 1024) * MIB;
    const limit = memory * 1.6;
    add(
      `oom-${k}`,
      () => 1,
      (i) => ({ cpu: 0.2 * noise(0.1), memory: i % PER_DAY === 12 ? limit * 1.3 : memory }),
      { cpu: 0.5, memory: limit, limit },
    );
  }
  for (let k = 0; k < 2; k += 1) {
    const memory = r.between(300, 800) * MIB;
    add(
      `growth-${k}`,
      () => 1,
      (i) => ({ cpu: 0.1 * noise(0.1), memory: memory * (1 + 0.02 * (i / PER_DAY)) }),
      { cpu: 0.5, memory: 3 * GIB, limit: 3 * GIB },
    );
  }
  add(
    'sidecar',
    () => 1,
    () => ({ cpu: 0.001, memory: 15 * MIB }),
    { cpu: 0.1, memory: 128 * MIB, limit: 128 * MIB },
  );
  add(
    'fresh',
    () => 1,
    () => ({ cpu: 0.2, memory: 100 * MIB }),
    { cpu: 1, memory: GIB, limit: GIB },
    TRAIN_DAYS * PER_DAY - 12,
  );
  return { train, evaluation, workloads };
}

describe('KRR baseline', () => {
  it('follows KRR: p95 CPU, max + 15% memory, floors, 100 points, no answer for HPA workloads', () => {
    // 100 windows, CPU 10m … 1000m, memory peak 1000 MiB → 950m and 1150 MiB.
    const windows = windowsOf(100, (i, start, end) =>
      containerWindow(start, end, { cpuAvg: (i + 1) * 0.01, memMax: (i + 1) * 10 * MIB }),
    );
    const now = T0 + 100 * FIVE_MIN;
    expect(krrProposal(windows, now, undefined)).toEqual({ cpuCores: 0.95, memoryBytes: 1150 * MIB });
    expect(krrProposal(windows.slice(1), now, undefined)).toBeUndefined();
    expect(krrProposal(windows, now, { resource: 'cpu', targetUtilization: 0.7 })).toBeUndefined();
  });

  const fleet = generateFleet(20261101);
  const input: RightsizingInput = {
    now: NOW,
    containers: fleet.train,
    workloads: fleet.workloads,
    prices: PRICES,
  };

  it('mlcost saves at least as much as KRR with no more would-be OOM kills, in and out of sample', () => {
    const inSample = compareWithKrr(input);
    const outOfSample = compareWithKrr(input, fleet.evaluation);
    const figures = (label: string, c: typeof inSample) =>
      `${label}: ${c.containers} containers, ${c.evaluationWindows} windows scored | ` +
      `KRR: ${c.krr.recommended} recommended, ${c.krr.monthlySaving.toFixed(2)} USD/month, ` +
      `${c.krr.wouldBeOomKills} would-be OOM kills, ${c.krr.cpuExceedWindows} windows over CPU request | ` +
      `mlcost: ${c.mlcost.recommended} recommended, ${c.mlcost.monthlySaving.toFixed(2)} USD/month, ` +
      `${c.mlcost.wouldBeOomKills} would-be OOM kills, ${c.mlcost.cpuExceedWindows} windows over CPU request`;
    console.log(figures('in sample (14 d)', inSample));
    console.log(figures('out of sample (next 7 d)', outOfSample));
    for (const c of [inSample, outOfSample]) {
      expect(c.mlcost.monthlySaving).toBeGreaterThanOrEqual(c.krr.monthlySaving);
      expect(c.mlcost.wouldBeOomKills).toBeLessThanOrEqual(c.krr.wouldBeOomKills);
    }
  });

  it('every mlcost CPU and memory recommendation on the fleet passes the replay (acceptance 2)', () => {
    const ctx = makeContext(input, resolveOptions());
    let replayed = 0;
    for (const series of fleet.train) {
      const rec = recommendCpuMemory(series, ctx);
      if (!rec || !('id' in rec)) continue;
      const result = replayRecommendation(series, rec);
      expect(result.memoryBelowPeak, rec.id).toBe(false);
      expect(result.cpuExceedShare, rec.id).toBeLessThanOrEqual(result.allowedCpuExceedShare);
      replayed += 1;
    }
    // 27 containers: all but the one deployed 2 h ago.
    expect(replayed).toBe(26);
  });
});
