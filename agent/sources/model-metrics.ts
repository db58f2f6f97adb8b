// Reads a model server's parsed /metrics scrape into per-model cumulative counters and gauges: vLLM (V0 and
// V1), vLLM inside Ray Serve (`ray_vllm:`), NVIDIA Triton, Hugging Face TGI and TorchServe. Pure: no I/O, no
// state. Turning the cumulative values into increments is CounterDeltas' job (model-deltas.ts).
//
// Metric names follow ../shared/reference/gpu-and-model-metrics.md §3 and were checked against the real
// scrapes in test/fixtures/real/{vllm,ray,tgi,triton}/ (TorchServe against its metrics_api docs, no real
// scrape is stored). Samples are matched by their full sample name, not by family name, so Prometheus 0.0.4
// (`# TYPE x_total counter`) and OpenMetrics (`# TYPE x counter` / `x_total`) expositions read the same.

import type { MetricFamily, Sample } from '../../core/prometheus/index.ts';
import type { ModelSample } from '../samples.ts';

/** The model servers whose metrics this module understands (the `server` values of ModelSample it can fill). */
export type ModelServerKind = Extract<
  ModelSample['server'],
  'vllm' | 'ray-vllm' | 'triton' | 'tgi' | 'torchserve'
>;

export const MODEL_SERVER_KINDS: readonly ModelServerKind[] = [
  'vllm',
  'ray-vllm',
  'triton',
  'tgi',
  'torchserve',
];

/** Cumulative counters (as the server exposes them, since its start) and current gauges of one model. */
export interface ModelCounters {
  model: string;
  /**
   * Tells apart several sets of series of one model in one scrape: vLLM data-parallel engines (`engine`), Ray
   * workers (`WorkerId`), Triton model versions (`version`), TorchServe versions (`model_version`). Written as
   * `label=value` pairs joined by `,`; '' when the scrape has one set. Counters must be differenced per
   * instance: summing first would turn one worker's restart into a drop of the sum, i.e. a false reset.
   */
  instance: string;
  requestsOk: number;
  requestsFailed: number;
  promptTokens: number;
  generatedTokens: number;
  latencySecondsSum: number;
  latencyCount: number;
  /** Requests waiting for the model, when the server exposes it (TorchServe does not). */
  queueLength?: number;
  /** 0..1 share of the KV cache in use (vLLM only). */
  kvCacheUsage?: number;
}

/** The counter fields of ModelCounters, the ones that get differenced. */
export const COUNTER_FIELDS = [
  'requestsOk',
  'requestsFailed',
  'promptTokens',
  'generatedTokens',
  'latencySecondsSum',
  'latencyCount',
] as const satisfies readonly (keyof ModelCounters)[];

export type CounterField = (typeof COUNTER_FIELDS)[number];
export type CounterValues = Record<CounterField, number>;

/** Working state for one (model, instance) while a scrape is read. */
interface Accumulator extends CounterValues {
  model: string;
  instance: string;
  queueLength?: number;
  /** `kv_cache_usage_perc` (vLLM V1 name) and `gpu_cache_usage_perc` (V0 name): V1 wins when both are there. */
  kvCacheV1?: number;
  kvCacheV0?: number;
}

type SampleReader = (acc: Accumulator, sample: Sample) => void;

interface ServerSpec {
  /** Families whose name starts with none of these are skipped without looking at their samples. */
  familyPrefixes: readonly string[];
  /** Label(s) naming the model, first present wins; the pod's model name is used when none is. */
  modelLabels: readonly string[];
  instanceLabels: readonly string[];
  readers: ReadonlyMap<string, SampleReader>;
}

const MICROSECONDS_PER_SECOND = 1_000_000;

// vLLM's `finished_reason` values (V1: stop, length, abort, error, repetition). `abort` (client went away or
// the request was cancelled) and `error` did not deliver an answer, so they count as failed; every other
// reason (including ones added later, such as `repetition`) ended with generated output, so it counts as ok.
const VLLM_FAILED_REASONS: ReadonlySet<string> = new Set(['abort', 'error']);

