// The Node object as the agent reports it: capacity, allocatable and every label as a NodeSample; what the labels
// mean for cost is core/node-labels.ts.
import type { V1Node } from '@kubernetes/client-node';
import { physicalGpuCount } from '../../core/node-labels.ts';
import { tryParseQuantity } from '../../core/units.ts';
import type { NodeSample } from '../samples.ts';

/**
 * Schedulable GPU units: `nvidia.com/gpu` (whole GPUs, shared replicas, or MIG devices under single) plus
 * renamed shared GPUs and any extra resource names. MIG slices of the mixed strategy differ in size and are
 * not summed: their counts are in the labels (`nvidia.com/mig-<profile>.count`).
 */
function gpuUnits(
  resources: Record<string, string> | undefined,
  extra: readonly string[],
): number | undefined {
  let total: number | undefined;
  for (const name of new Set(['nvidia.com/gpu', 'nvidia.com/gpu.shared', ...extra])) {
    const amount = tryParseQuantity(resources?.[name]);
    if (amount !== undefined) total = (total ?? 0) + amount;
  }
  return total;
}

/** The Node object as the agent reports it: capacity, allocatable, physical GPUs and every label. */
export function nodeSampleOf(node: V1Node, extraGpuResources: readonly string[] = []): NodeSample {
  const labels = { ...(node.metadata?.labels ?? {}) };
  const capacity = node.status?.capacity;
  const allocatable = node.status?.allocatable;
  const sample: NodeSample = { labels };
  const cpuCores = tryParseQuantity(capacity?.['cpu']);
  if (cpuCores !== undefined) sample.cpuCores = cpuCores;
  const memoryBytes = tryParseQuantity(capacity?.['memory']);
  if (memoryBytes !== undefined) sample.memoryBytes = memoryBytes;
  const allocCpu = tryParseQuantity(allocatable?.['cpu']);
  const allocMemory = tryParseQuantity(allocatable?.['memory']);
  if (allocCpu !== undefined && allocMemory !== undefined) {
    sample.allocatable = { cpuCores: allocCpu, memoryBytes: allocMemory };
    const units = gpuUnits(allocatable, extraGpuResources);
    if (units !== undefined) sample.allocatable.gpus = units;
  }
  const gpus = physicalGpuCount(labels, capacity);
  if (gpus !== undefined) sample.gpus = gpus;
  return sample;
}
