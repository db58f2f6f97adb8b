// Ground truth: what the simulator planted in a range of its history, for tests that measure what mlcost finds.
// Written by `mlcost simulate --truth FILE` as JSON with sorted keys, so the same seed and range give the same bytes.
//
// What it lists, and how each figure is computed (also stated in the file under `formulas`):
//  - idleGpus: GPUs held and never used: notebooks planted idle (engine activity 0 for the pod's whole life) and
//    training runs that hang part way (activity 0 from the hang to the run's end). With when, and GPU-hours.
//  - unallocatedGpus: GPU capacity no pod held (idle capacity), per node, in GPU-equivalents × hours.
//  - overRequested: CPU services planted with several times the CPU and memory they use, with the request, use,
//    a recommendation (CPU: p95 of window averages, as KRR's simple strategy; memory: peak × 1.15, as KRR) and the
//    difference.
//  - sliceableGpuUsers: pods alone on a whole GPU whose activity and memory fit a slice (a MIG 1g.10gb where the
//    GPU supports MIG, else a quarter of a time-sliced GPU).
//  - oomLoops: the leaking services, with their OOM kills in the range.
//  - namespaces: requested and used CPU core-hours and memory GiB-hours, GPU-hours (whole GPU 1, MIG slice its
//    compute slices / 7, time-sliced replica 1 / replicas) and the cost of what was held at the simulator's prices.
// Money: monthlySaving = (resource-hours saved in the range / hours in the range) × 730 × price per resource-hour,
// i.e. the saving per month at the rate seen in the range; prices are in `prices` (prices.ts).
import type { ContainerRecord } from '../core/protocol/batch.ts';
import { restartsAt } from './behaviour.ts';
import type { Cluster, SimNode } from './cluster.ts';
import { MIG_PROFILES } from './hardware.ts';
import { podOf } from './pods.ts';
import { capacityFactor, gpuHourPrice, PRICES, type PriceSheet } from './prices.ts';
import { HOUR, runsDuring, SLOT_MS } from './schedule.ts';
import { nodeWindow } from './usage.ts';
import type { Seat } from './workloads.ts';

const GiB = 2 ** 30;

export interface TruthOptions {
  from: number;
  to: number;
  windowMs: number;
  prices?: PriceSheet;
}

const round = (value: number, digits = 6) => Math.round(value * 10 ** digits) / 10 ** digits;
const money = (value: number) => Math.round(value * 100) / 100;
const iso = (t: number) => new Date(t).toISOString();

/** GPU-equivalents a container's GPU request holds on a node. */
export function gpuEquivalents(requests: ContainerRecord['requests'], node: SimNode): number {
  const gpus = requests.gpus ?? 0;
  const resource = requests.gpuResource;
  if (!resource || gpus === 0) return 0;
  if (resource.startsWith('nvidia.com/mig-')) {
    const profile = MIG_PROFILES[resource.slice('nvidia.com/mig-'.length)];
    return profile ? (gpus * profile.computeSlices) / 7 : 0;
  }
  const replicas = node.gpus[0]?.replicas ?? 1;
  return gpus / replicas;
}

function workloadKey(namespace: string, kind: string, name: string, container: string): string {
  return `${namespace}/${kind}/${name}/${container}`;
}

function seatWorkloadKey(seat: Seat): string {
  return workloadKey(seat.namespace, seat.controller, seat.baseName, seat.containers[0]!.name);
}

interface NamespaceTotals {
  team: string;
  cpuCoreHoursRequested: number;
  cpuCoreHoursUsed: number;
  memoryGiBHoursRequested: number;
  memoryGiBHoursUsed: number;
  gpuHours: number;
  cost: number;
}

interface WorkloadStats {
  node: SimNode;
  hours: number;
  cpuRequest: number;
  memoryRequest: number;
  cpuHoursUsed: number;
  cpuWindowAverages: number[];
  memoryMax: number;
  gpuActivityHours: number;
  gpuActivityMax: number;
  gpuMemoryMax: number;
  gpuIds: Set<string>;
  gpuEquivalents: number;
}

