// End to end on one scenario GPU node, with real servers and the real `mlcost` command as a child process:
//  - an API server (test/fakes/fake-apiserver.ts) that lists and watches this node's pods and serves its Node,
//    reached through a kubeconfig file with a bearer token;
//  - a kubelet over HTTPS with a self-signed certificate that checks the bearer token and serves
//    /stats/summary in the shape of the real GKE fixture, its counters moving 10 s per request;
//  - dcgm-exporter serving test/fixtures/derived/dcgm-node-scenario.txt (the real A100 MIG excerpt's shape: GPU 0
//    in MIG mode with slices 1g.5gb, 2g.10gb, 3g.20gb known by parent UUID + GPU_I_ID, plus whole GPUs 1-5);
//  - a gRPC pod-resources server on a unix socket that hands out GPU UUIDs and `MIG-…` ids;
//  - a vLLM and a Triton /metrics endpoint serving the real fixtures, then the same with counters moved on.
// `mlcost agent --once --print` must attribute every GPU and MIG slice to the pod holding it, join requests from
// the pod spec with usage from the kubelet, and put vLLM's tokens on vLLM's model and Triton's requests on
// Triton's models. `mlcost agent` with `mlcost collector` must get the node, its GPUs and holders to the collector.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContainerRecord, ModelRecord, UsageWindow } from '../core/protocol/batch.ts';
import { type FakeApiServer, type KubeObject, startFakeApiServer } from './fakes/fake-apiserver.ts';
import { type FakeKubelet, startFakeKubelet } from './fakes/fake-kubelet.ts';
import { type FakeModelServer, startFakeModelServer } from './fakes/fake-model-server.ts';
import { type FakePodResources, startFakePodResources } from './fakes/fake-pod-resources.ts';
import {
  cleanEnv,
  freePort,
  killAll,
  MlcostProcess,
  pollUntil,
  REPO_ROOT,
} from './support/mlcost-process.ts';

const NODE = 'gpu-node-1';
const API_TOKEN = 'api-server-token-for-the-agent';
const KUBELET_TOKEN = 'kubelet-token-for-the-agent';
const INGEST_TOKEN = 'ingest-token-0123456789abcdef';
const GI = 2 ** 30;

const fixture = (path: string) => readFileSync(join(REPO_ROOT, 'test', 'fixtures', path), 'utf8');

// ---- GPUs (as in test/fixtures/derived/dcgm-node-scenario.txt) ----

const MIG_PARENT = 'GPU-34319582-d595-d1c7-d1d2-179bcfa61660';
const GPU = {
  1: 'GPU-5c1e0a9b-7d2f-4e61-9b3a-1f2e3d4c5b01',
  2: 'GPU-5c1e0a9b-7d2f-4e61-9b3a-1f2e3d4c5b02',
  3: 'GPU-5c1e0a9b-7d2f-4e61-9b3a-1f2e3d4c5b03',
  4: 'GPU-5c1e0a9b-7d2f-4e61-9b3a-1f2e3d4c5b04',
  5: 'GPU-5c1e0a9b-7d2f-4e61-9b3a-1f2e3d4c5b05',
} as const;
/** The MIG devices' own UUIDs, as the device plugin hands them to the kubelet (dcgm-exporter does not show them). */
const MIG_1G = 'MIG-1f3e6a52-43a5-5d0b-9a1c-7d3c00000013';
const MIG_2G = 'MIG-1f3e6a52-43a5-5d0b-9a1c-7d3c00000005';

// ---- pods ----

interface PodPlan {
  namespace: string;
  name: string;
  uid: string;
  container: string;
  resources: { requests: Record<string, string>; limits: Record<string, string> };
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  podIP?: string;
  nodeName?: string;
  /** The ReplicaSet that controls the pod, itself owned by the Deployment `deployment`. */
  replicaSet?: { name: string; deployment: string };
  /** Devices pod-resources says the kubelet gave the container. */
  devices?: Array<{ resourceName: string; deviceIds: string[] }>;
  /** Kubelet usage: CPU cores over each 10 s step, working set at reading n. */
  cores: number;
  memory: (n: number) => number;
}

