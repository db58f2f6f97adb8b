// GPU device ids and resource names as device plugins hand them to the kubelet: pure parsing, so GPU → pod
// attribution can match a pod-resources device id against the GPUs that DCGM or nvidia-smi report.
//
// Formats (NVIDIA k8s-device-plugin, GKE's device plugin; dcgm-exporter parses the same set):
//   `GPU-8f6b…`          whole GPU, deviceIDStrategy=uuid (the default)
//   `0`                  whole GPU, deviceIDStrategy=index (Bottlerocket's default)
//   `MIG-1c9a…`          a MIG device (strategy single or mixed), by its own UUID
//   `0:1`                a MIG device under deviceIDStrategy=index: GPU index `:` MIG device index
//   `<any of the above>::<n>`  replica n of a time-sliced or MPS-shared device
//   `nvidia0`, `nvidia0/gi0`, `nvidia0/vgpu0`, `nvidia0/gi0/vgpu1`  GKE: GPU minor, GPU instance, sharing slot

export type DeviceIdKind = 'uuid' | 'index' | 'mig' | 'gke';

export interface ParsedDeviceId {
  kind: DeviceIdKind;
  /**
   * The device the id names, without any sharing suffix: a GPU UUID, a GPU index, a MIG UUID, `<gpu>:<mig>` for
   * index-form MIG, or GKE's `nvidia<N>` (the physical GPU; `gkeGi` then says which GPU instance).
   */
  gpu: string;
  /** Replica of a shared device: the `::<n>` suffix, or GKE's `/vgpu<n>`. */
  replica?: number;
  /** GPU index for index-form ids (`0`, `0:1`). */
  gpuIndex?: number;
  /** MIG device index on its GPU for index-form MIG ids (`0:1` → 1). */
  migIndex?: number;
  /** GKE: N of `nvidia<N>`, the GPU's device minor (`/dev/nvidia<N>`), not necessarily its NVML index. */
  gkeGpuIndex?: number;
  /** GKE: the MIG GPU instance id of `/gi<N>`. */
  gkeGi?: number;
}

const GKE_ID = /^nvidia(\d+)(?:\/gi(\d+))?(?:\/vgpu(\d+))?$/;
const INDEX_ID = /^\d+$/;
const INDEX_MIG_ID = /^(\d+):(\d+)$/;
const REPLICA_SUFFIX = /^(.+)::(\d+)$/;
// UUIDs never hold a colon: one left over is a malformed replica suffix.
const UUID_ID = /^GPU-[^:\s]+$/;
const MIG_UUID_ID = /^MIG-[^:\s]+$/;

/**
 * Parses a device id from the pod-resources API. Returns undefined for a format it does not know (another vendor's
 * plugin, say): the caller keeps the raw id and simply cannot match it to a GPU.
 */
export function parseDeviceId(id: string): ParsedDeviceId | undefined {
  const text = id.trim();
  const gke = GKE_ID.exec(text);
  if (gke) {
    const parsed: ParsedDeviceId = { kind: 'gke', gpu: `nvidia${gke[1]}`, gkeGpuIndex: Number(gke[1]) };
    if (gke[2] !== undefined) parsed.gkeGi = Number(gke[2]);
    if (gke[3] !== undefined) parsed.replica = Number(gke[3]);
    return parsed;
  }

  const shared = REPLICA_SUFFIX.exec(text);
  const base = shared ? shared[1]! : text;
  const parsed = parseUnsharedId(base);
  if (parsed && shared) parsed.replica = Number(shared[2]);
  return parsed;
}

function parseUnsharedId(id: string): ParsedDeviceId | undefined {
  if (UUID_ID.test(id)) return { kind: 'uuid', gpu: id };
  // Also covers the pre-R470 form `MIG-GPU-<uuid>/<gi>/<ci>`: kept whole, it is what NVML reported then.
  if (MIG_UUID_ID.test(id)) return { kind: 'mig', gpu: id };
  if (INDEX_ID.test(id)) return { kind: 'index', gpu: id, gpuIndex: Number(id) };
  const mig = INDEX_MIG_ID.exec(id);
  if (mig) return { kind: 'mig', gpu: id, gpuIndex: Number(mig[1]), migIndex: Number(mig[2]) };
  return undefined;
}

/** Extended resources that are GPUs or slices of one, unless configured otherwise. */
export const DEFAULT_GPU_RESOURCES: readonly string[] = ['nvidia.com/gpu', 'nvidia.com/gpu.shared'];
const MIG_RESOURCE_PREFIX = 'nvidia.com/mig-';

/**
 * True for resource names that hand out GPUs, MIG slices or shared GPU replicas: `nvidia.com/gpu`,
 * `nvidia.com/gpu.shared`, `nvidia.com/mig-1g.10gb`, and any name in `extra` (another vendor's, a renamed one).
 */
export function isGpuResourceName(name: string, extra: readonly string[] = []): boolean {
  return DEFAULT_GPU_RESOURCES.includes(name) || name.startsWith(MIG_RESOURCE_PREFIX) || extra.includes(name);
}