export function groundTruth(cluster: Cluster, options: TruthOptions): Record<string, unknown> {
  const { from, to, windowMs } = options;
  const prices = options.prices ?? PRICES;
  const rangeHours = (to - from) / HOUR;
  const windowHours = windowMs / HOUR;
  const monthly = (resourceHours: number, pricePerHour: number) =>
    money((resourceHours / rangeHours) * prices.hoursPerMonth * pricePerHour);

  const planted = new Map<string, Seat['planted']>();
  for (const node of cluster.nodes) {
    for (const seat of node.seats) if (seat.planted) planted.set(seatWorkloadKey(seat), seat.planted);
  }

  const namespaces = new Map<string, NamespaceTotals>();
  for (const ns of cluster.namespaces) {
    namespaces.set(ns.name, {
      team: ns.team,
      cpuCoreHoursRequested: 0,
      cpuCoreHoursUsed: 0,
      memoryGiBHoursRequested: 0,
      memoryGiBHoursUsed: 0,
      gpuHours: 0,
      cost: 0,
    });
  }
  const stats = new Map<string, WorkloadStats>();
  const unallocated = new Map<string, number>();

  for (const node of cluster.nodes) {
    const factor = capacityFactor(node.capacityType, prices);
    const gpuModel = node.gpus[0]?.model.name;
    for (let start = from; start < to; start += windowMs) {
      const window = nodeWindow(node, start, start + windowMs);
      const workloadOfPod = new Map<string, string>();
      for (const c of window.containers) {
        const ns = namespaces.get(c.namespace)!;
        const cpuRequest = c.requests.cpuCores ?? 0;
        const memoryRequest = c.requests.memoryBytes ?? 0;
        const cpuUsed = c.cpuCoresAvg ?? 0;
        const memoryUsed = c.memoryBytesAvg ?? 0;
        const gpus = gpuEquivalents(c.requests, node);
        ns.cpuCoreHoursRequested += cpuRequest * windowHours;
        ns.cpuCoreHoursUsed += cpuUsed * windowHours;
        ns.memoryGiBHoursRequested += (memoryRequest / GiB) * windowHours;
        ns.memoryGiBHoursUsed += (memoryUsed / GiB) * windowHours;
        ns.gpuHours += gpus * windowHours;
        // What was held: the larger of request and use (OpenCost's allocation rule), at the node's prices.
        ns.cost +=
          windowHours *
          (factor *
            (Math.max(cpuRequest, cpuUsed) * prices.cpuCoreHour +
              (Math.max(memoryRequest, memoryUsed) / GiB) * prices.memoryGiBHour) +
            (gpus > 0 && gpuModel ? gpus * gpuHourPrice(gpuModel, node.capacityType, prices) : 0));

        const key = workloadKey(c.namespace, c.workload?.kind ?? '', c.workload?.name ?? '', c.container);
        if (!planted.has(key)) continue;
        workloadOfPod.set(`${c.namespace}/${c.pod}/${c.container}`, key);
        let s = stats.get(key);
        if (!s) {
          s = {
            node,
            hours: 0,
            cpuRequest,
            memoryRequest,
            cpuHoursUsed: 0,
            cpuWindowAverages: [],
            memoryMax: 0,
            gpuActivityHours: 0,
            gpuActivityMax: 0,
            gpuMemoryMax: 0,
            gpuIds: new Set(),
            gpuEquivalents: gpus,
          };
          stats.set(key, s);
        }
        s.hours += windowHours;
        s.cpuHoursUsed += cpuUsed * windowHours;
        s.cpuWindowAverages.push(cpuUsed);
        s.memoryMax = Math.max(s.memoryMax, c.memoryBytesMax ?? 0);
      }
      for (const g of window.gpus) {
        const gpu = node.gpus[g.index!]!;
        if (g.migProfile === undefined && gpu.slices.length > 0) continue; // a MIG parent: its slices count
        // A free MIG slice is its share of the GPU; a time-sliced GPU is free by the replicas no one took.
        const free =
          g.migProfile !== undefined
            ? g.holders.length === 0
              ? MIG_PROFILES[g.migProfile]!.computeSlices / 7
              : 0
            : Math.max(0, gpu.replicas - g.holders.length) / gpu.replicas;
        if (free > 0) unallocated.set(node.name, (unallocated.get(node.name) ?? 0) + free * windowHours);
        for (const holder of g.holders) {
          const key = workloadOfPod.get(`${holder.namespace}/${holder.pod}/${holder.container}`);
          const s = key ? stats.get(key) : undefined;
          if (!s) continue;
          s.gpuActivityHours += (g.activityAvg ?? 0) * windowHours;
          s.gpuActivityMax = Math.max(s.gpuActivityMax, g.activityMax ?? 0);
          s.gpuMemoryMax = Math.max(s.gpuMemoryMax, g.memoryUsedBytesMax ?? 0);
          s.gpuIds.add(g.id);
        }
      }
    }
  }

  // Idle GPUs, from the schedules: planted idle notebooks for their whole life, hung training runs from the hang.
  const idleGpus: Array<Record<string, unknown>> = [];
  const oomLoops: Array<Record<string, unknown>> = [];
  for (const node of cluster.nodes) {
    for (const seat of node.seats) {
      const kind = seat.planted?.kind;
      if (kind !== 'idle-gpu' && kind !== 'hung-training' && kind !== 'oom-loop') continue;
      for (const run of runsDuring(seat.schedule, seat.scheduleKey, from, to)) {
        const pod = podOf(seat, node, run);
        if (kind === 'oom-loop') {
          const first = Math.max(from, run.start);
          const last = Math.min(to, run.end);
          const kills =
            restartsAt(pod, Math.floor((last - 1) / SLOT_MS)) - restartsAt(pod, Math.floor(first / SLOT_MS));
          const c = seat.containers[0]!;
          oomLoops.push({
            node: node.name,
            namespace: seat.namespace,
            pod: pod.name,
            workload: pod.workload,
            container: c.name,
            memoryRequestBytes: c.requestAmounts.memoryBytes,
            memoryLimitBytes: c.limitAmounts.memoryBytes,
            from: iso(first),
            to: iso(last),
            oomKillsInRange: kills,
            suggestion:
              'the container is OOM-killed at its memory limit again and again: fix the leak or raise the limit',
          });
          continue;
        }
        const idleFrom = Math.max(
          from,
          kind === 'hung-training' ? (pod.hangAt ?? Number.POSITIVE_INFINITY) : run.start,
        );
        const idleTo = Math.min(to, run.end);
        if (idleTo <= idleFrom) continue;
        const c = seat.containers[0]!;
        const gpuIds = c.devices.map((claim) => {
          const gpu = node.gpus[claim.gpu]!;
          return claim.slice === undefined ? gpu.uuid : gpu.slices[claim.slice]!.id;
        });
        const equivalents = gpuEquivalents(c.requestAmounts, node);
        const hours = (idleTo - idleFrom) / HOUR;
        idleGpus.push({
          reason: kind === 'hung-training' ? 'training-hung' : 'notebook-never-used',
          node: node.name,
          namespace: seat.namespace,
          pod: pod.name,
          workload: pod.workload,
          ...(pod.mlJob ? { mlJob: pod.mlJob } : {}),
          gpuModel: node.gpus[0]!.model.name,
          gpuIds,
          gpuEquivalents: round(equivalents),
          from: iso(idleFrom),
          to: iso(idleTo),
          hours: round(hours),
          gpuHours: round(equivalents * hours),
          activityMax: 0,
          monthlySaving: monthly(
            equivalents * hours,
            gpuHourPrice(node.gpus[0]!.model.name, node.capacityType, prices),
          ),
        });
      }
    }
  }

  const overRequested: Array<Record<string, unknown>> = [];
  const sliceable: Array<Record<string, unknown>> = [];
  for (const [key, s] of stats) {
    const kind = planted.get(key)?.kind;
    const [namespace, workloadKind, workloadName, container] = key.split('/');
    const workload = { kind: workloadKind, name: workloadName };
    if (kind === 'over-requested') {
      const sorted = [...s.cpuWindowAverages].sort((a, b) => a - b);
      const p95 = sorted[Math.max(0, Math.ceil(0.95 * sorted.length) - 1)] ?? 0;
      const cpuRecommended = Math.max(0.01, p95);
      const memoryRecommended = s.memoryMax * 1.15;
      const factor = capacityFactor(s.node.capacityType, prices);
      const savedPerHour =
        factor *
        ((s.cpuRequest - cpuRecommended) * prices.cpuCoreHour +
          ((s.memoryRequest - memoryRecommended) / GiB) * prices.memoryGiBHour);
      overRequested.push({
        node: s.node.name,
        namespace,
        workload,
        container,
        hours: round(s.hours),
        cpuRequestCores: s.cpuRequest,
        cpuUsedAvgCores: round(s.cpuHoursUsed / s.hours),
        cpuUsedP95Cores: round(p95),
        cpuRecommendedCores: round(cpuRecommended),
        cpuOverRequestedCores: round(s.cpuRequest - cpuRecommended),
        cpuRequestToUse: round(s.cpuRequest / (s.cpuHoursUsed / s.hours), 3),
        memoryRequestBytes: s.memoryRequest,
        memoryUsedMaxBytes: s.memoryMax,
        memoryRecommendedBytes: Math.round(memoryRecommended),
        memoryOverRequestedBytes: Math.round(s.memoryRequest - memoryRecommended),
        monthlySaving: money((savedPerHour * s.hours * prices.hoursPerMonth) / rangeHours),
      });
    } else if (kind === 'sliceable-gpu') {
      const gpuModel = s.node.gpus[0]!.model;
      const mig = gpuModel.migSlices !== undefined;
      const fraction = mig ? 1 / 7 : 1 / 4;
      sliceable.push({
        node: s.node.name,
        namespace,
        workload,
        container,
        gpuModel: gpuModel.name,
        gpuIds: [...s.gpuIds].sort(),
        hours: round(s.hours),
        activityAvg: round(s.gpuActivityHours / s.hours),
        activityMax: round(s.gpuActivityMax),
        memoryUsedMaxBytes: s.gpuMemoryMax,
        suggestion: mig ? 'MIG 1g.10gb' : 'time-slicing, 4 replicas per GPU',
        gpuFraction: round(fraction),
        monthlySaving: monthly(
          s.gpuEquivalents * s.hours * (1 - fraction),
          gpuHourPrice(gpuModel.name, s.node.capacityType, prices),
        ),
      });
    }
  }

  const byNode = (a: Record<string, unknown>, b: Record<string, unknown>) =>
    `${a['node']}/${a['namespace']}/${a['pod'] ?? ''}/${a['from'] ?? ''}`.localeCompare(
      `${b['node']}/${b['namespace']}/${b['pod'] ?? ''}/${b['from'] ?? ''}`,
    );
  const namespaceTable = Object.fromEntries(
    [...namespaces].map(([name, t]) => [
      name,
      {
        team: t.team,
        cpuCoreHoursRequested: round(t.cpuCoreHoursRequested),
        cpuCoreHoursUsed: round(t.cpuCoreHoursUsed),
        memoryGiBHoursRequested: round(t.memoryGiBHoursRequested),
        memoryGiBHoursUsed: round(t.memoryGiBHoursUsed),
        gpuHours: round(t.gpuHours),
        expectedCost: money(t.cost),
      },
    ]),
  );
  const pools: Record<string, number> = {};
  for (const node of cluster.nodes) pools[node.pool] = (pools[node.pool] ?? 0) + 1;
  const unallocatedGpus = [...unallocated]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([node, gpuHours]) => ({ node, gpuHours: round(gpuHours) }));

  return {
    simulated: true,
    generator: { seed: cluster.seed, nodes: cluster.nodes.length, gpus: cluster.gpuCount, pools },
    range: { from: iso(from), to: iso(to), hours: rangeHours, windowSeconds: windowMs / 1000 },
    prices,
    formulas: {
      monthlySaving:
        'resource-hours saved in the range / hours in the range × hoursPerMonth × price per resource-hour',
      idleGpu:
        'GPU-equivalents held × hours with engine activity 0 (notebook: its whole life; hung run: hang to end)',
      gpuEquivalents: 'whole GPU 1; MIG slice compute slices / 7; time-sliced replica 1 / replicas',
      overRequestedCpu: 'request − max(0.01, p95 of window CPU averages)  (KRR simple strategy)',
      overRequestedMemory: 'request − 1.15 × peak working set  (KRR simple strategy)',
      sliceable:
        'GPU-equivalents × hours × (1 − slice fraction), slice = 1/7 (MIG 1g.10gb) or 1/4 (time-slicing)',
      namespaceCost:
        'Σ windows hours × (max(request, use) of CPU × cpuCoreHour + of memory GiB × memoryGiBHour) × (spotFactor on spot) + GPU-equivalents × GPU-hour price',
      unallocatedGpus: 'GPU-equivalents no pod held × hours (idle capacity, not waste of any pod)',
    },
    idleGpus: idleGpus.sort(byNode),
    unallocatedGpus,
    overRequested: overRequested.sort(byNode),
    sliceableGpuUsers: sliceable.sort(byNode),
    oomLoops: oomLoops.sort(byNode),
    namespaces: namespaceTable,
  };
}