function plans(vllmPort: number, tritonPort: number): PodPlan[] {
  return [
    {
      namespace: 'ml-train',
      name: 'bert-large-worker-0',
      uid: '0b1d5d43-6f53-4b0e-a7a4-000000000001',
      container: 'trainer',
      labels: {
        'training.kubeflow.org/job-name': 'bert-large',
        'training.kubeflow.org/operator-name': 'pytorchjob-controller',
      },
      resources: {
        requests: { cpu: '8', memory: '64Gi', 'nvidia.com/gpu': '2' },
        limits: { cpu: '8', memory: '64Gi', 'nvidia.com/gpu': '2' },
      },
      devices: [{ resourceName: 'nvidia.com/gpu', deviceIds: [GPU[1], GPU[2]] }],
      cores: 7.5,
      memory: (n) => (60 + 2 * n) * GI,
    },
    {
      namespace: 'research',
      name: 'notebook-alice-0',
      uid: '0b1d5d43-6f53-4b0e-a7a4-000000000002',
      container: 'notebook',
      resources: {
        requests: { cpu: '2', memory: '16Gi' },
        limits: { memory: '16Gi', 'nvidia.com/gpu': '1' },
      },
      devices: [{ resourceName: 'nvidia.com/gpu', deviceIds: [GPU[3]] }],
      cores: 0.25,
      memory: () => 3 * GI,
    },
    {
      namespace: 'research',
      name: 'mig-small-0',
      uid: '0b1d5d43-6f53-4b0e-a7a4-000000000003',
      container: 'worker',
      resources: {
        requests: { cpu: '1', memory: '4Gi', 'nvidia.com/mig-1g.5gb': '1' },
        limits: { memory: '4Gi', 'nvidia.com/mig-1g.5gb': '1' },
      },
      devices: [{ resourceName: 'nvidia.com/mig-1g.5gb', deviceIds: [MIG_1G] }],
      cores: 0.5,
      memory: () => 2 * GI,
    },
    {
      namespace: 'research',
      name: 'mig-medium-0',
      uid: '0b1d5d43-6f53-4b0e-a7a4-000000000004',
      container: 'worker',
      resources: {
        requests: { cpu: '2', memory: '8Gi', 'nvidia.com/mig-2g.10gb': '1' },
        limits: { memory: '8Gi', 'nvidia.com/mig-2g.10gb': '1' },
      },
      devices: [{ resourceName: 'nvidia.com/mig-2g.10gb', deviceIds: [MIG_2G] }],
      cores: 1,
      memory: () => 6 * GI,
    },
    {
      namespace: 'serving',
      name: 'qwen-vllm-7d9f8b6c5-x2x4q',
      uid: '0b1d5d43-6f53-4b0e-a7a4-000000000005',
      container: 'vllm',
      labels: { app: 'vllm', 'pod-template-hash': '7d9f8b6c5' },
      replicaSet: { name: 'qwen-vllm-7d9f8b6c5', deployment: 'qwen-vllm' },
      annotations: {
        'prometheus.io/scrape': 'true',
        'prometheus.io/port': String(vllmPort),
        'prometheus.io/path': '/metrics',
      },
      podIP: '127.0.0.1',
      resources: {
        requests: { cpu: '4', memory: '24Gi', 'nvidia.com/gpu': '1' },
        limits: { memory: '24Gi', 'nvidia.com/gpu': '1' },
      },
      devices: [{ resourceName: 'nvidia.com/gpu', deviceIds: [GPU[4]] }],
      cores: 1.5,
      memory: () => 12 * GI,
    },
    {
      namespace: 'serving',
      name: 'triton-5f6c7d8e9-ab12c',
      uid: '0b1d5d43-6f53-4b0e-a7a4-000000000006',
      container: 'triton',
      labels: { app: 'triton', 'pod-template-hash': '5f6c7d8e9' },
      replicaSet: { name: 'triton-5f6c7d8e9', deployment: 'triton' },
      annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(tritonPort) },
      podIP: '127.0.0.1',
      resources: {
        requests: { cpu: '4', memory: '16Gi', 'nvidia.com/gpu': '1' },
        limits: { memory: '16Gi', 'nvidia.com/gpu': '1' },
      },
      devices: [{ resourceName: 'nvidia.com/gpu', deviceIds: [GPU[5]] }],
      cores: 2,
      memory: () => 8 * GI,
    },
    {
      namespace: 'kube-system',
      name: `kube-proxy-${NODE}`,
      uid: '0b1d5d43-6f53-4b0e-a7a4-000000000007',
      container: 'kube-proxy',
      resources: { requests: { cpu: '100m' }, limits: {} },
      cores: 0.05,
      memory: () => 40 * 2 ** 20,
    },
  ];
}

/** A pod on another node: the agent must neither list it nor report it. */
const OTHER_NODE_POD: PodPlan = {
  namespace: 'ml-train',
  name: 'bert-large-worker-1',
  uid: '0b1d5d43-6f53-4b0e-a7a4-000000000099',
  container: 'trainer',
  nodeName: 'gpu-node-2',
  resources: { requests: { 'nvidia.com/gpu': '2' }, limits: { 'nvidia.com/gpu': '2' } },
  cores: 7,
  memory: () => GI,
};

