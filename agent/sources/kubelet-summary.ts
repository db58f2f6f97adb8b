// The kubelet Summary API (`/stats/summary`, k8s.io/kubelet/pkg/apis/stats/v1alpha1): pure parsing into readings,
// and the rate step that turns two readings of the cumulative CPU counter into cores in use.
//
// CPU comes from deltas of `usageCoreNanoSeconds` over deltas of `cpu.time`, not from `usageNanoCores`: the latter
// is missing on some kubelets and on a container's first scrape, and is averaged over a window we do not choose.
import { MlcostError } from '../../core/errors.ts';
import type { ContainerUsageSample, NodeSample } from '../samples.ts';

/** One cumulative CPU counter reading and the time the kubelet took it. */
export interface CpuReading {
  /** `cpu.time` in ms since the epoch. */
  timeMs: number;
  usageCoreNanoSeconds: number;
}

export interface ContainerReading {
  namespace: string;
  pod: string;
  podUid?: string;
  container: string;
  /** The container's start time: a new one means it restarted and its counters began again. */
  startTime?: string;
  cpu?: CpuReading;
  memoryWorkingSetBytes?: number;
}

export interface SummaryReading {
  nodeName?: string;
  node: { cpu?: CpuReading; memoryWorkingSetBytes?: number };
  containers: ContainerReading[];
}

