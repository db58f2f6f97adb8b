// A seat's pod for one run of its schedule: its name, UID, labels and owners as its controller would make them, and
// the identity the agent will resolve from them (workload, training job, served model). Names follow the
// controllers' rules: a Deployment's pods are `<rs>-<suffix>` with the ReplicaSet `<deployment>-<pod-template-hash>`,
// a CronJob's Jobs are `<cronjob>-<scheduled minute>`, Kubeflow names training pods `<job>-master-0` /
// `<job>-worker-<i>`, a StatefulSet's only pod is `<name>-0`.
import type { SimNode } from './cluster.ts';
import { hashInts, nameSuffixAt, unitAt, uuidAt } from './random.ts';
import { HOUR, MINUTE, type Run, runAt, runsDuring } from './schedule.ts';
import type { ContainerTemplate, Seat } from './workloads.ts';

export interface OwnerRef {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
}

export interface WorkloadRef {
  kind: string;
  name: string;
}

export interface PodInstance {
  seat: Seat;
  node: SimNode;
  run: Run;
  /** Stateless-hash key of this pod's values. */
  key: number;
  name: string;
  uid: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** The pod's controller. */
  owner: OwnerRef;
  /** The controller's own owner: the Deployment above a ReplicaSet, the CronJob above a Job. */
  ownerOfOwner?: OwnerRef;
  workload: WorkloadRef;
  mlJob?: WorkloadRef;
  servedModel?: WorkloadRef;
  qosClass: 'Guaranteed' | 'Burstable' | 'BestEffort';
  /** A planted hang: from this instant the training run holds its GPUs and does nothing. */
  hangAt?: number;
}

const HANG_SALT = 0x4a46;
const HANG_AT_SALT = 0x4a47;