function podObject(plan: PodPlan): KubeObject {
  return {
    metadata: {
      name: plan.name,
      namespace: plan.namespace,
      uid: plan.uid,
      labels: plan.labels ?? {},
      annotations: plan.annotations ?? {},
      ...(plan.replicaSet
        ? {
            ownerReferences: [
              {
                apiVersion: 'apps/v1',
                kind: 'ReplicaSet',
                name: plan.replicaSet.name,
                uid: `uid-${plan.replicaSet.name}`,
                controller: true,
              },
            ],
          }
        : {}),
    },
    spec: {
      nodeName: plan.nodeName ?? NODE,
      containers: [{ name: plan.container, image: 'example/image:1', resources: plan.resources }],
    },
    status: {
      phase: 'Running',
      podIP: plan.podIP ?? `10.8.3.${Number(plan.uid.slice(-2))}`,
      containerStatuses: [{ name: plan.container, restartCount: 0, ready: true }],
    },
  };
}

const NODE_OBJECT: KubeObject = {
  metadata: {
    name: NODE,
    labels: {
      'kubernetes.io/hostname': NODE,
      'node.kubernetes.io/instance-type': 'gpu-6x-a100-40gb',
      'topology.kubernetes.io/zone': 'europe-west4-a',
      'nvidia.com/gpu.product': 'NVIDIA-A100-SXM4-40GB',
      'nvidia.com/gpu.count': '6',
      'nvidia.com/gpu.memory': '40960',
      'nvidia.com/mig.strategy': 'mixed',
    },
  },
  status: {
    // Mixed MIG strategy: GPU 0 is split, so 5 whole GPUs plus one device of each MIG profile are advertised.
    capacity: {
      cpu: '64',
      memory: '512Gi',
      'nvidia.com/gpu': '5',
      'nvidia.com/mig-1g.5gb': '1',
      'nvidia.com/mig-2g.10gb': '1',
      'nvidia.com/mig-3g.20gb': '1',
    },
    allocatable: { cpu: '63500m', memory: '500Gi', 'nvidia.com/gpu': '5' },
  },
};

// ---- kubelet /stats/summary in the real GKE fixture's shape, moving 10 s per request ----

const SUMMARY_FIXTURE = JSON.parse(fixture('real/kubelet/stats_summary.datadog-gke-2019.json')) as {
  node: Record<string, unknown>;
  pods: Array<Record<string, unknown> & { containers: Array<Record<string, unknown>> }>;
};
const T0 = Date.parse('2025-03-01T10:00:00Z');
const STEP_MS = 10_000;
/** Node CPU: 24 cores busy over each 10 s step. */
const NODE_CORES = 24;
const NODE_WORKING_SET = 200 * GI;

function summaryAt(n: number, pods: readonly PodPlan[]): object {
  const time = new Date(T0 + n * STEP_MS).toISOString();
  // Cumulative CPU in whole nanoseconds: `cores` over n steps of 10 s on top of a base.
  const cpu = (base: number, cores: number) => ({
    time,
    usageNanoCores: Math.round(cores * 1e9),
    usageCoreNanoSeconds: base + Math.round(cores * STEP_MS * 1e6) * n,
  });
  const template = SUMMARY_FIXTURE.pods[0]!;
  const containerTemplate = template.containers[0]!;
  return {
    node: {
      ...SUMMARY_FIXTURE.node,
      nodeName: NODE,
      cpu: cpu(49_365_244_626_551, NODE_CORES),
      memory: { ...(SUMMARY_FIXTURE.node['memory'] as object), time, workingSetBytes: NODE_WORKING_SET },
    },
    pods: pods.map((plan) => ({
      ...template,
      podRef: { name: plan.name, namespace: plan.namespace, uid: plan.uid },
      containers: [
        {
          ...containerTemplate,
          name: plan.container,
          startTime: '2025-03-01T09:00:00Z',
          cpu: cpu(2_505_102_601_908, plan.cores),
          memory: {
            ...(containerTemplate['memory'] as object),
            time,
            workingSetBytes: plan.memory(n),
          },
        },
      ],
    })),
  };
}

// ---- model servers: the real fixtures, then the same with counters moved on ----

const VLLM_MODEL = 'Qwen/Qwen2.5-0.5B-Instruct';
const VLLM_FIRST = fixture('real/vllm/kops-e2e-vllm-v1-qwen2.5-0.5b-metrics.txt');
const TRITON_FIRST = fixture('real/triton/datadog-triton-t4-metrics.truncated.txt');

