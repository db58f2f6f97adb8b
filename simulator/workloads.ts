// The workloads of the simulated cluster, as "seats": a place on one node (CPU, memory, GPUs or slices) that a
// workload's pods occupy over time, following a schedule. A seat says what its pods request, how they are named
// and labelled, and how they use what they hold (its profile; behaviour.ts turns the profile into numbers).
//
// Shapes and proportions, from public sources (approximately where marked):
//  - Training jobs are multi-GPU, whole-node and busy: Kubeflow PyTorchJob/TFJob workers take all eight GPUs of
//    a node. Even busy jobs stall while they write checkpoints (CheckFreq, Mohan et al., FAST 2021, measures the
//    stall) and some hang outright and hold their GPUs idle until someone notices (Jeon et al., ATC 2019, on
//    Microsoft's Philly cluster: many jobs fail or are killed, and GPU utilisation is far below what is held).
//  - Most GPU pods ask for one GPU or a fraction of one: in Alibaba's cluster-trace-gpu-v2023 (8,152 pods on
//    1,523 nodes; Weng et al., ATC 2023) GPU-sharing pods (`gpu_milli` < 1000) are a large share, which is why
//    the A100 pool is partitioned with MIG and part of the L4 pool is time-sliced (approximately).
//  - Interactive notebooks hold a GPU through long idle stretches; Kubeflow's notebook controller ships an idle
//    culler for this reason, and gpu-pruner calls a GPU idle below 0.01 engine activity for 30 minutes
//    (../shared/reference/cost-and-rightsizing-anchors.md §5).
//  - CPU services ask for far more than they use: Google's 2011 Borg trace analysis (Reiss et al., SoCC 2012)
//    found usage well below reservations, and container-usage reports from monitoring vendors (Datadog, Sysdig)
//    have put typical use at under half of requested CPU (approximately).
//  - vLLM reserves 90% of GPU memory for weights and KV cache by default (`--gpu-memory-utilization 0.9`), so a
//    vLLM pod's framebuffer use says nothing about its load; engine activity and tokens do.
import type { ResourceAmounts } from '../core/protocol/batch.ts';
import { parseQuantity } from '../core/units.ts';
import type { LlmModel, TritonModelSet } from './models.ts';
import type { Rng } from './random.ts';
import { DAY, HOUR, type Schedule } from './schedule.ts';

export type WorkloadKind =
  | 'training'
  | 'notebook'
  | 'vllm'
  | 'triton'
  | 'embedding'
  | 'gpu-batch'
  | 'cpu-service'
  | 'leaky-service'
  | 'etl'
  | 'daemon';

export type ControllerKind =
  | 'Deployment'
  | 'StatefulSet'
  | 'DaemonSet'
  | 'CronJob'
  | 'Job'
  | 'PyTorchJob'
  | 'TFJob';

/** A GPU device a container holds: a whole GPU, one MIG slice of it, or one time-slicing replica of it. */
export interface DeviceClaim {
  /** Index of the GPU on its node. */
  gpu: number;
  /** Index into the GPU's MIG slices, for a MIG slice. */
  slice?: number;
  /** Replica number, for a time-sliced GPU (`<uuid>::<replica>`). */
  replica?: number;
}

export interface ContainerTemplate {
  name: string;
  image: string;
  /** As written in the pod spec (Kubernetes quantities). */
  requests: Record<string, string>;
  limits: Record<string, string>;
  ports: number[];
  /** The same, parsed the way the agent parses them. */
  requestAmounts: ResourceAmounts;
  limitAmounts: ResourceAmounts;
  devices: DeviceClaim[];
}

export interface TrainingProfile {
  kind: 'training';
  activity: number;
  tensorShare: number;
  gpuMemoryMiB: number;
  cpuCores: number;
  memoryBytes: number;
  checkpointEveryMin: number;
  checkpointMin: number;
  /** Chance that a run of this gang hangs part way and holds its GPUs idle until the run's end. */
  hangChance: number;
}

export interface NotebookProfile {
  kind: 'notebook';
  /** Planted: the notebook never touches its GPU. */
  idle: boolean;
  utcOffsetHours: number;
  gpuMemoryMiB: number;
  cpuCores: number;
  memoryBytes: number;
}

