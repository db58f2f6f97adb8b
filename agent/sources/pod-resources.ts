// The pod-resources source: which GPUs, MIG slices and shared GPU replicas the kubelet gave each container, from
// the kubelet's pod-resources gRPC API (`List`) on its unix socket. This is what ties a GPU to a pod. The call is
// made without a gRPC library (pod-resources-wire.ts); grpc-js and the .proto serve only the test fakes' server.
import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type * as grpc from '@grpc/grpc-js';
import type * as protoLoader from '@grpc/proto-loader';
import { MlcostError } from '../../core/errors.ts';
import type { DeviceAssignment, Samples } from '../samples.ts';
import type { Source } from '../source.ts';
import { isGpuResourceName } from './gpu-device-id.ts';
import {
  decodeListPodResourcesResponse,
  GRPC_DEADLINE_EXCEEDED,
  GRPC_PERMISSION_DENIED,
  GRPC_STATUS,
  GRPC_UNAVAILABLE,
  GrpcCallError,
  UnixGrpcChannel,
} from './pod-resources-wire.ts';

export const DEFAULT_POD_RESOURCES_SOCKET = '/var/lib/kubelet/pod-resources/kubelet.sock';

export interface PodResourcesSourceOptions {
  /** The kubelet's pod-resources socket, mounted from the host. Default `/var/lib/kubelet/pod-resources/kubelet.sock`. */
  socketPath?: string;
  /** Resource names to keep besides `nvidia.com/gpu`, `nvidia.com/gpu.shared` and `nvidia.com/mig-*`. */
  extraResources?: readonly string[];
  /** Deadline of one List call. Default 10 s. */
  timeoutMs?: number;
}

/** `List`'s answer (field names in camelCase, as proto-loader decodes them; pod-resources-wire.ts decodes it). */
export interface ListPodResourcesResponse {
  podResources: Array<{
    name: string;
    namespace: string;
    containers: Array<{
      name: string;
      devices: Array<{ resourceName: string; deviceIds: string[] }>;
    }>;
  }>;
}

/**
 * Keeps the GPU-like device assignments of a List answer: one DeviceAssignment per container and resource, in
 * the order the kubelet gave them.
 */
export function toDeviceAssignments(
  response: ListPodResourcesResponse,
  extraResources: readonly string[] = [],
): DeviceAssignment[] {
  const out: DeviceAssignment[] = [];
  for (const pod of response.podResources ?? []) {
    for (const container of pod.containers ?? []) {
      for (const device of container.devices ?? []) {
        if (!isGpuResourceName(device.resourceName, extraResources)) continue;
        if (!device.deviceIds || device.deviceIds.length === 0) continue;
        out.push({
          namespace: pod.namespace,
          pod: pod.name,
          container: container.name,
          resource: device.resourceName,
          deviceIds: [...device.deviceIds],
        });
      }
    }
  }
  return out;
}

/** The .proto beside this module; from a build under dist/, the copy that ships in the package's agent/ folder. */
function protoPath(): string {
  const candidates = [
    new URL('./proto/podresources-v1.proto', import.meta.url),
    new URL('../../../agent/sources/proto/podresources-v1.proto', import.meta.url),
  ].map((url) => fileURLToPath(url));
  const found = candidates.find((path) => existsSync(path));
  if (!found) {
    throw new MlcostError('config', `podresources-v1.proto not found; looked in ${candidates.join(', ')}`);
  }
  return found;
}

type ListCallback = (error: grpc.ServiceError | null, response: ListPodResourcesResponse) => void;

export interface PodResourcesListerClient extends grpc.Client {
  List(request: object, options: grpc.CallOptions, callback: ListCallback): grpc.ClientUnaryCall;
}

export interface PodResourcesService {
  /** Client constructor for `v1.PodResourcesLister`. */
  Client: new (
    address: string,
    credentials: grpc.ChannelCredentials,
    options?: grpc.ChannelOptions,
  ) => PodResourcesListerClient;
  /** Service definition, for servers (the test fakes). */
  service: grpc.ServiceDefinition;
}

let loaded: PodResourcesService | undefined;

