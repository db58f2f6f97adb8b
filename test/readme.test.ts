// The README is the user's reference: every configuration key and metric the code defines must be documented there.
import { readFileSync } from 'node:fs';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createGpuGauges } from '../agent/gpu-gauges.ts';
import { createAgentMetrics } from '../agent/metrics.ts';
import { registerCostMetrics } from '../collector/cost-metrics.ts';
import { createCollectorMetrics } from '../collector/metrics.ts';
import { registerRightsizingMetrics } from '../collector/rightsizing-metrics.ts';
import { CONFIG_KEYS, envNameFor } from '../core/config/keys.ts';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it('shows the two commands', () => {
    expect(readme).toContain('npm install && npm start');
    expect(readme).toContain('npm test');
  });

  it('documents every configuration key with its environment variable', () => {
    const missing = CONFIG_KEYS.filter(
      (spec) => !readme.includes(`\`${spec.key}\``) || !readme.includes(envNameFor(spec.key)),
    );
    expect(missing.map((spec) => spec.key)).toEqual([]);
  });

  it('documents every mlcost metric', async () => {
    const registry = new Registry();
    createAgentMetrics(registry);
    createGpuGauges(registry);
    createCollectorMetrics(registry, {
      version: 'x',
      currency: 'USD',
      storeSizeBytes: () => 0,
      reportingNodes: () => [],
    });
    registerRightsizingMetrics(registry, { snapshot: () => undefined });
    // The cost series; their names are listed even with nothing to compute.
    registerCostMetrics(registry, {
      now: () => 0,
      unavailable: null,
      generation: () => 0,
      pendingNodeHours: () => 0,
      allocation: () => Promise.reject(new Error('no store here')),
      models: () => Promise.reject(new Error('no store here')),
      gpuWaste: () => Promise.reject(new Error('no store here')),
      budgets: () => Promise.reject(new Error('no store here')),
    });
    const names = (await registry.getMetricsAsJSON())
      .map((metric) => metric.name)
      .filter((name) => name.startsWith('mlcost_'));
    expect(names.length).toBeGreaterThan(15);
    expect(names.filter((name) => !readme.includes(name))).toEqual([]);
  });
});
