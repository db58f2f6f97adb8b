// Served-model cost worked by hand: one vLLM pod on an L4 with a known token and request count, cost per 1M
// tokens (prompt and generated) and per 1k requests; a pod serving two models; a serving pod's share of idle.
import { describe, expect, it } from 'vitest';
import { allocateWindow, type WindowAllocation } from './allocate.ts';
import type { StoredModelWindow, StoredWindowInput } from './input.ts';
import { modelCosts } from './models.ts';
import { type PricingConfig, pricesForWindow } from './pricing.ts';

const GIB = 2 ** 30;
const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 10, 3, 0, 0, 0);
const PRICES: PricingConfig = { cpuCoreHour: 0.04, memGiBHour: 0.005, gpuHour: { L4: 0.84 } };

function servingWindow(start: number, pods: string[], nodeCores = 2): WindowAllocation {
  const input: StoredWindowInput = {
    start,
    end: start + HOUR,
    node: { name: 'g1', labels: {}, cpuCores: nodeCores, memoryBytes: 16 * GIB, gpus: pods.length },
    gpus: pods.map((pod, i) => ({
      gpuId: `GPU-${i}`,
      uuid: `GPU-${i}`,
      model: 'NVIDIA L4',
      activityAvg: 0.4,
      holders: [{ namespace: 'serve', pod, container: 'vllm' }],
    })),
    containers: pods.map((pod) => ({
      namespace: 'serve',
      pod,
      container: 'vllm',
      requestCpu: 2 / pods.length,
      requestMemory: (16 / pods.length) * GIB,
      requestGpus: 1,
      servedModel: 'llama-isvc',
    })),
  };
  return allocateWindow(input, pricesForWindow(input, PRICES));
}

function modelWindow(
  start: number,
  pod: string,
  model: string,
  m: Partial<StoredModelWindow>,
): StoredModelWindow {
  return {
    node: 'g1',
    start,
    end: start + HOUR,
    namespace: 'serve',
    pod,
    model,
    server: 'vllm',
    requestsOk: 0,
    requestsFailed: 0,
    promptTokens: 0,
    generatedTokens: 0,
    ...m,
  };
}

describe('modelCosts', () => {
  it('prices a served model per 1M tokens and per 1k requests from its pod’s CPU, memory and GPU', () => {
    const windows = [servingWindow(T0, ['llama-0'])];
    const models = [
      modelWindow(T0, 'llama-0', 'meta-llama/Llama-3.1-8B', {
        promptTokens: 400_000,
        generatedTokens: 200_000,
        requestsOk: 1_990,
        requestsFailed: 10,
      }),
    ];
    const [llama] = modelCosts(windows, models);
    // Pod for 1 h: CPU 2 × 0.04 = 0.08; RAM 16 × 0.005 = 0.08; GPU 1 L4 × 0.84 = 0.84; total 1.00.
    expect(llama!.cpuCost).toBeCloseTo(0.08, 12);
    expect(llama!.ramCost).toBeCloseTo(0.08, 12);
    expect(llama!.gpuCost).toBeCloseTo(0.84, 12);
    expect(llama!.totalCost).toBeCloseTo(1, 12);
    // 1.00 / 600,000 tokens × 1e6 = 1.6667 per 1M tokens.
    expect(llama!.costPerMillionTokens).toBeCloseTo(1 / 0.6, 10);
    // Prompt and generated: weighted tokens = 400,000 + 2.5 × 200,000 = 900,000;
    // prompt 1.00 / 900,000 × 1e6 = 1.1111; generated 2.5 × 1.1111 = 2.7778.
    expect(llama!.costPerMillionPromptTokens).toBeCloseTo(1 / 0.9, 10);
    expect(llama!.costPerMillionGeneratedTokens).toBeCloseTo(2.5 / 0.9, 10);
    // 400,000 × 1.1111/1e6 + 200,000 × 2.7778/1e6 = 0.4444 + 0.5556 = 1.00: the split adds back up.
    expect(
      (400_000 * llama!.costPerMillionPromptTokens! + 200_000 * llama!.costPerMillionGeneratedTokens!) / 1e6,
    ).toBeCloseTo(1, 12);
    // 2,000 requests (failed ones used the GPU too): 1.00 / 2,000 × 1,000 = 0.50 per 1k requests.
    expect(llama!.requests).toBe(2_000);
    expect(llama!.costPer1kRequests).toBeCloseTo(0.5, 12);
    expect(llama!.gpuEfficiency).toBeCloseTo(0.4, 12);
    expect(llama!.server).toBe('vllm');
  });

  it('splits a pod serving two models by tokens, and a window without traffic by the models it serves', () => {
    const windows = [servingWindow(T0, ['triton-0']), servingWindow(T0 + HOUR, ['triton-0'])];
    const models = [
      modelWindow(T0, 'triton-0', 'small', { promptTokens: 300, generatedTokens: 0 }),
      modelWindow(T0, 'triton-0', 'large', { promptTokens: 900, generatedTokens: 0 }),
      // Second hour: no model windows at all (nothing scraped): split evenly over the two models it serves.
    ];
    const costs = Object.fromEntries(modelCosts(windows, models).map((m) => [m.model, m]));
    // Hour 1: 1.00 split 300 : 900 → 0.25 and 0.75. Hour 2: 1.00 split evenly → 0.50 each.
    expect(costs['small']!.totalCost).toBeCloseTo(0.75, 12); // 0.25 + 0.50
    expect(costs['large']!.totalCost).toBeCloseTo(1.25, 12); // 0.75 + 0.50
    expect(costs['small']!.costPerMillionTokens).toBeCloseTo((0.75 / 300) * 1e6, 6);
  });

  it('adds the serving pod’s share of idle when asked', () => {
    // Node with 4 cores; the pod requests 2: CPU idle 2 × 0.04 = 0.08, all of it shared to the only CPU user.
    const windows = [servingWindow(T0, ['llama-0'], 4)];
    const [withIdle] = modelCosts(windows, [modelWindow(T0, 'llama-0', 'm', { promptTokens: 1000 })], {
      shareIdle: true,
    });
    expect(withIdle!.idleCost).toBeCloseTo(0.08, 12);
    expect(withIdle!.totalCost).toBeCloseTo(1.08, 12); // 1.00 + 0.08
  });

  it('reports a serving pod no model window names under its served-model identity', () => {
    const [isvc] = modelCosts([servingWindow(T0, ['llama-0'])], []);
    expect(isvc!.model).toBe('llama-isvc');
    expect(isvc!.totalCost).toBeCloseTo(1, 12);
    expect(isvc!.costPerMillionTokens).toBeNull();
  });
});
