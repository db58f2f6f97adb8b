// A fake kubelet pod-resources endpoint for tests: a real grpc-js server on a unix socket, serving
// `v1.PodResourcesLister/List` from the same proto the agent uses, with answers the test sets.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { type ListPodResourcesResponse, loadPodResourcesService } from '../../agent/sources/pod-resources.ts';

export type FakePodResourcesPods = ListPodResourcesResponse['podResources'];

export interface FakePodResources {
  socketPath: string;
  /** Replaces what List answers from now on. */
  setPods(pods: FakePodResourcesPods): void;
  /** How many List calls were served. */
  readonly listCalls: number;
  close(): Promise<void>;
}

/** Starts the server on `socketPath`, or on `kubelet.sock` in a new temp dir (removed again by close()). */
export async function startFakePodResources(
  options: { socketPath?: string; pods?: FakePodResourcesPods } = {},
): Promise<FakePodResources> {
  const ownDir = options.socketPath ? undefined : await mkdtemp(join(tmpdir(), 'mlcost-podres-'));
  const socketPath = options.socketPath ?? join(ownDir!, 'kubelet.sock');
  let pods = options.pods ?? [];
  let listCalls = 0;

  const { service } = loadPodResourcesService();
  const server = new grpc.Server();
  server.addService(service, {
    List: (_call: unknown, callback: grpc.sendUnaryData<ListPodResourcesResponse>) => {
      listCalls++;
      callback(null, { podResources: pods });
    },
    GetAllocatableResources: (_call: unknown, callback: grpc.sendUnaryData<object>) => {
      callback(null, { devices: [], cpuIds: [], memory: [] });
    },
    Get: (
      call: grpc.ServerUnaryCall<{ podName: string; podNamespace: string }, object>,
      callback: grpc.sendUnaryData<object>,
    ) => {
      const pod = pods.find(
        (p) => p.name === call.request.podName && p.namespace === call.request.podNamespace,
      );
      if (!pod) callback({ code: grpc.status.NOT_FOUND, details: `pod ${call.request.podName} not found` });
      else callback(null, { podResources: pod });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.bindAsync(`unix://${socketPath}`, grpc.ServerCredentials.createInsecure(), (error) =>
      error ? reject(error) : resolve(),
    );
  });

  return {
    socketPath,
    setPods(next) {
      pods = next;
    },
    get listCalls() {
      return listCalls;
    },
    async close() {
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
      if (ownDir) await rm(dirname(socketPath), { recursive: true, force: true });
    },
  };
}
