// A busy GPU node's worth of endpoints for the agent benchmark, served from the real fixtures by the test fakes:
//  - API server: the node (g6.48xlarge-like: 8× L4, 192 CPUs), 110 pods (the kubelet's default max-pods) with
//    requests and limits, 1–2 containers each, and the ReplicaSets and Jobs above them;
//  - kubelet (HTTPS, self-signed certificate, bearer token): /stats/summary for those 110 pods, built from the
//    real GKE summary's pod and container entries, with CPU counters that advance with wall time;
//  - pod-resources (gRPC on a unix socket): the 8 GPUs assigned to the 6 GPU pods' containers;
//  - dcgm-exporter: the real L4 scrape's series replicated for 8 GPUs (new UUIDs, indexes, bus ids), with the
//    pod labels dcgm-exporter adds in Kubernetes mode;
//  - 4 model servers: vLLM ×2 (V1 qwen, V0 opt-125m), Triton and TGI fixtures, found by the agent through
//    prometheus.io annotations on their pods (pod IP 127.0.0.1, annotated port = the fake's port).
// Plus a collector stand-in that answers 200 to every ingest and keeps what each agent sent, and an HTTPS front
// for the API server (self-signed certificate) so an agent can reach it the in-cluster way: the service account's
// token and CA and KUBERNETES_SERVICE_HOST/PORT, as in a DaemonSet pod.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { type FakeApiServer, type KubeObject, startFakeApiServer } from '../test/fakes/fake-apiserver.ts';
import { type FakeKubelet, generateSelfSignedCert, startFakeKubelet } from '../test/fakes/fake-kubelet.ts';
import { type FakeModelServer, startFakeModelServer } from '../test/fakes/fake-model-server.ts';
import { type FakePodResourcesPods, startFakePodResources } from '../test/fakes/fake-pod-resources.ts';

const FIXTURES = fileURLToPath(new URL('../test/fixtures/real/', import.meta.url));
const fixture = (path: string) => readFileSync(join(FIXTURES, path), 'utf8');

export const NODE_NAME = 'ip-10-20-31-7.us-west-2.compute.internal';
const API_TOKEN = 'bench-apiserver-token';
const KUBELET_TOKEN = 'bench-kubelet-token';
const GPU_COUNT = 8;

interface ContainerPlan {
  name: string;
  cpu: string;
  memory: string;
  memoryLimit?: string;
  gpus?: number;
  port?: number;
}

interface PodPlan {
  namespace: string;
  name: string;
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  owner?: { apiVersion: string; kind: string; name: string };
  containers: ContainerPlan[];
  /** The model-server fixture this pod serves, if any. */
  modelServer?: { fixture: string; server?: FakeModelServer };
}

// ---- the pods ----

const MODEL_SERVERS: ReadonlyArray<{ name: string; container: string; fixture: string; app: string }> = [
  {
    name: 'vllm-qwen',
    container: 'vllm',
    fixture: 'vllm/kops-e2e-vllm-v1-qwen2.5-0.5b-metrics.txt',
    app: 'qwen2-5-0-5b',
  },
  { name: 'vllm-opt', container: 'vllm', fixture: 'vllm/datadog-vllm-opt125m-metrics.txt', app: 'opt-125m' },
  {
    name: 'triton',
    container: 'tritonserver',
    fixture: 'triton/datadog-triton-t4-metrics.truncated.txt',
    app: 'triton-ensemble',
  },
  {
    name: 'tgi-llama',
    container: 'tgi',
    fixture: 'tgi/datadog-tgi-metrics.truncated.txt',
    app: 'llama-3-8b',
  },
];