export interface InferenceProfile {
  kind: 'vllm' | 'triton' | 'embedding';
  server: 'vllm' | 'triton';
  utcOffsetHours: number;
  peakRequestsPerSecond: number;
  activityBase: number;
  activityPerLoad: number;
  tensorShare: number;
  gpuMemoryMiB: number;
  cpuBase: number;
  cpuPerLoad: number;
  memoryBytes: number;
  /** Served model names and the share of requests each gets. */
  models: string[];
  modelShares: number[];
  llm?: LlmModel;
  triton?: TritonModelSet;
  failureRate: number;
}

export interface GpuBatchProfile {
  kind: 'gpu-batch';
  activity: number;
  tensorShare: number;
  gpuMemoryMiB: number;
  cpuCores: number;
  memoryBytes: number;
}

export interface CpuServiceProfile {
  kind: 'cpu-service';
  utcOffsetHours: number;
  cpuMean: number;
  memoryBytes: number;
}

export interface LeakyProfile {
  kind: 'leaky-service';
  cpuMean: number;
  baseBytes: number;
  leakBytesPerHour: number;
  limitBytes: number;
}

export interface SteadyProfile {
  kind: 'etl' | 'daemon';
  cpuCores: number;
  memoryBytes: number;
}

export type Profile =
  | TrainingProfile
  | NotebookProfile
  | InferenceProfile
  | GpuBatchProfile
  | CpuServiceProfile
  | LeakyProfile
  | SteadyProfile;

/** Waste planted on purpose, which the ground truth lists and mlcost should find. */
export type Planted =
  | { kind: 'idle-gpu'; reason: 'notebook-never-used' }
  | { kind: 'hung-training' }
  | { kind: 'over-requested' }
  | { kind: 'sliceable-gpu' }
  | { kind: 'oom-loop' };

export interface Seat {
  /** Stateless-hash key of this seat's values over time. */
  key: number;
  /** Key of its schedule: shared by the nodes of one training gang so they start and stop together. */
  scheduleKey: number;
  nodeIndex: number;
  kind: WorkloadKind;
  team: string;
  namespace: string;
  controller: ControllerKind;
  /** Name of the controller (Deployment, StatefulSet, DaemonSet, CronJob), or the base of job names. */
  baseName: string;
  schedule: Schedule;
  /** Training gangs: how many nodes, and which member this seat is (0 is the master). */
  gang?: { size: number; member: number };
  labels: Record<string, string>;
  annotations: Record<string, string>;
  containers: ContainerTemplate[];
  /** KServe InferenceService this seat serves. */
  inferenceService?: string;
  profile: Profile;
  planted?: Planted;
}

/** A model-serving seat's profile (vLLM, Triton, the embedding service), or undefined for other seats. */
export function servingProfile(seat: Seat): InferenceProfile | undefined {
  const p = seat.profile;
  return p.kind === 'vllm' || p.kind === 'triton' || p.kind === 'embedding' ? p : undefined;
}

/** Parses a pod spec's resources as the agent does: cpu, memory, and the one GPU-like resource asked for. */
export function parseAmounts(resources: Record<string, string>): ResourceAmounts {
  const out: ResourceAmounts = {};
  if (resources['cpu'] !== undefined) out.cpuCores = parseQuantity(resources['cpu']);
  if (resources['memory'] !== undefined) out.memoryBytes = parseQuantity(resources['memory']);
  const gpuName = Object.keys(resources).find(
    (name) => name === 'nvidia.com/gpu' || name.startsWith('nvidia.com/mig-'),
  );
  if (gpuName) {
    out.gpuResource = gpuName;
    out.gpus = parseQuantity(resources[gpuName]!);
  }
  return out;
}

export function container(
  name: string,
  image: string,
  requests: Record<string, string>,
  limits: Record<string, string>,
  options: { ports?: number[]; devices?: DeviceClaim[] } = {},
): ContainerTemplate {
  return {
    name,
    image,
    requests,
    limits,
    ports: options.ports ?? [],
    requestAmounts: parseAmounts(requests),
    limitAmounts: parseAmounts(limits),
    devices: options.devices ?? [],
  };
}

const GiB = 2 ** 30;
const MiB = 2 ** 20;

/** The GPU resource map entry for a list of claims: `nvidia.com/gpu` or `nvidia.com/mig-<profile>`. */
export function gpuResource(resourceName: string, count: number): Record<string, string> {
  return { [resourceName]: String(count) };
}

