// How a pod uses what it holds, one value per one-minute slot: CPU and memory per container, activity and
// framebuffer per GPU device it holds, and requests, tokens and latency per model it serves. Every value is a
// function of (pod, slot) only: noise comes from stateless hashes, so the value of any minute, past or present,
// is computed directly, and --serve and backfill agree.
//
// Numbers are rounded as the real sources print them (activity to 6 decimals as dcgm-exporter's %f, CPU to
// 0.1 millicore, memory to whole bytes, framebuffer to whole MiB), so what --serve prints and what the agent
// parses back are the very numbers windowsAt uses.
import type { PodInstance } from './pods.ts';
import { signedAt, unitAt } from './random.ts';
import { HOUR, MINUTE, SECOND, SLOT_MS } from './schedule.ts';
import { diurnalLoad, isWorkingHour } from './traffic.ts';
import type { InferenceProfile } from './workloads.ts';

export interface DeviceUse {
  activity: number;
  tensor: number;
  memoryMiB: number;
}

/** One model's traffic in one slot: counts are whole numbers, latency whole microseconds. */
export interface ModelSlot {
  requestsOk: number;
  requestsFailed: number;
  promptTokens: number;
  generatedTokens: number;
  latencyMicros: number;
  /** Gauges at the slot. */
  waiting: number;
  running: number;
  kvCache?: number;
}

export interface PodSlot {
  /** Per container, in the seat's container order. */
  cpu: number[];
  memory: number[];
  /** Restarts so far per container (only the leaking service restarts). */
  restarts: number[];
  /** Per device claim, over the containers in order (only one container per pod holds GPUs here). */
  devices: DeviceUse[];
  /** Per served model, in the profile's model order. */
  models: ModelSlot[];
}

// Salts keep the noise of different metrics of one pod independent.
const CPU = 1;
const MEMORY = 2;
const ACTIVITY = 3;
const DEVICE = 4;
const LOAD = 5;
const SESSION = 6;
const BURST = 7;
const OK = 8;
const FAILED = 9;
const PROMPT = 10;
const OUTPUT = 11;
const QUEUE = 12;
const KV = 13;

export const clamp = (value: number, low: number, high: number) => Math.min(high, Math.max(low, value));
const ratio6 = (value: number) => Math.round(clamp(value, 0, 1) * 1e6) / 1e6;
const cores4 = (value: number) => Math.round(Math.max(0, value) * 1e4) / 1e4;

/** The leaking service's OOM cycle: how long from a (re)start to the kill at its memory limit. */
export function oomCycleMs(pod: PodInstance): number | undefined {
  const p = pod.seat.profile;
  if (p.kind !== 'leaky-service') return undefined;
  return ((p.limitBytes - p.baseBytes) / p.leakBytesPerHour) * HOUR;
}

/** Restarts of a container before the slot: the leaking service is OOM-killed once per cycle. */
export function restartsAt(pod: PodInstance, slot: number): number {
  const cycle = oomCycleMs(pod);
  if (cycle === undefined) return 0;
  return Math.max(0, Math.floor((slot * SLOT_MS - pod.run.start) / cycle));
}

/** When the container's current instance started (after its latest restart), to the second as the kubelet says. */
export function containerStartedAt(pod: PodInstance, slot: number): number {
  const cycle = oomCycleMs(pod);
  const restarts = restartsAt(pod, slot);
  const started = cycle === undefined ? pod.run.start : pod.run.start + restarts * cycle;
  return Math.floor(started / SECOND) * SECOND;
}

/** Devices claimed by the pod's containers, counted once per seat. */
const deviceCounts = new WeakMap<PodInstance['seat'], number>();

function deviceCount(pod: PodInstance): number {
  let count = deviceCounts.get(pod.seat);
  if (count === undefined) {
    count = pod.seat.containers.reduce((sum, c) => sum + c.devices.length, 0);
    deviceCounts.set(pod.seat, count);
  }
  return count;
}

/**
 * The pod's devices, each at `activity` plus its own noise of ±`jitter`, with tensor activity `tensorShare` of it and
 * `memoryMiB` of framebuffer less `memoryStepMiB` for every device index modulo 3 (weights spread unevenly).
 * Plain loops, no closures: this runs for every pod of every sampled minute of a backfill.
 */
