// The collector's /metrics with its cost series must pass Prometheus's own linter, `promtool check metrics`: a real
// collector (createCollector, temporary SQLite store) ingests windows with GPUs (held, held-but-idle and free),
// a serving pod with token counts and a budgeted namespace, then /metrics is scraped and linted. Also: the
// per-metric series cap keeps the costliest series and counts the rest in mlcost_collector_series_dropped_total.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Collector, createCollector } from '../collector/collector.ts';
import { registerCostMetrics } from '../collector/cost-metrics.ts';
import type { CostService } from '../collector/cost-service.ts';
import { loadConfig } from '../core/config/load.ts';
import { silentLogger } from '../core/logger.ts';
import type { BatchInput } from '../core/protocol/batch.ts';
import { PROMTOOL, requireTool } from './support/mlcost-process.ts';

const GIB = 2 ** 30;
const HOUR = 3_600_000;

let dir: string;
let collector: Collector;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'mlcost-cost-promtool-'));
  const config = loadConfig({
    env: {},
    flags: {
      dataDir: dir,
      'collector.retention': '3650d',
      pricing: { gpuHour: { H100: 2 } },
      budgets: [{ name: 'team-a', namespace: 'team-a', monthly: 1000 }],
    },
  });
  collector = createCollector(config, silentLogger);
});
afterAll(() => {
  collector.close();
  rmSync(dir, { recursive: true, force: true });
});

