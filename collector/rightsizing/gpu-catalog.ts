// The GPU products rightsizing knows: usable memory, dense FP16/BF16 tensor throughput and memory bandwidth (to
// judge whether a workload fits a smaller card) and the node label that selects them. Which product string
// (dcgm-exporter, nvidia-smi, GPU feature discovery) is which GPU is the cost model's call (collector/cost
// gpu-models.ts): this file only adds the specs per key.
import { matchGpuModel } from '../cost/gpu-models.ts';
import type { GpuKey } from '../cost/prices.ts';

export type { GpuKey };

export interface GpuSpec {
  key: GpuKey;
  /** Product string as nvidia-smi prints it: what PriceLookup.gpuHour is asked about. */
  name: string;
  /** `nvidia.com/gpu.product` as GPU feature discovery writes it (the name with dashes): the nodeSelector. */
  productLabel: string;
  /** Memory a process can use, GiB (nvidia-smi's total; the fixtures where we have them). */
  memoryGiB: number;
  /** Dense FP16/BF16 tensor TFLOPS, datasheet. */
  tflops: number;
  /** Memory bandwidth, TB/s, datasheet. */
  bandwidthTBs: number;
  /** SMs on the whole (non-MIG) board: the denominator for a MIG slice's share of compute. */
  sms?: number;
}

// Memory: L40S 46068 MiB, L4 23033 MiB, A10G 23028 MiB, T4 15360 MiB, A100 80GB 81920 MiB, H100 81559 MiB from
// the nvidia-smi / dcgm-exporter fixtures; H200 143771 MiB and V100 16160 MiB as nvidia-smi reports them.
// Throughput: NVIDIA datasheets (dense, no sparsity); A10G (AWS-only, no NVIDIA datasheet) as AWS/Baseten report.
export const GPU_CATALOG: Record<GpuKey, GpuSpec> = {
  H200: {
    key: 'H200',
    name: 'NVIDIA H200',
    productLabel: 'NVIDIA-H200',
    memoryGiB: 140.4,
    tflops: 989,
    bandwidthTBs: 4.8,
    sms: 132,
  },
  H100: {
    key: 'H100',
    name: 'NVIDIA H100 80GB HBM3',
    productLabel: 'NVIDIA-H100-80GB-HBM3',
    memoryGiB: 79.6,
    tflops: 989,
    bandwidthTBs: 3.35,
    sms: 132,
  },
  'A100-80GB': {
    key: 'A100-80GB',
    name: 'NVIDIA A100-SXM4-80GB',
    productLabel: 'NVIDIA-A100-SXM4-80GB',
    memoryGiB: 80,
    tflops: 312,
    bandwidthTBs: 2.039,
    sms: 108,
  },
  'A100-40GB': {
    key: 'A100-40GB',
    name: 'NVIDIA A100-SXM4-40GB',
    productLabel: 'NVIDIA-A100-SXM4-40GB',
    memoryGiB: 40,
    tflops: 312,
    bandwidthTBs: 1.555,
    sms: 108,
  },
  L40S: {
    key: 'L40S',
    name: 'NVIDIA L40S',
    productLabel: 'NVIDIA-L40S',
    memoryGiB: 44.98,
    tflops: 362,
    bandwidthTBs: 0.864,
  },
  L4: {
    key: 'L4',
    name: 'NVIDIA L4',
    productLabel: 'NVIDIA-L4',
    memoryGiB: 22.49,
    tflops: 121,
    bandwidthTBs: 0.3,
  },
  A10G: {
    key: 'A10G',
    name: 'NVIDIA A10G',
    productLabel: 'NVIDIA-A10G',
    memoryGiB: 22.48,
    tflops: 70,
    bandwidthTBs: 0.6,
  },
  T4: {
    key: 'T4',
    name: 'Tesla T4',
    productLabel: 'Tesla-T4',
    memoryGiB: 15,
    tflops: 65,
    bandwidthTBs: 0.32,
  },
  V100: {
    key: 'V100',
    name: 'Tesla V100-SXM2-16GB',
    productLabel: 'Tesla-V100-SXM2-16GB',
    memoryGiB: 15.78,
    tflops: 125,
    bandwidthTBs: 0.9,
  },
};

/**
 * The key of a product string (`NVIDIA H100 80GB HBM3`, `NVIDIA-A100-SXM4-40GB`, `Tesla T4`), as the cost model
 * matches it (collector/cost/SPEC.md §1.2), so a recommendation and the cost report agree on which GPU it is.
 */
export const gpuKeyOf = (name: string | undefined): GpuKey | undefined => matchGpuModel(name).key;

export const gpuSpecOf = (name: string | undefined) => {
  const key = gpuKeyOf(name);
  return key ? GPU_CATALOG[key] : undefined;
};

/**
 * How much longer the same work keeps `to` busy than `from`: the worse of the compute and bandwidth ratios, so a
 * memory-bound inference server and a compute-bound trainer are both judged on what limits them.
 */
export function slowdown(from: GpuSpec, to: GpuSpec): number {
  return Math.max(from.tflops / to.tflops, from.bandwidthTBs / to.bandwidthTBs);
}
