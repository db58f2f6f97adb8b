// MIG GPU-instance profiles of the A100 40GB/80GB, H100 80GB and H200: usable memory and SMs per profile, as
// `nvidia-smi mig -lgip` prints them, to pick the smallest slice a workload fits in. Profile names are parsed by
// the cost model (collector/cost mig.ts), so both read `3g.40gb` the same way.
import { parseMigProfile } from '../cost/mig.ts';
import type { GpuKey } from './gpu-catalog.ts';

export interface MigProfileSpec {
  name: string;
  /** Compute slices of 7: the `3` of `3g.40gb`. */
  computeSlices: number;
  /** Memory slices of 8. */
  memorySlices: number;
  /** Usable memory, GiB (the lowest value seen across driver versions). */
  memoryGiB: number;
  sms: number;
  /** Most instances of this profile on one board. */
  maxInstances: number;
}

const p = (
  name: string,
  computeSlices: number,
  memorySlices: number,
  memoryGiB: number,
  sms: number,
  maxInstances: number,
): MigProfileSpec => ({ name, computeSlices, memorySlices, memoryGiB, sms, maxInstances });

// Sources: `nvidia-smi mig -lgip` captures (A100 40GB and 80GB in public MIG guides; H100 80GB in public guides and
// in the H100-MIG nvidia-smi fixture: 1g.10gb 9984 MiB / 16 SMs, 2g.20gb 20096 MiB / 32, 3g.40gb 40448 MiB / 60);
// profile names, slices and instance counts from NVIDIA's MIG user guide ("Supported MIG Profiles"). H200: 1g.18gb
// 16.00 GiB and 2g.35gb 32.50 GiB from lgip captures; 3g/4g.71gb 65.0 GiB from a reported 69.8 GB (decimal) device;
// 7g.141gb is not verified and is never a saving (it is the whole board).
export const MIG_PROFILES: Partial<Record<GpuKey, MigProfileSpec[]>> = {
  'A100-40GB': [
    p('1g.5gb', 1, 1, 4.75, 14, 7),
    p('1g.10gb', 1, 2, 9.62, 14, 4),
    p('2g.10gb', 2, 2, 9.62, 28, 3),
    p('3g.20gb', 3, 4, 19.5, 42, 2),
    p('4g.20gb', 4, 4, 19.5, 56, 1),
    p('7g.40gb', 7, 8, 39.25, 98, 1),
  ],
  'A100-80GB': [
    p('1g.10gb', 1, 1, 9.5, 14, 7),
    p('1g.20gb', 1, 2, 19.5, 14, 4),
    p('2g.20gb', 2, 2, 19.5, 28, 3),
    p('3g.40gb', 3, 4, 39.25, 42, 2),
    p('4g.40gb', 4, 4, 39.25, 56, 1),
    p('7g.80gb', 7, 8, 79, 98, 1),
  ],
  H100: [
    p('1g.10gb', 1, 1, 9.75, 16, 7),
    p('1g.20gb', 1, 2, 19.62, 26, 4),
    p('2g.20gb', 2, 2, 19.62, 32, 3),
    p('3g.40gb', 3, 4, 39.5, 60, 2),
    p('4g.40gb', 4, 4, 39.5, 64, 1),
    p('7g.80gb', 7, 8, 79.25, 132, 1),
  ],
  H200: [
    p('1g.18gb', 1, 1, 16, 16, 7),
    p('1g.35gb', 1, 2, 32.5, 16, 4),
    p('2g.35gb', 2, 2, 32.5, 32, 3),
    p('3g.71gb', 3, 4, 65, 60, 2),
    p('4g.71gb', 4, 4, 65, 64, 1),
    p('7g.141gb', 7, 8, 130, 132, 1),
  ],
};

/**
 * The profile named `1g.10gb` (also `1g.10gb+me`, `nvidia.com/mig-1g.10gb`, `A100-SXM4-40GB-MIG-1g.5gb`) on this
 * board; a compute instance (`1c.3g.40gb`) is looked up by its GPU instance's profile (`3g.40gb`).
 */
export function migProfileOf(key: GpuKey | undefined, name: string | undefined): MigProfileSpec | undefined {
  const wanted = parseMigProfile(name);
  if (!key || !wanted) return undefined;
  return MIG_PROFILES[key]?.find((profile) => {
    const parsed = parseMigProfile(profile.name);
    return parsed?.computeSlices === wanted.computeSlices && parsed.memoryGb === wanted.memoryGb;
  });
}
