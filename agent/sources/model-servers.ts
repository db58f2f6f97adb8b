// The `model-servers` source: finds the model-serving pods among this node's pods, scrapes their Prometheus
// endpoints in parallel and reports, per pod and model, requests, tokens and latency since the previous
// collection (increments, counter resets handled) plus queue length and KV-cache use.
//
// Split in three: discovery (pure, below: which pod, which port and path), the bounded HTTP read (the only
// I/O here), and the pure readers in model-metrics.ts / model-deltas.ts. Each target is bounded in time
// (timeoutMs), bytes (maxBodyBytes, counted while streaming) and samples (maxSeries, the parser's limit); a
// failing target is logged and skipped, and the source only fails when every target failed.

import { MlcostError } from '../../core/errors.ts';
import { type Logger, silentLogger } from '../../core/logger.ts';
import { type MetricFamily, parsePrometheusText } from '../../core/prometheus/index.ts';
import { BodyLimitError, describeRequestError, httpRequest } from '../http-request.ts';
import type { ModelSample, PodInfo, Samples } from '../samples.ts';
import type { Source } from '../source.ts';
import { CounterDeltas, type CounterReading, type SeriesKey } from './model-deltas.ts';
import {
  COUNTER_FIELDS,
  type CounterValues,
  detectModelServers,
  type ModelServerKind,
  readModelServerScrape,
  zeroCounters,
} from './model-metrics.ts';

export interface ModelServersOptions {
  /** The pods of this node: the pod watcher's answer for this collection where it has one in flight. */
  getPods: () => PodInfo[] | Promise<PodInfo[]>;
  /** Per target: the whole answer (headers and body) must arrive within this. */
  timeoutMs: number;
  /** Per target: a body longer than this is abandoned while streaming. */
  maxBodyBytes: number;
  /** Per target: the parser's maxSamples. */
  maxSeries: number;
  /** Most targets scraped per collection (default DEFAULT_MAX_TARGETS); likely model servers go first. */
  maxTargets?: number;
  /** The URL to scrape; default `http://<podIP>:<port><path>` (https when `prometheus.io/scheme` says so). */
  fetchUrlFor?: (pod: PodInfo, port: number, path: string) => string;
  logger?: Logger;
  /** Cap on counter series remembered between collections (default DEFAULT_MAX_TRACKED_SERIES). */
  maxTrackedSeries?: number;
}

/** A node rarely runs more than a few dozen serving pods; the cap keeps one collection's fan-out bounded. */
export const DEFAULT_MAX_TARGETS = 64;

export type DiscoveryReason = 'annotation' | 'kserve' | 'ray' | ModelServerKind;

export interface ModelServerTarget {
  pod: PodInfo;
  port: number;
  path: string;
  /** Why this pod is thought to serve models: which annotation, label or runtime hint chose the port. */
  via: DiscoveryReason;
  /** The model's name for servers whose metrics carry none (TGI); see podModelName(). */
  podModelName: string;
}

export function createModelServersSource(options: ModelServersOptions): Source {
  const logger = options.logger ?? silentLogger;
  const deltas = new CounterDeltas({ maxSeries: options.maxTrackedSeries });
  const urlFor = options.fetchUrlFor ?? defaultUrlFor;
  return {
    name: 'model-servers',
    async collect(signal): Promise<Samples> {
      const { targets, skipped } = discoverModelServerTargets(
        await options.getPods(),
        options.maxTargets ?? DEFAULT_MAX_TARGETS,
      );
      if (skipped > 0) {
        logger.warn(
          { skipped, maxTargets: options.maxTargets ?? DEFAULT_MAX_TARGETS },
          `model-servers: ${skipped} candidate targets left out (maxTargets)`,
        );
      }
      const outcomes = await Promise.allSettled(
        targets.map(async (target) => {
          const url = urlFor(target.pod, target.port, target.path);
          const text = await fetchMetricsText(url, {
            timeoutMs: options.timeoutMs,
            maxBodyBytes: options.maxBodyBytes,
            signal,
          });
          try {
            return parsePrometheusText(text, { maxSamples: options.maxSeries });
          } catch (error) {
            throw new MlcostError('parse', `${url}: ${errorMessage(error)}`, { cause: error });
          }
        }),
      );
      signal.throwIfAborted();

      const readings: CounterReading[] = [];
      const gauges: Gauges[] = [];
      const failedPods = new Set<string>();
      const errors: string[] = [];
      for (const [index, outcome] of outcomes.entries()) {
        const target = targets[index]!;
        if (outcome.status === 'rejected') {
          const message = errorMessage(outcome.reason);
          errors.push(message);
          failedPods.add(podKey(target.pod.namespace, target.pod.name));
          logger.warn(
            { namespace: target.pod.namespace, pod: target.pod.name, port: target.port, error: message },
            `model-servers: scrape of ${target.pod.namespace}/${target.pod.name} failed: ${message}`,
          );
          continue;
        }
        collectReadings(target, outcome.value, readings, gauges);
      }
      if (targets.length > 0 && errors.length === targets.length) {
        throw new MlcostError(
          'source',
          `all ${targets.length} model-server targets failed; first: ${errors[0] ?? 'unknown error'}`,
        );
      }

      // A failed target keeps its baseline so its next successful scrape still yields the increments.
      const step = deltas.step(readings, (key) => failedPods.has(podKey(key.namespace, key.pod)));
      if (step.untracked > 0) {
        logger.warn(
          { untracked: step.untracked, tracked: deltas.size },
          `model-servers: ${step.untracked} counter series not tracked (series cap reached)`,
        );
      }
      return { models: toModelSamples(readings, gauges, step.increments) };
    },
  };
}

