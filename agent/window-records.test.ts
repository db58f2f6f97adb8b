// Container, model and GPU-holder records of a window, with every expected figure worked out by hand below.
import { describe, expect, it } from 'vitest';
import type { PodInfo } from './samples.ts';
import { percentile, WindowAccumulator } from './window.ts';

const T0 = Date.parse('2026-11-29T10:00:00Z');
const node = { cpuCores: 8, memoryBytes: 32 * 2 ** 30 };

const trainer: PodInfo = {
  uid: 'uid-1',
  namespace: 'team-a',
  name: 'bert-worker-0',
  phase: 'Running',
  qosClass: 'Burstable',
  labels: { team: 'nlp', 'training.kubeflow.org/job-name': 'bert' },
  annotations: {},
  containers: [
    {
      name: 'pytorch',
      requests: { cpuCores: 4, memoryBytes: 16 * 2 ** 30, gpus: 1, gpuResource: 'nvidia.com/gpu' },
      limits: { memoryBytes: 20 * 2 ** 30, gpus: 1, gpuResource: 'nvidia.com/gpu' },
    },
  ],
  workload: { kind: 'PyTorchJob', name: 'bert' },
  mlJob: { kind: 'PyTorchJob', name: 'bert' },
  containerStatus: { pytorch: { restarts: 1, lastTerminationReason: 'OOMKilled' } },
};

describe('WindowAccumulator records', () => {
  it('joins kubelet usage with the pod spec: avg, max and p95 of CPU, memory avg and max', () => {
    const window = new WindowAccumulator(T0);
    // four readings of CPU cores: 1, 3, 2, 2 → avg 8/4 = 2, max 3, p95 nearest rank ceil(0.95*4)=4th of sorted [1,2,2,3] = 3
    const cpu = [1, 3, 2, 2];
    // working set GiB: 10, 12, 11, 11 → avg 44/4 = 11 GiB, max 12 GiB
    const mem = [10, 12, 11, 11];
    for (let i = 0; i < 4; i++) {
      window.add({
        node,
        pods: [trainer],
        containers: [
          {
            namespace: 'team-a',
            pod: 'bert-worker-0',
            container: 'pytorch',
            cpuUsedCores: cpu[i],
            memoryWorkingSetBytes: mem[i]! * 2 ** 30,
          },
        ],
      });
    }
    const record = window.close(T0 + 60_000, 'gpu-node-1')!.containers[0]!;
    expect(record).toMatchObject({
      namespace: 'team-a',
      pod: 'bert-worker-0',
      container: 'pytorch',
      podUid: 'uid-1',
      cpuCoresAvg: 2,
      cpuCoresMax: 3,
      cpuCoresP95: 3,
      memoryBytesAvg: 11 * 2 ** 30,
      memoryBytesMax: 12 * 2 ** 30,
      requests: { cpuCores: 4, memoryBytes: 16 * 2 ** 30, gpus: 1 },
      workload: { kind: 'PyTorchJob', name: 'bert' },
      mlJob: { kind: 'PyTorchJob', name: 'bert' },
      restarts: 1,
      oomKilled: true,
      labels: { team: 'nlp' },
    });
  });

  it('reports a running pod with requests even without usage readings, and skips finished pods', () => {
    const window = new WindowAccumulator(T0);
    const done: PodInfo = { ...trainer, uid: 'uid-2', name: 'old-job', phase: 'Succeeded' };
    window.add({ node, pods: [trainer, done] });
    const records = window.close(T0 + 60_000, 'n')!.containers;
    expect(records.map((r) => r.pod)).toEqual(['bert-worker-0']);
    expect(records[0]?.cpuCoresAvg).toBeUndefined();
  });

  it('sums model increments over the window and keeps the peaks of queue and KV cache', () => {
    const window = new WindowAccumulator(T0);
    const base = { namespace: 'serving', pod: 'llama-0', model: 'llama-3-8b', server: 'vllm' as const };
    window.add({
      node,
      models: [
        {
          ...base,
          requestsOk: 10,
          requestsFailed: 1,
          promptTokens: 5000,
          generatedTokens: 2000,
          latencySecondsSum: 12,
          latencyCount: 11,
          queueLength: 3,
          kvCacheUsage: 0.4,
        },
      ],
    });
    window.add({
      node,
      models: [
        {
          ...base,
          requestsOk: 5,
          requestsFailed: 0,
          promptTokens: 2500,
          generatedTokens: 1000,
          latencySecondsSum: 6,
          latencyCount: 5,
          queueLength: 1,
          kvCacheUsage: 0.7,
        },
      ],
    });
    // 10+5 ok, 1+0 failed, 5000+2500 prompt, 2000+1000 generated, 12+6 s over 11+5 requests, max queue 3, max KV 0.7
    expect(window.close(T0 + 60_000, 'n')!.models).toEqual([
      {
        ...base,
        requestsOk: 15,
        requestsFailed: 1,
        promptTokens: 7500,
        generatedTokens: 3000,
        latencySecondsSum: 18,
        latencyCount: 16,
        queueLengthMax: 3,
        kvCacheUsageMax: 0.7,
      },
    ]);
  });

  it('records every pod that held a GPU during the window', () => {
    const window = new WindowAccumulator(T0);
    const gpus = [{ id: 'GPU-a', uuid: 'GPU-a', index: 0, activity: 0.5 }];
    window.add({
      node,
      gpus,
      devices: [
        {
          namespace: 'nb',
          pod: 'notebook-1',
          container: 'jupyter',
          resource: 'nvidia.com/gpu',
          deviceIds: ['GPU-a'],
        },
      ],
    });
    // the notebook ends and a job takes the GPU within the same window: both held it.
    window.add({
      node,
      gpus,
      devices: [
        {
          namespace: 'ml',
          pod: 'job-1',
          container: 'main',
          resource: 'nvidia.com/gpu',
          deviceIds: ['GPU-a'],
        },
      ],
    });
    const record = window.close(T0 + 60_000, 'n')!.gpus[0]!;
    expect(record.holders.map((h) => h.pod)).toEqual(['notebook-1', 'job-1']);
  });
});

describe('percentile', () => {
  it('is the nearest-rank percentile', () => {
    // sorted [1..20]: p95 rank ceil(19) = 19th value = 19; p50 rank 10 = 10
    const values = Array.from({ length: 20 }, (_, i) => 20 - i);
    expect(percentile(values, 95)).toBe(19);
    expect(percentile(values, 50)).toBe(10);
    expect(percentile([], 95)).toBeUndefined();
  });
});
