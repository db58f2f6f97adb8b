// Turns a Kubernetes Pod object into the agent's PodInfo: requests and limits as numbers, QoS, container restarts
// and OOM kills, the workload at the top of the owner chain, and the ML identity (training job, pipeline run, Ray
// cluster, served model). Pure: the source fetches owners and hands them in through an OwnerLookup.
import type { V1Container, V1ContainerStatus, V1OwnerReference, V1Pod } from '@kubernetes/client-node';
import { tryParseQuantity } from '../../core/units.ts';
import type { ContainerSpec, PodInfo, ResourceAmounts, WorkloadRef } from '../samples.ts';
import { isGpuResourceName } from './gpu-device-id.ts';

/** Owners the source may fetch to climb one step further: ReplicaSet → Deployment, Job → CronJob. */
export type FetchableOwnerKind = 'ReplicaSet' | 'Job';

export interface OwnerKey {
  kind: FetchableOwnerKind;
  namespace: string;
  name: string;
}

/**
 * The ownerReferences of a ReplicaSet or Job, when the caller knows them (an empty array: it has no owner).
 * Undefined means "not known" (not fetched, forbidden, gone): the pod's own labels then decide.
 */
export type OwnerLookup = (key: OwnerKey) => V1OwnerReference[] | undefined;

export interface PodInfoOptions {
  /** Extended resources to count as GPUs besides `nvidia.com/gpu`, `nvidia.com/gpu.shared`, `nvidia.com/mig-*`. */
  extraGpuResources?: readonly string[];
}

/** The owner reference that controls an object: the one marked `controller`, else the first. */
export function controllerOf(refs: readonly V1OwnerReference[] | undefined): V1OwnerReference | undefined {
  if (!refs || refs.length === 0) return undefined;
  return refs.find((ref) => ref.controller) ?? refs[0];
}

/** The API group of an apiVersion: `apps/v1` → `apps`, core `v1` → ``. */
function groupOf(apiVersion: string | undefined): string {
  const slash = apiVersion?.indexOf('/') ?? -1;
  return slash < 0 ? '' : apiVersion!.slice(0, slash);
}

/** The ReplicaSet or Job that controls this pod, when the workload lies one step above it. */
export function ownerToFetch(pod: V1Pod): OwnerKey | undefined {
  const ref = controllerOf(pod.metadata?.ownerReferences);
  const namespace = pod.metadata?.namespace;
  if (!ref || !namespace) return undefined;
  if (ref.kind === 'ReplicaSet' && groupOf(ref.apiVersion) === 'apps') {
    return { kind: 'ReplicaSet', namespace, name: ref.name };
  }
  if (ref.kind === 'Job' && groupOf(ref.apiVersion) === 'batch') {
    return { kind: 'Job', namespace, name: ref.name };
  }
  return undefined;
}

/**
 * The workload a pod belongs to: ReplicaSet → its Deployment (by the ReplicaSet's owner, or failing that by the
 * `pod-template-hash` naming rule), Job → its CronJob, and any other controller (StatefulSet, DaemonSet, a
 * PyTorchJob, a RayCluster) as it stands. Undefined for a pod nothing controls.
 */
export function resolveWorkload(pod: V1Pod, lookup?: OwnerLookup): WorkloadRef | undefined {
  const ref = controllerOf(pod.metadata?.ownerReferences);
  if (!ref) return undefined;
  const key = ownerToFetch(pod);
  if (!key) return { kind: ref.kind, name: ref.name };

  const owners = lookup?.(key);
  if (owners) {
    const above = controllerOf(owners);
    return above ? { kind: above.kind, name: above.name } : { kind: key.kind, name: key.name };
  }
  if (key.kind === 'ReplicaSet') {
    // A Deployment names its ReplicaSets `<deployment>-<pod-template-hash>` and stamps the hash on their pods.
    const hash = pod.metadata?.labels?.['pod-template-hash'];
    if (hash && key.name.length > hash.length + 1 && key.name.endsWith(`-${hash}`)) {
      return { kind: 'Deployment', name: key.name.slice(0, -(hash.length + 1)) };
    }
  }
  return { kind: key.kind, name: key.name };
}

const TRAINING_KINDS: Record<string, string> = {
  pytorchjob: 'PyTorchJob',
  tfjob: 'TFJob',
  mpijob: 'MPIJob',
  xgboostjob: 'XGBoostJob',
  jaxjob: 'JAXJob',
  paddlejob: 'PaddleJob',
};

/** `pytorchjob-controller` → PyTorchJob, `mpi-operator` → MPIJob; unknown operators give a generic kind. */
function trainingKindOf(operatorName: string | undefined): string {
  const base = (operatorName ?? '').toLowerCase().replace(/-(controller|operator)$/, '');
  return TRAINING_KINDS[base] ?? TRAINING_KINDS[`${base}job`] ?? 'TrainingJob';
}

export interface MlIdentity {
  mlJob?: WorkloadRef;
  servedModel?: WorkloadRef;
}

