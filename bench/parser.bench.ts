// Parser benchmark: samples/s and MB/s of mlcost's parsePrometheusText on every real Prometheus-text fixture and
// on a large synthetic scrape, side by side with parse-prometheus-text-format (the other JavaScript parser on
// npm) in the same process, on the same strings. Each parser is warmed up on an input before it is timed; then
// the two alternate, repetition by repetition, and the median time per parse of each is reported.
//
// "Samples" are the samples in the input (as our parser counts them: one per sample line), used for both
// parsers: parse-prometheus-text-format folds histogram and summary lines into one object per series, so its
// own output count is not the work it did. MB/s counts UTF-8 bytes of the input, 1 MB = 10^6 bytes.
//
// "All fixtures together" sums the per-fixture medians. Each of those parses one text over and over, which
// suits a parser that keeps something from call to call (mlcost's keeps the label names it read last); so
// the fixtures are also timed "in turn": rounds that parse each fixture once, one after the other, as an agent
// reads its exporters.
//
// Time is this process's CPU time (process.cpuUsage: user + system, all threads, so the garbage collector's
// helper threads count too), not wall time: on a shared machine wall time also counts the time other
// processes held the core. The wall-time medians are logged beside it.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { parsePrometheusText } from '../core/prometheus/index.ts';
import { syntheticScrape } from './synthetic.ts';
import type { Row } from './table.ts';

export interface ParserBenchOptions {
  quick: boolean;
  log: (line: string) => void;
}

interface Input {
  label: string;
  text: string;
  bytes: number;
  samples: number;
}

/** The real fixtures in the Prometheus text format (the kubelet JSON and nvidia-smi captures are not). */
const FIXTURES: ReadonlyArray<[label: string, path: string]> = [
  ['dcgm L4', 'dcgm-exporter/kops-e2e-l4-gpu-operator-metrics.txt'],
  ['dcgm A100 MIG', 'dcgm-exporter/nvidia-docs-a100-mig-excerpt.txt'],
  ['dcgm vGPU A100', 'dcgm-exporter/vks-vgpu-grid-a100-10c-excerpt.txt'],
  ['dcgm T4 mixed', 'dcgm-exporter/datadog-t4-mixed-metrics.txt'],
  ['cadvisor', 'kubelet/metrics_cadvisor.datadog-gke-2018.excerpt.txt'],
  ['vLLM v1 qwen', 'vllm/kops-e2e-vllm-v1-qwen2.5-0.5b-metrics.txt'],
  ['vLLM opt-125m', 'vllm/datadog-vllm-opt125m-metrics.txt'],
  ['Ray Serve vLLM', 'ray/datadog-ray-serve-vllm-llama70b-metrics.truncated.txt'],
  ['Triton', 'triton/datadog-triton-t4-metrics.truncated.txt'],
  ['TGI', 'tgi/datadog-tgi-metrics.truncated.txt'],
];

const FIXTURE_DIR = fileURLToPath(new URL('../test/fixtures/real/', import.meta.url));
/** Above the parser's default 200k so the synthetic scrape is parsed whole; the fixtures are far below it. */
const LIMITS = { maxSamples: 10_000_000 };

type Parse = (text: string) => number;

const ours: Parse = (text) => parsePrometheusText(text, LIMITS).length;
const theirs: Parse = (text) => parsePrometheusTextFormat(text).length;

function sampleCount(text: string): number {
  let count = 0;
  for (const family of parsePrometheusText(text, LIMITS)) count += family.samples.length;
  return count;
}

