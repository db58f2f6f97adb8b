// The one generator of the simulated cluster: `generateCluster({ seed, nodes })` lays out node pools, builds each
// node (instance type, labels as GPU Feature Discovery and Karpenter write them, GPUs with UUIDs, MIG slices,
// time-slicing replicas) and places workloads on it as seats. Everything comes from one seeded Rng consumed in a
// fixed order, so the same options give the same cluster; what the cluster does over time lives in behaviour.ts.
//
// Pools (AWS shapes, see hardware.ts):
//   h100       p5.48xlarge, 8×H100 SXM: Kubeflow training gangs, or a dev node (notebooks, eval jobs), or large-model
//              vLLM serving
//   a100-mig   p4de.24xlarge, 8×A100 80GB in MIG mode (`mixed` strategy, four fixed layouts): small models on
//              slices, Triton, notebooks on 1g.10gb
//   l4         g6.48xlarge, 8×L4: one vLLM or Triton server per GPU
//   l4-shared  g6.48xlarge, 8×L4 time-sliced four ways (`nvidia.com/gpu.replicas=4`): two small servers per GPU
//   cpu        m6i.8xlarge: CPU services, a leaking service, an ETL CronJob
// By default three in four nodes are 8-GPU nodes (6 GPUs per node on average); `gpus` sets the GPU total instead
// (40,000 GPUs on 5,000 nodes means every node is a GPU node), and `mix` sets pool weights outright.
import { parseQuantity } from '../core/units.ts';
import {
  G6_48XLARGE,
  type GpuModel,
  type InstanceType,
  M6I_8XLARGE,
  MIG_LAYOUTS,
  MIG_PROFILES,
  type MigProfile,
  migInstanceIds,
  P4DE_24XLARGE,
  P5_48XLARGE,
} from './hardware.ts';
import {
  EMBEDDING_SET,
  LLAMA_8B,
  LLAMA_70B,
  PHI3_MINI,
  QWEN_05B,
  QWEN_CODER_7B,
  TRITON_SETS,
} from './models.ts';
import { Rng, uuidFrom } from './random.ts';
import { HOUR } from './schedule.ts';
import { allNamespaces, PLATFORM_DAEMON_NAMESPACE, type Team, teamByName, teamsWith } from './teams.ts';
import {
  cpuServiceSeat,
  type DeviceClaim,
  daemonSeat,
  etlSeat,
  gpuBatchSeat,
  leakySeat,
  notebookSeat,
  type Seat,
  type SeatContext,
  trainingSeat,
  tritonSeat,
  vllmSeat,
} from './workloads.ts';

export type PoolName = 'h100' | 'a100-mig' | 'l4' | 'l4-shared' | 'cpu';
export const POOL_NAMES: readonly PoolName[] = ['h100', 'a100-mig', 'l4', 'l4-shared', 'cpu'];

export interface GenerateOptions {
  seed: number;
  nodes: number;
  /** Total GPUs wanted (rounded to whole 8-GPU nodes); default six per node. Ignored when `mix` is given. */
  gpus?: number;
  /** Relative weights of the pools, e.g. `{ l4: 1, cpu: 1 }`. */
  mix?: Partial<Record<PoolName, number>>;
}

export interface SimMigSlice {
  profile: MigProfile;
  /** GPU instance id (`GPU_I_ID`). */
  instanceId: number;
  /** The MIG device's own UUID, as the device plugin hands it to the kubelet (`MIG-...`). */
  uuid: string;
  /** `<parent UUID>/<GPU instance id>`: the id the agent gives the slice. */
  id: string;
}

export interface SimGpu {
  index: number;
  uuid: string;
  pciBusId: string;
  model: GpuModel;
  /** MIG slices when the GPU is partitioned; empty otherwise. */
  slices: SimMigSlice[];
  /** Time-slicing replicas (1 when the GPU is not shared). */
  replicas: number;
  /** A per-GPU temperature offset (cooling differs by slot in the chassis). */
  temperatureOffset: number;
}

