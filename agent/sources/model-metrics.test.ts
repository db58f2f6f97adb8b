// Model-server scrape reading against real fixtures: every expected value below was read by hand from the
// fixture file, at the line named in the comment (1-based line numbers).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parsePrometheusText } from '../../core/prometheus/index.ts';
import { detectModelServers, type ModelCounters, readModelServerScrape } from './model-metrics.ts';

const fixture = (path: string) =>
  parsePrometheusText(readFileSync(new URL(`../../test/fixtures/${path}`, import.meta.url), 'utf8'));

const VLLM_V0 = 'real/vllm/datadog-vllm-opt125m-metrics.txt';
const VLLM_V1 = 'real/vllm/kops-e2e-vllm-v1-qwen2.5-0.5b-metrics.txt';
const RAY = 'real/ray/datadog-ray-serve-vllm-llama70b-metrics.truncated.txt';
const TRITON = 'real/triton/datadog-triton-t4-metrics.truncated.txt';
const TGI = 'real/tgi/datadog-tgi-metrics.truncated.txt';
const TORCHSERVE = 'synthetic/torchserve-metrics.txt';

describe('detectModelServers', () => {
  it.each([
    [VLLM_V0, ['vllm']],
    [VLLM_V1, ['vllm']],
    [RAY, ['ray-vllm']],
    [TRITON, ['triton']],
    [TGI, ['tgi']],
    [TORCHSERVE, ['torchserve']],
    ['real/dcgm-exporter/kops-e2e-l4-gpu-operator-metrics.txt', []],
  ])('%s → %j', (path, kinds) => {
    expect(detectModelServers(fixture(path))).toEqual(kinds);
  });
});

