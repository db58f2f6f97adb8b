// Checks core/prometheus/parse.ts against an independent parser, Python's prometheus_client, on every real
// Prometheus text fixture: same families, same types, same samples (name, labels, value, timestamp).
// The Python side is test/reference/prom_reference_parse.py run in .tools/venv (made by `npm test`).

import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parsePrometheusText } from '../core/prometheus/parse.ts';
import type { MetricFamily } from '../core/prometheus/types.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pythonPath = path.join(repoRoot, '.tools', 'venv', 'bin', 'python');
const referenceScript = path.join(repoRoot, 'test', 'reference', 'prom_reference_parse.py');
const fixturesRoot = path.join(repoRoot, 'test', 'fixtures', 'real');

// nvidia-smi holds console/CSV/XML captures, not Prometheus text; every other .txt fixture is a scrape.
const NON_PROMETHEUS_DIRS = new Set(['nvidia-smi']);
const EXPECTED_SOURCE_DIRS = ['dcgm-exporter', 'kubelet', 'vllm', 'ray', 'tgi', 'triton'];

const prometheusFixtures = (readdirSync(fixturesRoot, { recursive: true }) as string[])
  .map((entry) => entry.split(path.sep).join('/'))
  .filter((entry) => entry.endsWith('.txt') && !NON_PROMETHEUS_DIRS.has(entry.split('/')[0] ?? ''))
  .sort();

/** A number as both sides are compared: NaN/Inf as the strings the Python script writes, -0 as 0. */
type ComparableNumber = number | 'NaN' | '+Inf' | '-Inf';

interface ComparableSample {
  name: string;
  labels: Record<string, string>;
  value: ComparableNumber;
  timestamp: ComparableNumber | null;
}

interface ComparableFamily {
  name: string;
  type: string;
  help: string;
  samples: ComparableSample[];
}

interface ReferenceFamily {
  name: string;
  type: string;
  documentation: string;
  unit: string;
  samples: ComparableSample[];
}

function comparableNumber(value: number | string): ComparableNumber {
  if (typeof value === 'string') {
    if (value === 'NaN' || value === '+Inf' || value === '-Inf') return value;
    throw new Error(`unexpected number encoding ${JSON.stringify(value)} from the reference script`);
  }
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  // Python's int('-0') is 0 while a float parse gives -0; the sign of zero carries no meaning here.
  return value === 0 ? 0 : value;
}

/**
 * Our families in prometheus_client's conventions. Each mapping is a documented normalisation of the
 * reference parser, applied only where it applies:
 * - counters: prometheus_client drops `_total` from a counter family's name when the TYPE line has it,
 *   and appends `_total` to every sample name when it does not (its OpenMetrics-style internal model);
 * - type: prometheus_client calls a family without a TYPE (or `untyped`) 'unknown';
 * - help: prometheus_client gives '' where no HELP line was written; we leave help undefined;
 * - timestamp: prometheus_client divides the written millisecond timestamp by 1000; we keep it as written.
 */
function ourFamiliesAsReference(families: MetricFamily[]): ComparableFamily[] {
  return families.map((family) => {
    const isCounter = family.type === 'counter';
    const counterNameHasTotal = isCounter && family.name.endsWith('_total');
    return {
      name: counterNameHasTotal ? family.name.slice(0, -'_total'.length) : family.name,
      type: family.type === 'untyped' ? 'unknown' : family.type,
      help: family.help ?? '',
      samples: family.samples.map((sample) => ({
        name: isCounter && !counterNameHasTotal ? `${sample.name}_total` : sample.name,
        labels: { ...sample.labels },
        value: comparableNumber(sample.value),
        timestamp: sample.timestamp === undefined ? null : comparableNumber(sample.timestamp / 1000),
      })),
    };
  });
}

/**
 * prometheus_client yields every sample that no HELP/TYPE line introduced as its own one-sample 'unknown'
 * family; we keep one family per name, so the same series written in two places (the MIG rows after the
 * whole-GPU rows in nvidia-docs-a100-mig-excerpt.txt) land in one family. Only those one-sample, help-less
 * 'unknown' families are folded into the first 'unknown' family of the same name.
 */
function referenceFamiliesGrouped(reference: ReferenceFamily[]): ComparableFamily[] {
  const grouped: ComparableFamily[] = [];
  const unknownByName = new Map<string, ComparableFamily>();
  for (const family of reference) {
    const samples = family.samples.map((sample) => ({
      name: sample.name,
      labels: sample.labels,
      value: comparableNumber(sample.value),
      timestamp: sample.timestamp === null ? null : comparableNumber(sample.timestamp),
    }));
    const earlier = unknownByName.get(family.name);
    const isSingleton = family.type === 'unknown' && family.documentation === '' && samples.length === 1;
    if (earlier !== undefined && isSingleton) {
      earlier.samples.push(...samples);
      continue;
    }
    const comparable = { name: family.name, type: family.type, help: family.documentation, samples };
    grouped.push(comparable);
    if (family.type === 'unknown' && !unknownByName.has(family.name))
      unknownByName.set(family.name, comparable);
  }
  return grouped;
}

function referenceParse(fixturePath: string): ReferenceFamily[] {
  if (!existsSync(pythonPath)) {
    throw new Error(
      `Python reference parser not found at ${pythonPath}. Run \`npm test\` (it runs test/setup/python-venv.sh ` +
        'to create .tools/venv with the pinned prometheus_client), or run that script directly.',
    );
  }
  const result = spawnSync(pythonPath, [referenceScript, fixturePath], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error !== undefined) throw result.error;
  if (result.status !== 0) {
    throw new Error(`reference parser failed on ${fixturePath} (exit ${result.status}):\n${result.stderr}`);
  }
  return JSON.parse(result.stdout) as ReferenceFamily[];
}

describe('Prometheus parser agrees with prometheus_client on real scrapes', () => {
  it('has the Python reference environment (created by `npm test`)', () => {
    expect(
      existsSync(pythonPath),
      `missing ${pythonPath}: run \`npm test\` (or bash test/setup/python-venv.sh) to create it`,
    ).toBe(true);
  });

  it('finds the Prometheus text fixtures of every source', () => {
    for (const source of EXPECTED_SOURCE_DIRS) {
      expect(
        prometheusFixtures.some((fixture) => fixture.startsWith(`${source}/`)),
        `no fixture under ${source}/`,
      ).toBe(true);
    }
  });

  it.each(prometheusFixtures)('%s', (fixture) => {
    const fixturePath = path.join(fixturesRoot, fixture);
    const ours = ourFamiliesAsReference(parsePrometheusText(readFileSync(fixturePath, 'utf8')));
    const reference = referenceFamiliesGrouped(referenceParse(fixturePath));

    const sampleCount = (families: ComparableFamily[]) => families.reduce((n, f) => n + f.samples.length, 0);
    expect(sampleCount(ours)).toBeGreaterThan(0);
    expect(sampleCount(ours)).toBe(sampleCount(reference));
    expect(ours.map((family) => `${family.name} ${family.type}`)).toEqual(
      reference.map((family) => `${family.name} ${family.type}`),
    );
    for (const [index, family] of ours.entries()) {
      expect(family, `family #${index} ${family.name}`).toEqual(reference[index]);
    }
  });
});