/**
 * Loads `v1.PodResourcesLister` from the bundled proto with grpc-js and proto-loader, once: for gRPC servers (the
 * test fakes). The agent itself does not use it (see pod-resources-wire.ts), so those libraries are required only
 * here, when this is called.
 */
export function loadPodResourcesService(): PodResourcesService {
  if (loaded) return loaded;
  const require = createRequire(import.meta.url);
  const grpcJs = require('@grpc/grpc-js') as typeof grpc;
  const loader = require('@grpc/proto-loader') as typeof protoLoader;
  const definition = loader.loadSync(protoPath(), {
    keepCase: false,
    longs: Number,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  const v1 = grpcJs.loadPackageDefinition(definition)['v1'] as grpc.GrpcObject;
  const lister = v1['PodResourcesLister'] as grpc.ServiceClientConstructor;
  loaded = {
    Client: lister as unknown as PodResourcesService['Client'],
    service: lister.service,
  };
  return loaded;
}

async function checkSocket(path: string): Promise<void> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new MlcostError(
        'unavailable',
        `pod-resources socket ${path} does not exist: mount the host's /var/lib/kubelet/pod-resources into the agent`,
      );
    }
    throw new MlcostError('unavailable', `pod-resources socket ${path}: ${code ?? (error as Error).message}`);
  }
  if (!info.isSocket()) {
    throw new MlcostError('unavailable', `pod-resources socket ${path} is not a unix socket`);
  }
}

function grpcError(error: GrpcCallError, socketPath: string, timeoutMs: number): Error {
  const what = `pod-resources List on ${socketPath}`;
  switch (error.code) {
    case GRPC_DEADLINE_EXCEEDED:
      return new MlcostError('timeout', `${what} did not answer within ${timeoutMs} ms`, { cause: error });
    case GRPC_UNAVAILABLE:
      return new MlcostError('unavailable', `${what}: the kubelet is not answering (${error.details})`, {
        cause: error,
      });
    case GRPC_PERMISSION_DENIED:
      return new MlcostError('unauthorized', `${what}: permission denied (${error.details})`, {
        cause: error,
      });
    default:
      return new MlcostError(
        'source',
        `${what} failed: ${GRPC_STATUS[error.code] ?? error.code} ${error.details}`,
        {
          cause: error,
        },
      );
  }
}

const LIST_PATH = '/v1.PodResourcesLister/List';
/** Largest List answer accepted (as the grpc-js client was configured: 16 MiB). */
const MAX_MESSAGE_BYTES = 16 * 2 ** 20;

/** Creates the `pod-resources` source; stop() closes its connection. */
export function createPodResourcesSource(options: PodResourcesSourceOptions = {}): Source & { stop(): void } {
  const socketPath = options.socketPath ?? DEFAULT_POD_RESOURCES_SOCKET;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const extraResources = options.extraResources ?? [];
  // One connection for the source's life, opened again after it drops (the kubelet restarting re-creates the
  // socket).
  const channel = new UnixGrpcChannel(socketPath);

  return {
    name: 'pod-resources',
    async collect(signal): Promise<Samples> {
      signal.throwIfAborted();
      // A failed connection would only say UNAVAILABLE for a missing socket; say what is actually wrong.
      await checkSocket(socketPath);
      let message: Buffer;
      try {
        message = await channel.call({
          path: LIST_PATH,
          timeoutMs,
          maxMessageBytes: MAX_MESSAGE_BYTES,
          signal,
        });
      } catch (error) {
        if (signal.aborted || !(error instanceof GrpcCallError)) throw error;
        throw grpcError(error, socketPath, timeoutMs);
      }
      let response: ListPodResourcesResponse;
      try {
        response = decodeListPodResourcesResponse(message);
      } catch (error) {
        throw new MlcostError(
          'parse',
          `pod-resources List on ${socketPath}: the answer is not a ListPodResourcesResponse (${(error as Error).message})`,
          { cause: error },
        );
      }
      return { devices: toDeviceAssignments(response, extraResources) };
    },
    stop(): void {
      channel.close();
    },
  };
}