const DAEMONSETS: ReadonlyArray<{ namespace: string; name: string; containers: string[] }> = [
  { namespace: 'kube-system', name: 'kube-proxy', containers: ['kube-proxy'] },
  { namespace: 'kube-system', name: 'aws-node', containers: ['aws-node', 'aws-eks-nodeagent'] },
  { namespace: 'kube-system', name: 'ebs-csi-node', containers: ['ebs-plugin', 'node-driver-registrar'] },
  { namespace: 'gpu-operator', name: 'nvidia-device-plugin-daemonset', containers: ['nvidia-device-plugin'] },
  { namespace: 'gpu-operator', name: 'nvidia-dcgm-exporter', containers: ['nvidia-dcgm-exporter'] },
  { namespace: 'monitoring', name: 'node-exporter', containers: ['node-exporter'] },
  { namespace: 'logging', name: 'fluent-bit', containers: ['fluent-bit'] },
  { namespace: 'mlcost', name: 'mlcost-agent', containers: ['agent'] },
];

const DEPLOYMENTS: ReadonlyArray<{ namespace: string; name: string; sidecar?: string }> = [
  { namespace: 'web', name: 'storefront', sidecar: 'istio-proxy' },
  { namespace: 'web', name: 'checkout-api', sidecar: 'istio-proxy' },
  { namespace: 'web', name: 'search-api', sidecar: 'istio-proxy' },
  { namespace: 'ml-serving', name: 'feature-store' },
  { namespace: 'ml-serving', name: 'embedding-cache' },
  { namespace: 'ml-serving', name: 'inference-gateway', sidecar: 'istio-proxy' },
  { namespace: 'data', name: 'kafka-consumer' },
  { namespace: 'data', name: 'etl-worker' },
  { namespace: 'notebooks', name: 'jupyterhub-proxy' },
  { namespace: 'platform', name: 'argo-workflows-server' },
  { namespace: 'platform', name: 'cert-manager-webhook' },
  { namespace: 'monitoring', name: 'otel-gateway', sidecar: 'config-reloader' },
];

const CRONJOBS: ReadonlyArray<{ namespace: string; name: string }> = [
  { namespace: 'data', name: 'nightly-embeddings' },
  { namespace: 'data', name: 'hourly-aggregates' },
  { namespace: 'ml-training', name: 'eval-sweep' },
  { namespace: 'platform', name: 'backup' },
];

const TOTAL_PODS = 110;

function suffix(seed: number, length: number): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  let out = '';
  let value = (seed * 2654435761) >>> 0;
  for (let i = 0; i < length; i++) {
    out += alphabet[value % alphabet.length];
    value = Math.floor(value / alphabet.length) + (i + 1) * 7919;
  }
  return out;
}