function deviceUses(
  pod: PodInstance,
  slot: number,
  activity: number,
  jitter: number,
  tensorShare: number,
  memoryMiB: number,
  memoryStepMiB = 0,
): DeviceUse[] {
  const count = deviceCount(pod);
  const out: DeviceUse[] = new Array(count);
  for (let d = 0; d < count; d++) {
    const a = activity === 0 ? 0 : ratio6(activity + jitter * signedAt(pod.key, slot, DEVICE, d));
    out[d] = { activity: a, tensor: ratio6(a * tensorShare), memoryMiB: memoryMiB - memoryStepMiB * (d % 3) };
  }
  return out;
}

function inferenceModels(pod: PodInstance, p: InferenceProfile, slot: number, load: number): ModelSlot[] {
  const k = pod.key;
  const rps = p.peakRequestsPerSecond * load;
  const out: ModelSlot[] = new Array(p.models.length);
  for (let m = 0; m < p.models.length; m++) {
    const requests = rps * 60 * p.modelShares[m]!;
    const requestsOk = Math.floor(requests * (1 - p.failureRate) + unitAt(k, slot, OK, m));
    const requestsFailed = Math.floor(requests * p.failureRate + unitAt(k, slot, FAILED, m));
    let latencySeconds: number;
    let promptTokens = 0;
    let generatedTokens = 0;
    let kvCache: number | undefined;
    if (p.llm) {
      const llm = p.llm;
      promptTokens = Math.round(
        requestsOk * llm.promptTokensMean * (0.85 + 0.3 * unitAt(k, slot, PROMPT, m)),
      );
      generatedTokens = Math.round(
        requestsOk * llm.outputTokensMean * (0.85 + 0.3 * unitAt(k, slot, OUTPUT, m)),
      );
      // Decode slows as the batch fills (approximately quadratic in load near saturation).
      latencySeconds =
        llm.secondsToFirstToken + llm.outputTokensMean * llm.secondsPerToken * (1 + 0.6 * load * load);
      kvCache = ratio6(0.04 + 0.85 * load * (0.9 + 0.2 * unitAt(k, slot, KV, m)));
    } else {
      latencySeconds = (p.triton?.secondsPerRequest ?? 0.01) * (1 + 1.5 * load * load);
    }
    const waiting = load > 0.85 ? Math.floor((load - 0.85) * 60 * unitAt(k, slot, QUEUE, m)) : 0;
    out[m] = {
      requestsOk,
      requestsFailed,
      promptTokens,
      generatedTokens,
      latencyMicros: Math.round(requestsOk * latencySeconds * 1e6),
      waiting,
      // Little's law: requests in flight = arrival rate × time in system.
      running: Math.round(rps * p.modelShares[m]! * latencySeconds),
      kvCache,
    };
  }
  return out;
}