/** QoS class as the kubelet derives it (the agent's qosClassOf does the same). */
export function qosClassOf(containers: readonly ContainerTemplate[]): PodInstance['qosClass'] {
  let anySet = false;
  let guaranteed = containers.length > 0;
  for (const c of containers) {
    for (const name of ['cpu', 'memory']) {
      const request = c.requests[name];
      const limit = c.limits[name];
      if (request !== undefined || limit !== undefined) anySet = true;
      if (limit === undefined || (request !== undefined && request !== limit)) guaranteed = false;
    }
  }
  if (!anySet) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

/** When a planted flaky training run hangs, if this run does. Whole hours after its start, before its end. */
export function hangOf(seat: Seat, run: Run): number | undefined {
  if (seat.profile.kind !== 'training' || seat.profile.hangChance <= 0) return undefined;
  if (unitAt(seat.scheduleKey, run.instance, HANG_SALT) >= seat.profile.hangChance) return undefined;
  const hours = Math.round((run.end - run.start) / HOUR);
  if (hours < 2) return undefined;
  return (
    run.start + HOUR * (1 + Math.floor(unitAt(seat.scheduleKey, run.instance, HANG_AT_SALT) * (hours - 1)))
  );
}

function apps(kind: string, name: string, uid: string): OwnerRef {
  return { apiVersion: 'apps/v1', kind, name, uid };
}

function batch(kind: string, name: string, uid: string): OwnerRef {
  return { apiVersion: 'batch/v1', kind, name, uid };
}

export function podOf(seat: Seat, node: SimNode, run: Run): PodInstance {
  const k = seat.key;
  const i = run.instance;
  const labels = { ...seat.labels };
  let name: string;
  let owner: OwnerRef;
  let ownerOfOwner: OwnerRef | undefined;
  let workload: WorkloadRef;
  let mlJob: WorkloadRef | undefined;
  switch (seat.controller) {
    case 'Deployment': {
      const hash = nameSuffixAt(10, k, i, 1);
      const rs = `${seat.baseName}-${hash}`;
      name = `${rs}-${nameSuffixAt(5, k, i, 2)}`;
      labels['pod-template-hash'] = hash;
      owner = apps('ReplicaSet', rs, uuidAt(k, i, 3));
      ownerOfOwner = apps('Deployment', seat.baseName, uuidAt(k, 0, 4));
      workload = { kind: 'Deployment', name: seat.baseName };
      break;
    }
    case 'StatefulSet':
      name = `${seat.baseName}-0`;
      labels['controller-revision-hash'] = `${seat.baseName}-${nameSuffixAt(10, k, 0, 5)}`;
      labels['statefulset.kubernetes.io/pod-name'] = name;
      owner = apps('StatefulSet', seat.baseName, uuidAt(k, 0, 4));
      workload = { kind: 'StatefulSet', name: seat.baseName };
      break;
    case 'DaemonSet':
      name = `${seat.baseName}-${nameSuffixAt(5, k, i, 6)}`;
      labels['controller-revision-hash'] = nameSuffixAt(10, k, 0, 5);
      labels['pod-template-generation'] = '1';
      owner = apps('DaemonSet', seat.baseName, uuidAt(node.key, 0, 4));
      workload = { kind: 'DaemonSet', name: seat.baseName };
      break;
    case 'CronJob': {
      const job = `${seat.baseName}-${Math.floor(run.start / MINUTE)}`;
      const jobUid = uuidAt(k, i, 7);
      name = `${job}-${nameSuffixAt(5, k, i, 2)}`;
      Object.assign(labels, {
        'batch.kubernetes.io/controller-uid': jobUid,
        'batch.kubernetes.io/job-name': job,
        'controller-uid': jobUid,
        'job-name': job,
      });
      owner = batch('Job', job, jobUid);
      ownerOfOwner = batch('CronJob', seat.baseName, uuidAt(k, 0, 4));
      workload = { kind: 'CronJob', name: seat.baseName };
      break;
    }
    case 'Job': {
      const job = `${seat.baseName}-${nameSuffixAt(5, k, i, 8)}`;
      const jobUid = uuidAt(k, i, 7);
      name = `${job}-${nameSuffixAt(5, k, i, 2)}`;
      Object.assign(labels, {
        'batch.kubernetes.io/controller-uid': jobUid,
        'batch.kubernetes.io/job-name': job,
        'controller-uid': jobUid,
        'job-name': job,
      });
      owner = batch('Job', job, jobUid);
      workload = { kind: 'Job', name: job };
      break;
    }
    case 'PyTorchJob':
    case 'TFJob': {
      const job = `${seat.baseName}-${nameSuffixAt(5, seat.scheduleKey, i, 9)}`;
      const member = seat.gang?.member ?? 0;
      const pytorch = seat.controller === 'PyTorchJob';
      const leader = pytorch ? 'master' : 'chief';
      const replicaType = member === 0 ? leader : 'worker';
      const replicaIndex = member === 0 ? 0 : member - 1;
      name = `${job}-${replicaType}-${replicaIndex}`;
      Object.assign(labels, {
        'training.kubeflow.org/job-name': job,
        'training.kubeflow.org/operator-name': pytorch ? 'pytorchjob-controller' : 'tfjob-controller',
        'training.kubeflow.org/replica-index': String(replicaIndex),
        'training.kubeflow.org/replica-type': replicaType,
      });
      if (member === 0) labels['training.kubeflow.org/job-role'] = 'master';
      owner = {
        apiVersion: 'kubeflow.org/v1',
        kind: seat.controller,
        name: job,
        uid: uuidAt(seat.scheduleKey, i, 10),
      };
      workload = { kind: seat.controller, name: job };
      mlJob = { kind: seat.controller, name: job };
      break;
    }
  }
  const pod: PodInstance = {
    seat,
    node,
    run,
    key: hashInts(k, i),
    name,
    uid: uuidAt(k, i, 11),
    labels,
    annotations: { ...seat.annotations },
    owner,
    ownerOfOwner,
    workload,
    mlJob,
    servedModel: seat.inferenceService
      ? { kind: 'InferenceService', name: seat.inferenceService }
      : undefined,
    qosClass: qosClassOf(seat.containers),
    hangAt: hangOf(seat, run),
  };
  return pod;
}

/** The last pod made per seat: consecutive windows mostly ask for the same one. */
const lastPod = new WeakMap<Seat, PodInstance>();

function cachedPod(seat: Seat, node: SimNode, run: Run): PodInstance {
  const last = lastPod.get(seat);
  if (last && last.run.instance === run.instance && last.node === node) return last;
  const pod = podOf(seat, node, run);
  lastPod.set(seat, pod);
  return pod;
}

/** The seat's pod alive at `t`, if any. */
export function podAt(seat: Seat, node: SimNode, t: number): PodInstance | undefined {
  const run = runAt(seat.schedule, seat.scheduleKey, t);
  return run ? cachedPod(seat, node, run) : undefined;
}

/** The seat's pods alive at any time in [from, to). */
export function podsDuring(seat: Seat, node: SimNode, from: number, to: number): PodInstance[] {
  const runs = runsDuring(seat.schedule, seat.scheduleKey, from, to);
  const pods: PodInstance[] = new Array(runs.length);
  for (let i = 0; i < runs.length; i++) pods[i] = cachedPod(seat, node, runs[i]!);
  return pods;
}

/** Every pod on the node at `t`, in seat order. */
export function nodePodsAt(node: SimNode, t: number): PodInstance[] {
  const pods: PodInstance[] = [];
  for (const seat of node.seats) {
    const pod = podAt(seat, node, t);
    if (pod) pods.push(pod);
  }
  return pods;
}