describe('readModelServerScrape on real scrapes', () => {
  it('vLLM V1 (kops, Qwen2.5-0.5B, idle server): every counter zero, engine label as instance', () => {
    expect(readModelServerScrape('vllm', fixture(VLLM_V1))).toEqual<ModelCounters[]>([
      {
        model: 'Qwen/Qwen2.5-0.5B-Instruct',
        instance: 'engine=0',
        // lines 147-151: request_success_total stop/length/abort/error/repetition all 0.0
        requestsOk: 0,
        requestsFailed: 0,
        promptTokens: 0, // line 113: vllm:prompt_tokens_total{engine="0",...} 0.0
        generatedTokens: 0, // line 141: vllm:generation_tokens_total 0.0
        latencySecondsSum: 0, // line 382: vllm:e2e_request_latency_seconds_sum 0.0
        latencyCount: 0, // line 381: vllm:e2e_request_latency_seconds_count 0.0
        queueLength: 0, // line 60: vllm:num_requests_waiting 0.0
        kvCacheUsage: 0, // line 68: vllm:kv_cache_usage_perc 0.0 (no gpu_cache_usage_perc in V1)
      },
    ]);
  });

  it('vLLM V0 (Datadog, opt-125m): one finished request, tokens and e2e latency', () => {
    expect(readModelServerScrape('vllm', fixture(VLLM_V0))).toEqual<ModelCounters[]>([
      {
        model: 'facebook/opt-125m',
        instance: '',
        requestsOk: 1, // line 172: request_success_total{finished_reason="length",...} 1.0
        requestsFailed: 0,
        promptTokens: 5, // line 60: vllm:prompt_tokens_total 5.0
        generatedTokens: 7, // line 63: vllm:generation_tokens_total 7.0
        latencySecondsSum: 0.5034303665161133, // line 117: e2e_request_latency_seconds_sum
        latencyCount: 1, // line 116: e2e_request_latency_seconds_count 1.0
        queueLength: 0, // line 45: num_requests_waiting 0.0
        kvCacheUsage: 0, // line 181 kv_cache_usage_perc 0.0 (and line 51 gpu_cache_usage_perc 0.0)
      },
    ]);
  });

  it('Ray Serve vLLM (ray_vllm: prefix): tokens and V0 cache gauge, per Ray worker', () => {
    expect(readModelServerScrape('ray-vllm', fixture(RAY))).toEqual<ModelCounters[]>([
      {
        model: 'neuralmagic/Meta-Llama-3.1-70B-Instruct-FP8',
        instance: 'WorkerId=6ad5887a3c1c6cefcfa31b4f9a55bdca247686ca9bcd217726128dc8',
        // The truncated fixture stops before request_success_total and the e2e histogram.
        requestsOk: 0,
        requestsFailed: 0,
        promptTokens: 58, // line 39: ray_vllm:prompt_tokens_total 58.0
        generatedTokens: 300, // line 81: ray_vllm:generation_tokens_total 300.0
        latencySecondsSum: 0,
        latencyCount: 0,
        queueLength: 0, // line 72: ray_vllm:num_requests_waiting 0.0
        kvCacheUsage: 5.882698982295764e-5, // line 69: ray_vllm:gpu_cache_usage_perc
      },
    ]);
  });

  it('Triton (T4): eight models, densenet_onnx with three successful requests, µs turned into s', () => {
    const models = readModelServerScrape('triton', fixture(TRITON));
    // lines 3-10: the eight models of nv_inference_request_success, in scrape order
    expect(models.map((m) => m.model)).toEqual([
      'simple_string',
      'simple_sequence',
      'simple_int8',
      'simple_identity',
      'densenet_onnx',
      'simple_dyna_sequence',
      'inception_graphdef',
      'simple',
    ]);
    expect(models.find((m) => m.model === 'densenet_onnx')).toEqual<ModelCounters>({
      model: 'densenet_onnx',
      instance: 'version=1',
      requestsOk: 3, // line 7: nv_inference_request_success{model="densenet_onnx",version="1"} 3
      requestsFailed: 0, // line 17: nv_inference_request_failure ... 0
      promptTokens: 0, // Triton has no token counts
      generatedTokens: 0,
      latencySecondsSum: 1.327965, // line 47: nv_inference_request_duration_us ... 1327965 (µs)
      latencyCount: 3, // successes: duration is only accumulated for them (line 182: summary count 3 agrees)
      queueLength: 0, // line 100: nv_inference_pending_request_count ... 0
    });
    for (const idle of models.filter((m) => m.model !== 'densenet_onnx')) {
      expect(idle).toMatchObject({ requestsOk: 0, requestsFailed: 0, latencySecondsSum: 0, queueLength: 0 });
    }
  });

  it('TGI: no model label, so the pod gives the name; failures summed over err', () => {
    expect(readModelServerScrape('tgi', fixture(TGI), 'llama-3-8b')).toEqual<ModelCounters[]>([
      {
        model: 'llama-3-8b',
        instance: '',
        requestsOk: 109, // line 3: tgi_request_success 109
        requestsFailed: 2, // line 13: tgi_request_failure{err="validation"} 2
        promptTokens: 662, // line 140: tgi_request_input_length_sum 662
        // The truncated fixture stops before tgi_request_generated_tokens and tgi_request_duration.
        generatedTokens: 0,
        latencySecondsSum: 0,
        latencyCount: 0,
        queueLength: 0, // line 27: tgi_queue_size 0
      },
    ]);
  });

  it('TGI without a pod model name gives nothing rather than a made-up name', () => {
    expect(readModelServerScrape('tgi', fixture(TGI))).toEqual([]);
  });

  it('TorchServe (synthetic, prometheus mode): per model_name, µs latency turned into s', () => {
    expect(readModelServerScrape('torchserve', fixture(TORCHSERVE))).toEqual<ModelCounters[]>([
      {
        model: 'resnet18',
        instance: 'model_version=default',
        requestsOk: 42, // ts_inference_requests_total{model_name="resnet18",...} 42.0
        requestsFailed: 0, // TorchServe has no per-model failure counter
        promptTokens: 0,
        generatedTokens: 0,
        latencySecondsSum: 3.15, // ts_inference_latency_microseconds ... 3150000.0
        latencyCount: 42,
      },
      {
        model: 'bert-sentiment',
        instance: 'model_version=2.0',
        requestsOk: 15,
        requestsFailed: 0,
        promptTokens: 0,
        generatedTokens: 0,
        latencySecondsSum: 2.4375005, // 2437500.5 µs
        latencyCount: 15,
      },
    ]);
  });
});