/** What the pod uses in slot `slot` (the minute starting at slot × 60 s). */
export function podSlot(pod: PodInstance, slot: number): PodSlot {
  const p = pod.seat.profile;
  const k = pod.key;
  const t = slot * SLOT_MS;
  const mid = t + SLOT_MS / 2;
  const minutes = Math.floor((t - pod.run.start) / MINUTE);
  const none: ModelSlot[] = [];
  switch (p.kind) {
    case 'training': {
      const hung = pod.hangAt !== undefined && t >= pod.hangAt;
      let activity: number;
      let cpu: number;
      if (hung) {
        // A hung job: the process is alive, the GPUs are allocated and full, and nothing runs on them.
        activity = 0;
        cpu = 0.35 + 0.05 * unitAt(k, slot, CPU);
      } else if (minutes < 10) {
        activity = 0.15 + 0.1 * unitAt(k, slot, ACTIVITY);
        cpu = p.cpuCores * 0.8;
      } else if ((minutes - 10) % p.checkpointEveryMin < p.checkpointMin) {
        // Writing a checkpoint: the GPUs wait for the storage.
        activity = 0.02 + 0.03 * unitAt(k, slot, ACTIVITY);
        cpu = p.cpuCores * 1.15;
      } else {
        activity = p.activity + 0.04 * signedAt(k, slot, ACTIVITY);
        cpu = p.cpuCores * (1 + 0.05 * signedAt(k, slot, CPU));
      }
      return {
        cpu: [cores4(cpu)],
        memory: [Math.round(p.memoryBytes * (0.97 + 0.03 * unitAt(k, slot, MEMORY)))],
        restarts: [0],
        devices: deviceUses(
          pod,
          slot,
          hung ? 0 : Math.min(0.985, activity),
          0.01,
          p.tensorShare,
          p.gpuMemoryMiB,
          200,
        ),
        models: none,
      };
    }
    case 'notebook': {
      const hour = Math.floor(t / HOUR);
      const working = isWorkingHour(mid, p.utcOffsetHours);
      const session = !p.idle && unitAt(k, hour, SESSION) < (working ? 0.35 : 0.03);
      let activity = 0;
      let cpu = p.idle ? 0.004 : p.cpuCores * 0.2;
      if (session) {
        const burst = unitAt(k, slot, BURST);
        activity = burst < 0.6 ? 0.25 + 0.5 * unitAt(k, slot, ACTIVITY) : 0.01;
        cpu = p.cpuCores * (1 + unitAt(k, slot, CPU));
      }
      return {
        cpu: [cores4(cpu)],
        memory: [Math.round(p.memoryBytes * (session ? 1.3 : 1))],
        restarts: [0],
        devices: deviceUses(pod, slot, activity, 0, 0.3, session ? p.gpuMemoryMiB + 1500 : p.gpuMemoryMiB),
        models: none,
      };
    }
    case 'vllm':
    case 'triton':
    case 'embedding': {
      const load = diurnalLoad(mid, p.utcOffsetHours) * (0.92 + 0.16 * unitAt(k, slot, LOAD));
      const activity = p.activityBase + p.activityPerLoad * load * (0.95 + 0.1 * unitAt(k, slot, ACTIVITY));
      return {
        cpu: [cores4(p.cpuBase + p.cpuPerLoad * load * (0.9 + 0.2 * unitAt(k, slot, CPU)))],
        memory: [Math.round(p.memoryBytes * (0.98 + 0.04 * load))],
        restarts: [0],
        devices: deviceUses(pod, slot, activity, 0.005, p.tensorShare, p.gpuMemoryMiB),
        models: inferenceModels(pod, p, slot, load),
      };
    }
    case 'gpu-batch': {
      const activity = p.activity + 0.05 * signedAt(k, slot, ACTIVITY);
      return {
        cpu: [cores4(p.cpuCores * (0.9 + 0.2 * unitAt(k, slot, CPU)))],
        memory: [Math.round(p.memoryBytes * (0.95 + 0.05 * unitAt(k, slot, MEMORY)))],
        restarts: [0],
        devices: deviceUses(pod, slot, activity, 0.01, p.tensorShare, p.gpuMemoryMiB),
        models: none,
      };
    }
    case 'cpu-service': {
      const load = diurnalLoad(mid, p.utcOffsetHours);
      return {
        cpu: [cores4(p.cpuMean * (0.55 + 0.9 * load) * (0.9 + 0.2 * unitAt(k, slot, CPU)))],
        memory: [Math.round(p.memoryBytes * (0.97 + 0.06 * unitAt(k, slot, MEMORY)))],
        restarts: [0],
        devices: [],
        models: none,
      };
    }
    case 'leaky-service': {
      const cycle = oomCycleMs(pod)!;
      const restarts = restartsAt(pod, slot);
      const sinceRestart = t - pod.run.start - restarts * cycle;
      return {
        cpu: [cores4(p.cpuMean * (0.9 + 0.2 * unitAt(k, slot, CPU)))],
        memory: [
          Math.round(Math.min(p.limitBytes, p.baseBytes + (p.leakBytesPerHour * sinceRestart) / HOUR)),
        ],
        restarts: [restarts],
        devices: [],
        models: none,
      };
    }
    case 'etl':
    case 'daemon':
      return {
        cpu: [cores4(p.cpuCores * (0.85 + 0.3 * unitAt(k, slot, CPU)))],
        memory: [Math.round(p.memoryBytes * (0.95 + 0.05 * unitAt(k, slot, MEMORY)))],
        restarts: [0],
        devices: [],
        models: none,
      };
  }
}