function vllmReaders(prefix: string): ReadonlyMap<string, SampleReader> {
  return new Map<string, SampleReader>([
    [
      `${prefix}request_success_total`,
      (acc, s) => {
        const reason = s.labels['finished_reason'];
        if (reason !== undefined && VLLM_FAILED_REASONS.has(reason))
          addCounter(acc, 'requestsFailed', s.value);
        else addCounter(acc, 'requestsOk', s.value);
      },
    ],
    [`${prefix}prompt_tokens_total`, (acc, s) => addCounter(acc, 'promptTokens', s.value)],
    [`${prefix}generation_tokens_total`, (acc, s) => addCounter(acc, 'generatedTokens', s.value)],
    [`${prefix}e2e_request_latency_seconds_sum`, (acc, s) => addCounter(acc, 'latencySecondsSum', s.value)],
    [`${prefix}e2e_request_latency_seconds_count`, (acc, s) => addCounter(acc, 'latencyCount', s.value)],
    [`${prefix}num_requests_waiting`, addQueue],
    [
      `${prefix}kv_cache_usage_perc`,
      (acc, s) => {
        acc.kvCacheV1 = maxFraction(acc.kvCacheV1, s.value);
      },
    ],
    [
      `${prefix}gpu_cache_usage_perc`,
      (acc, s) => {
        acc.kvCacheV0 = maxFraction(acc.kvCacheV0, s.value);
      },
    ],
  ]);
}

const SPECS: Readonly<Record<ModelServerKind, ServerSpec>> = {
  vllm: {
    familyPrefixes: ['vllm:'],
    modelLabels: ['model_name'],
    instanceLabels: ['engine'],
    readers: vllmReaders('vllm:'),
  },
  'ray-vllm': {
    familyPrefixes: ['ray_vllm:'],
    modelLabels: ['model_name'],
    // Ray's metrics agent exports every worker of its node; a restarted worker comes back with a new WorkerId.
    instanceLabels: ['WorkerId', 'engine'],
    readers: vllmReaders('ray_vllm:'),
  },
  triton: {
    familyPrefixes: ['nv_inference_'],
    modelLabels: ['model'],
    instanceLabels: ['version'],
    readers: new Map<string, SampleReader>([
      [
        'nv_inference_request_success',
        (acc, s) => {
          addCounter(acc, 'requestsOk', s.value);
          // Triton adds to nv_inference_request_duration_us only for successful requests (UpdateSuccess in
          // infer_stats.cc; the fixture's summary count equals the success count), so that is its count.
          addCounter(acc, 'latencyCount', s.value);
        },
      ],
      // Newer Triton splits failures by a `reason` label (REJECTED, CANCELED, BACKEND, OTHER): summed.
      ['nv_inference_request_failure', (acc, s) => addCounter(acc, 'requestsFailed', s.value)],
      [
        'nv_inference_request_duration_us',
        (acc, s) => addCounter(acc, 'latencySecondsSum', s.value / MICROSECONDS_PER_SECOND),
      ],
      ['nv_inference_pending_request_count', addQueue],
      // nv_inference_count (batch items) has no field in ModelSample; Triton has no token counts.
    ]),
  },
  tgi: {
    familyPrefixes: ['tgi_'],
    // TGI serves one model and labels none of its metrics with it: the name comes from the pod.
    modelLabels: [],
    instanceLabels: [],
    readers: new Map<string, SampleReader>([
      ['tgi_request_success', (acc, s) => addCounter(acc, 'requestsOk', s.value)],
      // Split by `err` (validation, generation, ...): summed.
      ['tgi_request_failure', (acc, s) => addCounter(acc, 'requestsFailed', s.value)],
      // Token totals are the `_sum` of the per-request token histograms.
      ['tgi_request_input_length_sum', (acc, s) => addCounter(acc, 'promptTokens', s.value)],
      ['tgi_request_generated_tokens_sum', (acc, s) => addCounter(acc, 'generatedTokens', s.value)],
      ['tgi_request_duration_sum', (acc, s) => addCounter(acc, 'latencySecondsSum', s.value)],
      ['tgi_request_duration_count', (acc, s) => addCounter(acc, 'latencyCount', s.value)],
      ['tgi_queue_size', addQueue],
    ]),
  },
  torchserve: {
    familyPrefixes: ['ts_'],
    modelLabels: ['model_name', 'ModelName'],
    instanceLabels: ['model_version'],
    readers: new Map<string, SampleReader>([
      [
        'ts_inference_requests_total',
        (acc, s) => {
          // TorchServe counts a request when it is received and has no per-model failure counter (only the
          // host-level Requests4XX/5XX), so failed requests end up here: requestsOk is "requests handled".
          addCounter(acc, 'requestsOk', s.value);
          addCounter(acc, 'latencyCount', s.value);
        },
      ],
      [
        'ts_inference_latency_microseconds',
        (acc, s) => addCounter(acc, 'latencySecondsSum', s.value / MICROSECONDS_PER_SECOND),
      ],
      // No queue-length gauge: ts_queue_latency_microseconds is time spent queued, not a length.
    ]),
  },
};