// ---- discovery (pure) ----

/**
 * The scrape targets among `pods`: running pods with an IP, at most one target per pod, in this order of
 * preference for the port and path:
 *  1. `prometheus.io/scrape: "true"` with `prometheus.io/port` (and `prometheus.io/path`, default /metrics);
 *  2. KServe's `prometheus.kserve.io/port` / `prometheus.kserve.io/path`, which ServingRuntimes stamp on pods;
 *  3. a known runtime, guessed from labels, container names and declared ports (see guessRuntime).
 * One target per pod because the annotated port may be an aggregate of the runtime's own (KServe's
 * queue-proxy on 9088): scraping both would count every request twice. Beyond `maxTargets`, targets with
 * a model-serving hint are kept before annotation-only ones (any app can ask to be scraped).
 */
export function discoverModelServerTargets(
  pods: readonly PodInfo[],
  maxTargets: number = DEFAULT_MAX_TARGETS,
): { targets: ModelServerTarget[]; skipped: number } {
  const hinted: ModelServerTarget[] = [];
  const annotatedOnly: ModelServerTarget[] = [];
  for (const pod of pods) {
    if (pod.phase !== 'Running' || !pod.podIP) continue;
    const guess = guessRuntime(pod);
    const chosen = annotationTarget(pod) ?? kserveAnnotationTarget(pod) ?? guess;
    if (chosen === undefined) continue;
    const target: ModelServerTarget = { pod, ...chosen, podModelName: podModelName(pod) };
    if (guess !== undefined || chosen.via === 'kserve') hinted.push(target);
    else annotatedOnly.push(target);
  }
  const all = [...hinted, ...annotatedOnly];
  const kept = all.slice(0, Math.max(0, maxTargets));
  return { targets: kept, skipped: all.length - kept.length };
}

/**
 * The model name to use when a server's metrics carry none (TGI): the KServe InferenceService, else the
 * served model the pod watcher resolved, else `app.kubernetes.io/name`, else the workload, else the pod.
 */
export function podModelName(pod: PodInfo): string {
  return (
    nonEmpty(pod.labels['serving.kserve.io/inferenceservice']) ??
    nonEmpty(pod.servedModel?.name) ??
    nonEmpty(pod.labels['app.kubernetes.io/name']) ??
    nonEmpty(pod.workload?.name) ??
    pod.name
  );
}

interface PortChoice {
  port: number;
  path: string;
  via: DiscoveryReason;
}

const DEFAULT_METRICS_PATH = '/metrics';

function annotationTarget(pod: PodInfo): PortChoice | undefined {
  if (pod.annotations['prometheus.io/scrape'] !== 'true') return undefined;
  const port = parsePort(pod.annotations['prometheus.io/port']);
  if (port === undefined) return undefined;
  return { port, path: normalisePath(pod.annotations['prometheus.io/path']), via: 'annotation' };
}

function kserveAnnotationTarget(pod: PodInfo): PortChoice | undefined {
  const port = parsePort(pod.annotations['prometheus.kserve.io/port']);
  if (port === undefined) return undefined;
  return { port, path: normalisePath(pod.annotations['prometheus.kserve.io/path']), via: 'kserve' };
}

interface Runtime {
  kind: ModelServerKind;
  /** Words that name the runtime in a container name or an app label. */
  words: readonly string[];
  /** Where the runtime serves /metrics by default. */
  port: number;
  /** True when metrics have a port of their own: a declared API port is then not the metrics port. */
  dedicatedMetricsPort: boolean;
}

// Default metrics ports: vLLM serves /metrics on its API port (8000); Triton on 8002 (HTTP 8000, gRPC 8001);
// TorchServe on 8082 (inference 8080, management 8081); TGI on its router port, 80 in the official image
// (PORT=80) and 3000 for the bare launcher: a declared container port wins over both.
const RUNTIMES: readonly Runtime[] = [
  { kind: 'triton', words: ['triton', 'tritonserver'], port: 8002, dedicatedMetricsPort: true },
  { kind: 'torchserve', words: ['torchserve'], port: 8082, dedicatedMetricsPort: true },
  { kind: 'tgi', words: ['tgi', 'text-generation-inference'], port: 80, dedicatedMetricsPort: false },
  { kind: 'vllm', words: ['vllm'], port: 8000, dedicatedMetricsPort: false },
];

