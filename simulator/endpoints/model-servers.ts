// The simulated model servers' `/metrics`: one HTTP server per model-serving seat (its pods are announced to the
// agent at 127.0.0.1 and this port with `prometheus.io/*` annotations), answering for whichever pod of the seat is
// running at the simulated time. vLLM (V1 names, `model_name` and `engine` labels) and NVIDIA Triton
// (`nv_inference_*` with `model` and `version`), with the metric names the agent's readers know
// (agent/sources/model-metrics.ts; ../shared/reference/gpu-and-model-metrics.md §3).
//
// Counters are the sums of behaviour.ts's per-minute amounts since the pod started, so the increase between two
// scrapes is exactly what windowsAt reports for the same interval.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type ModelSlot, podSlot } from '../behaviour.ts';
import type { SimNode } from '../cluster.ts';
import { type PodInstance, podAt } from '../pods.ts';
import { slotOf } from '../schedule.ts';
import { type InferenceProfile, type Seat, servingProfile } from '../workloads.ts';
import { CumulativeCounters } from './counters.ts';

const FIELDS = ['requestsOk', 'requestsFailed', 'promptTokens', 'generatedTokens', 'latencyMicros'] as const;

/** Cumulative totals per model (FIELDS order) of a pod at `now`, and the gauges of the current minute. */
export function modelTotalsAt(
  pod: PodInstance,
  now: number,
  counters: CumulativeCounters,
  anchor: number,
): { totals: number[][]; current: ModelSlot[] } {
  const profile = servingProfile(pod.seat)!;
  const startSlot = slotOf(pod.run.start);
  const anchorSlot = slotOf(anchor);
  const fromSlot = Math.max(startSlot, anchorSlot);
  const flat = (slot: number) => podSlot(pod, slot).models.flatMap((m) => FIELDS.map((field) => m[field]));
  // A pod older than the serving anchor: its total before the anchor is estimated from the anchor's minute.
  const before = startSlot < anchorSlot ? flat(anchorSlot).map((v) => v * (anchorSlot - startSlot)) : [];
  const sums = counters.sum(pod.uid, fromSlot, now, flat);
  const totals = profile.models.map((_, m) =>
    FIELDS.map((_, f) => (before[m * FIELDS.length + f] ?? 0) + (sums[m * FIELDS.length + f] ?? 0)),
  );
  return { totals, current: podSlot(pod, slotOf(now)).models };
}

function vllmText(profile: InferenceProfile, totals: number[][], current: ModelSlot[]): string {
  const lines: string[] = [];
  const family = (name: string, type: string, help: string, rows: Array<[string, number]>) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of rows) lines.push(`${name}{${labels}} ${value}`);
  };
  const labels = (m: number, extra = '') => `engine="0",${extra}model_name="${profile.models[m]}"`;
  const each = <T>(f: (m: number) => T) => profile.models.map((_, m) => f(m));
  family(
    'vllm:num_requests_running',
    'gauge',
    'Number of requests in model execution batches.',
    each((m) => [labels(m), current[m]!.running]),
  );
  family(
    'vllm:num_requests_waiting',
    'gauge',
    'Number of requests waiting to be processed.',
    each((m) => [labels(m), current[m]!.waiting]),
  );
  family(
    'vllm:kv_cache_usage_perc',
    'gauge',
    'KV-cache usage. 1 means 100 percent usage.',
    each((m) => [labels(m), current[m]!.kvCache ?? 0]),
  );
  family(
    'vllm:prompt_tokens_total',
    'counter',
    'Number of prefill tokens processed.',
    each((m) => [labels(m), totals[m]![2]!]),
  );
  family(
    'vllm:generation_tokens_total',
    'counter',
    'Number of generation tokens processed.',
    each((m) => [labels(m), totals[m]![3]!]),
  );
  // Successful requests split by why they finished (stop about 85%, length the rest); failures are aborts.
  family(
    'vllm:request_success_total',
    'counter',
    'Count of successfully processed requests.',
    profile.models.flatMap((_, m): Array<[string, number]> => {
      const ok = totals[m]![0]!;
      const stop = Math.round(ok * 0.85);
      return [
        [labels(m, 'finished_reason="stop",'), stop],
        [labels(m, 'finished_reason="length",'), ok - stop],
        [labels(m, 'finished_reason="abort",'), totals[m]![1]!],
      ];
    }),
  );
  lines.push(
    '# HELP vllm:e2e_request_latency_seconds Histogram of e2e request latency in seconds.',
    '# TYPE vllm:e2e_request_latency_seconds histogram',
  );
  profile.models.forEach((_, m) => {
    const count = totals[m]![0]!;
    lines.push(`vllm:e2e_request_latency_seconds_bucket{${labels(m)},le="+Inf"} ${count}`);
    lines.push(`vllm:e2e_request_latency_seconds_sum{${labels(m)}} ${totals[m]![4]! / 1e6}`);
    lines.push(`vllm:e2e_request_latency_seconds_count{${labels(m)}} ${count}`);
  });
  return `${lines.join('\n')}\n`;
}