/** Sample-name prefixes that give a scrape's server away, most specific first. */
const KIND_MARKERS: readonly { kind: ModelServerKind; prefix: string }[] = [
  { kind: 'ray-vllm', prefix: 'ray_vllm:' },
  { kind: 'vllm', prefix: 'vllm:' },
  { kind: 'triton', prefix: 'nv_inference_' },
  { kind: 'tgi', prefix: 'tgi_' },
  { kind: 'torchserve', prefix: 'ts_inference_' },
];

/**
 * The model servers a scrape comes from, told by its metric names (`vllm:`, `ray_vllm:`, `nv_inference_`,
 * `tgi_`, `ts_inference_`). Usually one; empty when the endpoint is no model server we know.
 */
export function detectModelServers(families: readonly MetricFamily[]): ModelServerKind[] {
  const found = new Set<ModelServerKind>();
  for (const family of families) {
    // A family's samples share its name's prefix, so the family name (or its first sample's) is enough.
    const name = family.samples[0]?.name ?? family.name;
    for (const marker of KIND_MARKERS) {
      if (name.startsWith(marker.prefix) && family.samples.length > 0) {
        found.add(marker.kind);
        break;
      }
    }
  }
  return MODEL_SERVER_KINDS.filter((kind) => found.has(kind));
}

/**
 * Per-model cumulative counters and gauges of one model server's scrape. `podModelName` names the model
 * for servers whose metrics carry no model label (TGI), and for series that lack it; series with neither
 * are skipped. Several series of one (model, instance), e.g. one per `finished_reason` or `err`, are summed.
 * Counter values that are negative, NaN or infinite are ignored (a counter cannot be any of those).
 */
export function readModelServerScrape(
  server: ModelServerKind,
  families: readonly MetricFamily[],
  podModelName?: string,
): ModelCounters[] {
  const spec = SPECS[server];
  const byKey = new Map<string, Accumulator>();
  for (const family of families) {
    if (!spec.familyPrefixes.some((prefix) => family.name.startsWith(prefix))) continue;
    for (const sample of family.samples) {
      const reader = spec.readers.get(sample.name);
      if (reader === undefined) continue;
      const model = modelOf(sample, spec.modelLabels) ?? nonEmpty(podModelName);
      if (model === undefined) continue;
      const instance = instanceOf(sample, spec.instanceLabels);
      const key = `${model}\u0000${instance}`;
      let acc = byKey.get(key);
      if (acc === undefined) {
        acc = { model, instance, ...zeroCounters() };
        byKey.set(key, acc);
      }
      reader(acc, sample);
    }
  }
  return [...byKey.values()].map(finish);
}

export function zeroCounters(): CounterValues {
  return {
    requestsOk: 0,
    requestsFailed: 0,
    promptTokens: 0,
    generatedTokens: 0,
    latencySecondsSum: 0,
    latencyCount: 0,
  };
}

function finish(acc: Accumulator): ModelCounters {
  const { kvCacheV1, kvCacheV0, queueLength, ...rest } = acc;
  const counters: ModelCounters = { ...rest };
  if (queueLength !== undefined) counters.queueLength = queueLength;
  const kvCacheUsage = kvCacheV1 ?? kvCacheV0;
  if (kvCacheUsage !== undefined) counters.kvCacheUsage = kvCacheUsage;
  return counters;
}

function addCounter(acc: Accumulator, field: CounterField, value: number): void {
  if (Number.isFinite(value) && value >= 0) acc[field] += value;
}

function addQueue(acc: Accumulator, sample: Sample): void {
  if (Number.isFinite(sample.value) && sample.value >= 0)
    acc.queueLength = (acc.queueLength ?? 0) + sample.value;
}

/** The larger of two cache-usage readings, each clamped into 0..1; NaN and infinities are dropped. */
function maxFraction(current: number | undefined, value: number): number | undefined {
  if (!Number.isFinite(value)) return current;
  const clamped = Math.min(1, Math.max(0, value));
  return current === undefined ? clamped : Math.max(current, clamped);
}

function modelOf(sample: Sample, labels: readonly string[]): string | undefined {
  for (const label of labels) {
    const value = nonEmpty(sample.labels[label]);
    if (value !== undefined) return value;
  }
  return undefined;
}

function instanceOf(sample: Sample, labels: readonly string[]): string {
  let instance = '';
  for (const label of labels) {
    const value = sample.labels[label];
    if (value === undefined || value === '') continue;
    instance += `${instance === '' ? '' : ','}${label}=${value}`;
  }
  return instance;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