/** A hour-aligned phase for a schedule of `periodHours`. */
function phase(rng: Rng, periodHours: number): number {
  return rng.int(0, periodHours - 1) * HOUR;
}

function rolloutSchedule(rng: Rng, minDays: number, maxDays: number): Schedule {
  const periodHours = rng.int(minDays * 24, maxDays * 24);
  return { type: 'always', periodMs: periodHours * HOUR, phaseMs: phase(rng, periodHours) };
}

export interface SeatContext {
  rng: Rng;
  nodeIndex: number;
  team: string;
  namespace: string;
  utcOffsetHours: number;
  /** A short tag unique in the cluster, ending the names of the seat's objects. */
  tag: string;
}

function seatBase(ctx: SeatContext, kind: WorkloadKind, controller: ControllerKind, baseName: string) {
  const key = ctx.rng.key();
  return {
    key,
    scheduleKey: key,
    nodeIndex: ctx.nodeIndex,
    kind,
    team: ctx.team,
    namespace: ctx.namespace,
    controller,
    baseName,
    labels: { team: ctx.team, 'mlcost.io/simulated': 'true' } as Record<string, string>,
    annotations: {} as Record<string, string>,
  };
}

/** One node's share of a Kubeflow training job: a worker (or the master) holding all eight GPUs. */
export function trainingSeat(
  ctx: SeatContext,
  gang: {
    key: number;
    kind: 'PyTorchJob' | 'TFJob';
    baseName: string;
    size: number;
    member: number;
    schedule: Schedule;
    hangChance: number;
  },
  gpuMemoryMiB: number,
): Seat {
  const { rng } = ctx;
  const base = seatBase(ctx, 'training', gang.kind, gang.baseName);
  const devices = Array.from({ length: 8 }, (_, gpu) => ({ gpu }));
  const resources = { cpu: '96', memory: '1000Gi', 'nvidia.com/gpu': '8' };
  const image =
    gang.kind === 'PyTorchJob' ? 'nvcr.io/nvidia/pytorch:24.05-py3' : 'tensorflow/tensorflow:2.16.1-gpu';
  return {
    ...base,
    scheduleKey: gang.key,
    schedule: gang.schedule,
    gang: { size: gang.size, member: gang.member },
    containers: [
      container(gang.kind === 'PyTorchJob' ? 'pytorch' : 'tensorflow', image, resources, resources, {
        ports: [23456],
        devices,
      }),
    ],
    profile: {
      kind: 'training',
      activity: round(rng.between(0.86, 0.96), 4),
      tensorShare: round(rng.between(0.55, 0.8), 4),
      gpuMemoryMiB: Math.round(gpuMemoryMiB * rng.between(0.82, 0.95)),
      cpuCores: round(rng.between(30, 70), 3),
      memoryBytes: Math.round(rng.between(400, 800) * GiB),
      checkpointEveryMin: rng.pick([30, 45, 60]),
      checkpointMin: rng.int(2, 5),
      hangChance: gang.hangChance,
    },
    planted: gang.hangChance > 0 ? { kind: 'hung-training' } : undefined,
  };
}

const NOTEBOOK_USERS = [
  'alice',
  'bruno',
  'chen',
  'dmitri',
  'esra',
  'farah',
  'gita',
  'hiro',
  'ines',
  'jonas',
  'kofi',
  'lena',
  'mateo',
  'nadia',
  'omar',
  'priya',
  'quinn',
  'rosa',
  'sven',
  'tomas',
];

