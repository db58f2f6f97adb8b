// Attribution: which pod holds each GPU or MIG slice, from the kubelet's device assignments (pod-resources) and
// the exporter's own pod labels. A transform step of its own, as in dcgm-exporter: sources read, this joins. Pure.
import type { Holder } from '../core/protocol/batch.ts';
import type { DeviceAssignment, GpuSample, PodInfo } from './samples.ts';
import { parseDeviceId } from './sources/gpu-device-id.ts';

/** Resources whose devices are GPUs or slices of them. */
export function isGpuResource(resource: string): boolean {
  return (
    resource === 'nvidia.com/gpu' ||
    resource.startsWith('nvidia.com/mig-') ||
    resource.startsWith('nvidia.com/gpu.')
  );
}

/**
 * Returns each GPU sample's holders, keyed by sample id. A time-sliced or MPS device (`<id>::<n>`) has one holder
 * per replica taken, each with share 1/replicas where the node's replica count is known (`replicasPerGpu`).
 */
export function attributeGpus(
  gpus: readonly GpuSample[],
  devices: readonly DeviceAssignment[],
  options: { replicasPerGpu?: number } = {},
): Map<string, Holder[]> {
  const holders = new Map<string, Holder[]>();
  const add = (gpu: GpuSample, holder: Holder) => {
    const list = holders.get(gpu.id) ?? [];
    if (
      !list.some(
        (h) => h.namespace === holder.namespace && h.pod === holder.pod && h.container === holder.container,
      )
    ) {
      list.push(holder);
    }
    holders.set(gpu.id, list);
  };

  for (const gpu of gpus) {
    if (gpu.holder) add(gpu, { ...gpu.holder, share: 1, via: 'exporter' });
  }

  const wholeGpus = gpus.filter((gpu) => gpu.migProfile === undefined);
  const migSlices = gpus.filter((gpu) => gpu.migProfile !== undefined);
  const byUuid = new Map(wholeGpus.map((gpu) => [gpu.uuid.toLowerCase(), gpu]));
  const byIndex = new Map(
    wholeGpus.filter((gpu) => gpu.index !== undefined).map((gpu) => [String(gpu.index), gpu]),
  );
  const byMigUuid = new Map(
    migSlices.filter((gpu) => gpu.migUuid !== undefined).map((gpu) => [gpu.migUuid!.toLowerCase(), gpu]),
  );
  const takenSlices = new Set<string>();
  const pendingByProfile: Array<{ assignment: DeviceAssignment; profile: string }> = [];

  for (const assignment of devices) {
    if (!isGpuResource(assignment.resource)) continue;
    const holder = { namespace: assignment.namespace, pod: assignment.pod, container: assignment.container };
    for (const raw of assignment.deviceIds) {
      const device = parseDeviceId(raw);
      if (!device) continue; // another vendor's id format: nothing to match it against
      const share = device.replica !== undefined && options.replicasPerGpu ? 1 / options.replicasPerGpu : 1;
      const slice =
        device.kind === 'mig'
          ? byMigUuid.get(device.gpu.toLowerCase())
          : device.kind === 'gke' && device.gkeGi !== undefined
            ? migSlices.find((gpu) => gpu.index === device.gkeGpuIndex && gpu.migInstanceId === device.gkeGi)
            : undefined;
      if (slice) {
        takenSlices.add(slice.id);
        add(slice, { ...holder, share, via: 'device-id' });
        continue;
      }
      if (
        device.kind === 'mig' ||
        device.migIndex !== undefined ||
        (device.kind === 'gke' && device.gkeGi !== undefined)
      ) {
        const profile = assignment.resource.startsWith('nvidia.com/mig-')
          ? assignment.resource.slice(15)
          : undefined;
        if (profile) pendingByProfile.push({ assignment, profile });
        continue;
      }
      const gpu =
        device.kind === 'uuid'
          ? byUuid.get(device.gpu.toLowerCase())
          : byIndex.get(String(device.kind === 'gke' ? device.gkeGpuIndex : (device.gpuIndex ?? device.gpu)));
      if (gpu) add(gpu, { ...holder, share, via: 'device-id' });
    }
  }

  // A MIG device id we cannot match by UUID (the exporter knows slices by parent UUID + instance id only) is given
  // to a free slice of the same profile: exact when the node has one slice of that profile, a fair guess otherwise.
  // Slices the exporter already names this container's holder for stand for its device ids first: giving them
  // again by profile would mark a free slice as held.
  const exporterHeld = new Map<string, number>();
  for (const gpu of migSlices) {
    for (const holder of holders.get(gpu.id) ?? []) {
      if (holder.via !== 'exporter') continue;
      const key = `${holder.namespace}\u0000${holder.pod}\u0000${holder.container ?? ''}\u0000${gpu.migProfile}`;
      exporterHeld.set(key, (exporterHeld.get(key) ?? 0) + 1);
    }
  }
  for (const { assignment, profile } of pendingByProfile) {
    const key = `${assignment.namespace}\u0000${assignment.pod}\u0000${assignment.container}\u0000${profile}`;
    const covered = exporterHeld.get(key) ?? 0;
    if (covered > 0) {
      exporterHeld.set(key, covered - 1);
      continue;
    }
    const slice = migSlices.find(
      (gpu) => gpu.migProfile === profile && !takenSlices.has(gpu.id) && !holders.has(gpu.id),
    );
    if (!slice) continue;
    takenSlices.add(slice.id);
    add(slice, {
      namespace: assignment.namespace,
      pod: assignment.pod,
      container: assignment.container,
      share: 1,
      via: 'mig-profile',
    });
  }
  return holders;
}

/** The node's time-slicing/MPS replicas per GPU from GPU feature discovery labels, when set. */
export function replicasFromLabels(labels: Record<string, string> | undefined): number | undefined {
  const value = Number(labels?.['nvidia.com/gpu.replicas']);
  return Number.isInteger(value) && value > 1 ? value : undefined;
}

/** The pod that owns a (namespace, name), for enriching holders. */
export function podIndex(pods: readonly PodInfo[]): Map<string, PodInfo> {
  return new Map(pods.map((pod) => [`${pod.namespace}/${pod.name}`, pod]));
}
