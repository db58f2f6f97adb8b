// GPU model matching: the product strings dcgm-exporter (`modelName`), nvidia-smi (`name`), GPU feature discovery
// (`nvidia.com/gpu.product`), GKE (`cloud.google.com/gke-accelerator`) and Karpenter write, mapped onto a price
// table key; plus the share of a board a vGPU profile (`GRID A100-10C`) stands for.
import type { GpuKey } from './prices.ts';

export interface GpuModelMatch {
  /** Price table key; undefined when no key matches (priced at the configured or OpenCost default). */
  key: GpuKey | undefined;
  /** Share of the physical board this device is: 1, or framebuffer of a vGPU profile / board framebuffer. */
  fraction: number;
}

/** Board framebuffer in GB, to size vGPU profiles (`A100-10C` = 10 GB of a 40 GB A100). */
const BOARD_MEMORY_GB: Record<GpuKey, number> = {
  H200: 141,
  H100: 80,
  'A100-80GB': 80,
  'A100-40GB': 40,
  L40S: 48,
  L4: 24,
  A10G: 24,
  T4: 16,
  V100: 16,
};

/** Upper-cased words of the name: `NVIDIA-H100-80GB-HBM3`, `NVIDIA H100 80GB HBM3` → NVIDIA H100 80GB HBM3. */
function tokens(name: string): string[] {
  return name
    .toUpperCase()
    .split(/[^A-Z0-9]+/)
    .filter(Boolean);
}

function keyOf(words: readonly string[]): GpuKey | undefined {
  const has = (word: string) => words.includes(word);
  // GH200 is a Grace Hopper superchip, not an H200 board: left to the default unless configured.
  if (has('GH200')) return undefined;
  if (has('H200')) return 'H200';
  if (has('H100')) return 'H100';
  if (has('A100D')) return 'A100-80GB';
  if (has('A100')) return has('80GB') || has('80G') ? 'A100-80GB' : 'A100-40GB';
  if (has('L40S')) return 'L40S';
  if (has('L4')) return 'L4';
  if (has('A10G')) return 'A10G';
  if (has('T4') || has('T4G')) return 'T4';
  // V100, V100S, and the vGPU board names V100X, V100D, V100DX, V100L (SPEC.md §1.2: `V100*`).
  if (words.some((word) => /^V100[A-Z]*$/.test(word))) return 'V100';
  return undefined;
}

const NO_MATCH: GpuModelMatch = Object.freeze({ key: undefined, fraction: 1 });
/** Product strings already matched: pricing and rightsizing ask about the same few strings for every window. */
const matches = new Map<string, GpuModelMatch>();
const MAX_REMEMBERED = 1024;

/**
 * Maps a product string to its price table key. Examples: `NVIDIA H100 80GB HBM3`, `NVIDIA-H100-80GB-HBM3`,
 * `NVIDIA A100-SXM4-80GB`, `nvidia-tesla-a100` (40GB), `A100-SXM4-40GB-MIG-1g.5gb`, `Tesla T4`, `NVIDIA L4`,
 * `NVIDIA A10G`, `nvidia-h100-80gb`, `h100` (Karpenter). `GRID A100-10C` is a vGPU: a quarter of an A100 40GB.
 */
export function matchGpuModel(name: string | null | undefined): GpuModelMatch {
  if (!name) return NO_MATCH;
  let match = matches.get(name);
  if (!match) {
    const words = tokens(name);
    const key = keyOf(words);
    match = Object.freeze({ key, fraction: key ? vgpuFraction(words, key) : 1 });
    // A cluster has a handful of product strings; the bound only guards against hostile labels.
    if (matches.size >= MAX_REMEMBERED) matches.clear();
    matches.set(name, match);
  }
  return match;
}

/** A GRID/vGPU profile (`10C`, `8Q`) is that many GB of the board's framebuffer; the time-sliced rest is others'. */
function vgpuFraction(words: readonly string[], key: GpuKey): number {
  if (!words.includes('GRID')) return 1;
  for (const word of words) {
    const match = /^(\d+)[ABCQ]$/.exec(word);
    if (match) return Math.min(1, Number(match[1]) / BOARD_MEMORY_GB[key]);
  }
  return 1;
}
