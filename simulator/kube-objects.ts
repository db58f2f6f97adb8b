// The Kubernetes objects of the simulated cluster as the API server returns them (JSON of v1 Pod, Node, Namespace,
// apps/v1 ReplicaSet, batch/v1 Job), at a given simulated time. Only what changes over time changes: a pod's
// restart count and last termination (the leaking service's OOM kills); everything else is fixed for the pod.

import { containerStartedAt, restartsAt } from './behaviour.ts';
import type { SimNode } from './cluster.ts';
import { type PodInstance, qosClassOf } from './pods.ts';
import { slotOf } from './schedule.ts';

/** A node's creation: every simulated node has existed since 2024-01-01. */
export const NODE_CREATED = Date.parse('2024-01-01T00:00:00Z');

export type KubeObject = { apiVersion: string; kind: string; metadata: Record<string, unknown> } & Record<
  string,
  unknown
>;

const iso = (t: number) => new Date(Math.floor(t / 1000) * 1000).toISOString().replace('.000Z', 'Z');

/** Where --serve lets the agent reach a pod's metrics: the pod IP and port it scrapes. */
export interface ServedEndpoint {
  podIP: string;
  metricsPort?: number;
}

/** A pod IP in the node's pod CIDR (10.<node>.x.y), for pods no one needs to reach. */
function podIpOf(pod: PodInstance): string {
  const n = pod.node.index;
  const k = pod.key;
  return `10.${64 + ((n >> 8) & 63)}.${n & 255}.${2 + (k % 250)}`;
}

export function podObject(pod: PodInstance, t: number, endpoint?: ServedEndpoint): KubeObject {
  const { seat } = pod;
  const slot = slotOf(t);
  const annotations: Record<string, string> = { ...pod.annotations };
  if (endpoint?.metricsPort !== undefined) {
    annotations['prometheus.io/scrape'] = 'true';
    annotations['prometheus.io/port'] = String(endpoint.metricsPort);
    annotations['prometheus.io/path'] = '/metrics';
  }
  const ownerReferences = [
    {
      apiVersion: pod.owner.apiVersion,
      kind: pod.owner.kind,
      name: pod.owner.name,
      uid: pod.owner.uid,
      controller: true,
      blockOwnerDeletion: true,
    },
  ];
  const containers = seat.containers.map((c) => ({
    name: c.name,
    image: c.image,
    resources: { requests: { ...c.requests }, limits: { ...c.limits } },
    ...(c.ports.length > 0
      ? { ports: c.ports.map((containerPort) => ({ containerPort, protocol: 'TCP' })) }
      : {}),
  }));
  const restarts = restartsAt(pod, slot);
  const startedAt = containerStartedAt(pod, slot);
  const containerStatuses = seat.containers.map((c) => ({
    name: c.name,
    image: c.image,
    ready: true,
    started: true,
    restartCount: restarts,
    state: { running: { startedAt: iso(startedAt) } },
    lastState:
      restarts > 0
        ? {
            terminated: {
              exitCode: 137,
              reason: 'OOMKilled',
              startedAt: iso(pod.run.start),
              finishedAt: iso(startedAt),
            },
          }
        : {},
    containerID: `containerd://${pod.uid.replace(/-/g, '')}${c.name.length}`,
  }));
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: pod.name,
      namespace: seat.namespace,
      uid: pod.uid,
      creationTimestamp: iso(pod.run.start),
      labels: { ...pod.labels },
      annotations,
      ownerReferences,
    },
    spec: {
      nodeName: pod.node.name,
      containers,
      restartPolicy: seat.controller === 'CronJob' || seat.controller === 'Job' ? 'Never' : 'Always',
      schedulerName: 'default-scheduler',
    },
    status: {
      phase: 'Running',
      hostIP: hostIpOf(pod.node),
      podIP: endpoint?.podIP ?? podIpOf(pod),
      startTime: iso(pod.run.start),
      qosClass: qosClassOf(seat.containers),
      containerStatuses,
    },
  };
}

export function hostIpOf(node: SimNode): string {
  return `10.0.${(node.index >> 8) & 255}.${node.index & 255}`;
}

export function nodeObject(node: SimNode): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: node.name,
      uid: `node-${node.key.toString(16).padStart(8, '0')}`,
      creationTimestamp: iso(NODE_CREATED),
      labels: { ...node.labels },
      annotations: { 'mlcost.io/simulated': 'true' },
    },
    spec: {
      providerID: `aws:///${node.zone}/i-0${node.key.toString(16).padStart(16, '0')}`,
      ...(node.capacityType === 'spot'
        ? { taints: [{ key: 'karpenter.sh/capacity-type', value: 'spot', effect: 'NoSchedule' }] }
        : {}),
    },
    status: {
      capacity: { ...node.capacity },
      allocatable: { ...node.allocatable },
      addresses: [
        { type: 'InternalIP', address: hostIpOf(node) },
        { type: 'Hostname', address: node.name },
      ],
      conditions: [
        { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' },
      ],
      nodeInfo: {
        kubeletVersion: 'v1.31.4',
        containerRuntimeVersion: 'containerd://1.7.23',
        osImage: 'Amazon Linux 2023',
        architecture: 'amd64',
        operatingSystem: 'linux',
      },
    },
  };
}

export function namespaceObject(name: string, team: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name,
      uid: `ns-${name}`,
      creationTimestamp: iso(NODE_CREATED),
      labels: { 'kubernetes.io/metadata.name': name, team, 'mlcost.io/simulated': 'true' },
    },
    spec: { finalizers: ['kubernetes'] },
    status: { phase: 'Active' },
  };
}

/** The pod's controller when the API serves it (ReplicaSet or Job), with its own owner. */
export function controllerObject(pod: PodInstance): KubeObject | undefined {
  const { owner, ownerOfOwner } = pod;
  if (owner.kind !== 'ReplicaSet' && owner.kind !== 'Job') return undefined;
  return {
    apiVersion: owner.apiVersion,
    kind: owner.kind,
    metadata: {
      name: owner.name,
      namespace: pod.seat.namespace,
      uid: owner.uid,
      creationTimestamp: iso(pod.run.start),
      labels: { ...pod.seat.labels },
      ownerReferences: ownerOfOwner ? [{ ...ownerOfOwner, controller: true, blockOwnerDeletion: true }] : [],
    },
  };
}