function planPods(): PodPlan[] {
  const pods: PodPlan[] = [];
  let seed = 1;
  // GPU pods: 4 model servers with one GPU each, and a 2-worker PyTorchJob with two GPUs per worker.
  for (const server of MODEL_SERVERS) {
    const hash = suffix(seed++, 10);
    pods.push({
      namespace: 'ml-serving',
      name: `${server.name}-${hash}-${suffix(seed++, 5)}`,
      labels: { app: server.name, 'app.kubernetes.io/name': server.app, 'pod-template-hash': hash },
      owner: { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `${server.name}-${hash}` },
      containers: [
        { name: server.container, cpu: '4', memory: '16Gi', memoryLimit: '24Gi', gpus: 1 },
        { name: 'log-shipper', cpu: '50m', memory: '64Mi', memoryLimit: '128Mi' },
      ],
      modelServer: { fixture: server.fixture },
    });
  }
  for (let worker = 0; worker < 2; worker++) {
    pods.push({
      namespace: 'ml-training',
      name: `llama-finetune-worker-${worker}`,
      labels: {
        'training.kubeflow.org/job-name': 'llama-finetune',
        'training.kubeflow.org/operator-name': 'pytorchjob-controller',
        'training.kubeflow.org/replica-type': 'worker',
        'training.kubeflow.org/replica-index': String(worker),
      },
      owner: { apiVersion: 'kubeflow.org/v1', kind: 'PyTorchJob', name: 'llama-finetune' },
      containers: [{ name: 'pytorch', cpu: '16', memory: '96Gi', memoryLimit: '128Gi', gpus: 2 }],
    });
  }
  for (const daemonset of DAEMONSETS) {
    pods.push({
      namespace: daemonset.namespace,
      name: `${daemonset.name}-${suffix(seed++, 5)}`,
      labels: { 'app.kubernetes.io/name': daemonset.name, 'controller-revision-hash': suffix(seed++, 9) },
      owner: { apiVersion: 'apps/v1', kind: 'DaemonSet', name: daemonset.name },
      containers: daemonset.containers.map((name) => ({
        name,
        cpu: '100m',
        memory: '128Mi',
        memoryLimit: '256Mi',
      })),
    });
  }
  for (const cronjob of CRONJOBS) {
    for (let run = 0; run < 3; run++) {
      const job = `${cronjob.name}-${29_000_000 + run * 60}`;
      pods.push({
        namespace: cronjob.namespace,
        name: `${job}-${suffix(seed++, 5)}`,
        labels: { 'batch.kubernetes.io/job-name': job },
        owner: { apiVersion: 'batch/v1', kind: 'Job', name: job },
        containers: [{ name: 'job', cpu: '2', memory: '4Gi', memoryLimit: '8Gi' }],
      });
    }
  }
  // The rest: replicas of the deployments, round robin.
  const hashes = DEPLOYMENTS.map(() => suffix(seed++, 10));
  for (let i = 0; pods.length < TOTAL_PODS; i++) {
    const index = i % DEPLOYMENTS.length;
    const deployment = DEPLOYMENTS[index]!;
    const hash = hashes[index]!;
    const containers: ContainerPlan[] = [
      { name: 'app', cpu: `${250 + (i % 4) * 250}m`, memory: `${512 * (1 + (i % 3))}Mi`, memoryLimit: '4Gi' },
    ];
    if (deployment.sidecar) containers.push({ name: deployment.sidecar, cpu: '100m', memory: '128Mi' });
    pods.push({
      namespace: deployment.namespace,
      name: `${deployment.name}-${hash}-${suffix(seed++, 5)}`,
      labels: { app: deployment.name, 'pod-template-hash': hash },
      owner: { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `${deployment.name}-${hash}` },
      containers,
    });
  }
  return pods;
}

function podObject(plan: PodPlan, index: number, gpusOf: Map<string, string[]>): KubeObject {
  return {
    metadata: {
      name: plan.name,
      namespace: plan.namespace,
      uid: podUid(index),
      labels: plan.labels,
      annotations: plan.annotations ?? {},
      ...(plan.owner
        ? {
            ownerReferences: [
              { ...plan.owner, uid: `uid-${plan.owner.kind}-${plan.owner.name}`, controller: true },
            ],
          }
        : {}),
    },
    spec: {
      nodeName: NODE_NAME,
      containers: plan.containers.map((container) => {
        const requests: Record<string, string> = { cpu: container.cpu, memory: container.memory };
        const limits: Record<string, string> = {};
        if (container.memoryLimit) limits['memory'] = container.memoryLimit;
        if (container.gpus) {
          requests['nvidia.com/gpu'] = String(container.gpus);
          limits['nvidia.com/gpu'] = String(container.gpus);
        }
        return {
          name: container.name,
          image: `registry.example.com/${container.name}:1.0`,
          resources: { requests, limits },
          ...(container.port ? { ports: [{ containerPort: container.port, protocol: 'TCP' }] } : {}),
        };
      }),
    },
    status: {
      phase: 'Running',
      qosClass: 'Burstable',
      hostIP: '10.20.31.7',
      // Model servers are reached on loopback, where their fakes listen.
      podIP: plan.modelServer ? '127.0.0.1' : `100.64.${(index >> 8) & 255}.${index & 255}`,
      startTime: '2026-11-01T08:00:00Z',
      containerStatuses: plan.containers.map((container) => ({
        name: container.name,
        ready: true,
        restartCount: gpusOf.has(`${plan.name}/${container.name}`) ? 0 : index % 3 === 0 ? 1 : 0,
        state: { running: { startedAt: '2026-11-01T08:00:05Z' } },
      })),
    },
  };
}