export interface SimNode {
  index: number;
  name: string;
  pool: PoolName;
  instance: InstanceType;
  capacityType: 'on-demand' | 'spot';
  zone: string;
  key: number;
  labels: Record<string, string>;
  /** Node object `status.capacity` / `status.allocatable`, as quantities. */
  capacity: Record<string, string>;
  allocatable: Record<string, string>;
  cpuCores: number;
  memoryBytes: number;
  allocatableCpuCores: number;
  allocatableMemoryBytes: number;
  /** Schedulable GPU units the agent counts in allocatable (`nvidia.com/gpu`), absent under MIG mixed. */
  allocatableGpus?: number;
  /** Physical GPUs, as the agent reports them from GFD's gpu.count. */
  gpuCount?: number;
  /** CPU and memory the kubelet, runtime and OS use besides pods. */
  systemCpuCores: number;
  systemMemoryBytes: number;
  gpus: SimGpu[];
  seats: Seat[];
}

export interface Cluster {
  seed: number;
  nodes: SimNode[];
  namespaces: Array<{ name: string; team: string }>;
  /** Physical GPUs in the cluster. */
  gpuCount: number;
}

const GPU_POOL_WEIGHTS: Record<Exclude<PoolName, 'cpu'>, number> = {
  h100: 0.45,
  'a100-mig': 0.2,
  l4: 0.2,
  'l4-shared': 0.15,
};

const POOL_INSTANCE: Record<PoolName, InstanceType> = {
  h100: P5_48XLARGE,
  'a100-mig': P4DE_24XLARGE,
  l4: G6_48XLARGE,
  'l4-shared': G6_48XLARGE,
  cpu: M6I_8XLARGE,
};

const POOL_SHORT: Record<PoolName, string> = {
  h100: 'h100',
  'a100-mig': 'a100',
  l4: 'l4',
  'l4-shared': 'l4s',
  cpu: 'cpu',
};

/** Share of each pool's nodes bought as spot capacity. */
const SPOT_SHARE: Record<PoolName, number> = {
  h100: 0.1,
  'a100-mig': 0,
  l4: 0.35,
  'l4-shared': 0.35,
  cpu: 0.3,
};

const ZONES = ['us-east-1a', 'us-east-1b', 'us-east-1c', 'us-east-1d'];
/** PCI bus ids of the eight GPUs in a p5/p4de-class chassis (as nvidia-smi lists them). */
const PCI_BUSES = ['18', '2A', '3A', '5D', '9A', 'AB', 'BA', 'DB'];

/** Whole counts from weights, by largest remainder (ties to the earlier pool). */
function apportion<K extends string>(
  weights: Record<K, number>,
  total: number,
  order: readonly K[],
): Record<K, number> {
  const sum = order.reduce((s, k) => s + (weights[k] ?? 0), 0);
  const counts = {} as Record<K, number>;
  if (sum <= 0 || total <= 0) {
    for (const k of order) counts[k] = 0;
    return counts;
  }
  const exact = order.map((k) => ((weights[k] ?? 0) / sum) * total);
  order.forEach((k, i) => {
    counts[k] = Math.floor(exact[i]!);
  });
  let left = total - order.reduce((s, k) => s + counts[k], 0);
  const byRemainder = order
    .map((k, i) => ({ k, r: exact[i]! - Math.floor(exact[i]!), i }))
    .sort((a, b) => b.r - a.r || a.i - b.i);
  for (const { k } of byRemainder) {
    if (left <= 0) break;
    counts[k]++;
    left--;
  }
  return counts;
}

/**
 * Which pool each node is in. Pools are interleaved (each step takes the pool furthest behind its share), so the
 * first few nodes of any cluster already cover several pools.
 */
export function planPools(options: GenerateOptions): PoolName[] {
  const { nodes } = options;
  let counts: Record<PoolName, number>;
  if (options.mix) {
    const weights = Object.fromEntries(POOL_NAMES.map((p) => [p, options.mix?.[p] ?? 0])) as Record<
      PoolName,
      number
    >;
    counts = apportion(weights, nodes, POOL_NAMES);
  } else {
    const gpuNodes = Math.max(0, Math.min(nodes, Math.round((options.gpus ?? nodes * 6) / 8)));
    const gpuPools = POOL_NAMES.filter((p): p is Exclude<PoolName, 'cpu'> => p !== 'cpu');
    counts = { ...apportion(GPU_POOL_WEIGHTS, gpuNodes, gpuPools), cpu: nodes - gpuNodes };
  }
  const assigned = Object.fromEntries(POOL_NAMES.map((p) => [p, 0])) as Record<PoolName, number>;
  const plan: PoolName[] = [];
  for (let k = 0; k < nodes; k++) {
    let best: PoolName | undefined;
    let bestScore = Number.NEGATIVE_INFINITY;
    for (const pool of POOL_NAMES) {
      if (assigned[pool] >= counts[pool]) continue;
      const score = (counts[pool] * (k + 1)) / nodes - assigned[pool];
      if (score > bestScore + 1e-12) {
        best = pool;
        bestScore = score;
      }
    }
    plan.push(best!);
    assigned[best!]++;
  }
  return plan;
}

