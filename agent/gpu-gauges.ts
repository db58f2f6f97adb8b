// The agent's live GPU series on its own /metrics: activity and memory per GPU or slice, with the holding pod.
// Labels are bounded (gpu, model, profile, namespace, pod); each updater removes the series it set last time
// that are gone now, so GPUs and pods that disappear leave no stale series (and several node agents in one
// process, as in remote mode, do not erase each other's).
import { Gauge, type Registry } from 'prom-client';
import type { Holder } from '../core/protocol/batch.ts';
import { attributeGpus, replicasFromLabels } from './attribution.ts';
import type { Samples } from './samples.ts';

const LABELS = ['gpu', 'gpu_model', 'mig_profile', 'namespace', 'pod'] as const;
type GpuLabels = Record<(typeof LABELS)[number], string>;

export interface GpuGaugeMetrics {
  activity: Gauge<(typeof LABELS)[number]>;
  memory: Gauge<(typeof LABELS)[number]>;
}

export function createGpuGaugeMetrics(registry: Registry): GpuGaugeMetrics {
  return {
    activity: new Gauge({
      name: 'mlcost_agent_gpu_activity_ratio',
      help: 'Share of time the GPU or MIG slice was busy at the last collection (0..1).',
      labelNames: LABELS,
      registers: [registry],
    }),
    memory: new Gauge({
      name: 'mlcost_agent_gpu_memory_used_bytes',
      help: 'GPU or MIG slice memory in use at the last collection.',
      labelNames: LABELS,
      registers: [registry],
    }),
  };
}

/** Updates the gauges from one collection; `holders` are the GPUs' holders by GPU id, attributed when not given. */
export type GpuGaugeUpdate = (samples: Samples, holders?: ReadonlyMap<string, readonly Holder[]>) => void;

/**
 * An updater for one agent: sets this collection's series and removes the ones it set before that are gone. The
 * agent passes the holders its window attributed (Agent's onSamples), so the GPUs are attributed once.
 */
export function gpuGaugeUpdater(metrics: GpuGaugeMetrics): GpuGaugeUpdate {
  let previous = new Map<string, GpuLabels>();
  return (samples, given) => {
    const current = new Map<string, GpuLabels>();
    const gpus = samples.gpus ?? [];
    const holders =
      given ??
      attributeGpus(gpus, samples.devices ?? [], {
        replicasPerGpu: replicasFromLabels(samples.node?.labels),
      });
    for (const gpu of gpus) {
      const holder = holders.get(gpu.id)?.[0];
      const labels: GpuLabels = {
        gpu: gpu.id,
        gpu_model: gpu.model ?? '',
        mig_profile: gpu.migProfile ?? '',
        namespace: holder?.namespace ?? '',
        pod: holder?.pod ?? '',
      };
      current.set(JSON.stringify(labels), labels);
      if (gpu.activity !== undefined) metrics.activity.set(labels, gpu.activity);
      if (gpu.memoryUsedBytes !== undefined) metrics.memory.set(labels, gpu.memoryUsedBytes);
    }
    for (const [key, labels] of previous) {
      if (current.has(key)) continue;
      metrics.activity.remove(labels);
      metrics.memory.remove(labels);
    }
    previous = current;
  };
}

/** One agent's GPU gauges registered in `registry`. */
export function createGpuGauges(registry: Registry): GpuGaugeUpdate {
  return gpuGaugeUpdater(createGpuGaugeMetrics(registry));
}
