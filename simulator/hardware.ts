// The hardware the simulated cluster is built from: GPU models (as nvidia-smi, dcgm-exporter and GPU Feature
// Discovery name them), MIG profiles, and the cloud instance types of each node pool.
//
// Figures are public specifications or read from the real captures in test/fixtures/real:
//  - H100 80GB HBM3: 81559 MiB total, 479 MiB reserved, 69 W idle of a 700 W limit (nvidia-smi capture, utkuozdemir
//    H100 file); SXM TDP 700 W (NVIDIA datasheet).
//  - A100-SXM4-80GB: 81920 MiB (Telegraf a100-sxm4-v12.xml); SXM TDP 400 W (NVIDIA datasheet); a 2g.20gb MIG
//    device shows 19968 MiB in the same capture. Other MIG sizes below are approximately what nvidia-smi shows.
//  - L4: 23033 MiB = FB_FREE 22563 + FB_RESERVED 470 (kOps dcgm-exporter capture), 16.4 W idle there; TDP 72 W.

export interface GpuModel {
  /** `modelName` label of dcgm-exporter, as nvidia-smi names it. */
  name: string;
  /** GFD `nvidia.com/gpu.product`. */
  product: string;
  /** GFD `nvidia.com/gpu.family`. */
  family: string;
  memoryMiB: number;
  reservedMiB: number;
  idleWatts: number;
  maxWatts: number;
  idleSmClockMhz: number;
  maxSmClockMhz: number;
  /** Whether the GPU can be partitioned with MIG (and into how many compute slices). */
  migSlices?: number;
}

export const H100: GpuModel = {
  name: 'NVIDIA H100 80GB HBM3',
  product: 'NVIDIA-H100-80GB-HBM3',
  family: 'hopper',
  memoryMiB: 81559,
  reservedMiB: 479,
  idleWatts: 69,
  maxWatts: 700,
  idleSmClockMhz: 345,
  maxSmClockMhz: 1980,
  migSlices: 7,
};

export const A100: GpuModel = {
  name: 'NVIDIA A100-SXM4-80GB',
  product: 'NVIDIA-A100-SXM4-80GB',
  family: 'ampere',
  memoryMiB: 81920,
  reservedMiB: 512,
  idleWatts: 58,
  maxWatts: 400,
  idleSmClockMhz: 210,
  maxSmClockMhz: 1410,
  migSlices: 7,
};

export const L4: GpuModel = {
  name: 'NVIDIA L4',
  product: 'NVIDIA-L4',
  family: 'ada-lovelace',
  memoryMiB: 23033,
  reservedMiB: 470,
  idleWatts: 16.4,
  maxWatts: 72,
  idleSmClockMhz: 210,
  maxSmClockMhz: 2040,
};

export interface MigProfile {
  /** `1g.10gb`: compute slices "g" and memory. */
  name: string;
  /** Compute slices of the GPU's seven. */
  computeSlices: number;
  memoryMiB: number;
}

/** A100-80GB MIG profiles (NVIDIA MIG user guide); memory approximately as nvidia-smi reports it. */
export const MIG_PROFILES: Record<string, MigProfile> = {
  '1g.10gb': { name: '1g.10gb', computeSlices: 1, memoryMiB: 9728 },
  '2g.20gb': { name: '2g.20gb', computeSlices: 2, memoryMiB: 19968 },
  '3g.40gb': { name: '3g.40gb', computeSlices: 3, memoryMiB: 40192 },
  '4g.40gb': { name: '4g.40gb', computeSlices: 4, memoryMiB: 40192 },
  '7g.80gb': { name: '7g.80gb', computeSlices: 7, memoryMiB: 80384 },
};

export interface InstanceType {
  name: string;
  cpuCores: number;
  memoryGiB: number;
  gpuModel?: GpuModel;
  gpus: number;
}

// AWS instance shapes (public instance-type pages): p5.48xlarge 8×H100 / 192 vCPU / 2 TiB; p4de.24xlarge 8×A100
// 80GB / 96 vCPU / 1152 GiB; g6.48xlarge 8×L4 / 192 vCPU / 768 GiB; m6i.8xlarge 32 vCPU / 128 GiB.
export const P5_48XLARGE: InstanceType = {
  name: 'p5.48xlarge',
  cpuCores: 192,
  memoryGiB: 2048,
  gpuModel: H100,
  gpus: 8,
};
export const P4DE_24XLARGE: InstanceType = {
  name: 'p4de.24xlarge',
  cpuCores: 96,
  memoryGiB: 1152,
  gpuModel: A100,
  gpus: 8,
};
export const G6_48XLARGE: InstanceType = {
  name: 'g6.48xlarge',
  cpuCores: 192,
  memoryGiB: 768,
  gpuModel: L4,
  gpus: 8,
};
export const M6I_8XLARGE: InstanceType = { name: 'm6i.8xlarge', cpuCores: 32, memoryGiB: 128, gpus: 0 };

/**
 * MIG layouts used on the A100 pool under the `mixed` strategy, each filling the GPU's seven compute slices. A GPU's
 * layout is fixed by its index (index mod 4), so a node's slices can be counted by hand: 4 + 7 + 2 + 4 = 17 per four
 * GPUs, 34 per eight-GPU node.
 */
export const MIG_LAYOUTS: readonly (readonly string[])[] = [
  ['3g.40gb', '2g.20gb', '1g.10gb', '1g.10gb'],
  ['1g.10gb', '1g.10gb', '1g.10gb', '1g.10gb', '1g.10gb', '1g.10gb', '1g.10gb'],
  ['4g.40gb', '3g.40gb'],
  ['2g.20gb', '2g.20gb', '2g.20gb', '1g.10gb'],
];

/**
 * GPU instance ids as an A100 hands them out for each profile's placements (nvidia-smi mig -lgip): 7g → 0, 4g → 1/2,
 * 3g → 1/2, 2g → 3..6, 1g → 7..14. The exact numbers differ by placement; these are unique per GPU, which is what
 * the exporter's GPU_I_ID needs.
 */
export function migInstanceIds(layout: readonly string[]): number[] {
  const next: Record<number, number> = { 7: 0, 4: 1, 3: 1, 2: 3, 1: 7 };
  const taken = new Set<number>();
  return layout.map((profile) => {
    const slices = MIG_PROFILES[profile]!.computeSlices;
    let id = next[slices]!;
    while (taken.has(id)) id++;
    taken.add(id);
    next[slices] = id + 1;
    return id;
  });
}