function kibibytes(gib: number): string {
  return `${gib * 1024 * 1024}Ki`;
}

function buildNode(rng: Rng, pool: PoolName, index: number): SimNode {
  const instance = POOL_INSTANCE[pool];
  const name = `sim-${POOL_SHORT[pool]}-${String(index + 1).padStart(4, '0')}`;
  const capacityType = rng.chance(SPOT_SHARE[pool]) ? 'spot' : 'on-demand';
  const zone = rng.pick(ZONES);
  const key = rng.key();
  const model = instance.gpuModel;
  const replicas = pool === 'l4-shared' ? 4 : 1;

  const gpus: SimGpu[] = [];
  for (let i = 0; i < instance.gpus; i++) {
    const uuid = `GPU-${uuidFrom(rng)}`;
    const layout = pool === 'a100-mig' ? MIG_LAYOUTS[i % MIG_LAYOUTS.length]! : [];
    const instanceIds = migInstanceIds(layout);
    const slices = layout.map((profile, s) => {
      const instanceId = instanceIds[s]!;
      return {
        profile: MIG_PROFILES[profile]!,
        instanceId,
        uuid: `MIG-${uuidFrom(rng)}`,
        id: `${uuid}/${instanceId}`,
      };
    });
    gpus.push({
      index: i,
      uuid,
      pciBusId: `00000000:${PCI_BUSES[i % PCI_BUSES.length]}:00.0`,
      model: model!,
      slices,
      replicas,
      temperatureOffset: rng.int(0, 4),
    });
  }

  // Kubelet and system reservations, roughly as EKS computes them: a little CPU, ~5% of memory.
  const reservedMilli = 60 + Math.round(instance.cpuCores * 4);
  const reservedMemoryKi = Math.round(instance.memoryGiB * 1024 * 1024 * 0.05);
  const capacity: Record<string, string> = {
    cpu: String(instance.cpuCores),
    memory: kibibytes(instance.memoryGiB),
    pods: '110',
  };
  const allocatable: Record<string, string> = {
    cpu: `${instance.cpuCores * 1000 - reservedMilli}m`,
    memory: `${instance.memoryGiB * 1024 * 1024 - reservedMemoryKi}Ki`,
    pods: '110',
  };
  const labels: Record<string, string> = {
    'kubernetes.io/hostname': name,
    'kubernetes.io/os': 'linux',
    'kubernetes.io/arch': 'amd64',
    'node.kubernetes.io/instance-type': instance.name,
    'topology.kubernetes.io/region': 'us-east-1',
    'topology.kubernetes.io/zone': zone,
    'karpenter.sh/capacity-type': capacityType,
    'karpenter.sh/nodepool': pool === 'cpu' ? 'cpu-general' : `gpu-${pool}`,
    'mlcost.io/simulated': 'true',
  };
  let allocatableGpus: number | undefined;
  if (model) {
    Object.assign(labels, {
      'nvidia.com/gpu.present': 'true',
      'nvidia.com/gpu.product': pool === 'l4-shared' ? `${model.product}-SHARED` : model.product,
      'nvidia.com/gpu.count': String(instance.gpus),
      'nvidia.com/gpu.memory': String(model.memoryMiB),
      'nvidia.com/gpu.family': model.family,
      'nvidia.com/mig.capable': model.migSlices ? 'true' : 'false',
      'nvidia.com/mig.strategy': pool === 'a100-mig' ? 'mixed' : 'none',
      'nvidia.com/gpu.replicas': String(replicas),
      'nvidia.com/gpu.sharing-strategy': pool === 'l4-shared' ? 'time-slicing' : 'none',
    });
    if (pool === 'a100-mig') {
      const perProfile = new Map<string, number>();
      for (const gpu of gpus) {
        for (const slice of gpu.slices)
          perProfile.set(slice.profile.name, (perProfile.get(slice.profile.name) ?? 0) + 1);
      }
      for (const [profile, count] of [...perProfile].sort(([a], [b]) => a.localeCompare(b))) {
        labels[`nvidia.com/mig-${profile}.count`] = String(count);
        capacity[`nvidia.com/mig-${profile}`] = String(count);
        allocatable[`nvidia.com/mig-${profile}`] = String(count);
      }
    } else {
      allocatableGpus = instance.gpus * replicas;
      capacity['nvidia.com/gpu'] = String(allocatableGpus);
      allocatable['nvidia.com/gpu'] = String(allocatableGpus);
    }
  }

  return {
    index,
    name,
    pool,
    instance,
    capacityType,
    zone,
    key,
    labels,
    capacity,
    allocatable,
    cpuCores: parseQuantity(capacity['cpu']!),
    memoryBytes: parseQuantity(capacity['memory']!),
    allocatableCpuCores: parseQuantity(allocatable['cpu']!),
    allocatableMemoryBytes: parseQuantity(allocatable['memory']!),
    allocatableGpus,
    gpuCount: model ? instance.gpus : undefined,
    systemCpuCores: Math.round((0.25 + instance.cpuCores * 0.002) * 1000) / 1000,
    systemMemoryBytes: Math.round((1.2 + instance.memoryGiB * 0.004) * 2 ** 30),
    gpus,
    seats: [],
  };
}

