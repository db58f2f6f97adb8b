import type { V1Node, V1OwnerReference, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { describeNodeCostLabels } from '../../core/node-labels.ts';
import { nodeSampleOf } from './node-labels.ts';
import {
  type OwnerKey,
  parseResourceAmounts,
  qosClassOf,
  resolveMlIdentity,
  toPodInfo,
} from './pod-identity.ts';

function owner(apiVersion: string, kind: string, name: string, controller = true): V1OwnerReference {
  return { apiVersion, kind, name, uid: `uid-${name}`, controller };
}

function pod(overrides: {
  name?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  owners?: V1OwnerReference[];
  containers?: NonNullable<V1Pod['spec']>['containers'];
  initContainers?: NonNullable<V1Pod['spec']>['initContainers'];
  status?: V1Pod['status'];
}): V1Pod {
  return {
    metadata: {
      name: overrides.name ?? 'p-0',
      namespace: 'team-a',
      uid: '4b7f3c1e-0000-4000-8000-000000000001',
      labels: overrides.labels ?? {},
      annotations: overrides.annotations ?? {},
      ownerReferences: overrides.owners ?? [],
    },
    spec: {
      nodeName: 'gpu-node-1',
      containers: overrides.containers ?? [{ name: 'main' }],
      initContainers: overrides.initContainers ?? [],
    },
    status: overrides.status ?? { phase: 'Running' },
  };
}

/** An OwnerLookup over a fixed table, recording what was asked. */
function lookupFrom(table: Record<string, V1OwnerReference[]>) {
  const asked: OwnerKey[] = [];
  const lookup = (key: OwnerKey) => {
    asked.push(key);
    return table[`${key.kind}/${key.namespace}/${key.name}`];
  };
  return { lookup, asked };
}

describe('toPodInfo: owner chain', () => {
  const rsPod = (labels: Record<string, string> = { 'pod-template-hash': '6d4cf56db6' }) =>
    pod({ labels, owners: [owner('apps/v1', 'ReplicaSet', 'api-6d4cf56db6')] });

  it('climbs ReplicaSet → Deployment through the ReplicaSet it was handed', () => {
    const { lookup, asked } = lookupFrom({
      'ReplicaSet/team-a/api-6d4cf56db6': [owner('apps/v1', 'Deployment', 'api-server')],
    });
    expect(toPodInfo(rsPod(), lookup).workload).toEqual({ kind: 'Deployment', name: 'api-server' });
    expect(asked).toEqual([{ kind: 'ReplicaSet', namespace: 'team-a', name: 'api-6d4cf56db6' }]);
  });

  it('keeps a ReplicaSet that nothing owns, and names another controller (an Argo Rollout) as it is', () => {
    expect(
      toPodInfo(rsPod(), lookupFrom({ 'ReplicaSet/team-a/api-6d4cf56db6': [] }).lookup).workload,
    ).toEqual({
      kind: 'ReplicaSet',
      name: 'api-6d4cf56db6',
    });
    const rollout = lookupFrom({
      'ReplicaSet/team-a/api-6d4cf56db6': [owner('argoproj.io/v1alpha1', 'Rollout', 'api')],
    });
    expect(toPodInfo(rsPod(), rollout.lookup).workload).toEqual({ kind: 'Rollout', name: 'api' });
  });

  it('falls back to the pod-template-hash naming rule when the ReplicaSet is unknown', () => {
    expect(toPodInfo(rsPod()).workload).toEqual({ kind: 'Deployment', name: 'api' });
    // Without the hash label (or with one that is not the suffix) it stays a ReplicaSet.
    expect(toPodInfo(rsPod({})).workload).toEqual({ kind: 'ReplicaSet', name: 'api-6d4cf56db6' });
    expect(toPodInfo(rsPod({ 'pod-template-hash': 'zzz' })).workload).toEqual({
      kind: 'ReplicaSet',
      name: 'api-6d4cf56db6',
    });
  });

  it('climbs Job → CronJob, and keeps a Job with no owner or owned by a JobSet', () => {
    const jobPod = pod({ owners: [owner('batch/v1', 'Job', 'backup-29012345')] });
    const cron = lookupFrom({ 'Job/team-a/backup-29012345': [owner('batch/v1', 'CronJob', 'backup')] });
    expect(toPodInfo(jobPod, cron.lookup).workload).toEqual({ kind: 'CronJob', name: 'backup' });
    expect(toPodInfo(jobPod).workload).toEqual({ kind: 'Job', name: 'backup-29012345' });
    const jobSet = lookupFrom({
      'Job/team-a/backup-29012345': [owner('jobset.x-k8s.io/v1alpha2', 'JobSet', 'backup-set')],
    });
    expect(toPodInfo(jobPod, jobSet.lookup).workload).toEqual({ kind: 'JobSet', name: 'backup-set' });
  });

  it('takes StatefulSet, DaemonSet and custom controllers as they stand, picking the controller reference', () => {
    expect(toPodInfo(pod({ owners: [owner('apps/v1', 'StatefulSet', 'pg')] })).workload).toEqual({
      kind: 'StatefulSet',
      name: 'pg',
    });
    expect(toPodInfo(pod({ owners: [owner('apps/v1', 'DaemonSet', 'dcgm-exporter')] })).workload).toEqual({
      kind: 'DaemonSet',
      name: 'dcgm-exporter',
    });
    const twoOwners = pod({
      owners: [owner('v1', 'ConfigMap', 'not-me', false), owner('ray.io/v1', 'RayCluster', 'rc-1')],
    });
    expect(toPodInfo(twoOwners).workload).toEqual({ kind: 'RayCluster', name: 'rc-1' });
    // A ReplicaSet kind from some other API group is not looked up.
    const { lookup, asked } = lookupFrom({});
    toPodInfo(pod({ owners: [owner('example.com/v1', 'ReplicaSet', 'x')] }), lookup);
    expect(asked).toEqual([]);
  });

  it('gives no workload to a bare pod', () => {
    expect(toPodInfo(pod({})).workload).toBeUndefined();
  });
});

describe('toPodInfo: ML identity', () => {
  const ml = (labels: Record<string, string>, owners: V1OwnerReference[] = []) =>
    resolveMlIdentity(pod({ labels, owners }));

  it('reads Kubeflow training jobs from their labels, for every operator', () => {
    const cases: Array<[string, string]> = [
      ['pytorchjob-controller', 'PyTorchJob'],
      ['tfjob-controller', 'TFJob'],
      ['mpijob-controller', 'MPIJob'],
      ['mpi-operator', 'MPIJob'],
      ['xgboostjob-controller', 'XGBoostJob'],
      ['jaxjob-controller', 'JAXJob'],
      ['paddlejob-controller', 'PaddleJob'],
      ['ascendjob-controller', 'TrainingJob'],
    ];
    for (const [operator, kind] of cases) {
      expect(
        ml({ 'training.kubeflow.org/job-name': 'llama-ft', 'training.kubeflow.org/operator-name': operator }),
      ).toEqual({ mlJob: { kind, name: 'llama-ft' } });
    }
  });

  it('reads a training job from its owner reference when labels are missing', () => {
    expect(ml({}, [owner('kubeflow.org/v1', 'TFJob', 'resnet')])).toEqual({
      mlJob: { kind: 'TFJob', name: 'resnet' },
    });
    // The same kind from another group is not Kubeflow's.
    expect(ml({}, [owner('example.com/v1', 'TFJob', 'resnet')])).toEqual({});
  });

  it('tells a Kubeflow TrainJob from a plain JobSet', () => {
    expect(
      ml({
        'jobset.sigs.k8s.io/jobset-name': 'qwen-sft',
        'jobset.sigs.k8s.io/replicatedjob-name': 'node',
        'trainer.kubeflow.org/trainjob-ancestor-step': 'trainer',
      }),
    ).toEqual({ mlJob: { kind: 'TrainJob', name: 'qwen-sft' } });
    expect(ml({ 'jobset.sigs.k8s.io/jobset-name': 'tpu-run' })).toEqual({
      mlJob: { kind: 'JobSet', name: 'tpu-run' },
    });
  });

  it('reads pipeline runs and Ray', () => {
    expect(ml({ 'pipeline/runid': '3f1e0c2a-7b4d' })).toEqual({
      mlJob: { kind: 'PipelineRun', name: '3f1e0c2a-7b4d' },
    });
    expect(ml({ 'ray.io/cluster': 'rc-gpu', 'ray.io/node-type': 'worker' })).toEqual({
      mlJob: { kind: 'RayCluster', name: 'rc-gpu' },
    });
    expect(
      ml({
        'ray.io/cluster': 'batch-raycluster-x7k2p',
        'ray.io/originated-from-crd': 'RayJob',
        'ray.io/originated-from-cr-name': 'batch',
      }),
    ).toEqual({ mlJob: { kind: 'RayJob', name: 'batch' } });
    expect(
      ml({
        'ray.io/cluster': 'llm-raycluster-9zq',
        'ray.io/originated-from-crd': 'RayService',
        'ray.io/originated-from-cr-name': 'llm',
      }),
    ).toEqual({ servedModel: { kind: 'RayService', name: 'llm' } });
  });

  it('reads served models: KServe wins over the Knative labels it also carries', () => {
    expect(
      ml({
        'serving.kserve.io/inferenceservice': 'sklearn-iris',
        'serving.knative.dev/service': 'sklearn-iris-predictor',
        'serving.knative.dev/revision': 'sklearn-iris-predictor-00001',
      }),
    ).toEqual({ servedModel: { kind: 'InferenceService', name: 'sklearn-iris' } });
    expect(ml({ 'serving.knative.dev/service': 'embedder' })).toEqual({
      servedModel: { kind: 'KnativeService', name: 'embedder' },
    });
    expect(ml({ 'serving.knative.dev/revision': 'embedder-00003' })).toEqual({
      servedModel: { kind: 'KnativeRevision', name: 'embedder-00003' },
    });
  });

  it('prefers the training job over the pipeline run that launched it', () => {
    expect(
      ml({
        'pipeline/runid': 'run-1',
        'training.kubeflow.org/job-name': 'tune',
        'training.kubeflow.org/operator-name': 'pytorchjob-controller',
      }),
    ).toEqual({ mlJob: { kind: 'PyTorchJob', name: 'tune' } });
  });
});

describe('toPodInfo: resources, QoS and status', () => {
  it('parses cpu, memory and each kind of GPU resource', () => {
    expect(parseResourceAmounts({ cpu: '250m', memory: '512Mi', 'nvidia.com/mig-1g.10gb': '1' })).toEqual({
      cpuCores: 0.25,
      memoryBytes: 512 * 2 ** 20,
      gpus: 1,
      gpuResource: 'nvidia.com/mig-1g.10gb',
    });
    expect(parseResourceAmounts({ 'nvidia.com/gpu.shared': '2' })).toEqual({
      gpus: 2,
      gpuResource: 'nvidia.com/gpu.shared',
    });
    // Whole GPUs win when a container asks for more than one GPU resource; zero amounts do not count.
    expect(parseResourceAmounts({ 'nvidia.com/mig-3g.40gb': '1', 'nvidia.com/gpu': '4' })).toMatchObject({
      gpus: 4,
      gpuResource: 'nvidia.com/gpu',
    });
    expect(parseResourceAmounts({ 'nvidia.com/gpu': '0', cpu: '1' })).toEqual({ cpuCores: 1 });
    expect(parseResourceAmounts({ 'amd.com/gpu': '1' }, ['amd.com/gpu'])).toEqual({
      gpus: 1,
      gpuResource: 'amd.com/gpu',
    });
    expect(parseResourceAmounts({ cpu: 'lots', memory: '1G' })).toEqual({ memoryBytes: 1e9 });
  });

  it('defaults requests to limits, keeps sidecars and leaves plain init containers out', () => {
    const info = toPodInfo(
      pod({
        initContainers: [
          { name: 'download-weights', resources: { requests: { cpu: '4' } } },
          {
            name: 'log-shipper',
            restartPolicy: 'Always',
            resources: { requests: { cpu: '100m', memory: '64Mi' } },
          },
        ],
        containers: [
          {
            name: 'vllm',
            ports: [{ containerPort: 8000 }, { containerPort: 8080 }],
            resources: { limits: { cpu: '8', memory: '48Gi', 'nvidia.com/gpu': '1' } },
          },
        ],
      }),
    );
    expect(info.containers).toEqual([
      { name: 'log-shipper', requests: { cpuCores: 0.1, memoryBytes: 64 * 2 ** 20 }, limits: {} },
      {
        name: 'vllm',
        ports: [8000, 8080],
        requests: { cpuCores: 8, memoryBytes: 48 * 2 ** 30, gpus: 1, gpuResource: 'nvidia.com/gpu' },
        limits: { cpuCores: 8, memoryBytes: 48 * 2 ** 30, gpus: 1, gpuResource: 'nvidia.com/gpu' },
      },
    ]);
  });

  it('uses the QoS class in the status, and derives it when absent', () => {
    const guaranteed = pod({
      containers: [{ name: 'a', resources: { limits: { cpu: '2', memory: '4Gi' } } }],
      status: {},
    });
    expect(qosClassOf(guaranteed)).toBe('Guaranteed');
    expect(toPodInfo(guaranteed).qosClass).toBe('Guaranteed');
    const burstable = pod({
      containers: [{ name: 'a', resources: { requests: { cpu: '1' }, limits: { cpu: '2', memory: '4Gi' } } }],
    });
    expect(qosClassOf(burstable)).toBe('Burstable');
    expect(
      qosClassOf(pod({ containers: [{ name: 'a', resources: { limits: { 'nvidia.com/gpu': '1' } } }] })),
    ).toBe('BestEffort');
    expect(toPodInfo(pod({ status: { qosClass: 'Burstable' } })).qosClass).toBe('Burstable');
  });

  it('reports restarts and OOM kills, current or last', () => {
    const info = toPodInfo(
      pod({
        status: {
          phase: 'Running',
          podIP: '10.8.3.21',
          containerStatuses: [
            {
              name: 'trainer',
              restartCount: 3,
              image: 'x',
              imageID: 'x',
              ready: true,
              state: { running: {} },
              lastState: { terminated: { exitCode: 137, reason: 'OOMKilled' } },
            },
            {
              name: 'once',
              restartCount: 0,
              image: 'x',
              imageID: 'x',
              ready: false,
              state: { terminated: { exitCode: 137, reason: 'OOMKilled' } },
            },
            { name: 'fine', restartCount: 0, image: 'x', imageID: 'x', ready: true, state: { running: {} } },
          ],
        },
      }),
    );
    expect(info.containerStatus).toEqual({
      trainer: { restarts: 3, lastTerminationReason: 'OOMKilled' },
      once: { restarts: 0, lastTerminationReason: 'OOMKilled' },
      fine: { restarts: 0 },
    });
    expect(info).toMatchObject({ phase: 'Running', podIP: '10.8.3.21', nodeName: 'gpu-node-1' });
  });

  it('passes labels and annotations through, except the large last-applied-configuration', () => {
    const info = toPodInfo(
      pod({
        labels: { team: 'search' },
        annotations: {
          'kubectl.kubernetes.io/last-applied-configuration': '{"huge":true}',
          'mlcost.io/owner': 'x',
        },
      }),
    );
    expect(info.labels).toEqual({ team: 'search' });
    expect(info.annotations).toEqual({ 'mlcost.io/owner': 'x' });
    expect(info.uid).toBe('4b7f3c1e-0000-4000-8000-000000000001');
  });
});

describe('describeNodeCostLabels', () => {
  it('normalises every provider capacity type', () => {
    const capacity = (labels: Record<string, string>) => describeNodeCostLabels(labels).capacityType;
    expect(capacity({ 'karpenter.sh/capacity-type': 'spot' })).toBe('spot');
    expect(capacity({ 'karpenter.sh/capacity-type': 'reserved' })).toBe('reserved');
    expect(capacity({ 'eks.amazonaws.com/capacityType': 'ON_DEMAND' })).toBe('on-demand');
    expect(capacity({ 'eks.amazonaws.com/capacityType': 'SPOT' })).toBe('spot');
    expect(capacity({ 'eks.amazonaws.com/capacityType': 'CAPACITY_BLOCK' })).toBe('reserved');
    expect(capacity({ 'cloud.google.com/gke-nodepool': 'gpu', 'cloud.google.com/gke-spot': 'true' })).toBe(
      'spot',
    );
    expect(
      capacity({ 'cloud.google.com/gke-nodepool': 'old', 'cloud.google.com/gke-preemptible': 'true' }),
    ).toBe('spot');
    expect(capacity({ 'cloud.google.com/gke-nodepool': 'default-pool' })).toBe('on-demand');
    expect(
      capacity({ 'kubernetes.azure.com/agentpool': 'gpu', 'kubernetes.azure.com/scalesetpriority': 'spot' }),
    ).toBe('spot');
    expect(capacity({ 'kubernetes.azure.com/agentpool': 'system' })).toBe('on-demand');
    expect(capacity({ 'kubernetes.io/hostname': 'bare-metal-1' })).toBeUndefined();
  });

  it('reads instance type, place and pool, with the legacy beta labels as fallback', () => {
    expect(
      describeNodeCostLabels({
        'node.kubernetes.io/instance-type': 'g5.12xlarge',
        'topology.kubernetes.io/region': 'us-east-1',
        'topology.kubernetes.io/zone': 'us-east-1a',
        'eks.amazonaws.com/nodegroup': 'gpu-ng',
        'eks.amazonaws.com/capacityType': 'ON_DEMAND',
      }),
    ).toEqual({
      instanceType: 'g5.12xlarge',
      region: 'us-east-1',
      zone: 'us-east-1a',
      nodePool: 'gpu-ng',
      capacityType: 'on-demand',
    });
    expect(
      describeNodeCostLabels({
        'beta.kubernetes.io/instance-type': 'n1-standard-4',
        'failure-domain.beta.kubernetes.io/region': 'europe-west4',
        'failure-domain.beta.kubernetes.io/zone': 'europe-west4-a',
      }),
    ).toEqual({ instanceType: 'n1-standard-4', region: 'europe-west4', zone: 'europe-west4-a' });
  });

  it('reads GPU Feature Discovery labels: product, model, count, memory, MIG and sharing', () => {
    expect(
      describeNodeCostLabels({
        'nvidia.com/gpu.product': 'NVIDIA-A100-SXM4-80GB-SHARED',
        'nvidia.com/gpu.count': '8',
        'nvidia.com/gpu.memory': '81920',
        'nvidia.com/gpu.family': 'ampere',
        'nvidia.com/mig.strategy': 'none',
        'nvidia.com/gpu.sharing-strategy': 'time-slicing',
        'nvidia.com/gpu.replicas': '4',
      }).gpu,
    ).toEqual({
      product: 'NVIDIA-A100-SXM4-80GB-SHARED',
      model: 'NVIDIA-A100-SXM4-80GB',
      count: 8,
      memoryBytes: 81920 * 2 ** 20,
      family: 'ampere',
      migStrategy: 'none',
      sharingStrategy: 'time-slicing',
      replicas: 4,
    });
    expect(
      describeNodeCostLabels({
        'nvidia.com/gpu.product': 'A100-SXM4-40GB-MIG-1g.5gb',
        'nvidia.com/mig.strategy': 'single',
      }).gpu,
    ).toEqual({ product: 'A100-SXM4-40GB-MIG-1g.5gb', model: 'A100-SXM4-40GB', migStrategy: 'single' });
  });

  it("reads GKE's and Karpenter's GPU labels when GFD is absent", () => {
    expect(
      describeNodeCostLabels({
        'cloud.google.com/gke-accelerator': 'nvidia-l4',
        'cloud.google.com/gke-gpu-sharing-strategy': 'time-sharing',
        'cloud.google.com/gke-max-shared-clients-per-gpu': '3',
        'cloud.google.com/gke-gpu-partition-size': '1g.5gb',
      }).gpu,
    ).toEqual({
      product: 'nvidia-l4',
      model: 'nvidia-l4',
      sharingStrategy: 'time-sharing',
      replicas: 3,
      partitionSize: '1g.5gb',
    });
    expect(
      describeNodeCostLabels({
        'karpenter.k8s.aws/instance-gpu-name': 'h100',
        'karpenter.k8s.aws/instance-gpu-count': '8',
        'karpenter.k8s.aws/instance-gpu-memory': '81920',
      }).gpu,
    ).toEqual({ product: 'h100', model: 'h100', count: 8, memoryBytes: 81920 * 2 ** 20 });
  });
});

describe('nodeSampleOf', () => {
  const node = (
    labels: Record<string, string>,
    capacity: Record<string, string>,
    allocatable = capacity,
  ): V1Node => ({
    metadata: { name: 'n', labels },
    status: { capacity, allocatable },
  });

  it('divides time-sliced GPU capacity back into physical GPUs', () => {
    const sample = nodeSampleOf(
      node(
        {
          'nvidia.com/gpu.sharing-strategy': 'time-slicing',
          'nvidia.com/gpu.replicas': '4',
        },
        { cpu: '48', memory: '192Gi', 'nvidia.com/gpu': '16' },
      ),
    );
    expect(sample).toMatchObject({
      cpuCores: 48,
      memoryBytes: 192 * 2 ** 30,
      gpus: 4,
      allocatable: { cpuCores: 48, memoryBytes: 192 * 2 ** 30, gpus: 16 },
    });
  });

  it('does not count MIG devices as boards under the single strategy', () => {
    const sample = nodeSampleOf(
      node(
        { 'nvidia.com/mig.strategy': 'single', 'nvidia.com/gpu.count': '7' },
        { cpu: '8', memory: '64Gi', 'nvidia.com/gpu': '7' },
      ),
    );
    expect(sample.gpus).toBeUndefined();
    expect(sample.allocatable?.gpus).toBe(7);
  });

  it('counts plain GPU capacity, and leaves gpus out on a CPU node', () => {
    expect(nodeSampleOf(node({}, { cpu: '8', memory: '32Gi', 'nvidia.com/gpu': '2' })).gpus).toBe(2);
    const cpuOnly = nodeSampleOf(node({ a: 'b' }, { cpu: '8', memory: '32Gi' }));
    expect(cpuOnly).toEqual({
      cpuCores: 8,
      memoryBytes: 32 * 2 ** 30,
      allocatable: { cpuCores: 8, memoryBytes: 32 * 2 ** 30 },
      labels: { a: 'b' },
    });
  });
});