describe('readModelServerScrape details', () => {
  it('reads the older TorchServe shape (uuid label, no hostname) the same way', () => {
    const text = [
      '# HELP ts_inference_latency_microseconds Cumulative inference duration in microseconds',
      '# TYPE ts_inference_latency_microseconds counter',
      'ts_inference_latency_microseconds{uuid="d5f84dfb",model_name="noop",model_version="default",} 2032.411',
      '# HELP ts_inference_requests_total Total number of inference requests.',
      '# TYPE ts_inference_requests_total counter',
      'ts_inference_requests_total{uuid="d5f84dfb",model_name="noop",model_version="default",} 1.0',
    ].join('\n');
    const [noop] = readModelServerScrape('torchserve', parsePrometheusText(text));
    expect(noop).toMatchObject({ model: 'noop', requestsOk: 1, latencyCount: 1 });
    expect(noop?.latencySecondsSum).toBeCloseTo(0.002032411, 12);
  });

  it('prefers the V1 kv_cache_usage_perc over the V0 gpu_cache_usage_perc, and falls back to V0', () => {
    const both = parsePrometheusText(
      [
        'vllm:gpu_cache_usage_perc{model_name="m"} 0.25',
        'vllm:kv_cache_usage_perc{model_name="m"} 0.75',
      ].join('\n'),
    );
    expect(readModelServerScrape('vllm', both)[0]?.kvCacheUsage).toBe(0.75);
    const v0Only = parsePrometheusText('vllm:gpu_cache_usage_perc{model_name="m"} 0.25\n');
    expect(readModelServerScrape('vllm', v0Only)[0]?.kvCacheUsage).toBe(0.25);
  });

  it('counts abort and error as failed, any other finished_reason as ok', () => {
    const text = ['stop 4', 'length 3', 'repetition 1', 'abort 2', 'error 1']
      .map((row) => {
        const [reason, value] = row.split(' ');
        return `vllm:request_success_total{finished_reason="${reason}",model_name="m"} ${value}`;
      })
      .join('\n');
    expect(readModelServerScrape('vllm', parsePrometheusText(text))[0]).toMatchObject({
      requestsOk: 8,
      requestsFailed: 3,
    });
  });

  it('keeps data-parallel engines apart as instances, and sums Triton failures over reason', () => {
    const vllm = parsePrometheusText(
      [
        'vllm:prompt_tokens_total{engine="0",model_name="m"} 10',
        'vllm:prompt_tokens_total{engine="1",model_name="m"} 20',
      ].join('\n'),
    );
    expect(readModelServerScrape('vllm', vllm).map((m) => [m.instance, m.promptTokens])).toEqual([
      ['engine=0', 10],
      ['engine=1', 20],
    ]);
    const triton = parsePrometheusText(
      [
        'nv_inference_request_failure{model="m",reason="REJECTED",version="1"} 2',
        'nv_inference_request_failure{model="m",reason="BACKEND",version="1"} 3',
      ].join('\n'),
    );
    expect(readModelServerScrape('triton', triton)[0]?.requestsFailed).toBe(5);
  });

  it('ignores impossible counter values and clamps cache usage into 0..1', () => {
    const text = [
      'vllm:prompt_tokens_total{model_name="m"} NaN',
      'vllm:generation_tokens_total{model_name="m"} -3',
      'vllm:kv_cache_usage_perc{model_name="m"} 1.5',
    ].join('\n');
    expect(readModelServerScrape('vllm', parsePrometheusText(text))[0]).toMatchObject({
      promptTokens: 0,
      generatedTokens: 0,
      kvCacheUsage: 1,
    });
  });

  it('uses the pod model name for series that lack the model label', () => {
    const text = 'vllm:prompt_tokens_total 12\n';
    expect(readModelServerScrape('vllm', parsePrometheusText(text), 'from-pod')[0]).toMatchObject({
      model: 'from-pod',
      promptTokens: 12,
    });
  });
});
