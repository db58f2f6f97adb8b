// Durations (Prometheus style) and quantities (Kubernetes style) as users write them in config and pod specs.
// Every expected number below is worked out by hand from the unit, not taken from the parser's output.
import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration, parseQuantity } from './units.ts';

describe('parseDuration', () => {
  it.each([
    ['30s', 30 * 1000],
    ['1h30m', 90 * 60 * 1000],
    ['7d', 7 * 24 * 3600 * 1000],
    ['500ms', 500],
    ['1m', 60 * 1000],
    ['2w', 14 * 24 * 3600 * 1000],
    ['1y', 365 * 24 * 3600 * 1000],
    ['1m30s', 90 * 1000],
    ['1s500ms', 1500],
    ['1.5h', 90 * 60 * 1000],
    ['0s', 0],
    ['  15s  ', 15 * 1000],
  ])('%s is %d ms', (text, expected) => {
    expect(parseDuration(text)).toBe(expected);
  });

  it.each(['abc', '10', 's', '5x', '-5s', '1h 30m', '1h30', '30 s', '1.s', '1e3s'])(
    'refuses %j, naming the text and what a duration looks like',
    (text) => {
      expect(() => parseDuration(text)).toThrowError(
        new RegExp(`invalid duration "${escapeRegExp(text)}": expected a number and a unit`),
      );
    },
  );

  it('refuses the empty string as an empty duration', () => {
    expect(() => parseDuration('')).toThrowError('empty duration');
    expect(() => parseDuration('   ')).toThrowError('empty duration');
  });

  it('lists the units it knows in the message', () => {
    expect(() => parseDuration('3 days')).toThrowError(/ms, s, m, h, d, w, y/);
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [500, '500ms'],
    [30_000, '30s'],
    [90_000, '1m30s'],
    [5_400_000, '1h30m'],
    [604_800_000, '7d'],
    [90_061_001, '1d1h1m1s1ms'],
  ])('%d ms is %s', (ms, expected) => {
    expect(formatDuration(ms)).toBe(expected);
  });

  it('round-trips through parseDuration', () => {
    for (const text of ['1m30s', '7d', '500ms', '2h15m10s'])
      expect(formatDuration(parseDuration(text))).toBe(text);
  });
});

describe('parseQuantity', () => {
  it.each([
    ['500m', 0.5],
    ['2Gi', 2 * 1024 * 1024 * 1024],
    ['1.5k', 1500],
    ['100Mi', 100 * 1024 * 1024],
    ['1e3', 1000],
    ['1', 1],
    ['250m', 0.25],
    ['4', 4],
    ['64Ki', 65536],
    ['1Ti', 1024 ** 4],
    ['1G', 1_000_000_000],
    ['2M', 2_000_000],
    ['1.5Gi', 1.5 * 1024 ** 3],
    ['.5', 0.5],
    ['+3', 3],
    ['1E3', 1000],
    [' 8Mi ', 8 * 1024 * 1024],
  ])('%s is %d', (text, expected) => {
    expect(parseQuantity(text)).toBeCloseTo(expected, 12);
  });

  it('gives exact values for the common cases', () => {
    expect(parseQuantity('500m')).toBe(0.5);
    expect(parseQuantity('2Gi')).toBe(2147483648);
    expect(parseQuantity('100Mi')).toBe(104857600);
    expect(parseQuantity('1e3')).toBe(1000);
    expect(parseQuantity('1.5k')).toBe(1500);
  });

  it('passes numbers through unchanged', () => {
    expect(parseQuantity(42)).toBe(42);
    expect(parseQuantity(0.25)).toBe(0.25);
  });

  it.each(['abc', '', 'Gi', '2GB', '2gi', '1.2.3', '5 Mi', '--1', '1Ki2', '0x10', 'm'])(
    'refuses %j, naming the text and the allowed suffixes',
    (text) => {
      expect(() => parseQuantity(text)).toThrowError(
        new RegExp(`invalid quantity "${escapeRegExp(text)}": expected a number with an optional suffix`),
      );
    },
  );
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