function promtoolCheck(text: string): { status: number | null; output: string } {
  const promtool = requireTool(PROMTOOL, 'promtool');
  const result = spawnSync(promtool, ['check', 'metrics'], {
    input: text,
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (result.error) throw result.error;
  return { status: result.status, output: `${result.stdout}${result.stderr}`.trim() };
}

/** One hour-long window starting at `start`: two H100s, one held busy, one held idle; a free L4 node. */
function hourWindows(start: number): BatchInput['windows'] {
  const iso = (ms: number) => new Date(ms).toISOString();
  return [
    {
      start: iso(start),
      end: iso(start + HOUR),
      node: { name: 'gpu-1', capacity: { cpuCores: 32, memoryBytes: 256 * GIB, gpus: 3 } },
      gpus: [
        {
          id: 'GPU-busy',
          uuid: 'GPU-busy',
          model: 'NVIDIA H100 80GB HBM3',
          activityAvg: 0.9,
          holders: [{ namespace: 'team-a', pod: 'train-0' }],
        },
        {
          id: 'GPU-idle',
          uuid: 'GPU-idle',
          model: 'NVIDIA H100 80GB HBM3',
          activityAvg: 0.001,
          holders: [{ namespace: 'team-b', pod: 'notebook-0' }],
        },
        { id: 'GPU-free', uuid: 'GPU-free', model: 'NVIDIA H100 80GB HBM3', activityAvg: 0 },
      ],
      containers: [
        {
          namespace: 'team-a',
          pod: 'train-0',
          container: 'main',
          cpuCoresAvg: 6,
          memoryBytesAvg: 40 * GIB,
          requests: { cpuCores: 8, memoryBytes: 64 * GIB, gpus: 1 },
          mlJob: { kind: 'PyTorchJob', name: 'ft' },
        },
        {
          namespace: 'team-b',
          pod: 'notebook-0',
          container: 'jupyter',
          cpuCoresAvg: 0.1,
          memoryBytesAvg: 2 * GIB,
          requests: { cpuCores: 1, memoryBytes: 8 * GIB, gpus: 1 },
        },
        {
          namespace: 'serving',
          pod: 'vllm-0',
          container: 'vllm',
          cpuCoresAvg: 2,
          memoryBytesAvg: 20 * GIB,
          requests: { cpuCores: 4, memoryBytes: 32 * GIB },
          servedModel: { kind: 'InferenceService', name: 'llama' },
        },
      ],
      models: [
        {
          namespace: 'serving',
          pod: 'vllm-0',
          model: 'llama-3-8b',
          server: 'vllm',
          requestsOk: 1000,
          promptTokens: 500_000,
          generatedTokens: 250_000,
        },
      ],
    },
  ];
}

describe('cost series on /metrics', () => {
  it('pass promtool check metrics after ingest', async () => {
    requireTool(PROMTOOL, 'promtool');
    // The two hours before the current one and the current one, so that the latest complete hour has data even
    // if the clock crosses an hour between ingest and scrape.
    const current = Math.floor(Date.now() / HOUR) * HOUR;
    const windows = [current - 2 * HOUR, current - HOUR, current].flatMap(hourWindows);
    const response = await collector.app.request('/api/v1/ingest', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        schemaVersion: 1,
        agentId: 'promtool-agent',
        sequence: 0,
        sentAt: new Date().toISOString(),
        windows,
      } satisfies BatchInput),
    });
    expect(response.status).toBe(200);

    const scrape = await collector.app.request('/metrics');
    expect(scrape.status).toBe(200);
    const text = await scrape.text();
    // promtool passes an empty input, so first make sure the cost series are really there.
    expect(text).toMatch(/^mlcost_namespace_cost\{namespace="team-a",resource="gpu"\} [0-9.]+$/m);
    expect(text).toMatch(/^mlcost_namespace_cost\{namespace="__idle__",resource="gpu"\} [0-9.]+$/m);
    expect(text).toMatch(
      /^mlcost_namespace_efficiency_ratio\{namespace="team-a",resource="total"\} [0-9.]+$/m,
    );
    expect(text).toMatch(
      /^mlcost_gpu_held_idle_cost\{namespace="team-b",pod="notebook-0",node="gpu-1",gpu="GPU-idle"\} [0-9.]+$/m,
    );
    expect(text).toMatch(/^mlcost_gpu_free_cost\{node="gpu-1",gpu="GPU-free"\} [0-9.]+$/m);
    expect(text).toMatch(/^mlcost_budget_spend\{budget="team-a"\} [0-9.]+$/m);
    expect(text).toMatch(/^mlcost_budget_forecast\{budget="team-a"\} [0-9.]+$/m);
    expect(text).toMatch(/^mlcost_budget_limit\{budget="team-a"\} 1000$/m);
    expect(text).toMatch(
      /^mlcost_model_cost_per_million_tokens\{namespace="serving",model="llama-3-8b"\} [0-9.]+$/m,
    );
    expect(text).toMatch(/^mlcost_collector_series_dropped_total\{metric="mlcost_namespace_cost"\} 0$/m);
    expect(text).toMatch(/^mlcost_collector_rollups_pending \d+$/m);
    // Held-but-idle H100 for an hour: 2.00 per hour (pricing.gpuHour.H100), the free one likewise.
    expect(text).toMatch(/^mlcost_gpu_held_idle_cost\{[^}]*gpu="GPU-idle"\} 2$/m);
    expect(text).toMatch(/^mlcost_gpu_free_cost\{[^}]*gpu="GPU-free"\} 2$/m);

    const result = promtoolCheck(text);
    expect(result.output, 'promtool lint problems').toBe('');
    expect(result.status).toBe(0);

    // The same store answers the API through the collector's own app.
    const api = await collector.app.request('/api/v1/allocation?window=3h&aggregate=namespace');
    expect(api.status).toBe(200);
  });

  it('cap series per metric, keep the costliest and count what they drop', async () => {
    const registry = new Registry();
    const now = Date.UTC(2026, 10, 2, 12, 30);
    const rows = ['a', 'b', 'c', 'd'].map((namespace, i) => ({
      name: namespace,
      cpuCost: i + 1,
      ramCost: 0,
      gpuCost: 0,
      pvCost: 0,
      cpuEfficiency: 0.5,
      ramEfficiency: 0.5,
      gpuEfficiency: null,
      totalEfficiency: 0.5,
    }));
    const source = {
      now: () => now,
      unavailable: null,
      generation: () => 0,
      pendingNodeHours: () => 0,
      allocation: async () => ({ sets: [{ allocations: rows }] }),
      models: async () => [],
      gpuWaste: async () => [],
      budgets: async () => ({ currency: 'USD', asOf: now, budgets: [] }),
    } as unknown as CostService;
    registerCostMetrics(registry, source, { maxSeries: 5 });
    const text = await registry.metrics();
    // 4 namespaces × cpu, memory, gpu = 12 cost series (no storage cost): the 5 costliest stay.
    const costLines = text.split('\n').filter((line) => line.startsWith('mlcost_namespace_cost{'));
    expect(costLines).toHaveLength(5);
    expect(costLines).toContain('mlcost_namespace_cost{namespace="d",resource="cpu"} 4');
    expect(text).toContain('mlcost_collector_series_dropped_total{metric="mlcost_namespace_cost"} 7');
    // 4 namespaces × cpu, memory, total efficiency = 12, capped to 5.
    expect(text).toContain(
      'mlcost_collector_series_dropped_total{metric="mlcost_namespace_efficiency_ratio"} 7',
    );
    // A second scrape of the same snapshot does not count the drops again.
    expect(await registry.metrics()).toContain(
      'mlcost_collector_series_dropped_total{metric="mlcost_namespace_cost"} 7',
    );
    const result = promtoolCheck(text);
    expect(result.output).toBe('');
  });
});