/** KubeRay starts Ray's metrics agent on 8080 (`metrics-export-port`) in every head and worker pod. */
const RAY_METRICS_PORT = 8080;
/** KServe runtimes listen on 8080 in `kserve-container` unless the pod says otherwise. */
const KSERVE_DEFAULT_PORT = 8080;

/**
 * A model server guessed without annotations. KubeRay pods (`ray.io/node-type` / `ray.io/cluster` labels) →
 * Ray's metrics agent, which carries `ray_vllm:` series. Then a runtime named by a container name or by the
 * `app`, `app.kubernetes.io/name` or `app.kubernetes.io/component` label. Then the unmistakable port sets
 * 8000+8001+8002 (Triton) and 8080+8081+8082 (TorchServe). Then a KServe predictor (`serving.kserve.io/
 * inferenceservice` label) on its container's port. A lone port 8000 is not taken as vLLM: too many other
 * servers use it. (PodInfo carries no container image, which would be the better hint.)
 */
function guessRuntime(pod: PodInfo): PortChoice | undefined {
  if (pod.labels['ray.io/node-type'] !== undefined || pod.labels['ray.io/cluster'] !== undefined) {
    return { port: RAY_METRICS_PORT, path: DEFAULT_METRICS_PATH, via: 'ray' };
  }
  const podPorts = pod.containers.flatMap((container) => container.ports ?? []);
  const labelText = ['app', 'app.kubernetes.io/name', 'app.kubernetes.io/component']
    .map((label) => pod.labels[label] ?? '')
    .join(' ');
  for (const runtime of RUNTIMES) {
    const container = pod.containers.find((c) => namesRuntime(c.name, runtime));
    if (container === undefined && !namesRuntime(labelText, runtime)) continue;
    const ports = container?.ports?.length ? container.ports : podPorts;
    const port =
      ports.length === 0 || ports.includes(runtime.port) || runtime.dedicatedMetricsPort
        ? runtime.port
        : ports[0]!;
    return { port, path: DEFAULT_METRICS_PATH, via: runtime.kind };
  }
  if ([8000, 8001, 8002].every((port) => podPorts.includes(port))) {
    return { port: 8002, path: DEFAULT_METRICS_PATH, via: 'triton' };
  }
  if ([8080, 8081, 8082].every((port) => podPorts.includes(port))) {
    return { port: 8082, path: DEFAULT_METRICS_PATH, via: 'torchserve' };
  }
  if (nonEmpty(pod.labels['serving.kserve.io/inferenceservice']) !== undefined) {
    const container = pod.containers.find((c) => c.name === 'kserve-container') ?? pod.containers[0];
    return { port: container?.ports?.[0] ?? KSERVE_DEFAULT_PORT, path: DEFAULT_METRICS_PATH, via: 'kserve' };
  }
  return undefined;
}

/** Whether `text` names the runtime: short words must be whole tokens (`tgi`), long ones may be part of one. */
function namesRuntime(text: string, runtime: Runtime): boolean {
  const lower = text.toLowerCase();
  const tokens = lower.split(/[^a-z0-9]+/);
  return runtime.words.some((word) => (word.length >= 5 ? lower.includes(word) : tokens.includes(word)));
}

function parsePort(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d{1,5}$/.test(value.trim())) return undefined;
  const port = Number(value.trim());
  return port >= 1 && port <= 65_535 ? port : undefined;
}

function normalisePath(value: string | undefined): string {
  const path = value?.trim();
  if (!path) return DEFAULT_METRICS_PATH;
  return path.startsWith('/') ? path : `/${path}`;
}

function defaultUrlFor(pod: PodInfo, port: number, path: string): string {
  const scheme = pod.annotations['prometheus.io/scheme'] === 'https' ? 'https' : 'http';
  const ip = pod.podIP ?? '';
  const host = ip.includes(':') ? `[${ip}]` : ip;
  return `${scheme}://${host}:${port}${path}`;
}

// ---- the bounded HTTP read (the only I/O) ----

const MAX_REDIRECTS = 3;

/**
 * GETs a metrics endpoint and returns its body as text. Fails, with an error naming the URL, on a non-2xx
 * status, on a body over `maxBodyBytes` (checked against Content-Length first, then counted while
 * streaming, so an endless body is cut off), and when the whole answer takes longer than `timeoutMs`.
 * Redirects are followed only within the same origin (vLLM answers /metrics with a 307 to /metrics/ in some
 * versions); one to another host is refused, as a pod should not send the agent elsewhere.
 */
