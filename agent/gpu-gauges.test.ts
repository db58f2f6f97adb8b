// The agent's live GPU gauges take the holders its window attributed, so each collection attributes GPUs once.
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createGpuGauges } from './gpu-gauges.ts';
import type { Samples } from './samples.ts';
import { WindowAccumulator } from './window.ts';

const GPU = 'GPU-2b8e5d6a-0f1c-4a7e-9c3b-5d1e7f9a2c4b';

const samples: Samples = {
  gpus: [{ id: GPU, uuid: GPU, model: 'NVIDIA L4', activity: 0.5, memoryUsedBytes: 1024 }],
  devices: [
    {
      namespace: 'team-a',
      pod: 'trainer-0',
      container: 'pytorch',
      resource: 'nvidia.com/gpu',
      deviceIds: [GPU],
    },
  ],
};

async function podLabels(registry: Registry): Promise<string[]> {
  const { values } = await registry.getSingleMetric('mlcost_agent_gpu_activity_ratio')!.get();
  return values.map((value) => `${value.labels['namespace']}/${value.labels['pod']}`);
}

describe('GPU gauges', () => {
  it("show the holders the window attributed (the window's add returns them)", async () => {
    const window = new WindowAccumulator(Date.now());
    const holders = window.add(samples);
    expect(holders.get(GPU)).toEqual([
      expect.objectContaining({ namespace: 'team-a', pod: 'trainer-0', container: 'pytorch' }),
    ]);
    const registry = new Registry();
    const update = createGpuGauges(registry);
    update(samples, holders);
    expect(await podLabels(registry)).toEqual(['team-a/trainer-0']);
    // Given holders are used as they are, not attributed again from the devices.
    update(samples, new Map([[GPU, [{ namespace: 'team-b', pod: 'other-1', container: 'c' }]]]));
    expect(await podLabels(registry)).toEqual(['team-b/other-1']);
  });

  it('attribute the GPUs themselves when no holders are given (remote mode)', async () => {
    const registry = new Registry();
    createGpuGauges(registry)(samples);
    expect(await podLabels(registry)).toEqual(['team-a/trainer-0']);
  });
});