/** A Kubeflow notebook (a StatefulSet of one pod) holding one GPU or MIG slice; `idle` plants a never-used one. */
export function notebookSeat(
  ctx: SeatContext,
  gpu: { resource: string; devices: DeviceClaim[] },
  idle: boolean,
): Seat {
  const { rng } = ctx;
  const name = `${rng.pick(NOTEBOOK_USERS)}-${rng.pick(['exp', 'scratch', 'eda', 'dev', 'proto'])}-${ctx.tag}`;
  const base = seatBase(ctx, 'notebook', 'StatefulSet', name);
  return {
    ...base,
    labels: { ...base.labels, app: name, 'notebook-name': name, statefulset: name },
    annotations: { 'notebooks.kubeflow.org/server-type': 'jupyter' },
    // Notebooks live for weeks: re-created every 20-40 days.
    schedule: rolloutSchedule(rng, 20, 40),
    containers: [
      container(
        name,
        'kubeflownotebookswg/jupyter-pytorch-cuda-full:v1.9.0',
        { cpu: '2', memory: '16Gi', ...gpuResource(gpu.resource, 1) },
        { cpu: '4', memory: '32Gi', ...gpuResource(gpu.resource, 1) },
        { ports: [8888], devices: gpu.devices },
      ),
    ],
    profile: {
      kind: 'notebook',
      idle,
      utcOffsetHours: ctx.utcOffsetHours,
      gpuMemoryMiB: idle ? 1236 : rng.int(2000, 9000),
      cpuCores: round(rng.between(0.05, 0.4), 3),
      memoryBytes: Math.round(rng.between(2, 7) * GiB),
    },
    planted: idle ? { kind: 'idle-gpu', reason: 'notebook-never-used' } : undefined,
  };
}

/** A KServe InferenceService predictor running vLLM on whole GPUs, a MIG slice or a time-sliced GPU. */
export function vllmSeat(
  ctx: SeatContext,
  llm: LlmModel,
  gpu: {
    resource: string;
    count: number;
    devices: DeviceClaim[];
    memoryMiB: number;
    memoryFraction?: number;
  },
  size: 'large' | 'small',
): Seat {
  const { rng } = ctx;
  const isvc = `${llm.short}-${rng.pick(['chat', 'assist', 'rag', 'summarize', 'router'])}-${ctx.tag}`;
  const base = seatBase(ctx, 'vllm', 'Deployment', `${isvc}-predictor`);
  const [cpuRequest, memoryRequest, cpuLimit, memoryLimit] =
    size === 'large' ? ['16', '160Gi', '32', '200Gi'] : ['4', '24Gi', '8', '32Gi'];
  const load = rng.between(llm.peakRequestsPerSecond[0], llm.peakRequestsPerSecond[1]);
  return {
    ...base,
    inferenceService: isvc,
    labels: {
      ...base.labels,
      app: `isvc.${isvc}-predictor`,
      component: 'predictor',
      'serving.kserve.io/inferenceservice': isvc,
      'app.kubernetes.io/name': 'vllm',
    },
    annotations: {
      'serving.kserve.io/deploymentMode': 'RawDeployment',
      'prometheus.kserve.io/port': '8080',
      'prometheus.kserve.io/path': '/metrics',
    },
    schedule: rolloutSchedule(rng, 3, 10),
    containers: [
      container(
        'kserve-container',
        'vllm/vllm-openai:v0.8.5',
        { cpu: cpuRequest, memory: memoryRequest, ...gpuResource(gpu.resource, gpu.count) },
        { cpu: cpuLimit, memory: memoryLimit, ...gpuResource(gpu.resource, gpu.count) },
        { ports: [8080], devices: gpu.devices },
      ),
    ],
    profile: {
      kind: 'vllm',
      server: 'vllm',
      utcOffsetHours: ctx.utcOffsetHours,
      peakRequestsPerSecond: round(load, 3),
      activityBase: round(rng.between(0.04, 0.08), 4),
      activityPerLoad: round(rng.between(0.75, 0.9), 4),
      tensorShare: round(rng.between(0.35, 0.55), 4),
      // --gpu-memory-utilization: 0.9 on a GPU or slice of its own; lower when time-sliced with others.
      gpuMemoryMiB: Math.round(gpu.memoryMiB * (gpu.memoryFraction ?? 0.9)),
      cpuBase: round(rng.between(0.3, 0.8), 3),
      cpuPerLoad: round(rng.between(1, 2.5), 3),
      memoryBytes: Math.round(rng.between(0.35, 0.6) * parseQuantity(memoryRequest)),
      models: [llm.name],
      modelShares: [1],
      llm,
      failureRate: round(rng.between(0.001, 0.006), 5),
    },
  };
}

