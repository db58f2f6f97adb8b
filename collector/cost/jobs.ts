// Training jobs: per job (every Kubeflow kind, TrainJob, JobSet, Ray jobs, pipeline runs), its cost, GPU-hours,
// GPU efficiency and how long it ran, from the allocated windows of its pods. Pure.

import { shareIdle } from './aggregate.ts';
import type { WindowAllocation } from './allocate.ts';
import { type Allocation, addInto, emptyAllocation, finalize } from './allocation.ts';

/** The Kubeflow training operator's job kinds. */
export const KUBEFLOW_TRAINING_KINDS = [
  'PyTorchJob',
  'TFJob',
  'MPIJob',
  'XGBoostJob',
  'JAXJob',
  'PaddleJob',
] as const;

/** Kinds the agent names training jobs by (agent/sources/pod-identity.ts), for a `kinds` filter. */
export const TRAINING_JOB_KINDS = [
  ...KUBEFLOW_TRAINING_KINDS,
  'TrainingJob',
  'TrainJob',
  'JobSet',
  'RayJob',
] as const;

export interface JobCostOptions {
  /** Only these mlJob kinds (e.g. TRAINING_JOB_KINDS, or ['PipelineRun']); default every kind. */
  kinds?: readonly string[];
  shareIdle?: boolean;
  idleByNode?: boolean;
}

export interface JobCost {
  namespace: string;
  kind: string;
  name: string;
  /** First window start and last window end the job had a pod in (epoch ms). */
  start: number;
  end: number;
  /** end − start, in hours. */
  durationHours: number;
  /** Hours in which at least one of its pods ran (the union of its windows). */
  runningHours: number;
  pods: number;
  nodes: number;
  cpuCoreHours: number;
  ramByteHours: number;
  gpuHours: number;
  cpuCost: number;
  ramCost: number;
  gpuCost: number;
  pvCost: number;
  idleCost: number;
  totalCost: number;
  cpuEfficiency: number;
  ramEfficiency: number;
  gpuEfficiency: number | null;
  totalEfficiency: number;
}

/** Length in hours of the union of [start, end) intervals. */
export function unionHours(intervals: ReadonlyArray<readonly [number, number]>): number {
  const sorted = [...intervals].sort((a, b) => a[0] - b[0]);
  let total = 0;
  let openStart = Number.NaN;
  let openEnd = Number.NaN;
  for (const [start, end] of sorted) {
    if (Number.isNaN(openStart) || start > openEnd) {
      if (!Number.isNaN(openStart)) total += openEnd - openStart;
      openStart = start;
      openEnd = end;
    } else if (end > openEnd) {
      openEnd = end;
    }
  }
  if (!Number.isNaN(openStart)) total += openEnd - openStart;
  return total / 3_600_000;
}

/** Cost per ML job over the windows given, most expensive first. */
export function jobCosts(windows: readonly WindowAllocation[], options: JobCostOptions = {}): JobCost[] {
  const kinds = options.kinds ? new Set(options.kinds) : undefined;
  const { allocations } = shareIdle(windows, {
    share: options.shareIdle ?? false,
    idleByNode: options.idleByNode ?? false,
  });
  const jobs = new Map<
    string,
    { sums: Allocation; pods: Set<string>; nodes: Set<string>; intervals: Array<[number, number]> }
  >();
  for (const row of allocations) {
    const { namespace, mlJobKind, mlJobName, pod, node } = row.properties;
    if (!namespace || !mlJobKind || !mlJobName || (kinds && !kinds.has(mlJobKind))) continue;
    const key = `${namespace}/${mlJobKind}/${mlJobName}`;
    let job = jobs.get(key);
    if (!job) {
      job = {
        sums: emptyAllocation(key, { namespace, mlJobKind, mlJobName }, row.start, row.end),
        pods: new Set(),
        nodes: new Set(),
        intervals: [],
      };
      jobs.set(key, job);
    }
    addInto(job.sums, row);
    if (pod) job.pods.add(pod);
    if (node) job.nodes.add(node);
    job.intervals.push([row.start, row.end]);
  }

  return [...jobs.values()]
    .map(({ sums, pods, nodes, intervals }) => {
      const row = finalize(sums);
      return {
        namespace: row.properties.namespace!,
        kind: row.properties.mlJobKind!,
        name: row.properties.mlJobName!,
        start: row.start,
        end: row.end,
        durationHours: (row.end - row.start) / 3_600_000,
        runningHours: unionHours(intervals),
        pods: pods.size,
        nodes: nodes.size,
        cpuCoreHours: row.cpuCoreHours,
        ramByteHours: row.ramByteHours,
        gpuHours: row.gpuHours,
        cpuCost: row.cpuCost,
        ramCost: row.ramCost,
        gpuCost: row.gpuCost,
        pvCost: row.pvCost,
        idleCost: row.cpuIdleCost + row.ramIdleCost + row.gpuIdleCost,
        totalCost: row.totalCost,
        cpuEfficiency: row.cpuEfficiency,
        ramEfficiency: row.ramEfficiency,
        gpuEfficiency: row.gpuEfficiency,
        totalEfficiency: row.totalEfficiency,
      };
    })
    .sort((a, b) => b.totalCost - a.totalCost);
}