function podUid(index: number): string {
  const hex = (value: number, width: number) => (value >>> 0).toString(16).padStart(width, '0').slice(-width);
  return `${hex(index * 2246822519, 8)}-${hex(index, 4)}-4${hex(index * 3, 3)}-8${hex(index * 5, 3)}-${hex(index * 3266489917, 8)}${hex(index, 4)}`;
}

function gpuUuid(index: number): string {
  // The real L4's UUID with its last block changed per GPU.
  return `GPU-c2f76b33-7953-256e-8f33-1343419b1a${index.toString(16).padStart(2, '0')}`;
}

// ---- dcgm-exporter: the L4 scrape for 8 GPUs ----

function dcgmText(holders: ReadonlyArray<{ namespace: string; pod: string; container: string } | undefined>) {
  const lines = fixture('dcgm-exporter/kops-e2e-l4-gpu-operator-metrics.txt').split('\n');
  const out: string[] = [];
  for (const line of lines) {
    if (line === '' || line.startsWith('#')) {
      out.push(line);
      continue;
    }
    for (let gpu = 0; gpu < GPU_COUNT; gpu++) {
      const holder = holders[gpu];
      const podLabels = holder
        ? `,container="${holder.container}",namespace="${holder.namespace}",pod="${holder.pod}"`
        : '';
      out.push(
        line
          .replace('gpu="0"', `gpu="${gpu}"`)
          .replace(/UUID="[^"]*"/, `UUID="${gpuUuid(gpu)}"`)
          .replace('pci_bus_id="00000000:31:00.0"', `pci_bus_id="00000000:${(0x31 + gpu).toString(16)}:00.0"`)
          .replace('device="nvidia0"', `device="nvidia${gpu}"`)
          .replace(/Hostname="[^"]*"/, `Hostname="${NODE_NAME}"`)
          .replace('}', `${podLabels}}`),
      );
    }
  }
  return out.join('\n');
}

// ---- kubelet /stats/summary for the 110 pods ----

interface SummaryTemplate {
  node: Record<string, unknown>;
  pods: Array<Record<string, unknown> & { containers: Array<Record<string, unknown>> }>;
}

type CpuStats = { time: string; usageNanoCores?: number; usageCoreNanoSeconds: number };

function makeSummary(plans: readonly PodPlan[]): () => string {
  const template = JSON.parse(fixture('kubelet/stats_summary.datadog-gke-2019.json')) as SummaryTemplate;
  const containerTemplates = template.pods.flatMap((pod) => pod.containers);
  const started = Date.now();
  // Each container's cores in use (its CPU counter advances at this rate) and its counter at `started`.
  const rates: Array<{ cpu: CpuStats; cores: number; base: number }> = [];
  const pods = plans.map((plan, podIndex) => {
    const podTemplate = template.pods[podIndex % template.pods.length]!;
    const containers = plan.containers.map((container, containerIndex) => {
      const copy = structuredClone(
        containerTemplates[(podIndex * 2 + containerIndex) % containerTemplates.length]!,
      );
      copy['name'] = container.name;
      const cpu = copy['cpu'] as CpuStats;
      delete cpu.usageNanoCores;
      const cores = container.gpus ? 3.5 : 0.05 + ((podIndex * 7 + containerIndex) % 20) / 40;
      rates.push({ cpu, cores, base: cpu.usageCoreNanoSeconds });
      return copy;
    });
    const pod = structuredClone(podTemplate);
    pod['podRef'] = { name: plan.name, namespace: plan.namespace, uid: podUid(podIndex) };
    pod['containers'] = containers;
    return pod;
  });
  const node = structuredClone(template.node);
  node['nodeName'] = NODE_NAME;
  const summary = { node, pods };
  return () => {
    const now = Date.now();
    const time = new Date(now).toISOString();
    for (const entry of rates) {
      entry.cpu.time = time;
      entry.cpu.usageCoreNanoSeconds = Math.round(entry.base + (now - started) * 1e6 * entry.cores);
    }
    return JSON.stringify(summary);
  };
}