export async function fetchMetricsText(
  url: string,
  options: { timeoutMs: number; maxBodyBytes: number; signal?: AbortSignal },
): Promise<string> {
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(), options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout.signal]) : timeout.signal;
  try {
    let current = url;
    for (let redirects = 0; ; redirects++) {
      const response = await httpRequest(new URL(current), {
        signal,
        headers: {
          // The text format; OpenMetrics parses too. Never protobuf, which the parser does not read.
          accept: 'text/plain;version=0.0.4;q=1, application/openmetrics-text;version=1.0.0;q=0.5, */*;q=0.1',
        },
        maxBodyBytes: options.maxBodyBytes,
      });
      const location = response.headers.location;
      if (response.status >= 300 && response.status < 400 && location !== undefined) {
        const next = new URL(location, current);
        if (next.origin !== new URL(current).origin) {
          throw new MlcostError('source', `${url}: redirect to another origin (${next.origin}) refused`);
        }
        if (redirects >= MAX_REDIRECTS)
          throw new MlcostError('source', `${url}: more than ${MAX_REDIRECTS} redirects`);
        current = next.href;
        continue;
      }
      if (response.status < 200 || response.status > 299) {
        throw new MlcostError('source', `${url}: HTTP ${response.status} ${response.statusText}`.trimEnd());
      }
      return response.body.toString('utf8');
    }
  } catch (error) {
    if (timeout.signal.aborted && !(options.signal?.aborted ?? false)) {
      throw new MlcostError('timeout', `${url}: no complete answer within ${options.timeoutMs} ms`, {
        cause: error,
      });
    }
    if (error instanceof BodyLimitError) {
      throw tooLarge(
        url,
        options.maxBodyBytes,
        error.declared === undefined
          ? `more than ${options.maxBodyBytes} bytes received`
          : `Content-Length ${error.declared}`,
      );
    }
    if (error instanceof MlcostError) throw error;
    throw new MlcostError('source', `${url}: ${errorMessage(error)}`, { cause: error });
  } finally {
    clearTimeout(timer);
  }
}

function tooLarge(url: string, maxBodyBytes: number, detail: string): MlcostError {
  return new MlcostError('limit', `${url}: body larger than maxBodyBytes ${maxBodyBytes} (${detail})`);
}

// ---- from scrapes to samples ----

interface Gauges {
  server: ModelServerKind;
  queueLength?: number;
  kvCacheUsage?: number;
}

/** Appends one target's per-(model, instance) readings, keyed so targets and servers never collide. */
function collectReadings(
  target: ModelServerTarget,
  families: MetricFamily[],
  readings: CounterReading[],
  gauges: Gauges[],
): void {
  for (const server of detectModelServers(families)) {
    for (const counters of readModelServerScrape(server, families, target.podModelName)) {
      const { model, instance, queueLength, kvCacheUsage, ...values } = counters;
      const key: SeriesKey = {
        namespace: target.pod.namespace,
        pod: target.pod.name,
        model,
        instance: `${server}@${target.port}${target.path}${instance === '' ? '' : `#${instance}`}`,
      };
      readings.push({ key, counters: values });
      gauges.push({ server, queueLength, kvCacheUsage });
    }
  }
}

/**
 * One ModelSample per (pod, model, server): increments summed over the model's instances, queue lengths
 * summed (requests waiting anywhere in the pod), KV-cache use the highest of its engines (the fullest one is
 * the one that throttles; the window aggregator keeps the maximum over time too).
 */
function toModelSamples(
  readings: readonly CounterReading[],
  gauges: readonly Gauges[],
  increments: readonly CounterValues[],
): ModelSample[] {
  const samples = new Map<string, ModelSample>();
  for (const [index, reading] of readings.entries()) {
    const { server, queueLength, kvCacheUsage } = gauges[index]!;
    const increment = increments[index] ?? zeroCounters();
    const { namespace, pod, model } = reading.key;
    const id = JSON.stringify([namespace, pod, model, server]);
    let sample = samples.get(id);
    if (sample === undefined) {
      sample = { namespace, pod, model, server, ...zeroCounters() };
      samples.set(id, sample);
    }
    for (const field of COUNTER_FIELDS) sample[field] += increment[field];
    if (queueLength !== undefined) sample.queueLength = (sample.queueLength ?? 0) + queueLength;
    if (kvCacheUsage !== undefined) sample.kvCacheUsage = Math.max(sample.kvCacheUsage ?? 0, kvCacheUsage);
  }
  return [...samples.values()];
}

function podKey(namespace: string, pod: string): string {
  return `${namespace}/${pod}`;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

function errorMessage(error: unknown): string {
  if (error instanceof MlcostError) return error.message;
  if (error instanceof Error) {
    return describeRequestError(error);
  }
  return String(error);
}