/**
 * A name tag unique per seat number that looks generated: the number is scrambled by multiplying with a constant
 * coprime to the tag space and written in the Kubernetes name alphabet (four letters up to 531,441 seats).
 */
export function uniqueTag(seq: number): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  let width = 4;
  while (seq >= alphabet.length ** width) width++;
  const space = alphabet.length ** width;
  let value = Number((BigInt(seq) * 1_000_003n) % BigInt(space));
  let out = '';
  for (let i = 0; i < width; i++) {
    out += alphabet[value % alphabet.length];
    value = Math.floor(value / alphabet.length);
  }
  return out;
}

type H100Role = 'training' | 'dev' | 'serving';

/** What placing workloads needs: the cluster's Rng, and the count of seats made so far (for unique name tags). */
interface Build {
  rng: Rng;
  seats: number;
}

function context(build: Build, node: SimNode, team: Team, purpose: keyof Team['namespaces']): SeatContext {
  return {
    rng: build.rng,
    tag: uniqueTag(build.seats++),
    nodeIndex: node.index,
    team: team.name,
    namespace: team.namespaces[purpose]!,
    utcOffsetHours: team.utcOffsetHours,
  };
}

function whole(gpu: number): { resource: string; devices: DeviceClaim[] } {
  return { resource: 'nvidia.com/gpu', devices: [{ gpu }] };
}

function placeH100Dev(build: Build, node: SimNode): void {
  const { rng } = build;
  const model = node.gpus[0]!.model;
  for (let gpu = 0; gpu < 3; gpu++) {
    const team = rng.pick(teamsWith('notebooks'));
    // The first notebook of every dev node is planted idle: it never touches its GPU.
    node.seats.push(notebookSeat(context(build, node, team, 'notebooks'), whole(gpu), gpu === 0));
  }
  // Evaluation jobs belong to the teams that train models.
  const batchTeam = rng.pick([teamByName('research'), teamByName('vision')]);
  node.seats.push(
    gpuBatchSeat(context(build, node, batchTeam, 'batch'), [{ gpu: 3 }, { gpu: 4 }], model.memoryMiB),
  );
  // A planted sliceable GPU user: a small embedding model alone on a whole H100.
  node.seats.push(
    tritonSeat(context(build, node, teamByName('platform'), 'serving'), EMBEDDING_SET, whole(5), 'embedding'),
  );
}

function placeH100Serving(build: Build, node: SimNode): void {
  const { rng } = build;
  const memoryMiB = node.gpus[0]!.model.memoryMiB;
  for (const first of [0, 4]) {
    const team = rng.pick(teamsWith('serving'));
    const devices = [0, 1, 2, 3].map((i) => ({ gpu: first + i }));
    node.seats.push(
      vllmSeat(
        context(build, node, team, 'serving'),
        LLAMA_70B,
        { resource: 'nvidia.com/gpu', count: 4, devices, memoryMiB },
        'large',
      ),
    );
  }
}