/** An NVIDIA Triton Inference Server Deployment hosting a set of models. */
export function tritonSeat(
  ctx: SeatContext,
  set: TritonModelSet,
  gpu: { resource: string; devices: DeviceClaim[] },
  kind: 'triton' | 'embedding' = 'triton',
): Seat {
  const { rng } = ctx;
  const name =
    kind === 'embedding'
      ? `embeddings-${set.models[0]!.split('-')[0]}-${ctx.tag}`
      : `triton-${set.models[0]}-${ctx.tag}`;
  const base = seatBase(ctx, kind, 'Deployment', name);
  const cpu = kind === 'embedding' ? '2' : '4';
  const memory = kind === 'embedding' ? '6Gi' : '12Gi';
  const first = round(rng.between(0.55, 0.8), 3);
  return {
    ...base,
    labels: { ...base.labels, app: name, 'app.kubernetes.io/name': 'triton' },
    annotations: {},
    schedule: rolloutSchedule(rng, 5, 14),
    containers: [
      container(
        'triton',
        'nvcr.io/nvidia/tritonserver:24.05-py3',
        { cpu, memory, ...gpuResource(gpu.resource, 1) },
        { cpu: String(Number(cpu) * 2), memory, ...gpuResource(gpu.resource, 1) },
        { ports: [8000, 8001, 8002], devices: gpu.devices },
      ),
    ],
    profile: {
      kind,
      server: 'triton',
      utcOffsetHours: ctx.utcOffsetHours,
      peakRequestsPerSecond: round(
        rng.between(set.peakRequestsPerSecond[0], set.peakRequestsPerSecond[1]),
        3,
      ),
      activityBase: kind === 'embedding' ? 0.01 : round(rng.between(0.02, 0.05), 4),
      activityPerLoad:
        kind === 'embedding' ? round(rng.between(0.04, 0.07), 4) : round(rng.between(0.4, 0.65), 4),
      tensorShare: round(rng.between(0.2, 0.45), 4),
      gpuMemoryMiB: set.gpuMemoryMiB + rng.int(0, 400),
      cpuBase: round(rng.between(0.2, 0.5), 3),
      cpuPerLoad: round(rng.between(0.6, 1.6), 3),
      memoryBytes: Math.round(rng.between(0.3, 0.5) * parseQuantity(memory)),
      models: set.models,
      modelShares: set.models.length === 1 ? [1] : [first, round(1 - first, 3)],
      triton: set,
      failureRate: round(rng.between(0.0005, 0.003), 5),
    },
    planted: kind === 'embedding' ? { kind: 'sliceable-gpu' } : undefined,
  };
}

/** An evaluation Job on two GPUs, run a few hours every six hours. */
export function gpuBatchSeat(ctx: SeatContext, devices: DeviceClaim[], gpuMemoryMiB: number): Seat {
  const { rng } = ctx;
  const name = `eval-${rng.pick(['mmlu', 'gsm8k', 'humaneval', 'helm', 'arena'])}`;
  const base = seatBase(ctx, 'gpu-batch', 'Job', name);
  const resources = { cpu: '16', memory: '128Gi', 'nvidia.com/gpu': String(devices.length) };
  return {
    ...base,
    labels: { ...base.labels, app: name },
    schedule: {
      type: 'periodic',
      periodMs: 6 * HOUR,
      phaseMs: phase(rng, 6),
      maxOffsetHours: 3,
      minRunHours: 1,
      maxRunHours: 3,
    },
    containers: [container('eval', 'nvcr.io/nvidia/pytorch:24.05-py3', resources, resources, { devices })],
    profile: {
      kind: 'gpu-batch',
      activity: round(rng.between(0.55, 0.75), 4),
      tensorShare: round(rng.between(0.4, 0.6), 4),
      gpuMemoryMiB: Math.round(gpuMemoryMiB * rng.between(0.4, 0.7)),
      cpuCores: round(rng.between(4, 10), 3),
      memoryBytes: Math.round(rng.between(30, 70) * GiB),
    },
  };
}

const SERVICE_NAMES = [
  'feature-store',
  'mlflow-server',
  'label-studio',
  'airflow-webserver',
  'model-registry',
  'inference-gateway',
  'vector-db-proxy',
  'experiment-tracker',
];

