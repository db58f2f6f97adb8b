// What a node is, for cost: the well-known cloud, autoscaler and NVIDIA GPU Feature Discovery labels. Pure, so
// the agent (which reads them from the Node object) and the collector's pricing work from a label map alone.
import { tryParseQuantity } from './units.ts';

export type CapacityType = 'on-demand' | 'spot' | 'reserved';
export type MigStrategy = 'none' | 'single' | 'mixed';

export interface NodeGpuLabels {
  /** As labelled: GFD `nvidia.com/gpu.product` (`NVIDIA-H100-80GB-HBM3`, maybe `-SHARED` or `-MIG-1g.5gb`), else a cloud's. */
  product?: string;
  /** `product` without the `-SHARED` and `-MIG-<profile>` suffixes GFD adds: the physical model, for pricing. */
  model?: string;
  /** GFD `nvidia.com/gpu.count` (MIG devices under the single strategy), else a cloud's GPU count. */
  count?: number;
  /** Memory of one GPU in bytes (GFD labels it in MiB). */
  memoryBytes?: number;
  family?: string;
  migStrategy?: MigStrategy;
  /** `time-slicing`, `mps` or `none` (GFD), or GKE's `time-sharing`/`mps`. */
  sharingStrategy?: string;
  /** How many pods may share one GPU: GFD `nvidia.com/gpu.replicas`, or GKE's max shared clients per GPU. */
  replicas?: number;
  /** GKE's MIG partition size for the node pool (`1g.5gb`). */
  partitionSize?: string;
}

export interface NodeCostLabels {
  instanceType?: string;
  region?: string;
  zone?: string;
  capacityType?: CapacityType;
  /** Node pool / node group name, when the provider labels one. */
  nodePool?: string;
  gpu?: NodeGpuLabels;
}

function first(labels: Record<string, string>, keys: readonly string[]): string | undefined {
  for (const key of keys) {
    const value = labels[key]?.trim();
    if (value) return value;
  }
  return undefined;
}

function nonNegativeNumber(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  return Number.isFinite(value) && value >= 0 ? value : undefined;
}

/** Reads instance type, place, capacity type and GPUs from a node's labels; absent labels give absent fields. */
export function describeNodeCostLabels(labels: Record<string, string>): NodeCostLabels {
  const out: NodeCostLabels = {};
  const instanceType = first(labels, [
    'node.kubernetes.io/instance-type',
    'beta.kubernetes.io/instance-type',
  ]);
  if (instanceType) out.instanceType = instanceType;
  const region = first(labels, ['topology.kubernetes.io/region', 'failure-domain.beta.kubernetes.io/region']);
  if (region) out.region = region;
  const zone = first(labels, ['topology.kubernetes.io/zone', 'failure-domain.beta.kubernetes.io/zone']);
  if (zone) out.zone = zone;
  const capacityType = capacityTypeOf(labels);
  if (capacityType) out.capacityType = capacityType;
  const nodePool = first(labels, [
    'karpenter.sh/nodepool',
    'eks.amazonaws.com/nodegroup',
    'cloud.google.com/gke-nodepool',
    'kubernetes.azure.com/agentpool',
    'agentpool',
  ]);
  if (nodePool) out.nodePool = nodePool;
  const gpu = gpuOf(labels);
  if (gpu) out.gpu = gpu;
  return out;
}

/**
 * Normalises the capacity-type labels of Karpenter, EKS, GKE and AKS. Undefined when no provider label says:
 * "unknown" must not be priced as on-demand by accident.
 */
