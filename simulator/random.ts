// Seeded randomness for the simulator. Two kinds, both deterministic:
//  - `Rng`, a mulberry32 stream, for building the cluster once (node pools, seats, parameters), in a fixed order;
//  - stateless hashes (`hashInts`, `unitAt`) for values over time: the noise of a metric in a slot is a hash of
//    (entity, slot, metric), so any instant can be computed without replaying the past. That is what makes a
//    window a pure function of (seed, time), so backfill and --serve agree.
// Nothing in simulator/ may use Math.random.

/** A 32-bit integer mixer (the "lowbias32" finaliser by Chris Wellons): good avalanche, two multiplies. */
export function mix32(value: number): number {
  let x = value | 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

/** Hashes up to four integers (each taken modulo 2^32) into one unsigned 32-bit integer. */
export function hashInts(a: number, b = 0, c = 0, d = 0): number {
  let h = mix32(a ^ 0x9e3779b9);
  h = mix32((h + (b | 0)) ^ 0x85ebca6b);
  h = mix32((h + (c | 0)) ^ 0xc2b2ae35);
  return mix32((h + (d | 0)) ^ 0x27d4eb2f);
}

/** FNV-1a over a string's UTF-16 code units, mixed: a stable numeric key for a name. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return mix32(h);
}

const TWO_POW_32 = 4294967296;

/** A uniform number in [0, 1) for the given integers: the same inputs always give the same number. */
export function unitAt(a: number, b = 0, c = 0, d = 0): number {
  return hashInts(a, b, c, d) / TWO_POW_32;
}

/** A uniform number in [-1, 1) for the given integers. */
export function signedAt(a: number, b = 0, c = 0, d = 0): number {
  return unitAt(a, b, c, d) * 2 - 1;
}

/** A seeded stream of pseudo-random numbers (mulberry32): one per cluster build, consumed in a fixed order. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = hashInts(seed, 0x5eed) | 0;
  }

  /** A uniform number in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / TWO_POW_32;
  }

  /** A uniform number in [low, high). */
  between(low: number, high: number): number {
    return low + (high - low) * this.next();
  }

  /** A uniform integer in [low, high], both included. */
  int(low: number, high: number): number {
    return low + Math.floor(this.next() * (high - low + 1));
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('Rng.pick: no items');
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** Picks by weight: `[[item, weight], ...]`. */
  weighted<T>(choices: ReadonlyArray<readonly [T, number]>): T {
    const total = choices.reduce((sum, [, weight]) => sum + weight, 0);
    let at = this.next() * total;
    for (const [item, weight] of choices) {
      at -= weight;
      if (at < 0) return item;
    }
    return choices[choices.length - 1]![0];
  }

  /** A fresh 32-bit key, for seeding the stateless hashes of one entity. */
  key(): number {
    return Math.floor(this.next() * TWO_POW_32) >>> 0;
  }

  /** Lower-case hex digits. */
  hex(length: number): string {
    let out = '';
    while (out.length < length)
      out += Math.floor(this.next() * TWO_POW_32)
        .toString(16)
        .padStart(8, '0');
    return out.slice(0, length);
  }
}

/** A UUID-shaped id (version 4 layout) from an Rng: `xxxxxxxx-xxxx-4xxx-8xxx-xxxxxxxxxxxx`. */
export function uuidFrom(rng: Rng): string {
  const hex = rng.hex(32);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** A UUID-shaped id from integers, for objects made on demand (a pod of one period of a schedule). */
export function uuidAt(a: number, b = 0, c = 0): string {
  const parts = [0, 1, 2, 3].map((i) => hashInts(a, b, c, i).toString(16).padStart(8, '0')).join('');
  return `${parts.slice(0, 8)}-${parts.slice(8, 12)}-4${parts.slice(13, 16)}-8${parts.slice(17, 20)}-${parts.slice(20, 32)}`;
}

// Kubernetes makes generated name suffixes from this alphabet (no vowels, no 0/1/3: k8s.io/apimachinery rand).
const NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** A Kubernetes-style generated suffix (`7f9c4`), from integers. */
export function nameSuffixAt(length: number, a: number, b = 0, c = 0): string {
  let out = '';
  for (let i = 0; i < length; i++) out += NAME_ALPHABET[hashInts(a, b, c, i) % NAME_ALPHABET.length];
  return out;
}