function tritonText(profile: InferenceProfile, totals: number[][], current: ModelSlot[]): string {
  const lines: string[] = [];
  const family = (name: string, type: string, help: string, value: (m: number) => number) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    profile.models.forEach((model, m) => {
      lines.push(`${name}{model="${model}",version="1"} ${value(m)}`);
    });
  };
  family(
    'nv_inference_request_success',
    'counter',
    'Number of successful inference requests, all batch sizes',
    (m) => totals[m]![0]!,
  );
  family(
    'nv_inference_request_failure',
    'counter',
    'Number of failed inference requests, all batch sizes',
    (m) => totals[m]![1]!,
  );
  family(
    'nv_inference_count',
    'counter',
    'Number of inferences performed (does not include cached requests)',
    (m) => totals[m]![0]!,
  );
  // Dynamic batching groups about four requests per execution.
  family(
    'nv_inference_exec_count',
    'counter',
    'Number of model executions performed (does not include cached requests)',
    (m) => Math.floor(totals[m]![0]! / 4),
  );
  family(
    'nv_inference_request_duration_us',
    'counter',
    'Cumulative inference request duration in microseconds (includes cached requests)',
    (m) => totals[m]![4]!,
  );
  family(
    'nv_inference_queue_duration_us',
    'counter',
    'Cumulative inference queuing duration in microseconds (includes cached requests)',
    (m) => Math.floor(totals[m]![4]! / 20),
  );
  family(
    'nv_inference_pending_request_count',
    'gauge',
    'Instantaneous number of pending requests awaiting execution per-model.',
    (m) => current[m]!.waiting,
  );
  return `${lines.join('\n')}\n`;
}

/** A model server's `/metrics` body for `pod` at simulated time `now`. */
export function modelMetricsAt(
  pod: PodInstance,
  now: number,
  counters: CumulativeCounters,
  anchor: number,
): string {
  const profile = servingProfile(pod.seat)!;
  const { totals, current } = modelTotalsAt(pod, now, counters, anchor);
  return profile.server === 'vllm'
    ? vllmText(profile, totals, current)
    : tritonText(profile, totals, current);
}

export interface SimModelServers {
  /** The port serving a seat's metrics. */
  portFor(seat: Seat): number | undefined;
  /** Every served seat with its URL. */
  list(): Array<{ node: string; seat: Seat; url: string }>;
  close(): Promise<void>;
}

export async function startModelServers(
  nodes: SimNode[],
  clock: () => number,
  anchor: number,
): Promise<SimModelServers> {
  const servers = new Map<Seat, { server: Server; port: number; node: SimNode }>();
  for (const node of nodes) {
    for (const seat of node.seats) {
      if (!servingProfile(seat)) continue;
      const counters = new CumulativeCounters();
      const server = createServer((req, res) => {
        const path = new URL(req.url ?? '/', 'http://model').pathname;
        const now = clock();
        const pod = podAt(seat, node, now);
        if (path !== '/metrics') {
          res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
          return;
        }
        if (!pod) {
          res.writeHead(503, { 'Content-Type': 'text/plain' }).end('no pod is running for this server now\n');
          return;
        }
        counters.retain((key) => key === pod.uid);
        res
          .writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' })
          .end(modelMetricsAt(pod, now, counters, anchor));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      servers.set(seat, { server, port: (server.address() as AddressInfo).port, node });
    }
  }
  return {
    portFor: (seat) => servers.get(seat)?.port,
    list: () =>
      [...servers].map(([seat, { port, node }]) => ({
        node: node.name,
        seat,
        url: `http://127.0.0.1:${port}/metrics`,
      })),
    async close() {
      await Promise.all(
        [...servers.values()].map(
          ({ server }) =>
            new Promise<void>((resolve) => {
              server.closeAllConnections();
              server.close(() => resolve());
            }),
        ),
      );
    },
  };
}
