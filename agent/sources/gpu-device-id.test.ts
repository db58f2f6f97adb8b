import { describe, expect, it } from 'vitest';
import { isGpuResourceName, parseDeviceId } from './gpu-device-id.ts';

describe('parseDeviceId', () => {
  it('reads a whole GPU by UUID (deviceIDStrategy=uuid)', () => {
    expect(parseDeviceId('GPU-8f6b1c2e-5a34-11ee-8c99-0242ac120002')).toEqual({
      kind: 'uuid',
      gpu: 'GPU-8f6b1c2e-5a34-11ee-8c99-0242ac120002',
    });
  });

  it('reads a whole GPU by index (deviceIDStrategy=index)', () => {
    expect(parseDeviceId('3')).toEqual({ kind: 'index', gpu: '3', gpuIndex: 3 });
  });

  it('reads a MIG device by its own UUID', () => {
    expect(parseDeviceId('MIG-5c89b1a0-2f3e-5b4d-9a1c-7e2d4f6a8b0c')).toEqual({
      kind: 'mig',
      gpu: 'MIG-5c89b1a0-2f3e-5b4d-9a1c-7e2d4f6a8b0c',
    });
  });

  it('keeps the pre-R470 MIG UUID form whole', () => {
    expect(parseDeviceId('MIG-GPU-8f6b1c2e-5a34-11ee-8c99-0242ac120002/7/0')).toEqual({
      kind: 'mig',
      gpu: 'MIG-GPU-8f6b1c2e-5a34-11ee-8c99-0242ac120002/7/0',
    });
  });

  it('reads a MIG device by GPU and MIG index (deviceIDStrategy=index)', () => {
    expect(parseDeviceId('1:2')).toEqual({ kind: 'mig', gpu: '1:2', gpuIndex: 1, migIndex: 2 });
  });

  it('splits the replica off time-sliced and MPS ids', () => {
    expect(parseDeviceId('GPU-8f6b1c2e-5a34-11ee-8c99-0242ac120002::2')).toEqual({
      kind: 'uuid',
      gpu: 'GPU-8f6b1c2e-5a34-11ee-8c99-0242ac120002',
      replica: 2,
    });
    expect(parseDeviceId('0::11')).toEqual({ kind: 'index', gpu: '0', gpuIndex: 0, replica: 11 });
    expect(parseDeviceId('MIG-5c89b1a0-2f3e-5b4d-9a1c-7e2d4f6a8b0c::0')).toEqual({
      kind: 'mig',
      gpu: 'MIG-5c89b1a0-2f3e-5b4d-9a1c-7e2d4f6a8b0c',
      replica: 0,
    });
  });

  it("reads GKE's device names: a GPU, a GPU instance, a sharing slot", () => {
    expect(parseDeviceId('nvidia0')).toEqual({ kind: 'gke', gpu: 'nvidia0', gkeGpuIndex: 0 });
    expect(parseDeviceId('nvidia3/gi5')).toEqual({ kind: 'gke', gpu: 'nvidia3', gkeGpuIndex: 3, gkeGi: 5 });
    expect(parseDeviceId('nvidia1/vgpu4')).toEqual({
      kind: 'gke',
      gpu: 'nvidia1',
      gkeGpuIndex: 1,
      replica: 4,
    });
    expect(parseDeviceId('nvidia0/gi2/vgpu1')).toEqual({
      kind: 'gke',
      gpu: 'nvidia0',
      gkeGpuIndex: 0,
      gkeGi: 2,
      replica: 1,
    });
  });

  it('returns undefined for formats it does not know', () => {
    expect(parseDeviceId('')).toBeUndefined();
    expect(parseDeviceId('GPU-')).toBeUndefined();
    expect(parseDeviceId('card0')).toBeUndefined();
    expect(parseDeviceId('nvidia0/gpu1')).toBeUndefined();
    expect(parseDeviceId('GPU-x::')).toBeUndefined();
  });
});

describe('isGpuResourceName', () => {
  it('knows whole, shared and MIG NVIDIA resources and configured extras', () => {
    expect(isGpuResourceName('nvidia.com/gpu')).toBe(true);
    expect(isGpuResourceName('nvidia.com/gpu.shared')).toBe(true);
    expect(isGpuResourceName('nvidia.com/mig-1g.10gb')).toBe(true);
    expect(isGpuResourceName('nvidia.com/mig-3g.40gb')).toBe(true);
    expect(isGpuResourceName('amd.com/gpu')).toBe(false);
    expect(isGpuResourceName('amd.com/gpu', ['amd.com/gpu'])).toBe(true);
    expect(isGpuResourceName('cpu')).toBe(false);
    expect(isGpuResourceName('example.com/foo')).toBe(false);
  });
});