/** What occupies each slice of the four MIG layouts (undefined: the slice stays free). */
type SliceUse = 'vllm-8b' | 'vllm-coder' | 'vllm-phi3' | 'vllm-tiny' | 'triton' | 'notebook' | undefined;
const LAYOUT_USES: readonly (readonly SliceUse[])[] = [
  ['vllm-8b', 'triton', 'notebook', 'vllm-tiny'],
  ['notebook', 'vllm-tiny', 'vllm-tiny', 'notebook', undefined, undefined, undefined],
  ['triton', 'vllm-coder'],
  ['vllm-phi3', 'triton', undefined, 'notebook'],
];

function placeA100Mig(build: Build, node: SimNode): void {
  const { rng } = build;
  for (const gpu of node.gpus) {
    const uses = LAYOUT_USES[gpu.index % LAYOUT_USES.length]!;
    gpu.slices.forEach((slice, s) => {
      const use = uses[s];
      if (!use) return;
      const claim = {
        resource: `nvidia.com/mig-${slice.profile.name}`,
        devices: [{ gpu: gpu.index, slice: s }],
      };
      if (use === 'notebook') {
        const team = rng.pick(teamsWith('notebooks'));
        // The first notebook on the second GPU (the all-1g layout) is planted idle.
        node.seats.push(
          notebookSeat(context(build, node, team, 'notebooks'), claim, gpu.index === 1 && s === 0),
        );
        return;
      }
      const team = rng.pick(teamsWith('serving'));
      const ctx = context(build, node, team, 'serving');
      if (use === 'triton') {
        node.seats.push(tritonSeat(ctx, rng.pick(TRITON_SETS), claim));
        return;
      }
      const llm = {
        'vllm-8b': LLAMA_8B,
        'vllm-coder': QWEN_CODER_7B,
        'vllm-phi3': PHI3_MINI,
        'vllm-tiny': QWEN_05B,
      }[use];
      node.seats.push(
        vllmSeat(ctx, llm, { ...claim, count: 1, memoryMiB: slice.profile.memoryMiB }, 'small'),
      );
    });
  }
}

function placeL4(build: Build, node: SimNode): void {
  const { rng } = build;
  const memoryMiB = node.gpus[0]!.model.memoryMiB;
  for (let gpu = 0; gpu < 5; gpu++) {
    const team = rng.pick(teamsWith('serving'));
    const llm = gpu % 2 === 0 ? LLAMA_8B : QWEN_CODER_7B;
    node.seats.push(
      vllmSeat(context(build, node, team, 'serving'), llm, { ...whole(gpu), count: 1, memoryMiB }, 'small'),
    );
  }
  node.seats.push(
    tritonSeat(
      context(build, node, rng.pick(teamsWith('serving')), 'serving'),
      rng.pick(TRITON_SETS),
      whole(5),
    ),
  );
  // A planted sliceable GPU user: the embedding model alone on a whole L4.
  node.seats.push(
    tritonSeat(context(build, node, teamByName('platform'), 'serving'), EMBEDDING_SET, whole(6), 'embedding'),
  );
}

function placeL4Shared(build: Build, node: SimNode): void {
  const { rng } = build;
  const memoryMiB = node.gpus[0]!.model.memoryMiB;
  for (const gpu of node.gpus) {
    const tiny = {
      resource: 'nvidia.com/gpu',
      count: 1,
      devices: [{ gpu: gpu.index, replica: 0 }],
      memoryMiB,
    };
    node.seats.push(
      vllmSeat(
        context(build, node, rng.pick(teamsWith('serving')), 'serving'),
        QWEN_05B,
        { ...tiny, memoryFraction: 0.22 },
        'small',
      ),
    );
    const second = { resource: 'nvidia.com/gpu', devices: [{ gpu: gpu.index, replica: 1 }] };
    node.seats.push(
      tritonSeat(
        context(build, node, rng.pick(teamsWith('serving')), 'serving'),
        rng.pick(TRITON_SETS),
        second,
      ),
    );
  }
}

