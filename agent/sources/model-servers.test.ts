// The model-servers source end to end over real HTTP: fake pods whose /metrics are node:http servers on
// 127.0.0.1 serving the real fixtures, reached through fetchUrlFor. Plus target discovery, which is pure.
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { Logger } from '../../core/logger.ts';
import {
  type FakeModelServer,
  type FakeModelServerOptions,
  startFakeModelServer,
} from '../../test/fakes/fake-model-server.ts';
import type { ModelSample, PodInfo } from '../samples.ts';
import { createModelServersSource, discoverModelServerTargets, podModelName } from './model-servers.ts';

const fixtureText = (path: string) =>
  readFileSync(new URL(`../../test/fixtures/${path}`, import.meta.url), 'utf8');
const VLLM_V0 = fixtureText('real/vllm/datadog-vllm-opt125m-metrics.txt');
const VLLM_V1 = fixtureText('real/vllm/kops-e2e-vllm-v1-qwen2.5-0.5b-metrics.txt');
const TRITON = fixtureText('real/triton/datadog-triton-t4-metrics.truncated.txt');
const TGI = fixtureText('real/tgi/datadog-tgi-metrics.truncated.txt');

/** Sets the value of the one sample line that starts with `series` (name and labels, as written). */
function setSample(text: string, series: string, value: number): string {
  const lines = text.split('\n');
  const index = lines.findIndex((line) => line.startsWith(`${series} `));
  if (index === -1) throw new Error(`no sample line ${series}`);
  lines[index] = `${series} ${value}`;
  return lines.join('\n');
}

let podCount = 0;
function pod(name: string, spec: Partial<PodInfo> = {}): PodInfo {
  podCount += 1;
  return {
    uid: `uid-${name}`,
    namespace: 'serving',
    name,
    phase: 'Running',
    podIP: `10.1.0.${podCount}`,
    labels: {},
    annotations: {},
    containers: [],
    ...spec,
  };
}

const scrapeAnnotations = (port: number) => ({
  'prometheus.io/scrape': 'true',
  'prometheus.io/port': String(port),
});

function recordingLogger(): { logger: Logger; warnings: string[] } {
  const warnings: string[] = [];
  const logger = { warn: (_fields: unknown, message: string) => warnings.push(message) } as unknown as Logger;
  return { logger, warnings };
}

