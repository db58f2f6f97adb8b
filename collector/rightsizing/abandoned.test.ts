import { describe, expect, it } from 'vitest';
import { recommendAbandoned, type WorkloadView } from './abandoned.ts';
import { makeContext } from './context.ts';
import { resolveOptions } from './options.ts';
import {
  containerWindow,
  GIB,
  HOUR_MS,
  modelWindow,
  PRICES,
  T0,
  windowsOf,
  workload,
} from './test-support.ts';
import type { ContainerSeries } from './types.ts';

const DAYS_4 = 4 * 288; // five-minute windows in 4 days
const NOW = T0 + 4 * 24 * HOUR_MS;
const ctx = makeContext({ now: NOW, containers: [], prices: PRICES }, resolveOptions());
const ref = workload('Deployment', 'old-api');

/** Two replicas for 4 days at 2m CPU, each requesting 500m and 1 GiB; `busyAt` gives one window 200m. */
function oldApi(busyAt?: number): ContainerSeries {
  return {
    workload: ref,
    container: 'app',
    windows: ['old-api-0', 'old-api-1'].flatMap((pod) =>
      windowsOf(DAYS_4, (i, start, end) =>
        containerWindow(start, end, {
          pod,
          cpuAvg: i === busyAt ? 0.2 : 0.002,
          memMax: 200 * 2 ** 20,
          requestCpu: 0.5,
          requestMemory: GIB,
        }),
      ),
    ),
  };
}

describe('abandoned', () => {
  it('stops a workload with no CPU worth a request for 4 days and saves all it holds', () => {
    const view: WorkloadView = { workload: ref, containers: [oldApi()], gpus: [], models: [] };
    const rec = recommendAbandoned(view, ctx)!;
    expect(rec.current).toEqual({ replicas: 2, gpus: 0 });
    expect(rec.proposed).toEqual({ replicas: 0 });
    // Each replica holds 0.5 × 0.04 + 1 × 0.005 = $0.025/h; 2 replicas → $0.05/h × 730 = $36.50.
    expect(rec.monthlySaving).toBe(36.5);
    // Quiet 4 days → 4/5 = 0.8, high.
    expect(rec.confidence).toEqual({ value: 0.8, label: 'high' });
    expect(rec.patch.body).toEqual({ spec: { replicas: 0 } });
    expect(rec.reason).toBe(
      'It has had no CPU above 10m and no GPU above 5% activity for 4.0 days: stop it, and delete it if its owner agrees.',
    );
  });

  it('leaves a workload that woke up within the last 3 days, or that still serves requests', () => {
    // Window 576 = day 2: quiet only 2 days since.
    expect(recommendAbandoned({ workload: ref, containers: [oldApi(576)], gpus: [], models: [] }, ctx)).toBe(
      undefined,
    );
    const served = {
      workload: ref,
      model: 'm',
      windows: windowsOf(DAYS_4, (i, start, end) =>
        modelWindow(start, end, { requestsOk: i === 1000 ? 1 : 0 }),
      ),
    };
    expect(
      recommendAbandoned({ workload: ref, containers: [oldApi()], gpus: [], models: [served] }, ctx),
    ).toBe(undefined);
  });
});