/** Replaces one sample line's value; throws when the line is not there, so a fixture change cannot go unseen. */
function setSample(text: string, series: string, value: string): string {
  const start = text.indexOf(`\n${series} `);
  if (start < 0) throw new Error(`fixture has no sample ${series}`);
  const end = text.indexOf('\n', start + 1);
  return `${text.slice(0, start)}\n${series} ${value}${text.slice(end)}`;
}

function vllmSecond(): string {
  const labels = (extra = '') => `{engine="0",${extra}model_name="${VLLM_MODEL}"}`;
  let text = VLLM_FIRST;
  // In the fixture every counter is 0.0, so these values are the increments.
  text = setSample(text, `vllm:prompt_tokens_total${labels()}`, '1234.0');
  text = setSample(text, `vllm:generation_tokens_total${labels()}`, '5678.0');
  text = setSample(text, `vllm:request_success_total${labels('finished_reason="stop",')}`, '9.0');
  text = setSample(text, `vllm:request_success_total${labels('finished_reason="length",')}`, '1.0');
  text = setSample(text, `vllm:request_success_total${labels('finished_reason="abort",')}`, '2.0');
  text = setSample(text, `vllm:e2e_request_latency_seconds_sum${labels()}`, '12.5');
  text = setSample(text, `vllm:e2e_request_latency_seconds_count${labels()}`, '12.0');
  text = setSample(text, `vllm:num_requests_waiting${labels()}`, '3.0');
  text = setSample(text, `vllm:kv_cache_usage_perc${labels()}`, '0.42');
  return text;
}

function tritonSecond(): string {
  let text = TRITON_FIRST;
  // densenet_onnx: 3 → 10 successes (+7), 1327965 → 2027965 µs (+0.7 s).
  text = setSample(text, 'nv_inference_request_success{model="densenet_onnx",version="1"}', '10');
  text = setSample(text, 'nv_inference_request_duration_us{model="densenet_onnx",version="1"}', '2027965');
  // inception_graphdef: 0 → 4 successes, 0 → 1 failure, 0 → 400000 µs (0.4 s); 2 requests pending.
  text = setSample(text, 'nv_inference_request_success{model="inception_graphdef",version="1"}', '4');
  text = setSample(text, 'nv_inference_request_failure{model="inception_graphdef",version="1"}', '1');
  text = setSample(
    text,
    'nv_inference_request_duration_us{model="inception_graphdef",version="1"}',
    '400000',
  );
  text = setSample(text, 'nv_inference_pending_request_count{model="inception_graphdef",version="1"}', '2');
  return text;
}

// ---- the node ----

interface ScenarioNode {
  dir: string;
  api: FakeApiServer;
  kubelet: FakeKubelet;
  podResources: FakePodResources;
  dcgm: FakeModelServer;
  vllm: FakeModelServer;
  triton: FakeModelServer;
  pods: PodPlan[];
  /** MLCOST_* and NODE_NAME pointing the agent at the servers above. */
  env: Record<string, string>;
  close(): Promise<void>;
}