// ---- the collector stand-in ----

export interface ReceivedBatch {
  windows: Array<{
    gpus?: Array<{ holders?: unknown[] }>;
    containers?: unknown[];
    models?: Array<{ model: string; server: string }>;
  }>;
}

export interface Acceptor {
  url: string;
  /** Batches received, by the bearer token the agent sent (each benchmarked agent has its own). */
  received(token: string): ReceivedBatch[];
  close(): Promise<void>;
}

async function startAcceptor(): Promise<Acceptor> {
  const byToken = new Map<string, ReceivedBatch[]>();
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
      try {
        let body = Buffer.concat(chunks);
        if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
        const batch = JSON.parse(body.toString('utf8')) as ReceivedBatch;
        const list = byToken.get(token) ?? [];
        list.push(batch);
        byToken.set(token, list);
      } catch {
        // Kept as nothing: the figures only count what parsed.
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"accepted":true}');
    });
  });
  await listenOn(server);
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received: (token) => byToken.get(token) ?? [],
    close: () => closeServer(server),
  };
}

// ---- a static text server with request counts per path (dcgm-exporter, one path per agent) ----

export interface TextServer {
  origin: string;
  requests(path: string): number;
  close(): Promise<void>;
}

async function startTextServer(text: string): Promise<TextServer> {
  const counts = new Map<string, number>();
  const body = Buffer.from(text, 'utf8');
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    counts.set(path, (counts.get(path) ?? 0) + 1);
    res
      .writeHead(200, {
        'content-type': 'text/plain; version=0.0.4; charset=utf-8',
        'content-length': body.length,
      })
      .end(body);
  });
  await listenOn(server);
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests: (path) => counts.get(path) ?? 0,
    close: () => closeServer(server),
  };
}