export function capacityTypeOf(labels: Record<string, string>): CapacityType | undefined {
  const karpenter = labels['karpenter.sh/capacity-type']?.toLowerCase();
  if (karpenter === 'spot' || karpenter === 'on-demand' || karpenter === 'reserved') return karpenter;

  const eks = labels['eks.amazonaws.com/capacityType']?.toUpperCase();
  if (eks === 'SPOT') return 'spot';
  if (eks === 'ON_DEMAND') return 'on-demand';
  // Capacity Blocks for ML are bought ahead for a fixed term: reserved capacity.
  if (eks === 'CAPACITY_BLOCK') return 'reserved';

  if (labels['cloud.google.com/gke-spot'] === 'true') return 'spot';
  if (labels['cloud.google.com/gke-preemptible'] === 'true') return 'spot';
  const gkeProvisioning = labels['cloud.google.com/gke-provisioning']?.toLowerCase();
  if (gkeProvisioning === 'spot' || gkeProvisioning === 'preemptible') return 'spot';
  // A GKE node without a spot or preemptible label is standard (on-demand) capacity.
  if (labels['cloud.google.com/gke-nodepool'] !== undefined) return 'on-demand';

  const aks = labels['kubernetes.azure.com/scalesetpriority']?.toLowerCase();
  if (aks === 'spot') return 'spot';
  if (aks === 'regular') return 'on-demand';
  // AKS labels only spot pools with a priority; a regular pool has its agentpool label alone.
  if (labels['kubernetes.azure.com/agentpool'] !== undefined) return 'on-demand';
  return undefined;
}

function gpuOf(labels: Record<string, string>): NodeGpuLabels | undefined {
  const gpu: NodeGpuLabels = {};
  const product = first(labels, [
    'nvidia.com/gpu.product',
    'cloud.google.com/gke-accelerator',
    'karpenter.k8s.aws/instance-gpu-name',
  ]);
  if (product) {
    gpu.product = product;
    gpu.model = product.replace(/-SHARED$/, '').replace(/-MIG-\d+g\.\d+gb$/i, '');
  }
  const count = nonNegativeNumber(
    first(labels, ['nvidia.com/gpu.count', 'karpenter.k8s.aws/instance-gpu-count']),
  );
  if (count !== undefined) gpu.count = count;
  const memoryMiB = nonNegativeNumber(
    first(labels, ['nvidia.com/gpu.memory', 'karpenter.k8s.aws/instance-gpu-memory']),
  );
  if (memoryMiB !== undefined) gpu.memoryBytes = memoryMiB * 2 ** 20;
  const family = first(labels, ['nvidia.com/gpu.family']);
  if (family) gpu.family = family;

  const mig = labels['nvidia.com/mig.strategy']?.toLowerCase();
  if (mig === 'none' || mig === 'single' || mig === 'mixed') gpu.migStrategy = mig;
  const partitionSize = first(labels, ['cloud.google.com/gke-gpu-partition-size']);
  if (partitionSize) gpu.partitionSize = partitionSize;

  const sharing = first(labels, [
    'nvidia.com/gpu.sharing-strategy',
    'cloud.google.com/gke-gpu-sharing-strategy',
  ]);
  if (sharing) gpu.sharingStrategy = sharing.toLowerCase();
  const replicas = nonNegativeNumber(
    first(labels, ['nvidia.com/gpu.replicas', 'cloud.google.com/gke-max-shared-clients-per-gpu']),
  );
  if (replicas !== undefined) gpu.replicas = replicas;
  return Object.keys(gpu).length > 0 ? gpu : undefined;
}

/**
 * Physical GPUs on the node, for pricing: the GFD or Karpenter count when it means physical GPUs, else the
 * `nvidia.com/gpu` capacity divided by the sharing replicas it was multiplied by.
 */
export function physicalGpuCount(
  labels: Record<string, string>,
  capacity: Record<string, string> | undefined,
): number | undefined {
  const karpenter = nonNegativeNumber(labels['karpenter.k8s.aws/instance-gpu-count']);
  if (karpenter !== undefined) return karpenter;
  const migSingle = labels['nvidia.com/mig.strategy'] === 'single';
  // Under MIG single, GFD's gpu.count counts MIG devices, not boards.
  const gfd = migSingle ? undefined : nonNegativeNumber(labels['nvidia.com/gpu.count']);
  if (gfd !== undefined) return gfd;
  const advertised = tryParseQuantity(capacity?.['nvidia.com/gpu']);
  if (advertised === undefined || migSingle) return undefined;
  const replicas = nonNegativeNumber(labels['nvidia.com/gpu.replicas']) ?? 1;
  const sharing = labels['nvidia.com/gpu.sharing-strategy'];
  return sharing && sharing !== 'none' && replicas > 1 ? advertised / replicas : advertised;
}