/**
 * What the pod is doing for ML, from the labels and owners the operators set: a Kubeflow training job, a TrainJob
 * (Kubeflow Trainer on JobSet), a plain JobSet, a Kubeflow Pipelines run or a Ray job/cluster (`mlJob`); a KServe
 * InferenceService, a Knative service or a RayService (`servedModel`).
 */
export function resolveMlIdentity(pod: V1Pod): MlIdentity {
  const labels = pod.metadata?.labels ?? {};
  const out: MlIdentity = {};
  const mlJob = trainingJobOf(pod, labels) ?? pipelineRunOf(labels) ?? rayJobOf(labels);
  if (mlJob) out.mlJob = mlJob;
  const servedModel = servedModelOf(labels);
  if (servedModel) out.servedModel = servedModel;
  return out;
}

function pipelineRunOf(labels: Record<string, string>): WorkloadRef | undefined {
  const runId = labels['pipeline/runid'];
  return runId ? { kind: 'PipelineRun', name: runId } : undefined;
}

function rayJobOf(labels: Record<string, string>): WorkloadRef | undefined {
  // KubeRay labels what a RayJob or RayService created with the custom resource it came from.
  const crd = labels['ray.io/originated-from-crd'];
  const cr = labels['ray.io/originated-from-cr-name'];
  if (crd === 'RayJob' && cr) return { kind: 'RayJob', name: cr };
  if (crd === 'RayService') return undefined;
  const cluster = labels['ray.io/cluster'];
  return cluster ? { kind: 'RayCluster', name: cluster } : undefined;
}

function servedModelOf(labels: Record<string, string>): WorkloadRef | undefined {
  // KServe in serverless mode runs on Knative: the InferenceService is the name people know, so it wins.
  const isvc = labels['serving.kserve.io/inferenceservice'];
  if (isvc) return { kind: 'InferenceService', name: isvc };
  const rayService = labels['ray.io/originated-from-cr-name'];
  if (labels['ray.io/originated-from-crd'] === 'RayService' && rayService) {
    return { kind: 'RayService', name: rayService };
  }
  const knative = labels['serving.knative.dev/service'];
  if (knative) return { kind: 'KnativeService', name: knative };
  const revision = labels['serving.knative.dev/revision'];
  return revision ? { kind: 'KnativeRevision', name: revision } : undefined;
}

function trainingJobOf(pod: V1Pod, labels: Record<string, string>): WorkloadRef | undefined {
  for (const ref of pod.metadata?.ownerReferences ?? []) {
    const kind = TRAINING_KINDS[ref.kind.toLowerCase()];
    if (kind && groupOf(ref.apiVersion) === 'kubeflow.org') return { kind, name: ref.name };
  }
  const jobName = labels['training.kubeflow.org/job-name'];
  if (jobName) return { kind: trainingKindOf(labels['training.kubeflow.org/operator-name']), name: jobName };
  // Labels of training-operator releases before 1.0.
  if (labels['pytorch-job-name']) return { kind: 'PyTorchJob', name: labels['pytorch-job-name'] };
  if (labels['tf-job-name']) return { kind: 'TFJob', name: labels['tf-job-name'] };

  const jobSet = labels['jobset.sigs.k8s.io/jobset-name'];
  if (jobSet) {
    // Kubeflow Trainer names the JobSet after its TrainJob and labels the runtime's steps `trainer.kubeflow.org/…`.
    const fromTrainer = Object.keys(labels).some((key) => key.startsWith('trainer.kubeflow.org/'));
    return { kind: fromTrainer ? 'TrainJob' : 'JobSet', name: jobSet };
  }
  return undefined;
}

/** Orders GPU resources when a container asks for more than one: whole GPUs first, then shared, then MIG slices. */
function gpuResourceRank(name: string): number {
  if (name === 'nvidia.com/gpu') return 0;
  if (name === 'nvidia.com/gpu.shared') return 1;
  return 2;
}

/** Parses one `requests` or `limits` map: cpu, memory, and the GPU-like resource with a non-zero amount. */
export function parseResourceAmounts(
  resources: Record<string, string> | undefined,
  extraGpuResources: readonly string[] = [],
): ResourceAmounts {
  const out: ResourceAmounts = {};
  if (!resources) return out;
  const cpu = tryParseQuantity(resources['cpu']);
  if (cpu !== undefined) out.cpuCores = cpu;
  const memory = tryParseQuantity(resources['memory']);
  if (memory !== undefined) out.memoryBytes = memory;
  const gpuNames = Object.keys(resources)
    .filter(
      (name) => isGpuResourceName(name, extraGpuResources) && (tryParseQuantity(resources[name]) ?? 0) > 0,
    )
    // Code-point order, not localeCompare: resource names are ASCII, and collation would page in ICU's data
    // (several MiB of the agent's resident memory) for nothing.
    .sort((a, b) => gpuResourceRank(a) - gpuResourceRank(b) || (a < b ? -1 : a > b ? 1 : 0));
  const gpuResource = gpuNames[0];
  if (gpuResource) {
    out.gpuResource = gpuResource;
    out.gpus = tryParseQuantity(resources[gpuResource])!;
  }
  return out;
}

