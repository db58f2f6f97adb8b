// MIG slice shares: what part of its physical GPU a MIG instance is, from its profile name (`3g.40gb`), for pricing.
import type { GpuKey } from './prices.ts';

/**
 * Compute slices a MIG-capable board divides into: 7 on A100, H100 and H200 (and Blackwell); 4 on A30, which
 * has no table key and so falls to the 7 of the rest unless named here.
 */
const COMPUTE_SLICES: Partial<Record<GpuKey, number>> = {
  H200: 7,
  H100: 7,
  'A100-80GB': 7,
  'A100-40GB': 7,
};
const DEFAULT_COMPUTE_SLICES = 7;

export interface MigProfile {
  /** GPU instance compute slices: the `3` of `3g.40gb`. */
  computeSlices: number;
  /** Compute instance slices when the name carries one (`1c.3g.40gb`): the `1`. */
  computeInstanceSlices?: number;
  memoryGb: number;
}

/** Parses `1g.10gb`, `3g.40gb`, `1g.10gb+me`, `1c.3g.40gb`, `nvidia.com/mig-2g.20gb`; undefined for anything else. */
export function parseMigProfile(text: string | null | undefined): MigProfile | undefined {
  if (!text) return undefined;
  if (parsedProfiles.has(text)) return parsedProfiles.get(text);
  const profile = parseUncached(text);
  // A cluster has a handful of profiles, asked about once per window; the bound guards against hostile labels.
  if (parsedProfiles.size >= MAX_REMEMBERED) parsedProfiles.clear();
  parsedProfiles.set(text, profile && Object.freeze(profile));
  return profile;
}

const parsedProfiles = new Map<string, MigProfile | undefined>();
const MAX_REMEMBERED = 1024;

function parseUncached(text: string): MigProfile | undefined {
  const match = /(?:^|[^0-9])(?:(\d+)c\.)?(\d+)g\.(\d+(?:\.\d+)?)gb/i.exec(text);
  if (!match) return undefined;
  const profile: MigProfile = { computeSlices: Number(match[2]), memoryGb: Number(match[3]) };
  if (match[1] !== undefined) profile.computeInstanceSlices = Number(match[1]);
  return profile.computeSlices > 0 ? profile : undefined;
}

/**
 * The share of the physical GPU a MIG instance is priced at: its compute slices over the board's (g/7 on
 * A100/H100/H200), or its compute-instance slices when the profile names a compute instance. Compute, not
 * memory, because a fully carved board then sums to exactly 1 (7 × 1g = 3g + 4g = 7/7) and no price is left
 * on a GPU nobody can carve further; see SPEC.md. Undefined for a profile that does not parse.
 */
export function migFraction(profile: string | null | undefined, key: GpuKey | undefined): number | undefined {
  const parsed = parseMigProfile(profile);
  if (!parsed) return undefined;
  const total = (key && COMPUTE_SLICES[key]) || DEFAULT_COMPUTE_SLICES;
  return Math.min(1, (parsed.computeInstanceSlices ?? parsed.computeSlices) / total);
}