/** A CPU-only service Deployment; `overRequested` plants one asking for several times what it uses. */
export function cpuServiceSeat(ctx: SeatContext, overRequested: boolean): Seat {
  const { rng } = ctx;
  const name = `${rng.pick(SERVICE_NAMES)}-${ctx.tag}`;
  const base = seatBase(ctx, 'cpu-service', 'Deployment', name);
  const [cpu, memory, memoryLimit] = overRequested ? ['6', '24Gi', '32Gi'] : ['2', '4Gi', '6Gi'];
  return {
    ...base,
    labels: { ...base.labels, app: name, 'app.kubernetes.io/name': name.slice(0, -ctx.tag.length - 1) },
    schedule: rolloutSchedule(rng, 2, 8),
    containers: [
      container(
        'app',
        `ghcr.io/example/${name.slice(0, -ctx.tag.length - 1)}:1.4.2`,
        { cpu, memory },
        { memory: memoryLimit },
        {
          ports: [8080],
        },
      ),
    ],
    profile: {
      kind: 'cpu-service',
      utcOffsetHours: ctx.utcOffsetHours,
      cpuMean: overRequested ? round(rng.between(0.15, 0.4), 3) : round(rng.between(0.9, 1.4), 3),
      memoryBytes: overRequested
        ? Math.round(rng.between(1, 2.5) * GiB)
        : Math.round(rng.between(2.2, 3.2) * GiB),
    },
    planted: overRequested ? { kind: 'over-requested' } : undefined,
  };
}

/** A service whose memory grows until the kernel OOM-kills it at its limit, every 6-18 hours. */
export function leakySeat(ctx: SeatContext): Seat {
  const { rng } = ctx;
  const name = `session-cache-${ctx.tag}`;
  const base = seatBase(ctx, 'leaky-service', 'Deployment', name);
  const limitBytes = 4 * GiB;
  const baseBytes = Math.round(rng.between(500, 800) * MiB);
  const cycleHours = rng.between(6, 18);
  return {
    ...base,
    labels: { ...base.labels, app: name },
    schedule: rolloutSchedule(rng, 5, 12),
    containers: [
      container('app', 'ghcr.io/example/session-cache:0.9.1', { cpu: '1', memory: '2Gi' }, { memory: '4Gi' }),
    ],
    profile: {
      kind: 'leaky-service',
      cpuMean: round(rng.between(0.15, 0.35), 3),
      baseBytes,
      leakBytesPerHour: Math.round((limitBytes - baseBytes) / cycleHours),
      limitBytes,
    },
    planted: { kind: 'oom-loop' },
  };
}

/** A CronJob that runs for one hour every two hours, from midnight UTC (schedule "0 every-2nd-hour"). */
export function etlSeat(ctx: SeatContext): Seat {
  const { rng } = ctx;
  const name = `etl-${rng.pick(['events', 'features', 'labels', 'clickstream'])}-${ctx.tag}`;
  const base = seatBase(ctx, 'etl', 'CronJob', name);
  return {
    ...base,
    labels: { ...base.labels, app: name },
    schedule: {
      type: 'periodic',
      periodMs: 2 * HOUR,
      phaseMs: 0,
      maxOffsetHours: 0,
      minRunHours: 1,
      maxRunHours: 1,
    },
    containers: [
      container('etl', 'ghcr.io/example/etl:2.3.0', { cpu: '4', memory: '8Gi' }, { cpu: '4', memory: '8Gi' }),
    ],
    profile: {
      kind: 'etl',
      cpuCores: round(rng.between(3, 3.8), 3),
      memoryBytes: Math.round(rng.between(5, 7) * GiB),
    },
  };
}

/** The node exporter DaemonSet pod every node runs. */
export function daemonSeat(ctx: SeatContext): Seat {
  const { rng } = ctx;
  const base = seatBase(ctx, 'daemon', 'DaemonSet', 'node-exporter');
  return {
    ...base,
    labels: { ...base.labels, app: 'node-exporter', 'app.kubernetes.io/name': 'node-exporter' },
    // Nodes are up for the whole simulated history; the daemon pod is re-created with the node image every 30 days.
    schedule: { type: 'always', periodMs: 30 * DAY, phaseMs: 0 },
    containers: [
      container(
        'node-exporter',
        'quay.io/prometheus/node-exporter:v1.8.1',
        { cpu: '100m', memory: '128Mi' },
        { cpu: '250m', memory: '256Mi' },
        { ports: [9100] },
      ),
    ],
    profile: {
      kind: 'daemon',
      cpuCores: round(rng.between(0.01, 0.04), 4),
      memoryBytes: Math.round(rng.between(40, 70) * MiB),
    },
  };
}

export function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