function containerSpec(container: V1Container, extraGpuResources: readonly string[]): ContainerSpec {
  const requests = parseResourceAmounts(container.resources?.requests, extraGpuResources);
  const limits = parseResourceAmounts(container.resources?.limits, extraGpuResources);
  // A limit without a request means request = limit (API defaulting; extended resources must match anyway).
  if (requests.cpuCores === undefined && limits.cpuCores !== undefined) requests.cpuCores = limits.cpuCores;
  if (requests.memoryBytes === undefined && limits.memoryBytes !== undefined) {
    requests.memoryBytes = limits.memoryBytes;
  }
  if (requests.gpus === undefined && limits.gpus !== undefined) {
    requests.gpus = limits.gpus;
    requests.gpuResource = limits.gpuResource!;
  }
  const spec: ContainerSpec = { name: container.name, requests, limits };
  const ports = (container.ports ?? []).map((port) => port.containerPort).filter((port) => port > 0);
  if (ports.length > 0) spec.ports = ports;
  return spec;
}

/**
 * Containers that run for the pod's whole life: the regular ones and sidecars (init containers with
 * `restartPolicy: Always`). Plain init containers run to completion before the others and hold nothing after.
 */
export function containerSpecs(pod: V1Pod, extraGpuResources: readonly string[] = []): ContainerSpec[] {
  const sidecars = (pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always');
  return [...sidecars, ...(pod.spec?.containers ?? [])].map((c) => containerSpec(c, extraGpuResources));
}

/** QoS class as the kubelet derives it from cpu and memory requests and limits, for pods whose status lacks it. */
export function qosClassOf(pod: V1Pod): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  const all = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  let anySet = false;
  let guaranteed = all.length > 0;
  for (const container of all) {
    const requests = container.resources?.requests ?? {};
    const limits = container.resources?.limits ?? {};
    for (const name of ['cpu', 'memory']) {
      const request = tryParseQuantity(requests[name]);
      const limit = tryParseQuantity(limits[name]);
      if (request !== undefined || limit !== undefined) anySet = true;
      if (limit === undefined || (request !== undefined && request !== limit)) guaranteed = false;
    }
  }
  if (!anySet) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

/** Restarts and the last termination reason (`OOMKilled`, `Error`, `Completed`) per container. */
export function containerStatusOf(
  pod: V1Pod,
): Record<string, { restarts: number; lastTerminationReason?: string }> | undefined {
  const statuses: V1ContainerStatus[] = [
    ...(pod.status?.initContainerStatuses ?? []),
    ...(pod.status?.containerStatuses ?? []),
  ];
  if (statuses.length === 0) return undefined;
  const out: Record<string, { restarts: number; lastTerminationReason?: string }> = {};
  for (const status of statuses) {
    const entry: { restarts: number; lastTerminationReason?: string } = {
      restarts: status.restartCount ?? 0,
    };
    // A container terminated now (a Job pod OOMKilled with restartPolicy Never) reports it in `state`; one that
    // was restarted after dying reports the death in `lastState`.
    const reason = status.state?.terminated?.reason ?? status.lastState?.terminated?.reason;
    if (reason) entry.lastTerminationReason = reason;
    out[status.name] = entry;
  }
  return out;
}

/** Annotations that can be large and say nothing about cost: not worth shipping every window. */
const DROPPED_ANNOTATIONS = ['kubectl.kubernetes.io/last-applied-configuration'];

/** Converts a Pod (API JSON or a client-node V1Pod) into PodInfo. */
export function toPodInfo(pod: V1Pod, ownerLookup?: OwnerLookup, options: PodInfoOptions = {}): PodInfo {
  const metadata = pod.metadata ?? {};
  const annotations = { ...(metadata.annotations ?? {}) };
  for (const key of DROPPED_ANNOTATIONS) delete annotations[key];
  const info: PodInfo = {
    uid: metadata.uid ?? '',
    namespace: metadata.namespace ?? '',
    name: metadata.name ?? '',
    labels: { ...(metadata.labels ?? {}) },
    annotations,
    containers: containerSpecs(pod, options.extraGpuResources),
  };
  if (pod.spec?.nodeName) info.nodeName = pod.spec.nodeName;
  if (pod.status?.phase) info.phase = pod.status.phase;
  info.qosClass = pod.status?.qosClass ?? qosClassOf(pod);
  if (pod.status?.podIP) info.podIP = pod.status.podIP;
  const workload = resolveWorkload(pod, ownerLookup);
  if (workload) info.workload = workload;
  const { mlJob, servedModel } = resolveMlIdentity(pod);
  if (mlJob) info.mlJob = mlJob;
  if (servedModel) info.servedModel = servedModel;
  const containerStatus = containerStatusOf(pod);
  if (containerStatus) info.containerStatus = containerStatus;
  return info;
}