async function startScenarioNode(): Promise<ScenarioNode> {
  const dir = mkdtempSync(join(tmpdir(), 'mlcost-node-e2e-'));
  const api = await startFakeApiServer({ token: API_TOKEN });
  const vllm = await startFakeModelServer({ text: VLLM_FIRST });
  const triton = await startFakeModelServer({ text: TRITON_FIRST });
  const dcgm = await startFakeModelServer({ text: fixture('derived/dcgm-node-scenario.txt') });
  const pods = plans(vllm.port, triton.port);

  api.apply('nodes', NODE_OBJECT);
  for (const plan of [...pods, OTHER_NODE_POD]) {
    api.apply('pods', podObject(plan));
    if (plan.replicaSet) {
      // A ReplicaSet named unlike `<deployment>-<hash>` would do too: the agent reads its owner.
      api.apply('replicasets', {
        metadata: {
          name: plan.replicaSet.name,
          namespace: plan.namespace,
          ownerReferences: [
            {
              apiVersion: 'apps/v1',
              kind: 'Deployment',
              name: plan.replicaSet.deployment,
              uid: `uid-${plan.replicaSet.deployment}`,
              controller: true,
            },
          ],
        },
      });
    }
  }

  let summaryRequests = 0;
  const kubelet = await startFakeKubelet({
    token: KUBELET_TOKEN,
    summary: () => summaryAt(summaryRequests++, pods),
  });
  const podResources = await startFakePodResources({
    socketPath: join(dir, 'kubelet.sock'),
    pods: pods.map((plan) => ({
      name: plan.name,
      namespace: plan.namespace,
      containers: [{ name: plan.container, devices: plan.devices ?? [] }],
    })),
  });

  const kubeconfig = join(dir, 'kubeconfig.json');
  writeFileSync(kubeconfig, api.kubeConfig(API_TOKEN).exportConfig());
  const caFile = join(dir, 'kubelet-ca.pem');
  writeFileSync(caFile, kubelet.ca);
  const tokenFile = join(dir, 'kubelet-token');
  writeFileSync(tokenFile, `${KUBELET_TOKEN}\n`);

  return {
    dir,
    api,
    kubelet,
    podResources,
    dcgm,
    vllm,
    triton,
    pods,
    env: {
      NODE_NAME: NODE,
      MLCOST_AGENT_KUBERNETES_KUBECONFIG: kubeconfig,
      MLCOST_AGENT_KUBELET_URL: kubelet.url,
      MLCOST_AGENT_KUBELET_CA_FILE: caFile,
      MLCOST_AGENT_KUBELET_TOKEN_FILE: tokenFile,
      MLCOST_AGENT_POD_RESOURCES_SOCKET: podResources.socketPath,
      MLCOST_AGENT_DCGM_URL: dcgm.url,
      // Every node source but nvidia-smi, which this machine may or may not have.
      MLCOST_AGENT_SOURCES: 'pods,kubelet,pod-resources,dcgm,model-servers',
      MLCOST_LOG_LEVEL: 'info',
    },
    async close() {
      await Promise.allSettled([
        api.close(),
        kubelet.close(),
        podResources.close(),
        dcgm.close(),
        vllm.close(),
        triton.close(),
      ]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---- what the window must say ----

type HolderView = { namespace: string; pod: string; container?: string; share?: number; via?: string };

const holder = (plan: PodPlan, via: 'device-id' | 'mig-profile'): HolderView => ({
  namespace: plan.namespace,
  pod: plan.name,
  container: plan.container,
  share: 1,
  via,
});

/** Every GPU and MIG slice on the node → who holds it, worked out from the scenario by hand. */
function expectedHolders(pods: PodPlan[]): Record<string, HolderView[]> {
  const [trainer, notebook, migSmall, migMedium, vllmPod, tritonPod] = pods as [
    PodPlan,
    PodPlan,
    PodPlan,
    PodPlan,
    PodPlan,
    PodPlan,
  ];
  return {
    // The MIG-mode GPU itself is held by no one: its slices are.
    [MIG_PARENT]: [],
    // dcgm-exporter knows slices by parent UUID + GPU instance id only, so a `MIG-…` id from pod-resources matches
    // the one slice of its resource's profile.
    [`${MIG_PARENT}/13`]: [holder(migSmall, 'mig-profile')],
    [`${MIG_PARENT}/5`]: [holder(migMedium, 'mig-profile')],
    // The 3g.20gb slice is free.
    [`${MIG_PARENT}/1`]: [],
    [GPU[1]]: [holder(trainer, 'device-id')],
    [GPU[2]]: [holder(trainer, 'device-id')],
    [GPU[3]]: [holder(notebook, 'device-id')],
    [GPU[4]]: [holder(vllmPod, 'device-id')],
    [GPU[5]]: [holder(tritonPod, 'device-id')],
  };
}

/** GR engine activity per GPU id in the derived fixture: proves each holder sits on the GPU with that reading. */
const ACTIVITY: Record<string, number> = {
  [MIG_PARENT]: 0.99563,
  [`${MIG_PARENT}/13`]: 0.995687,
  [`${MIG_PARENT}/5`]: 0.4125,
  [`${MIG_PARENT}/1`]: 0,
  [GPU[1]]: 0.91,
  [GPU[2]]: 0.87,
  [GPU[3]]: 0.12,
  [GPU[4]]: 0.55,
  [GPU[5]]: 0.33,
};

function checkGpus(
  gpus: ReadonlyArray<{ id: string; holders: readonly HolderView[] }>,
  pods: PodPlan[],
): void {
  const expected = expectedHolders(pods);
  expect(gpus.map((gpu) => gpu.id).sort()).toEqual(Object.keys(expected).sort());
  for (const gpu of gpus) {
    expect({ id: gpu.id, holders: gpu.holders }).toEqual({ id: gpu.id, holders: expected[gpu.id] });
  }
}

/** Moves a model server's counters on (serves `text`) as soon as it has answered `after` + 1 scrapes. */
function switchAfterNextScrape(server: FakeModelServer, text: string): Promise<void> {
  const after = server.requests;
  const done = pollUntil(
    async () => {
      if (server.requests <= after) return undefined;
      server.setText(text);
      return true;
    },
    { timeoutMs: 40_000, everyMs: 5, what: 'a scrape of the model server' },
  ).then(() => undefined);
  done.catch(() => {});
  return done;
}

let node: ScenarioNode;

beforeAll(async () => {
  node = await startScenarioNode();
});

afterAll(async () => {
  await killAll();
  await node?.close();
});

describe('mlcost agent --once --print on a GPU node', () => {
  let window: UsageWindow;
  let stderr: string;
  const vllmScrapes = { before: 0, after: 0 };

  beforeAll(async () => {
    // Each model server moves its counters on once its first scrape is served: the first collection reads the
    // fixtures, the second the moved-on copies, so the window's increments are the differences set above.
    vllmScrapes.before = node.vllm.requests;
    void switchAfterNextScrape(node.vllm, vllmSecond());
    void switchAfterNextScrape(node.triton, tritonSecond());
    const agent = new MlcostProcess(['agent', '--once', '--print', '--interval', '1s'], {
      cwd: node.dir,
      env: cleanEnv({ ...node.env, MLCOST_DATA_DIR: join(node.dir, 'once-data') }),
    });
    const exit = await agent.waitForExit(40_000);
    stderr = agent.stderr;
    if (exit.code !== 0) throw new Error(`mlcost agent --once exited ${JSON.stringify(exit)}: ${stderr}`);
    window = JSON.parse(agent.stdout) as UsageWindow;
    vllmScrapes.after = node.vllm.requests;
  });

  it('reads every source without a failure, the kubelet with its token and the pods of this node only', () => {
    expect(stderr).not.toMatch(/"level":"(warn|error)"/);
    expect(node.kubelet.requests.filter((r) => r.path === '/stats/summary')).toEqual([
      { path: '/stats/summary', authorized: true },
      { path: '/stats/summary', authorized: true },
    ]);
    expect(node.podResources.listCalls).toBe(2);
    expect(
      node.api.requests.some(
        (r) => r.path === '/api/v1/pods' && r.query['fieldSelector'] === `spec.nodeName=${NODE}`,
      ),
    ).toBe(true);
    // Node: capacity from the Node object; CPU a rate over the one 10 s step, memory the working set.
    expect(window.node).toMatchObject({
      name: NODE,
      capacity: { cpuCores: 64, memoryBytes: 512 * GI, gpus: 6 },
      allocatable: { cpuCores: 63.5, memoryBytes: 500 * GI, gpus: 5 },
      cpuUsedCoresAvg: NODE_CORES,
      memoryUsedBytesAvg: NODE_WORKING_SET,
    });
    expect(window.node.labels['nvidia.com/mig.strategy']).toBe('mixed');
  });

  it('attributes every GPU and MIG slice to the pod holding it', () => {
    checkGpus(window.gpus, node.pods);
    for (const gpu of window.gpus) expect(gpu.activityAvg, gpu.id).toBeCloseTo(ACTIVITY[gpu.id]!, 9);
    const migSlices = window.gpus.filter((gpu) => gpu.migProfile !== undefined);
    expect(migSlices.map((gpu) => [gpu.id, gpu.migProfile, gpu.migInstanceId, gpu.uuid]).sort()).toEqual(
      [
        [`${MIG_PARENT}/1`, '3g.20gb', 1, MIG_PARENT],
        [`${MIG_PARENT}/13`, '1g.5gb', 13, MIG_PARENT],
        [`${MIG_PARENT}/5`, '2g.10gb', 5, MIG_PARENT],
      ].sort(),
    );
  });

  it('gives each container its requests from the pod spec and its usage from the kubelet', () => {
    // One record per container of this node's pods (not the pod on gpu-node-2). CPU: only the second reading
    // gives a rate, so avg = max = p95 = the plan's cores. Memory: the average and peak of the two readings.
    const byKey = new Map(window.containers.map((c) => [`${c.namespace}/${c.pod}/${c.container}`, c]));
    expect([...byKey.keys()].sort()).toEqual(
      node.pods.map((p) => `${p.namespace}/${p.name}/${p.container}`).sort(),
    );
    const record = (plan: PodPlan) => byKey.get(`${plan.namespace}/${plan.name}/${plan.container}`)!;
    const [trainer, notebook, migSmall, , vllmPod, tritonPod] = node.pods as PodPlan[];
    expect(record(trainer!)).toMatchObject({
      podUid: trainer!.uid,
      requests: { cpuCores: 8, memoryBytes: 64 * GI, gpus: 2, gpuResource: 'nvidia.com/gpu' },
      limits: { cpuCores: 8, memoryBytes: 64 * GI, gpus: 2, gpuResource: 'nvidia.com/gpu' },
      qosClass: 'Guaranteed',
      mlJob: { kind: 'PyTorchJob', name: 'bert-large' },
      cpuCoresAvg: 7.5,
      cpuCoresMax: 7.5,
      cpuCoresP95: 7.5,
      // (60 GiB + 62 GiB) / 2, and the larger.
      memoryBytesAvg: 61 * GI,
      memoryBytesMax: 62 * GI,
    } satisfies Partial<ContainerRecord>);
    // The notebook asks for its GPU in limits only: the request is the limit.
    expect(record(notebook!)).toMatchObject({
      requests: { cpuCores: 2, memoryBytes: 16 * GI, gpus: 1, gpuResource: 'nvidia.com/gpu' },
      limits: { memoryBytes: 16 * GI, gpus: 1, gpuResource: 'nvidia.com/gpu' },
      qosClass: 'Burstable',
      cpuCoresAvg: 0.25,
      memoryBytesAvg: 3 * GI,
    });
    expect(record(migSmall!)).toMatchObject({
      requests: { cpuCores: 1, memoryBytes: 4 * GI, gpus: 1, gpuResource: 'nvidia.com/mig-1g.5gb' },
      cpuCoresAvg: 0.5,
      memoryBytesAvg: 2 * GI,
    });
    expect(record(vllmPod!).workload).toEqual({ kind: 'Deployment', name: 'qwen-vllm' });
    expect(record(tritonPod!).workload).toEqual({ kind: 'Deployment', name: 'triton' });
    for (const plan of node.pods) {
      expect(record(plan).podUid, plan.name).toBe(plan.uid);
      expect(record(plan).cpuCoresAvg, plan.name).toBeCloseTo(plan.cores, 12);
      expect(record(plan).memoryBytesMax, plan.name).toBe(plan.memory(1));
    }
  });

  it('scrapes each model server at both collections, so one window has its increments', () => {
    // Two collections, two scrapes. (A model-servers source that only learns the pods from the previous
    // collection scrapes nothing in the first, and the window then carries no increments at all.)
    expect(vllmScrapes.after - vllmScrapes.before).toBe(2);
  });

  it('puts vLLM tokens on the vLLM model and Triton requests on Triton models', () => {
    const models = new Map(window.models.map((m) => [`${m.server}/${m.model}`, m]));
    const vllmPod = node.pods[4]!;
    const tritonPod = node.pods[5]!;
    // vLLM: the fixture's counters are all zero, so the second scrape's values are the increments; `stop` and
    // `length` finished well (9 + 1), `abort` did not (2).
    expect(models.get(`vllm/${VLLM_MODEL}`)).toEqual(VLLM_INCREMENTS(vllmPod));
    // Triton has no token counters: its requests land on its own model names, latency from µs sums.
    const densenet = models.get('triton/densenet_onnx');
    expect(densenet).toMatchObject({
      namespace: tritonPod.namespace,
      pod: tritonPod.name,
      requestsOk: 7,
      requestsFailed: 0,
      latencyCount: 7,
      promptTokens: 0,
      generatedTokens: 0,
    });
    expect(densenet?.latencySecondsSum).toBeCloseTo(0.7, 9);
    const inception = models.get('triton/inception_graphdef');
    expect(inception).toMatchObject({
      pod: tritonPod.name,
      requestsOk: 4,
      requestsFailed: 1,
      latencyCount: 4,
      queueLengthMax: 2,
      promptTokens: 0,
      generatedTokens: 0,
    });
    expect(inception?.latencySecondsSum).toBeCloseTo(0.4, 9);
    // Every Triton model sits on the Triton pod, one vLLM model on the vLLM pod, and no tokens anywhere else.
    expect(window.models.filter((m) => m.server === 'vllm')).toHaveLength(1);
    for (const model of window.models) {
      if (model.server === 'triton') expect(model.pod).toBe(tritonPod.name);
      if (model.model !== VLLM_MODEL) expect(model.promptTokens + model.generatedTokens).toBe(0);
    }
  });
});

/** vLLM's window record: the second scrape's counters less the fixture's zeros. */
const VLLM_INCREMENTS = (pod: PodPlan): ModelRecord => ({
  namespace: pod.namespace,
  pod: pod.name,
  model: VLLM_MODEL,
  server: 'vllm',
  requestsOk: 10,
  requestsFailed: 2,
  promptTokens: 1234,
  generatedTokens: 5678,
  latencySecondsSum: 12.5,
  latencyCount: 12,
  queueLengthMax: 3,
  kvCacheUsageMax: 0.42,
});

describe('mlcost agent with mlcost collector', () => {
  it('gets the node, its GPUs and their holders, and the model increments to the collector', async () => {
    // Counters start again from the fixtures and move on after the first scrape this agent makes.
    node.vllm.setText(VLLM_FIRST);
    node.triton.setText(TRITON_FIRST);
    const vllmSwitched = switchAfterNextScrape(node.vllm, vllmSecond());

    const dataDir = join(node.dir, 'collector');
    const collectorPort = await freePort();
    const collector = new MlcostProcess(
      ['collector', '--listen', `127.0.0.1:${collectorPort}`, '--data-dir', dataDir],
      {
        cwd: node.dir,
        env: cleanEnv({ MLCOST_COLLECTOR_INGEST_TOKEN: INGEST_TOKEN, MLCOST_LOG_LEVEL: 'warn' }),
      },
    );
    // Both start at once (the agent spools until the collector answers): tsx start-up is most of the wait.
    const collectorUrl = `http://127.0.0.1:${collectorPort}`;
    const agentPort = await freePort();
    const agent = new MlcostProcess(
      [
        'agent',
        '--interval',
        '1s',
        '--window',
        '2s',
        '--collector-url',
        collectorUrl,
        '--agent-listen',
        `127.0.0.1:${agentPort}`,
      ],
      {
        cwd: node.dir,
        env: cleanEnv({
          ...node.env,
          MLCOST_AGENT_TOKEN: INGEST_TOKEN,
          MLCOST_DATA_DIR: join(node.dir, 'agent-data'),
        }),
      },
    );
    await Promise.all([
      collector.waitForStdout(/mlcost collector is running at/, 30_000),
      agent.waitForStdout(/mlcost agent is running/, 30_000),
    ]);

    type NodesAnswer = {
      nodes: Array<{
        name: string;
        status: string;
        capacity: { cpuCores: number; memoryBytes: number; gpus: number | null };
        gpus: Array<{ id: string; holders: HolderView[]; activity: number | null }>;
      }>;
    };
    const gpuCount = Object.keys(expectedHolders(node.pods)).length;
    const seen = await pollUntil(
      async () => {
        const answer = (await (await fetch(`${collectorUrl}/api/v1/nodes`)).json()) as NodesAnswer;
        const found = answer.nodes.find((n) => n.name === NODE);
        return found && found.gpus.length === gpuCount ? found : undefined;
      },
      { timeoutMs: 30_000, everyMs: 250, what: `node ${NODE} with its ${gpuCount} GPUs at the collector` },
    );
    expect(seen).toMatchObject({
      name: NODE,
      status: 'reporting',
      capacity: { cpuCores: 64, memoryBytes: 512 * GI, gpus: 6 },
    });
    // dcgm and pod-resources answer in the same collection, so the first window with GPUs has their holders.
    checkGpus(seen.gpus, node.pods);
    for (const gpu of seen.gpus) expect(gpu.activity, gpu.id).toBeCloseTo(ACTIVITY[gpu.id]!, 9);

    // The model windows stored add up to the increments between the fixture and the moved-on scrape (counters
    // stand still after it), all on the vLLM pod's model.
    await vllmSwitched;
    const db = new Database(join(dataDir, 'mlcost.db'), { readonly: true, fileMustExist: true });
    try {
      const sums = db.prepare(
        `SELECT namespace, pod, model, server, sum(requests_ok) AS requestsOk, sum(requests_failed) AS requestsFailed,
           sum(prompt_tokens) AS promptTokens, sum(generated_tokens) AS generatedTokens
         FROM model_windows WHERE node = ? AND server = 'vllm' GROUP BY namespace, pod, model, server`,
      );
      const vllmPod = node.pods[4]!;
      const { requestsOk, requestsFailed, promptTokens, generatedTokens } = VLLM_INCREMENTS(vllmPod);
      const expected = {
        namespace: vllmPod.namespace,
        pod: vllmPod.name,
        model: VLLM_MODEL,
        server: 'vllm',
        requestsOk,
        requestsFailed,
        promptTokens,
        generatedTokens,
      };
      const stored = await pollUntil(
        async () => {
          const rows = sums.all(NODE);
          return rows.length === 1 && (rows[0] as typeof expected).promptTokens > 0 ? rows : undefined;
        },
        { timeoutMs: 20_000, everyMs: 250, what: 'vLLM tokens in the collector store' },
      );
      expect(stored).toEqual([expected]);
    } finally {
      db.close();
    }

    agent.signal('SIGTERM');
    collector.signal('SIGTERM');
    expect((await agent.waitForExit(15_000)).code).toBe(0);
    expect((await collector.waitForExit(15_000)).code).toBe(0);
  });
});
