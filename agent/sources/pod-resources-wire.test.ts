// The hand-written decoder of the pod-resources List answer: the fields the agent reads, every other field
// skipped whatever its wire type, and broken input refused. (pod-resources.test.ts runs the whole call against a
// real grpc-js server.)
import { describe, expect, it } from 'vitest';
import { decodeListPodResourcesResponse } from './pod-resources-wire.ts';

// A minimal protobuf writer for the test.
const varint = (value: number): number[] => {
  const out: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    out.push((rest % 128) | 0x80);
    rest = Math.floor(rest / 128);
  }
  out.push(rest);
  return out;
};
const tag = (field: number, wireType: number) => varint(field * 8 + wireType);
const bytes = (field: number, content: number[]) => [...tag(field, 2), ...varint(content.length), ...content];
const str = (field: number, text: string) => bytes(field, [...Buffer.from(text, 'utf8')]);

describe('decodeListPodResourcesResponse', () => {
  it('reads pods, containers and devices, skipping the fields it does not use', () => {
    const topology = bytes(1, [...tag(1, 0), ...varint(1)]); // TopologyInfo{nodes: [{ID: 1}]}
    const device = [
      ...str(1, 'nvidia.com/gpu'),
      ...str(2, 'GPU-a'),
      ...str(2, 'GPU-b'),
      ...bytes(3, topology),
    ];
    const container = [
      ...str(1, 'trainer'),
      ...bytes(2, device),
      ...bytes(3, [...varint(4), ...varint(300)]), // cpu_ids, packed
      ...bytes(4, [...str(1, 'memory'), ...tag(2, 0), ...varint(2 ** 40)]), // ContainerMemory
      ...tag(9, 1),
      ...[1, 2, 3, 4, 5, 6, 7, 8], // an unknown fixed64
      ...tag(10, 5),
      ...[1, 2, 3, 4], // an unknown fixed32
    ];
    const pod = [
      ...str(1, 'train-0'),
      ...str(2, 'team-a'),
      ...bytes(3, container),
      ...bytes(3, str(1, 'sidecar')),
    ];
    const message = Buffer.from([...bytes(1, pod), ...bytes(1, [...str(1, 'ü-pod'), ...str(2, 'ns')])]);
    expect(decodeListPodResourcesResponse(message)).toEqual({
      podResources: [
        {
          name: 'train-0',
          namespace: 'team-a',
          containers: [
            { name: 'trainer', devices: [{ resourceName: 'nvidia.com/gpu', deviceIds: ['GPU-a', 'GPU-b'] }] },
            { name: 'sidecar', devices: [] },
          ],
        },
        { name: 'ü-pod', namespace: 'ns', containers: [] },
      ],
    });
  });

  it('decodes an empty answer as no pods', () => {
    expect(decodeListPodResourcesResponse(Buffer.alloc(0))).toEqual({ podResources: [] });
  });

  it('refuses truncated or malformed input', () => {
    const pod = bytes(1, str(1, 'train-0'));
    expect(() => decodeListPodResourcesResponse(Buffer.from(pod.slice(0, -2)))).toThrow(/runs past/);
    expect(() => decodeListPodResourcesResponse(Buffer.from([0x0a, 0x80]))).toThrow(/truncated varint/);
    expect(() => decodeListPodResourcesResponse(Buffer.from([...tag(5, 3)]))).toThrow(/wire type 3/);
    expect(() => decodeListPodResourcesResponse(Buffer.from([...tag(5, 1), 1, 2]))).toThrow(/runs past/);
  });
});
