import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type FakePodResources, startFakePodResources } from '../../test/fakes/fake-pod-resources.ts';
import { createPodResourcesSource, toDeviceAssignments } from './pod-resources.ts';

const GPU_A = 'GPU-2b8e5d6a-0f1c-4a7e-9c3b-5d1e7f9a2c4b';
const GPU_B = 'GPU-9d4c3b2a-1e0f-4f8e-8d7c-6b5a4f3e2d1c';
const MIG_1 = 'MIG-0a1b2c3d-4e5f-5a6b-8c7d-9e0f1a2b3c4d';
const MIG_2 = 'MIG-5e6f7a8b-9c0d-5e1f-9a2b-3c4d5e6f7a8b';

/** One node's pods: whole GPUs, MIG slices (mixed strategy), a time-sliced replica, and non-GPU devices. */
const PODS = [
  {
    name: 'trainer-0',
    namespace: 'team-a',
    containers: [
      { name: 'pytorch', devices: [{ resourceName: 'nvidia.com/gpu', deviceIds: [GPU_A, GPU_B] }] },
      { name: 'sidecar', devices: [] },
    ],
  },
  {
    name: 'notebook-7',
    namespace: 'team-b',
    containers: [
      {
        name: 'jupyter',
        devices: [
          { resourceName: 'nvidia.com/mig-1g.10gb', deviceIds: [MIG_1] },
          { resourceName: 'example.com/fpga', deviceIds: ['fpga0'] },
        ],
      },
    ],
  },
  {
    name: 'embedder-5c9d',
    namespace: 'serving',
    containers: [
      { name: 'server', devices: [{ resourceName: 'nvidia.com/mig-1g.10gb', deviceIds: [MIG_2] }] },
      { name: 'tokenizer', devices: [{ resourceName: 'nvidia.com/gpu.shared', deviceIds: ['GPU-x::2'] }] },
    ],
  },
  { name: 'no-devices', namespace: 'kube-system', containers: [{ name: 'dns', devices: [] }] },
];

describe('pod-resources source', () => {
  let fake: FakePodResources | undefined;
  const stops: Array<() => void> = [];
  afterEach(async () => {
    for (const stop of stops.splice(0)) stop();
    await fake?.close();
    fake = undefined;
  });

  it('lists GPU, MIG and shared-GPU assignments over the real gRPC socket', async () => {
    fake = await startFakePodResources({ pods: PODS });
    const source = createPodResourcesSource({ socketPath: fake.socketPath });
    stops.push(source.stop);
    const samples = await source.collect(new AbortController().signal);
    expect(samples.devices).toEqual([
      {
        namespace: 'team-a',
        pod: 'trainer-0',
        container: 'pytorch',
        resource: 'nvidia.com/gpu',
        deviceIds: [GPU_A, GPU_B],
      },
      {
        namespace: 'team-b',
        pod: 'notebook-7',
        container: 'jupyter',
        resource: 'nvidia.com/mig-1g.10gb',
        deviceIds: [MIG_1],
      },
      {
        namespace: 'serving',
        pod: 'embedder-5c9d',
        container: 'server',
        resource: 'nvidia.com/mig-1g.10gb',
        deviceIds: [MIG_2],
      },
      {
        namespace: 'serving',
        pod: 'embedder-5c9d',
        container: 'tokenizer',
        resource: 'nvidia.com/gpu.shared',
        deviceIds: ['GPU-x::2'],
      },
    ]);

    // The channel is kept: the next collect sees what the kubelet says now.
    fake.setPods([PODS[0]!]);
    const again = await source.collect(new AbortController().signal);
    expect(again.devices).toHaveLength(1);
    expect(fake.listCalls).toBe(2);
  });

  it('keeps configured extra resource names', async () => {
    fake = await startFakePodResources({ pods: PODS });
    const source = createPodResourcesSource({
      socketPath: fake.socketPath,
      extraResources: ['example.com/fpga'],
    });
    stops.push(source.stop);
    const samples = await source.collect(new AbortController().signal);
    expect(samples.devices?.map((d) => d.resource)).toContain('example.com/fpga');
  });

  it('rejects naming the path when the socket does not exist', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mlcost-podres-missing-'));
    try {
      const socketPath = join(dir, 'kubelet.sock');
      const source = createPodResourcesSource({ socketPath });
      stops.push(source.stop);
      await expect(source.collect(new AbortController().signal)).rejects.toThrow(
        `pod-resources socket ${socketPath} does not exist`,
      );
      // A plain file where the socket should be is not mistaken for one.
      await writeFile(socketPath, '');
      await expect(source.collect(new AbortController().signal)).rejects.toThrow('is not a unix socket');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('says the kubelet is not answering when something on the socket does not speak gRPC', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mlcost-podres-dead-'));
    const socketPath = join(dir, 'kubelet.sock');
    // A listener that hangs up on every connection, as a kubelet going down does.
    const server = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    try {
      const source = createPodResourcesSource({ socketPath, timeoutMs: 3_000 });
      stops.push(source.stop);
      await expect(source.collect(new AbortController().signal)).rejects.toThrow(
        new RegExp(
          `pod-resources List on ${socketPath}(: the kubelet is not answering| did not answer within)`,
        ),
      );
    } finally {
      await new Promise((resolve) => server.close(resolve));
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('toDeviceAssignments', () => {
  it('drops containers without devices and devices without ids', () => {
    expect(
      toDeviceAssignments({
        podResources: [
          {
            name: 'p',
            namespace: 'n',
            containers: [{ name: 'c', devices: [{ resourceName: 'nvidia.com/gpu', deviceIds: [] }] }],
          },
        ],
      }),
    ).toEqual([]);
  });
});
