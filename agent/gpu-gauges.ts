// The agent's live GPU series on its own /metrics: activity and memory per GPU or slice, with the holding pod.
// Labels are bounded (gpu, model, namespace, pod) and series of GPUs that disappear are dropped each collection.
import { Gauge, type Registry } from 'prom-client';
import { attributeGpus, replicasFromLabels } from './attribution.ts';
import type { Samples } from './samples.ts';

const LABELS = ['gpu', 'gpu_model', 'mig_profile', 'namespace', 'pod'] as const;

export function createGpuGauges(registry: Registry): (samples: Samples) => void {
  const activity = new Gauge({
    name: 'mlcost_agent_gpu_activity_ratio',
    help: 'Share of time the GPU or MIG slice was busy at the last collection (0..1).',
    labelNames: LABELS,
    registers: [registry],
  });
  const memory = new Gauge({
    name: 'mlcost_agent_gpu_memory_used_bytes',
    help: 'GPU or MIG slice memory in use at the last collection.',
    labelNames: LABELS,
    registers: [registry],
  });
  return (samples) => {
    activity.reset();
    memory.reset();
    const gpus = samples.gpus ?? [];
    const holders = attributeGpus(gpus, samples.devices ?? [], {
      replicasPerGpu: replicasFromLabels(samples.node?.labels),
    });
    for (const gpu of gpus) {
      const holder = holders.get(gpu.id)?.[0];
      const labels = {
        gpu: gpu.id,
        gpu_model: gpu.model ?? '',
        mig_profile: gpu.migProfile ?? '',
        namespace: holder?.namespace ?? '',
        pod: holder?.pod ?? '',
      };
      if (gpu.activity !== undefined) activity.set(labels, gpu.activity);
      if (gpu.memoryUsedBytes !== undefined) memory.set(labels, gpu.memoryUsedBytes);
    }
  };
}