function parseError(message: string): MlcostError {
  return new MlcostError('parse', `kubelet /stats/summary: ${message}`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function finiteNumber(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}

function cpuReading(cpu: unknown): CpuReading | undefined {
  if (!isObject(cpu)) return undefined;
  const usage = finiteNumber(cpu['usageCoreNanoSeconds']);
  const timeMs = typeof cpu['time'] === 'string' ? Date.parse(cpu['time']) : Number.NaN;
  if (usage === undefined || Number.isNaN(timeMs)) return undefined;
  return { timeMs, usageCoreNanoSeconds: usage };
}

function workingSet(memory: unknown): number | undefined {
  return isObject(memory) ? finiteNumber(memory['workingSetBytes']) : undefined;
}

/**
 * Parses a Summary API response (the body text, or JSON already parsed). Throws an MlcostError of kind `parse`
 * naming what is wrong when the body is not JSON (a truncated response, say) or not a summary.
 */
export function parseSummary(body: unknown): SummaryReading {
  let json: unknown = body;
  if (typeof body === 'string') {
    try {
      json = JSON.parse(body);
    } catch (error) {
      throw parseError(
        `the body is not valid JSON (${body.length} characters; truncated?): ${(error as Error).message}`,
      );
    }
  }
  if (!isObject(json)) throw parseError('expected a JSON object with "node" and "pods"');
  if (!isObject(json['node'])) throw parseError('"node" is missing or not an object');
  const pods = json['pods'] ?? [];
  if (!Array.isArray(pods)) throw parseError('"pods" is not an array');

  const node = json['node'];
  const reading: SummaryReading = { node: {}, containers: [] };
  if (typeof node['nodeName'] === 'string') reading.nodeName = node['nodeName'];
  const nodeCpu = cpuReading(node['cpu']);
  if (nodeCpu) reading.node.cpu = nodeCpu;
  const nodeMemory = workingSet(node['memory']);
  if (nodeMemory !== undefined) reading.node.memoryWorkingSetBytes = nodeMemory;

  pods.forEach((pod, index) => {
    if (!isObject(pod) || !isObject(pod['podRef'])) throw parseError(`pods[${index}] has no podRef`);
    const ref = pod['podRef'];
    const namespace = ref['namespace'];
    const name = ref['name'];
    if (typeof namespace !== 'string' || typeof name !== 'string') {
      throw parseError(`pods[${index}].podRef lacks a namespace or name`);
    }
    const containers = pod['containers'] ?? [];
    if (!Array.isArray(containers)) throw parseError(`pods[${index}].containers is not an array`);
    for (const container of containers) {
      if (!isObject(container) || typeof container['name'] !== 'string') continue;
      const entry: ContainerReading = { namespace, pod: name, container: container['name'] };
      if (typeof ref['uid'] === 'string') entry.podUid = ref['uid'];
      if (typeof container['startTime'] === 'string') entry.startTime = container['startTime'];
      const cpu = cpuReading(container['cpu']);
      if (cpu) entry.cpu = cpu;
      const memory = workingSet(container['memory']);
      if (memory !== undefined) entry.memoryWorkingSetBytes = memory;
      reading.containers.push(entry);
    }
  });
  return reading;
}

interface RateState {
  startTime?: string;
  cpu: CpuReading;
  /** The rate computed at the reading before, repeated while the kubelet serves the same cached sample. */
  lastRate?: number;
}

/**
 * Cores in use between two readings of one counter. Undefined when there is no earlier reading, or the counter
 * went backwards or time did not move forward (a restarted container, a different cgroup).
 */
export function cpuRate(previous: CpuReading | undefined, current: CpuReading): number | undefined {
  if (!previous) return undefined;
  const elapsedNs = (current.timeMs - previous.timeMs) * 1e6;
  const usedNs = current.usageCoreNanoSeconds - previous.usageCoreNanoSeconds;
  if (elapsedNs <= 0 || usedNs < 0) return undefined;
  return usedNs / elapsedNs;
}

export interface SummaryUsage {
  containers: ContainerUsageSample[];
  node: NodeSample;
}

/**
 * Makes the stateful rate step: feed it each reading in turn and it returns per-container and node usage, with
 * CPU as cores over the interval since the previous reading. The first reading of a container gives memory only.
 */
export function createSummaryRateStep(): (reading: SummaryReading) => SummaryUsage {
  let containers = new Map<string, RateState>();
  let node: RateState | undefined;

  /** Rate for one series, and the state to keep for the next reading. */
  function step(
    previous: RateState | undefined,
    cpu: CpuReading,
    startTime?: string,
  ): [number | undefined, RateState] {
    const restarted = previous !== undefined && previous.startTime !== startTime;
    if (!previous || restarted) return [undefined, { startTime, cpu }];
    // The kubelet serves cAdvisor's cached sample between housekeeping runs, and stamps it to the second: a
    // reading with the same time carries no measurable interval, so keep the older base and repeat the last rate.
    if (cpu.timeMs === previous.cpu.timeMs && cpu.usageCoreNanoSeconds >= previous.cpu.usageCoreNanoSeconds) {
      return [previous.lastRate, previous];
    }
    const rate = cpuRate(previous.cpu, cpu);
    const next: RateState = { startTime, cpu };
    if (rate !== undefined) next.lastRate = rate;
    return [rate, next];
  }

  return (reading) => {
    const nextContainers = new Map<string, RateState>();
    const samples: ContainerUsageSample[] = [];
    for (const entry of reading.containers) {
      const sample: ContainerUsageSample = {
        namespace: entry.namespace,
        pod: entry.pod,
        container: entry.container,
      };
      if (entry.podUid) sample.podUid = entry.podUid;
      if (entry.cpu) {
        // The pod UID tells a re-created pod (same name, new UID) from the old one.
        const key = `${entry.podUid ?? `${entry.namespace}/${entry.pod}`}/${entry.container}`;
        const [rate, state] = step(containers.get(key), entry.cpu, entry.startTime);
        nextContainers.set(key, state);
        if (rate !== undefined) sample.cpuUsedCores = rate;
      }
      if (entry.memoryWorkingSetBytes !== undefined) {
        sample.memoryWorkingSetBytes = entry.memoryWorkingSetBytes;
      }
      samples.push(sample);
    }
    // Containers that are gone are forgotten, so the map never outgrows the node's containers.
    containers = nextContainers;

    const nodeSample: NodeSample = {};
    if (reading.node.cpu) {
      const [rate, state] = step(node, reading.node.cpu);
      node = state;
      if (rate !== undefined) nodeSample.cpuUsedCores = rate;
    }
    if (reading.node.memoryWorkingSetBytes !== undefined) {
      nodeSample.memoryUsedBytes = reading.node.memoryWorkingSetBytes;
    }
    return { containers: samples, node: nodeSample };
  };
}