function placeCpu(build: Build, node: SimNode): void {
  const { rng } = build;
  for (let i = 0; i < 4; i++) {
    const team = rng.pick(teamsWith('services'));
    // The first two services of every CPU node are planted over-requested.
    node.seats.push(cpuServiceSeat(context(build, node, team, 'services'), i < 2));
  }
  node.seats.push(leakySeat(context(build, node, rng.pick(teamsWith('services')), 'services')));
  node.seats.push(etlSeat(context(build, node, teamByName('data'), 'batch')));
}

/** Groups the training nodes into gangs (1, 2 or 4 nodes) that run one Kubeflow job together. */
function placeTrainingGangs(build: Build, nodes: SimNode[]): void {
  const { rng } = build;
  const jobNames = [
    'llama-sft',
    'vit-pretrain',
    'dlrm-train',
    'bert-distill',
    'sdxl-finetune',
    'whisper-ft',
    'moe-pretrain',
  ];
  for (let i = 0; i < nodes.length; ) {
    const size = Math.min(
      nodes.length - i,
      rng.weighted<number>([
        [1, 0.4],
        [2, 0.35],
        [4, 0.25],
      ]),
    );
    const team = rng.pick(teamsWith('training'));
    const periodHours = rng.pick([24, 48, 72]);
    const key = rng.key();
    const gang = {
      key,
      kind: rng.chance(0.75) ? ('PyTorchJob' as const) : ('TFJob' as const),
      baseName: rng.pick(jobNames),
      size,
      schedule: {
        type: 'periodic' as const,
        periodMs: periodHours * HOUR,
        phaseMs: rng.int(0, periodHours - 1) * HOUR,
        maxOffsetHours: 2,
        minRunHours: Math.round(periodHours * 0.6),
        maxRunHours: periodHours - 2,
      },
      // About a third of gangs are flaky: each run has a 30% chance of hanging part way.
      hangChance: rng.chance(0.35) ? 0.3 : 0,
    };
    for (let member = 0; member < size; member++) {
      const node = nodes[i + member]!;
      node.seats.push(
        trainingSeat(
          context(build, node, team, 'training'),
          { ...gang, member },
          node.gpus[0]!.model.memoryMiB,
        ),
      );
    }
    i += size;
  }
}

export function generateCluster(options: GenerateOptions): Cluster {
  if (!Number.isInteger(options.nodes) || options.nodes < 1)
    throw new Error('nodes must be a positive whole number');
  if (!Number.isInteger(options.seed)) throw new Error('seed must be a whole number');
  const rng = new Rng(options.seed);
  const build: Build = { rng, seats: 0 };
  const nodes = planPools(options).map((pool, index) => buildNode(rng, pool, index));

  for (const node of nodes) {
    const platform = context(build, node, teamByName('platform'), 'services');
    node.seats.push(daemonSeat({ ...platform, namespace: PLATFORM_DAEMON_NAMESPACE }));
  }
  const h100 = nodes.filter((node) => node.pool === 'h100');
  const roles = new Map<SimNode, H100Role>(
    h100.map((node) => [
      node,
      rng.weighted<H100Role>([
        ['training', 0.6],
        ['dev', 0.25],
        ['serving', 0.15],
      ]),
    ]),
  );
  placeTrainingGangs(
    build,
    h100.filter((node) => roles.get(node) === 'training'),
  );
  for (const node of nodes) {
    if (node.pool === 'h100' && roles.get(node) === 'dev') placeH100Dev(build, node);
    else if (node.pool === 'h100' && roles.get(node) === 'serving') placeH100Serving(build, node);
    else if (node.pool === 'a100-mig') placeA100Mig(build, node);
    else if (node.pool === 'l4') placeL4(build, node);
    else if (node.pool === 'l4-shared') placeL4Shared(build, node);
    else if (node.pool === 'cpu') placeCpu(build, node);
  }
  return {
    seed: options.seed,
    nodes,
    namespaces: allNamespaces(),
    gpuCount: nodes.reduce((sum, node) => sum + node.gpus.length, 0),
  };
}

/** A node by name. */
export function nodeNamed(cluster: Cluster, name: string): SimNode {
  const node = cluster.nodes.find((n) => n.name === name);
  if (!node) throw new Error(`no simulated node named ${name}`);
  return node;
}
