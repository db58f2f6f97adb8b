import { describe, expect, it } from 'vitest';
import { attributeGpus, replicasFromLabels } from './attribution.ts';
import type { DeviceAssignment, GpuSample } from './samples.ts';

const gpu = (id: string, extra: Partial<GpuSample> = {}): GpuSample => ({ id, uuid: id, ...extra });
const assign = (
  pod: string,
  resource: string,
  deviceIds: string[],
  container = 'main',
): DeviceAssignment => ({
  namespace: 'ml',
  pod,
  container,
  resource,
  deviceIds,
});

describe('attributeGpus', () => {
  it('matches whole GPUs by UUID (case-insensitive) and by index', () => {
    const gpus = [
      gpu('GPU-aaaa', { index: 0 }),
      gpu('GPU-bbbb', { index: 1 }),
      gpu('GPU-cccc', { index: 2 }),
    ];
    const holders = attributeGpus(gpus, [
      assign('trainer-0', 'nvidia.com/gpu', ['GPU-AAAA']),
      assign('trainer-1', 'nvidia.com/gpu', ['1']),
    ]);
    expect(holders.get('GPU-aaaa')).toEqual([
      { namespace: 'ml', pod: 'trainer-0', container: 'main', share: 1, via: 'device-id' },
    ]);
    expect(holders.get('GPU-bbbb')?.[0]?.pod).toBe('trainer-1');
    // GPU 2 is held by no one: a free GPU, not an idle one.
    expect(holders.has('GPU-cccc')).toBe(false);
  });

  it('gives each time-sliced replica holder a 1/replicas share', () => {
    const holders = attributeGpus(
      [gpu('GPU-aaaa', { index: 0 })],
      [
        assign('a', 'nvidia.com/gpu', ['GPU-aaaa::0']),
        assign('b', 'nvidia.com/gpu', ['GPU-aaaa::1']),
        assign('c', 'nvidia.com/gpu', ['GPU-aaaa::2']),
        assign('d', 'nvidia.com/gpu', ['GPU-aaaa::3']),
      ],
      { replicasPerGpu: 4 },
    );
    const list = holders.get('GPU-aaaa') ?? [];
    expect(list.map((h) => h.pod)).toEqual(['a', 'b', 'c', 'd']);
    // four pods on one GPU with 4 replicas each hold a quarter: the shares sum to one GPU.
    expect(list.map((h) => h.share)).toEqual([0.25, 0.25, 0.25, 0.25]);
  });

  it('matches MIG devices by their own UUID, else by profile among free slices', () => {
    const slices = [
      gpu('GPU-p/1', { uuid: 'GPU-p', migProfile: '3g.40gb', migInstanceId: 1, migUuid: 'MIG-1111' }),
      gpu('GPU-p/5', { uuid: 'GPU-p', migProfile: '2g.20gb', migInstanceId: 5 }),
      gpu('GPU-p/9', { uuid: 'GPU-p', migProfile: '1g.10gb', migInstanceId: 9 }),
      gpu('GPU-p/10', { uuid: 'GPU-p', migProfile: '1g.10gb', migInstanceId: 10 }),
    ];
    const holders = attributeGpus(slices, [
      assign('big', 'nvidia.com/mig-3g.40gb', ['MIG-1111']),
      assign('mid', 'nvidia.com/mig-2g.20gb', ['MIG-2222']),
      assign('small-a', 'nvidia.com/mig-1g.10gb', ['MIG-3333']),
      assign('small-b', 'nvidia.com/mig-1g.10gb', ['MIG-4444']),
    ]);
    expect(holders.get('GPU-p/1')?.[0]).toMatchObject({ pod: 'big', via: 'device-id' });
    expect(holders.get('GPU-p/5')?.[0]).toMatchObject({ pod: 'mid', via: 'mig-profile' });
    // two 1g.10gb slices, two 1g.10gb holders: each slice held once, never one slice twice.
    expect([holders.get('GPU-p/9')?.[0]?.pod, holders.get('GPU-p/10')?.[0]?.pod].sort()).toEqual([
      'small-a',
      'small-b',
    ]);
    expect(holders.get('GPU-p/9')).toHaveLength(1);
  });

  it("keeps the exporter's own pod labels and ignores non-GPU resources and unknown ids", () => {
    const holders = attributeGpus(
      [gpu('GPU-aaaa', { holder: { namespace: 'ray-llm', pod: 'ray-1', container: 'ray-worker' } })],
      [assign('x', 'example.com/fpga', ['GPU-aaaa']), assign('y', 'nvidia.com/gpu', ['weird/id/format'])],
    );
    expect(holders.get('GPU-aaaa')).toEqual([
      { namespace: 'ray-llm', pod: 'ray-1', container: 'ray-worker', share: 1, via: 'exporter' },
    ]);
  });
});

describe('replicasFromLabels', () => {
  it('reads GPU feature discovery replicas, ignoring 1 and junk', () => {
    expect(replicasFromLabels({ 'nvidia.com/gpu.replicas': '4' })).toBe(4);
    expect(replicasFromLabels({ 'nvidia.com/gpu.replicas': '1' })).toBeUndefined();
    expect(replicasFromLabels({ 'nvidia.com/gpu.replicas': 'many' })).toBeUndefined();
    expect(replicasFromLabels(undefined)).toBeUndefined();
  });
});

describe('attributeGpus with exporter labels and MIG device ids together', () => {
  it('does not give a free slice to a container the exporter already names on a slice of that profile', () => {
    const slices: GpuSample[] = [
      gpu('GPU-p/9', {
        uuid: 'GPU-p',
        migProfile: '1g.10gb',
        migInstanceId: 9,
        holder: { namespace: 'ml', pod: 'embed', container: 'main' },
      }),
      gpu('GPU-p/10', { uuid: 'GPU-p', migProfile: '1g.10gb', migInstanceId: 10 }),
    ];
    const holders = attributeGpus(slices, [assign('embed', 'nvidia.com/mig-1g.10gb', ['MIG-unknown'])]);
    // the exporter says slice 9 is embed's; its one device id is that slice, so slice 10 stays free
    expect(holders.get('GPU-p/9')?.map((h) => h.pod)).toEqual(['embed']);
    expect(holders.has('GPU-p/10')).toBe(false);
  });
});
