// Duration and quantity parsing at the edges: Prometheus-style durations (`30s`, `7d`) and Kubernetes quantities (`500m`, `2Gi`).

const DURATION_UNITS_MS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
  y: 31_536_000_000,
};

const DURATION_PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)/y;

/** Parses a Prometheus duration (`90s`, `1h30m`, `7d`) into milliseconds; throws on anything else. */
export function parseDuration(text: string): number {
  const input = text.trim();
  if (input === '') throw new Error('empty duration');
  let total = 0;
  DURATION_PART.lastIndex = 0;
  while (DURATION_PART.lastIndex < input.length) {
    const start = DURATION_PART.lastIndex;
    const match = DURATION_PART.exec(input);
    if (!match || match.index !== start) {
      throw new Error(
        `invalid duration "${text}": expected a number and a unit (ms, s, m, h, d, w, y), e.g. 30s or 1h30m`,
      );
    }
    total += Number(match[1]) * DURATION_UNITS_MS[match[2]!]!;
  }
  return total;
}

/** Formats milliseconds as the shortest Prometheus duration that states them exactly (`90000` → `1m30s`). */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  const order: Array<[string, number]> = [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1_000],
    ['ms', 1],
  ];
  let rest = Math.round(ms);
  let out = '';
  for (const [unit, size] of order) {
    const count = Math.floor(rest / size);
    if (count > 0) {
      out += `${count}${unit}`;
      rest -= count * size;
    }
  }
  return out;
}

const BINARY_SUFFIX: Record<string, number> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};
const DECIMAL_SUFFIX: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
};

const QUANTITY = /^([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$/;

/**
 * Parses a Kubernetes resource quantity into a plain number: `500m` → 0.5 (cores), `2Gi` → 2147483648 (bytes),
 * `1e3` → 1000. Throws naming the text when it is not a quantity.
 */
export function parseQuantity(text: string | number): number {
  if (typeof text === 'number') return text;
  const input = text.trim();
  const match = QUANTITY.exec(input);
  if (!match) {
    throw new Error(
      `invalid quantity "${text}": expected a number with an optional suffix (m, k, M, G, Ki, Mi, Gi, ...)`,
    );
  }
  const suffix = match[2] ?? '';
  const scale = BINARY_SUFFIX[suffix] ?? DECIMAL_SUFFIX[suffix];
  return Number(match[1]) * scale!;
}

/** parseQuantity, or undefined for an absent or malformed quantity: one odd value must not drop a whole object. */
export function tryParseQuantity(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  try {
    return parseQuantity(text);
  } catch {
    return undefined;
  }
}
