import { describe, expect, it } from 'vitest';
import { makeContext } from './context.ts';
import { resolveOptions } from './options.ts';
import { recommendReplicas, replicaHourCost } from './replicas.ts';
import {
  containerWindow,
  FIVE_MIN,
  GIB,
  gpuWindow,
  HOUR_MS,
  modelWindow,
  PRICES,
  T0,
  windowsOf,
  workload,
} from './test-support.ts';
import type { ContainerSeries, GpuSeries, ModelSeries, ModelWindow } from './types.ts';

const ref = workload('Deployment', 'chat');
const ctxAt = (now: number) => makeContext({ now, containers: [], prices: PRICES }, resolveOptions());
const NOW = T0 + 24 * HOUR_MS;

/**
 * 24 h of five-minute windows. The first 4 h (48 windows) only 2 replicas served 30 req/s (15 each); after that 4
 * replicas served 40 req/s for 4 h (10 each) and 20 req/s the rest (5 each). Latency 0.5 s throughout, no queue,
 * KV cache at 60%, except that `slowWhenBusy` makes the 15-per-replica windows 1 s.
 */
function chat(slowWhenBusy = false): ModelSeries {
  const windows: ModelWindow[] = [];
  for (let i = 0; i < 288; i += 1) {
    const start = T0 + i * FIVE_MIN;
    const pods = i < 48 ? 2 : 4;
    const rate = i < 48 ? 30 : i < 96 ? 40 : 20;
    const latency = i < 48 && slowWhenBusy ? 1 : 0.5;
    for (let p = 0; p < pods; p += 1) {
      const requests = (rate / pods) * 300;
      windows.push(
        modelWindow(start, start + FIVE_MIN, {
          pod: `chat-${p}`,
          requestsOk: requests,
          latencySum: latency * requests,
          latencyCount: requests,
          queueMax: 0,
          kvCacheMax: 0.6,
        }),
      );
    }
  }
  return { workload: ref, model: 'llama', windows };
}

describe('replicas', () => {
  it('runs the fewest replicas that carry the busiest window at a load per replica already served well', () => {
    // Capacity: the most per replica with latency ≤ 0.5 × 1.1, no queue, KV ≤ 90% = 15 req/s (the 2-replica hours).
    // Busiest window 40 req/s → ceil(40 / 15) = 3 replicas instead of the current 4.
    const rec = recommendReplicas(chat(), ctxAt(NOW), 0.84)!;
    expect(rec.current).toEqual({ replicas: 4 });
    expect(rec.proposed).toEqual({ replicas: 3 });
    // Replicas above 3: 1 in each of the 240 four-replica windows = 20 replica-hours in 24 h → × 730/24 = 608.33
    // replica-hours a month × $0.84 = $511.
    expect(rec.monthlySaving).toBe(511);
    expect(rec.patch.body).toEqual({ spec: { replicas: 3 } });
  });

  it('does not trust a load per replica that made latency worse', () => {
    // The 15-per-replica windows ran at 1 s (> 0.55 s): capacity is 10 → ceil(40/10) = 4 = current → nothing.
    expect(recommendReplicas(chat(true), ctxAt(NOW), 0.84)).toBeUndefined();
  });

  it('prices a replica from its containers’ requests and the GPUs one pod holds', () => {
    // Requests 4 cores and 16 GiB: 4 × 0.04 + 16 × 0.005 = $0.24/h; one L4 per pod: $0.60/h; total $0.84/h.
    const containers: ContainerSeries[] = [
      {
        workload: ref,
        container: 'vllm',
        windows: windowsOf(2, (_i, start, end) =>
          containerWindow(start, end, { requestCpu: 4, requestMemory: 16 * GIB }),
        ),
      },
    ];
    const gpus: GpuSeries[] = [
      {
        workload: ref,
        container: 'vllm',
        windows: ['chat-0', 'chat-1'].map((pod) =>
          gpuWindow(T0, T0 + FIVE_MIN, { pod, gpuId: `GPU-${pod}`, model: 'NVIDIA L4' }),
        ),
      },
    ];
    expect(replicaHourCost(ctxAt(NOW), containers, gpus)).toBeCloseTo(0.84, 10);
  });
});
