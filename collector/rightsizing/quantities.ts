// Kubernetes quantities for patches and reasons: CPU rounded up to whole millicores, memory up to whole MiB.
import { GIB, MIB } from './options.ts';

/** Cores rounded up to a millicore: the value a patch writes. */
export const roundCpu = (cores: number) => Math.ceil(Math.round(cores * 1e6) / 1e3) / 1000;

/** Bytes rounded up to a MiB: the value a patch writes. */
export const roundMemory = (bytes: number) => Math.ceil(Math.round(bytes / 1024) / 1024) * MIB;

/** `2`, `950m`. */
export function formatCpu(cores: number): string {
  const millis = Math.round(roundCpu(cores) * 1000);
  return millis % 1000 === 0 ? String(millis / 1000) : `${millis}m`;
}

/** `1Gi`, `575Mi`. */
export function formatMemory(bytes: number): string {
  const mib = Math.round(roundMemory(bytes) / MIB);
  return mib % 1024 === 0 ? `${mib / 1024}Gi` : `${mib}Mi`;
}

/** `12.3 GiB` for reasons. */
export const gib = (bytes: number) => `${(bytes / GIB).toFixed(1)} GiB`;

/** `15%` for reasons. */
export const pct = (ratio: number) => `${Math.round(ratio * 1000) / 10}%`;

/** `$12.34`-style money for reasons, with the currency code. */
export const money = (amount: number, currency: string) => `${amount.toFixed(2)} ${currency}`;