function listenOn(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

// ---- an HTTPS front for the (plain HTTP) fake API server ----

interface TlsFront {
  port: number;
  /** The serving certificate: the CA an in-cluster client trusts (the service account's ca.crt). */
  ca: string;
  close(): Promise<void>;
}

/** Forwards every request, streaming both ways (watches stay open), to `target` over plain HTTP. */
async function startTlsFront(target: string): Promise<TlsFront> {
  const cert = generateSelfSignedCert({ commonName: 'fake-apiserver' });
  const upstreamUrl = new URL(target);
  const server = createHttpsServer({ key: cert.key, cert: cert.cert }, (req, res) => {
    const upstream = httpRequest(
      {
        host: upstreamUrl.hostname,
        port: upstreamUrl.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        // Pass the head on at once, as the API server does: a watch with no events yet has no body to carry it,
        // and the agent gives up on a watch whose head does not come within its request timeout.
        res.flushHeaders();
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    // The client went away (or the answer is complete): end the upstream request too.
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    ca: cert.cert,
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

// ---- the whole node ----

export interface BusyNode {
  nodeName: string;
  counts: { pods: number; containers: number; gpus: number; gpuPods: number; modelServers: number };
  /** Bytes each collection reads: dcgm text, kubelet summary, model-server texts. */
  bytesPerCollection: number;
  acceptor: Acceptor;
  dcgm: TextServer;
  /**
   * Writes the kubeconfig, kubelet token and CA into `dir` and returns the configuration (as written to a YAML
   * file) for an agent whose dcgm path, collector token and data folder are its own. With `access: 'in-cluster'`
   * the configuration names no kubeconfig: the agent must then find the service account (see `inCluster`).
   */
  agentConfig(dir: string, label: string, settings: AgentSettings): Record<string, unknown>;
  /**
   * What an in-cluster agent needs: a folder holding `token` and `ca.crt` (to be placed at
   * /var/run/secrets/kubernetes.io/serviceaccount) and the KUBERNETES_SERVICE_* variables (the HTTPS front).
   */
  inCluster(dir: string): { serviceAccountDir: string; env: Record<string, string> };
  close(): Promise<void>;
}

export interface AgentSettings {
  intervalMs: number;
  windowMs: number;
  listen: string;
  access: 'kubeconfig' | 'in-cluster';
}

export async function startBusyNode(): Promise<BusyNode> {
  const plans = planPods();
  const modelServers: FakeModelServer[] = [];
  for (const plan of plans) {
    if (!plan.modelServer) continue;
    const server = await startFakeModelServer({ text: fixture(plan.modelServer.fixture) });
    plan.modelServer.server = server;
    modelServers.push(server);
    plan.annotations = {
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': String(server.port),
      'prometheus.io/path': '/metrics',
    };
    plan.containers[0]!.port = server.port;
  }

  // GPUs in order to the GPU containers, and the pod-resources answer for every pod (devices for GPU holders).
  const holders: Array<{ namespace: string; pod: string; container: string }> = [];
  const gpusOf = new Map<string, string[]>();
  for (const plan of plans) {
    for (const container of plan.containers) {
      for (let i = 0; i < (container.gpus ?? 0); i++) {
        const key = `${plan.name}/${container.name}`;
        gpusOf.set(key, [...(gpusOf.get(key) ?? []), gpuUuid(holders.length)]);
        holders.push({ namespace: plan.namespace, pod: plan.name, container: container.name });
      }
    }
  }
  if (holders.length !== GPU_COUNT) throw new Error(`planned ${holders.length} GPUs, expected ${GPU_COUNT}`);
  const podResources: FakePodResourcesPods = plans.map((plan) => ({
    name: plan.name,
    namespace: plan.namespace,
    containers: plan.containers.map((container) => {
      const ids = gpusOf.get(`${plan.name}/${container.name}`);
      return {
        name: container.name,
        devices: ids ? [{ resourceName: 'nvidia.com/gpu', deviceIds: ids }] : [],
      };
    }),
  }));

  const apiServer: FakeApiServer = await startFakeApiServer({ token: API_TOKEN });
  apiServer.apply('nodes', {
    metadata: {
      name: NODE_NAME,
      labels: {
        'kubernetes.io/hostname': NODE_NAME,
        'node.kubernetes.io/instance-type': 'g6.48xlarge',
        'topology.kubernetes.io/region': 'us-west-2',
        'topology.kubernetes.io/zone': 'us-west-2b',
        'karpenter.sh/capacity-type': 'on-demand',
        'karpenter.sh/nodepool': 'gpu-l4',
        'nvidia.com/gpu.product': 'NVIDIA-L4',
        'nvidia.com/gpu.count': String(GPU_COUNT),
        'nvidia.com/gpu.memory': '23034',
        'nvidia.com/gpu.family': 'ada-lovelace',
        'nvidia.com/mig.strategy': 'single',
      },
    },
    status: {
      capacity: { cpu: '192', memory: '786432Mi', pods: '110', 'nvidia.com/gpu': String(GPU_COUNT) },
      allocatable: { cpu: '191450m', memory: '774000Mi', pods: '110', 'nvidia.com/gpu': String(GPU_COUNT) },
    },
  });
  const owners = new Set<string>();
  for (const plan of plans) {
    const owner = plan.owner;
    if (!owner || owners.has(`${plan.namespace}/${owner.kind}/${owner.name}`)) continue;
    owners.add(`${plan.namespace}/${owner.kind}/${owner.name}`);
    if (owner.kind === 'ReplicaSet') {
      const deployment = owner.name.slice(0, owner.name.lastIndexOf('-'));
      apiServer.apply('replicasets', {
        metadata: {
          name: owner.name,
          namespace: plan.namespace,
          uid: `uid-ReplicaSet-${owner.name}`,
          ownerReferences: [
            {
              apiVersion: 'apps/v1',
              kind: 'Deployment',
              name: deployment,
              uid: `uid-${deployment}`,
              controller: true,
            },
          ],
        },
      });
    } else if (owner.kind === 'Job') {
      const cronjob = owner.name.slice(0, owner.name.lastIndexOf('-'));
      apiServer.apply('jobs', {
        metadata: {
          name: owner.name,
          namespace: plan.namespace,
          uid: `uid-Job-${owner.name}`,
          ownerReferences: [
            {
              apiVersion: 'batch/v1',
              kind: 'CronJob',
              name: cronjob,
              uid: `uid-${cronjob}`,
              controller: true,
            },
          ],
        },
      });
    }
  }
  plans.forEach((plan, index) => {
    apiServer.apply('pods', podObject(plan, index, gpusOf));
  });

  const summary = makeSummary(plans);
  const kubelet: FakeKubelet = await startFakeKubelet({ token: KUBELET_TOKEN, summary });
  const pods = await startFakePodResources({ pods: podResources });
  const dcgmBody = dcgmText(holders);
  const dcgm = await startTextServer(dcgmBody);
  const acceptor = await startAcceptor();
  const apiFront = await startTlsFront(apiServer.url);

  const modelBytes = plans
    .filter((plan) => plan.modelServer)
    .reduce((total, plan) => total + Buffer.byteLength(fixture(plan.modelServer!.fixture)), 0);

  return {
    nodeName: NODE_NAME,
    counts: {
      pods: plans.length,
      containers: plans.reduce((total, plan) => total + plan.containers.length, 0),
      gpus: holders.length,
      gpuPods: new Set(holders.map((holder) => holder.pod)).size,
      modelServers: modelServers.length,
    },
    bytesPerCollection: Buffer.byteLength(dcgmBody) + Buffer.byteLength(summary()) + modelBytes,
    acceptor,
    dcgm,
    agentConfig(dir, label, settings) {
      const kubeconfig = join(dir, 'kubeconfig.json');
      const tokenFile = join(dir, 'kubelet-token');
      const caFile = join(dir, 'kubelet-ca.crt');
      writeFileSync(kubeconfig, apiServer.kubeConfig(API_TOKEN).exportConfig());
      writeFileSync(tokenFile, `${KUBELET_TOKEN}\n`);
      writeFileSync(caFile, kubelet.ca);
      return {
        logLevel: 'warn',
        dataDir: join(dir, `data-${label}`),
        agent: {
          nodeName: NODE_NAME,
          interval: `${settings.intervalMs / 1000}s`,
          window: `${settings.windowMs / 1000}s`,
          // nvidia-smi is left out: dcgm-exporter is there, and this machine has no nvidia-smi to run.
          sources: 'pods,kubelet,pod-resources,dcgm,model-servers',
          collectorUrl: acceptor.url,
          token: label,
          listen: settings.listen,
          dcgm: { url: `${dcgm.origin}/${label}/metrics` },
          ...(settings.access === 'kubeconfig' ? { kubernetes: { kubeconfig } } : {}),
          kubelet: { url: kubelet.url, tokenFile, caFile },
          podResources: { socket: pods.socketPath },
        },
      };
    },
    inCluster(dir) {
      const serviceAccountDir = join(dir, 'serviceaccount');
      mkdirSync(serviceAccountDir, { recursive: true });
      writeFileSync(join(serviceAccountDir, 'token'), API_TOKEN);
      writeFileSync(join(serviceAccountDir, 'ca.crt'), apiFront.ca);
      return {
        serviceAccountDir,
        env: { KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: String(apiFront.port) },
      };
    },
    async close() {
      await apiFront.close();
      await Promise.allSettled([
        apiServer.close(),
        kubelet.close(),
        pods.close(),
        dcgm.close(),
        acceptor.close(),
        ...modelServers.map((server) => server.close()),
      ]);
    },
  };
}