const servers: FakeModelServer[] = [];
async function serve(text: string, options: Partial<FakeModelServerOptions> = {}) {
  const server = await startFakeModelServer({ text, ...options });
  servers.push(server);
  return server;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

/** Routes each pod (by name) to its fake server, recording the port and path discovery chose. */
function routeTo(byPod: Record<string, FakeModelServer>, calls: string[] = []) {
  return (p: PodInfo, port: number, path: string) => {
    calls.push(`${p.name}:${port}${path}`);
    const server = byPod[p.name];
    if (server === undefined) throw new Error(`test routes no server for pod ${p.name}`);
    return `${server.origin}${path}`;
  };
}

const find = (models: ModelSample[] | undefined, model: string) => models?.find((m) => m.model === model);

describe('model-servers source over HTTP', () => {
  it('reads vLLM, Triton and TGI pods and skips the one answering 500', async () => {
    const vllm = await serve(VLLM_V0);
    const triton = await serve(TRITON);
    const tgi = await serve(TGI);
    const broken = await serve('oops\n', { status: 500 });
    const pods = [
      pod('vllm-opt', { annotations: scrapeAnnotations(8000) }),
      pod('triton-0', {
        containers: [{ name: 'server', requests: {}, limits: {}, ports: [8000, 8001, 8002] }],
      }),
      pod('llama-tgi-predictor-0', {
        labels: { 'serving.kserve.io/inferenceservice': 'llama-tgi' },
        containers: [{ name: 'kserve-container', requests: {}, limits: {}, ports: [8080] }],
      }),
      pod('broken', { annotations: scrapeAnnotations(9000) }),
    ];
    const calls: string[] = [];
    const { logger, warnings } = recordingLogger();
    const source = createModelServersSource({
      getPods: () => pods,
      timeoutMs: 5_000,
      maxBodyBytes: 1_000_000,
      maxSeries: 10_000,
      fetchUrlFor: routeTo(
        { 'vllm-opt': vllm, 'triton-0': triton, 'llama-tgi-predictor-0': tgi, broken },
        calls,
      ),
      logger,
    });
    const { models } = await source.collect(new AbortController().signal);

    expect(calls.sort()).toEqual([
      'broken:9000/metrics',
      'llama-tgi-predictor-0:8080/metrics',
      'triton-0:8002/metrics',
      'vllm-opt:8000/metrics',
    ]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/serving\/broken failed: .*HTTP 500/);
    // First reading: zero increments everywhere, gauges as read.
    expect(find(models, 'facebook/opt-125m')).toEqual({
      namespace: 'serving',
      pod: 'vllm-opt',
      model: 'facebook/opt-125m',
      server: 'vllm',
      requestsOk: 0,
      requestsFailed: 0,
      promptTokens: 0,
      generatedTokens: 0,
      latencySecondsSum: 0,
      latencyCount: 0,
      queueLength: 0,
      kvCacheUsage: 0,
    });
    expect(models?.filter((m) => m.server === 'triton')).toHaveLength(8);
    expect(find(models, 'llama-tgi')).toMatchObject({
      pod: 'llama-tgi-predictor-0',
      server: 'tgi',
      queueLength: 0,
    });
    expect(models?.some((m) => m.pod === 'broken')).toBe(false);
  });

  it('turns two scrapes into increments that land on the right model, and counts a restart from zero', async () => {
    const opt = await serve(VLLM_V0);
    const qwen = await serve(VLLM_V1);
    const pods = [
      pod('opt', { containers: [{ name: 'vllm', requests: {}, limits: {}, ports: [8000] }] }),
      pod('qwen', { annotations: scrapeAnnotations(8000) }),
    ];
    const source = createModelServersSource({
      getPods: () => pods,
      timeoutMs: 5_000,
      maxBodyBytes: 1_000_000,
      maxSeries: 10_000,
      fetchUrlFor: routeTo({ opt, qwen }),
    });
    const signal = new AbortController().signal;
    await source.collect(signal);

    const o = 'model_name="facebook/opt-125m"';
    let optText = setSample(VLLM_V0, `vllm:prompt_tokens_total{${o}}`, 25); // was 5
    optText = setSample(optText, `vllm:generation_tokens_total{${o}}`, 37); // was 7
    optText = setSample(optText, `vllm:request_success_total{finished_reason="length",${o}}`, 3); // was 1
    optText = optText.replace(
      `vllm:request_success_total{finished_reason="length",${o}} 3`,
      `vllm:request_success_total{finished_reason="length",${o}} 3\nvllm:request_success_total{finished_reason="abort",${o}} 1`,
    );
    optText = setSample(optText, `vllm:e2e_request_latency_seconds_count{${o}}`, 3); // was 1
    optText = setSample(optText, `vllm:e2e_request_latency_seconds_sum{${o}}`, 1.5034303665161133); // was 0.503...
    opt.setText(optText);

    const q = 'engine="0",model_name="Qwen/Qwen2.5-0.5B-Instruct"';
    const qe = (reason: string) =>
      `engine="0",finished_reason="${reason}",model_name="Qwen/Qwen2.5-0.5B-Instruct"`;
    let qwenText = setSample(VLLM_V1, `vllm:prompt_tokens_total{${q}}`, 100); // all were 0.0
    qwenText = setSample(qwenText, `vllm:generation_tokens_total{${q}}`, 40);
    qwenText = setSample(qwenText, `vllm:request_success_total{${qe('stop')}}`, 2);
    qwenText = setSample(qwenText, `vllm:request_success_total{${qe('error')}}`, 1);
    qwenText = setSample(qwenText, `vllm:e2e_request_latency_seconds_count{${q}}`, 3);
    qwenText = setSample(qwenText, `vllm:e2e_request_latency_seconds_sum{${q}}`, 2.25);
    qwenText = setSample(qwenText, `vllm:num_requests_waiting{${q}}`, 4);
    qwenText = setSample(qwenText, `vllm:kv_cache_usage_perc{${q}}`, 0.5);
    qwen.setText(qwenText);

    const second = await source.collect(signal);
    const optSample = find(second.models, 'facebook/opt-125m');
    expect(optSample).toMatchObject({
      pod: 'opt',
      promptTokens: 20,
      generatedTokens: 30,
      requestsOk: 2,
      requestsFailed: 1, // the new abort series: 1 since the last scrape
      latencyCount: 2,
    });
    expect(optSample?.latencySecondsSum).toBeCloseTo(1, 12);
    expect(find(second.models, 'Qwen/Qwen2.5-0.5B-Instruct')).toEqual({
      namespace: 'serving',
      pod: 'qwen',
      model: 'Qwen/Qwen2.5-0.5B-Instruct',
      server: 'vllm',
      requestsOk: 2,
      requestsFailed: 1,
      promptTokens: 100,
      generatedTokens: 40,
      latencySecondsSum: 2.25,
      latencyCount: 3,
      queueLength: 4,
      kvCacheUsage: 0.5,
    });

    // The opt server restarts: its prompt counter drops from 25 to 4, so 4 were counted since the restart.
    opt.setText(setSample(optText, `vllm:prompt_tokens_total{${o}}`, 4));
    const third = await source.collect(signal);
    expect(find(third.models, 'facebook/opt-125m')?.promptTokens).toBe(4);
    expect(find(third.models, 'Qwen/Qwen2.5-0.5B-Instruct')?.promptTokens).toBe(0);
  });

  it('keeps the baseline of a target that failed once, so its next scrape still has the increments', async () => {
    const opt = await serve(VLLM_V0);
    const other = await serve(TRITON);
    const pods = [
      pod('opt', { annotations: scrapeAnnotations(8000) }),
      pod('tr', { annotations: scrapeAnnotations(8002) }),
    ];
    const source = createModelServersSource({
      getPods: () => pods,
      timeoutMs: 5_000,
      maxBodyBytes: 1_000_000,
      maxSeries: 10_000,
      fetchUrlFor: routeTo({ opt, tr: other }),
    });
    const signal = new AbortController().signal;
    await source.collect(signal);
    opt.update({ status: 503 });
    const during = await source.collect(signal);
    expect(find(during.models, 'facebook/opt-125m')).toBeUndefined();
    opt.update({
      status: 200,
      text: setSample(VLLM_V0, 'vllm:prompt_tokens_total{model_name="facebook/opt-125m"}', 30),
    });
    const after = await source.collect(signal);
    expect(find(after.models, 'facebook/opt-125m')?.promptTokens).toBe(25); // 30 - 5 (line 60)
  });

  it('bounds each target: Content-Length too big, a streamed body cut off, a slow answer timed out', async () => {
    const big = `# ${'x'.repeat(200_000)}\n${VLLM_V0}`;
    const declared = await serve(big);
    // 2 MB in 4 KiB pieces, one per event-loop turn: far more than is sent by the time the client gives up.
    const streamed = await serve(`# ${'x'.repeat(2_000_000)}\n${VLLM_V0}`, {
      chunked: true,
      chunkBytes: 4_096,
    });
    const slow = await serve(VLLM_V0, { delayMs: 3_000 });
    const fine = await serve(TGI);
    const pods = ['declared', 'streamed', 'slow', 'fine'].map((name) =>
      pod(name, { annotations: scrapeAnnotations(80) }),
    );
    const { logger, warnings } = recordingLogger();
    const source = createModelServersSource({
      getPods: () => pods,
      timeoutMs: 300,
      maxBodyBytes: 64_000,
      maxSeries: 10_000,
      fetchUrlFor: routeTo({ declared, streamed, slow, fine }),
      logger,
    });
    const { models } = await source.collect(new AbortController().signal);
    expect(models?.map((m) => `${m.pod}/${m.model}`)).toEqual(['fine/fine']);
    expect(warnings.sort()).toEqual([
      expect.stringMatching(
        /serving\/declared failed: .*body larger than maxBodyBytes 64000 \(Content-Length 2\d{5}\)/,
      ),
      expect.stringMatching(/serving\/slow failed: .*no complete answer within 300 ms/),
      expect.stringMatching(
        /serving\/streamed failed: .*body larger than maxBodyBytes 64000 \(more than 64000 bytes/,
      ),
    ]);
    // The streamed body was abandoned, not downloaded to the end.
    await expect.poll(() => streamed.responsesCutShort).toBe(1);
  });

  it('rejects a scrape with more samples than maxSeries, naming the limit', async () => {
    const opt = await serve(VLLM_V0);
    const tgi = await serve(TGI);
    const { logger, warnings } = recordingLogger();
    const source = createModelServersSource({
      getPods: () => [
        pod('opt', { annotations: scrapeAnnotations(8000) }),
        pod('tgi', { annotations: scrapeAnnotations(80) }),
      ],
      timeoutMs: 5_000,
      maxBodyBytes: 1_000_000,
      maxSeries: 200, // the vLLM V0 fixture holds 185 samples, the TGI one 264 (histograms with 100+ buckets)
      fetchUrlFor: routeTo({ opt, tgi }),
      logger,
    });
    const { models } = await source.collect(new AbortController().signal);
    expect(models?.map((m) => m.pod)).toEqual(['opt']);
    expect(warnings).toEqual([
      expect.stringMatching(/serving\/tgi failed: .*more than 200 samples \(limit maxSamples\)/),
    ]);
  });

  it('follows a same-origin redirect (vLLM /metrics → /metrics/) and refuses one to another origin', async () => {
    const vllm = await serve(VLLM_V0, { path: '/metrics/', redirects: { '/metrics': '/metrics/' } });
    const elsewhere = await serve(TGI, { redirects: { '/metrics': 'http://127.0.0.2:1/metrics' } });
    const { logger, warnings } = recordingLogger();
    const source = createModelServersSource({
      getPods: () => [
        pod('vllm', { annotations: scrapeAnnotations(8000) }),
        pod('away', { annotations: scrapeAnnotations(80) }),
      ],
      timeoutMs: 5_000,
      maxBodyBytes: 1_000_000,
      maxSeries: 10_000,
      fetchUrlFor: routeTo({ vllm, away: elsewhere }),
      logger,
    });
    const { models } = await source.collect(new AbortController().signal);
    expect(models?.map((m) => m.model)).toEqual(['facebook/opt-125m']);
    expect(warnings[0]).toMatch(
      /serving\/away failed: .*redirect to another origin \(http:\/\/127\.0\.0\.2:1\) refused/,
    );
  });

  it('fails when every target fails, and is empty (not failed) when there is no target', async () => {
    const a = await serve('', { status: 500 });
    const b = await serve('', { status: 404 });
    const failing = createModelServersSource({
      getPods: () => [
        pod('a', { annotations: scrapeAnnotations(1) }),
        pod('b', { annotations: scrapeAnnotations(2) }),
      ],
      timeoutMs: 5_000,
      maxBodyBytes: 1_000,
      maxSeries: 100,
      fetchUrlFor: routeTo({ a, b }),
    });
    await expect(failing.collect(new AbortController().signal)).rejects.toThrow(
      /all 2 model-server targets failed; first: .*HTTP 500/,
    );
    const empty = createModelServersSource({
      getPods: () => [
        pod('web', {
          labels: { app: 'nginx' },
          containers: [{ name: 'nginx', requests: {}, limits: {}, ports: [80] }],
        }),
      ],
      timeoutMs: 5_000,
      maxBodyBytes: 1_000,
      maxSeries: 100,
    });
    expect(await empty.collect(new AbortController().signal)).toEqual({ models: [] });
  });

  it('reports nothing for an annotated pod that is no model server', async () => {
    const app = await serve('# TYPE http_requests_total counter\nhttp_requests_total 5\n');
    const source = createModelServersSource({
      getPods: () => [pod('app', { annotations: scrapeAnnotations(9090) })],
      timeoutMs: 5_000,
      maxBodyBytes: 1_000,
      maxSeries: 100,
      fetchUrlFor: routeTo({ app }),
    });
    expect(await source.collect(new AbortController().signal)).toEqual({ models: [] });
  });
});

describe('discoverModelServerTargets', () => {
  const container = (name: string, ports?: number[]) => ({ name, requests: {}, limits: {}, ports });
  const chosen = (pods: PodInfo[]) =>
    discoverModelServerTargets(pods).targets.map((t) => `${t.pod.name} ${t.via} ${t.port}${t.path}`);

  it('takes running pods with an IP only', () => {
    expect(
      chosen([
        pod('pending', { phase: 'Pending', annotations: scrapeAnnotations(8000) }),
        pod('no-ip', { podIP: undefined, annotations: scrapeAnnotations(8000) }),
        pod('running', { annotations: scrapeAnnotations(8000) }),
      ]),
    ).toEqual(['running annotation 8000/metrics']);
  });

  it('reads Prometheus and KServe annotations, the annotation winning over a runtime guess', () => {
    expect(
      chosen([
        pod('a', { annotations: { ...scrapeAnnotations(9088), 'prometheus.io/path': 'stats/prometheus' } }),
        pod('b', {
          labels: { 'serving.kserve.io/inferenceservice': 'b' },
          annotations: { 'prometheus.kserve.io/port': '8082', 'prometheus.kserve.io/path': '/metrics' },
        }),
        pod('c', { annotations: scrapeAnnotations(9088), containers: [container('vllm', [8000])] }),
        pod('d', { annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': 'http' } }),
      ]),
    ).toEqual(['b kserve 8082/metrics', 'c annotation 9088/metrics', 'a annotation 9088/stats/prometheus']);
  });

  it('guesses runtimes from container names, app labels and port sets, not from a lone port 8000', () => {
    expect(
      chosen([
        pod('vllm-custom-port', { containers: [container('vllm-openai', [8080])] }),
        pod('vllm-no-ports', {
          labels: { 'app.kubernetes.io/name': 'vllm' },
          containers: [container('main')],
        }),
        pod('triton-name', { containers: [container('tritonserver', [8000, 8001])] }),
        pod('triton-ports', { containers: [container('server', [8000, 8001, 8002])] }),
        pod('torchserve-ports', { containers: [container('server', [8080, 8081, 8082])] }),
        pod('tgi', { labels: { app: 'tgi-llama' }, containers: [container('server')] }),
        pod('tgi-port', { containers: [container('text-generation-inference', [3000])] }),
        pod('ray-head', {
          labels: { 'ray.io/node-type': 'head', app: 'vllm' },
          containers: [container('ray-head', [8000])],
        }),
        pod('kserve', {
          labels: { 'serving.kserve.io/inferenceservice': 'sk' },
          containers: [container('kserve-container')],
        }),
        pod('django', { containers: [container('web', [8000])] }),
        pod('settgi', { labels: { app: 'settgid' } }),
      ]),
    ).toEqual([
      'vllm-custom-port vllm 8080/metrics',
      'vllm-no-ports vllm 8000/metrics',
      'triton-name triton 8002/metrics',
      'triton-ports triton 8002/metrics',
      'torchserve-ports torchserve 8082/metrics',
      'tgi tgi 80/metrics',
      'tgi-port tgi 3000/metrics',
      'ray-head ray 8080/metrics',
      'kserve kserve 8080/metrics',
    ]);
  });

  it('keeps likely model servers before annotation-only pods when over maxTargets', () => {
    const pods = [
      pod('app-1', { annotations: scrapeAnnotations(9090) }),
      pod('app-2', { annotations: scrapeAnnotations(9090) }),
      pod('vllm', { containers: [container('vllm', [8000])] }),
    ];
    const { targets, skipped } = discoverModelServerTargets(pods, 2);
    expect(targets.map((t) => t.pod.name)).toEqual(['vllm', 'app-1']);
    expect(skipped).toBe(1);
  });

  it('names the model of a label-less server from the InferenceService, served model, app name, workload, pod', () => {
    const base = { labels: {} as Record<string, string> };
    expect(
      podModelName(
        pod('p', {
          labels: { 'serving.kserve.io/inferenceservice': 'isvc', 'app.kubernetes.io/name': 'app' },
          servedModel: { kind: 'InferenceService', name: 'served' },
        }),
      ),
    ).toBe('isvc');
    expect(podModelName(pod('p', { servedModel: { kind: 'InferenceService', name: 'served' } }))).toBe(
      'served',
    );
    expect(podModelName(pod('p', { labels: { 'app.kubernetes.io/name': 'app' } }))).toBe('app');
    expect(podModelName(pod('p', { ...base, workload: { kind: 'Deployment', name: 'tgi-llama' } }))).toBe(
      'tgi-llama',
    );
    expect(podModelName(pod('p-7d9c5'))).toBe('p-7d9c5');
  });
});