function inputOf(label: string, text: string): Input {
  return { label, text, bytes: Buffer.byteLength(text, 'utf8'), samples: sampleCount(text) };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Keeps results alive so no engine can drop a parse whose result is unused. */
let sink = 0;

function cpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

/** Parses `text` `times` times and returns the mean CPU and wall milliseconds per parse. */
function timeBatch(parse: Parse, text: string, times: number): { cpu: number; wall: number } {
  const wallStart = performance.now();
  const cpuStart = cpuMs();
  for (let i = 0; i < times; i++) sink += parse(text);
  const cpu = (cpuMs() - cpuStart) / times;
  return { cpu, wall: (performance.now() - wallStart) / times };
}

interface Timing {
  /** Median CPU ms per parse, undefined when the parser threw. */
  ms: number | undefined;
  /** Median wall ms per parse. */
  wallMs?: number;
  error?: string;
}

/**
 * Warm-up, then `repetitions` alternating batches of each parser; a batch is as many parses as fill about
 * `batchMs` (at least one).
 */
function measure(
  text: string,
  settings: { warmupMs: number; batchMs: number; repetitions: number },
  pair: readonly [ours: Parse, theirs: Parse] = [ours, theirs],
): { ours: Timing; theirs: Timing } {
  const parsers: Array<{ parse: Parse; timing: Timing; perParse: number; cpu: number[]; wall: number[] }> =
    pair.map((parse) => ({ parse, timing: { ms: undefined }, perParse: 0, cpu: [], wall: [] }));
  for (const entry of parsers) {
    try {
      // Warm-up: parse until warmupMs has passed (at least twice), so the timed batches run optimised code.
      const started = performance.now();
      let runs = 0;
      while (runs < 2 || performance.now() - started < settings.warmupMs) {
        sink += entry.parse(text);
        runs++;
      }
      entry.perParse = (performance.now() - started) / runs;
    } catch (error) {
      entry.timing.error = (error as Error).message.split('\n')[0]!.slice(0, 120);
    }
  }
  for (let repetition = 0; repetition < settings.repetitions; repetition++) {
    // Alternate which parser goes first, so neither always runs right after the other's garbage.
    const order = repetition % 2 === 0 ? parsers : [...parsers].reverse();
    for (const entry of order) {
      if (entry.timing.error !== undefined) continue;
      const times = Math.max(1, Math.round(settings.batchMs / Math.max(entry.perParse, 1e-6)));
      const batch = timeBatch(entry.parse, text, times);
      entry.cpu.push(batch.cpu);
      entry.wall.push(batch.wall);
    }
  }
  for (const entry of parsers) {
    if (entry.timing.error === undefined) {
      entry.timing.ms = median(entry.cpu);
      entry.timing.wallMs = median(entry.wall);
    }
  }
  return { ours: parsers[0]!.timing, theirs: parsers[1]!.timing };
}

export async function runParserBench(options: ParserBenchOptions): Promise<Row[]> {
  const { quick, log } = options;
  const inputs: Input[] = FIXTURES.map(([label, path]) =>
    inputOf(label, readFileSync(`${FIXTURE_DIR}${path}`, 'utf8')),
  );
  // The large scrape: 200k samples (44 MB) in a full run; 20k in --quick, where the peer's ~4 s per 200k parse
  // would dominate the smoke run.
  const synthetic = syntheticScrape(quick ? 20_000 : 200_000);
  inputs.push(inputOf('synthetic dcgm+KSM', synthetic.text));

  const rows: Row[] = [];
  const totals = { oursMs: 0, theirsMs: 0, samples: 0 };
  const peerReads: Input[] = [];
  for (const input of inputs) {
    const large = input.bytes > 1_000_000;
    const settings = quick
      ? { warmupMs: large ? 0 : 100, batchMs: 20, repetitions: 3 }
      : { warmupMs: large ? 0 : 500, batchMs: large ? 0 : 200, repetitions: large ? 5 : 11 };
    const result = measure(input.text, settings);
    const what = `${input.label} (${input.samples.toLocaleString('en-US')} samples, ${formatBytes(input.bytes)})`;
    log(
      `parser: ${what}: CPU (wall) per parse: ours ${fmtMs(result.ours.ms)} (${fmtMs(result.ours.wallMs)}), parse-prometheus-text-format ${result.theirs.ms === undefined ? `threw: ${result.theirs.error}` : `${fmtMs(result.theirs.ms)} (${fmtMs(result.theirs.wallMs)})`}`,
    );
    if (result.ours.ms === undefined) {
      throw new Error(
        `parsePrometheusText failed on ${input.label}: ${result.ours.error ?? 'unknown error'}`,
      );
    }
    const oursSeconds = result.ours.ms / 1000;
    const theirsSeconds = result.theirs.ms === undefined ? undefined : result.theirs.ms / 1000;
    const note =
      theirsSeconds === undefined
        ? `parse-prometheus-text-format threw on ${input.label}: ${result.theirs.error}`
        : undefined;
    rows.push({
      name: `parser samples/s: ${what}`,
      figure: input.samples / oursSeconds,
      unit: 'samples/s',
      peer: 'p-p-t-f',
      peerFigure: theirsSeconds === undefined ? undefined : input.samples / theirsSeconds,
      better: 'higher',
      ...(note ? { note } : {}),
    });
    rows.push({
      name: `parser MB/s: ${input.label}`,
      figure: input.bytes / 1e6 / oursSeconds,
      unit: 'MB/s',
      peer: 'p-p-t-f',
      peerFigure: theirsSeconds === undefined ? undefined : input.bytes / 1e6 / theirsSeconds,
      better: 'higher',
    });
    if (input === inputs.at(-1)) {
      rows.push({
        name: `parser time per sample: ${input.label}`,
        figure: (oursSeconds / input.samples) * 1e9,
        unit: 'ns/sample',
        peer: 'p-p-t-f',
        peerFigure: theirsSeconds === undefined ? undefined : (theirsSeconds / input.samples) * 1e9,
        better: 'lower',
      });
    }
    if (theirsSeconds !== undefined && input !== inputs.at(-1)) {
      totals.oursMs += result.ours.ms;
      totals.theirsMs += result.theirs.ms!;
      totals.samples += input.samples;
      peerReads.push(input);
    }
  }
  // The same fixtures parsed in turn, one after the other in every batch, as an agent reads its exporters:
  // no parser sees the same text twice in a row, so what it keeps from its previous call came from another text.
  const inTurn =
    (parse: Parse): Parse =>
    () => {
      let families = 0;
      for (const input of peerReads) families += parse(input.text);
      return families;
    };
  const rotation = measure(
    '',
    quick
      ? { warmupMs: 100, batchMs: 20, repetitions: 3 }
      : { warmupMs: 1000, batchMs: 200, repetitions: 11 },
    [inTurn(ours), inTurn(theirs)],
  );
  log(
    `parser: all fixtures the peer reads, in turn: CPU (wall) per round: ours ${fmtMs(rotation.ours.ms)} (${fmtMs(rotation.ours.wallMs)}), parse-prometheus-text-format ${fmtMs(rotation.theirs.ms)} (${fmtMs(rotation.theirs.wallMs)})`,
  );
  // All real fixtures the peer could read, parsed once each: the mix an agent meets on one node.
  rows.push({
    name: 'parser samples/s: all real fixtures the peer reads, together',
    figure: totals.samples / (totals.oursMs / 1000),
    unit: 'samples/s',
    peer: 'p-p-t-f',
    peerFigure: totals.samples / (totals.theirsMs / 1000),
    better: 'higher',
    note: 'p-p-t-f = parse-prometheus-text-format 1.1.1 (npm), run in the same process on the same strings; median CPU time of alternating repetitions after warm-up; "together" sums the medians of the fixtures, "in turn" times rounds that parse each fixture once.',
  });
  if (rotation.ours.ms !== undefined && rotation.theirs.ms !== undefined) {
    rows.push({
      name: 'parser samples/s: all real fixtures the peer reads, in turn',
      figure: totals.samples / (rotation.ours.ms / 1000),
      unit: 'samples/s',
      peer: 'p-p-t-f',
      peerFigure: totals.samples / (rotation.theirs.ms / 1000),
      better: 'higher',
    });
  }
  if (sink === -1) log('unreachable');
  return rows;
}

function fmtMs(ms: number | undefined): string {
  if (ms === undefined) return '—';
  return ms >= 1 ? `${ms.toFixed(2)} ms` : `${(ms * 1000).toFixed(1)} µs`;
}

function formatBytes(bytes: number): string {
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  return `${(bytes / 1e3).toFixed(1)} kB`;
}
