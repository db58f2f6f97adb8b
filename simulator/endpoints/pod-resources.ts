// The simulated kubelets' pod-resources API: one gRPC server per served node on its own unix socket, serving
// `v1.PodResourcesLister` from the same proto the agent uses. `List` answers which devices the kubelet gave each
// container at the simulated time: whole GPUs by UUID (`nvidia.com/gpu`), MIG devices by their own `MIG-...` UUID
// (`nvidia.com/mig-<profile>`), time-sliced replicas as `<uuid>::<replica>` (`nvidia.com/gpu`), as NVIDIA's device
// plugin names them.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { type ListPodResourcesResponse, loadPodResourcesService } from '../../agent/sources/pod-resources.ts';
import type { SimNode } from '../cluster.ts';
import { nodePodsAt } from '../pods.ts';

/** `List` for a node at simulated time `now`. */
export function podResourcesAt(node: SimNode, now: number): ListPodResourcesResponse {
  return {
    podResources: nodePodsAt(node, now).map((pod) => ({
      name: pod.name,
      namespace: pod.seat.namespace,
      containers: pod.seat.containers.map((c) => {
        const byResource = new Map<string, string[]>();
        for (const claim of c.devices) {
          const gpu = node.gpus[claim.gpu]!;
          const resource = c.requestAmounts.gpuResource ?? 'nvidia.com/gpu';
          const id =
            claim.slice !== undefined
              ? gpu.slices[claim.slice]!.uuid
              : claim.replica !== undefined
                ? `${gpu.uuid}::${claim.replica}`
                : gpu.uuid;
          byResource.set(resource, [...(byResource.get(resource) ?? []), id]);
        }
        return {
          name: c.name,
          devices: [...byResource].map(([resourceName, deviceIds]) => ({ resourceName, deviceIds })),
        };
      }),
    })),
  };
}

export interface SimPodResources {
  socketFor(node: string): string;
  close(): Promise<void>;
}

/** Starts one server per node, on `socketPath(node)`. */
export async function startPodResources(
  nodes: SimNode[],
  clock: () => number,
  socketPath: (node: SimNode) => string,
): Promise<SimPodResources> {
  const { service } = loadPodResourcesService();
  const servers = new Map<string, { server: grpc.Server; socket: string }>();
  for (const node of nodes) {
    const server = new grpc.Server();
    server.addService(service, {
      List: (_call: unknown, callback: grpc.sendUnaryData<ListPodResourcesResponse>) => {
        callback(null, podResourcesAt(node, clock()));
      },
      GetAllocatableResources: (_call: unknown, callback: grpc.sendUnaryData<object>) => {
        const devices = node.gpus.flatMap((gpu) =>
          gpu.slices.length > 0
            ? gpu.slices.map((slice) => ({
                resourceName: `nvidia.com/mig-${slice.profile.name}`,
                deviceIds: [slice.uuid],
              }))
            : [
                {
                  resourceName: 'nvidia.com/gpu',
                  deviceIds:
                    gpu.replicas > 1
                      ? Array.from({ length: gpu.replicas }, (_, r) => `${gpu.uuid}::${r}`)
                      : [gpu.uuid],
                },
              ],
        );
        callback(null, { devices, cpuIds: [], memory: [] });
      },
      Get: (
        call: grpc.ServerUnaryCall<{ podName: string; podNamespace: string }, object>,
        callback: grpc.sendUnaryData<object>,
      ) => {
        const pod = podResourcesAt(node, clock()).podResources.find(
          (p) => p.name === call.request.podName && p.namespace === call.request.podNamespace,
        );
        if (!pod) callback({ code: grpc.status.NOT_FOUND, details: `pod ${call.request.podName} not found` });
        else callback(null, { podResources: pod });
      },
    });
    const socket = socketPath(node);
    mkdirSync(dirname(socket), { recursive: true });
    await new Promise<void>((resolve, reject) => {
      server.bindAsync(`unix://${socket}`, grpc.ServerCredentials.createInsecure(), (error) =>
        error ? reject(error) : resolve(),
      );
    });
    servers.set(node.name, { server, socket });
  }
  return {
    socketFor: (node) => servers.get(node)!.socket,
    async close() {
      await Promise.all(
        [...servers.values()].map(
          ({ server }) => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
        ),
      );
    },
  };
}
