import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../core/logger.ts';
import { createAgentMetrics } from './metrics.ts';
import { Shipper } from './shipper.ts';
import { Spool } from './spool.ts';
import type { Delivery, Transport } from './transport.ts';

function setup(answers: Delivery[]) {
  const spool = new Spool({
    dir: mkdtempSync(join(tmpdir(), 'mlcost-ship-')),
    maxBytes: 1e9,
    maxAgeMs: 1e12,
  });
  const delivered: number[] = [];
  const transport: Transport = {
    async deliver(_body, meta) {
      const answer = answers.shift() ?? { outcome: 'acknowledged' };
      if (answer.outcome === 'acknowledged') delivered.push(meta.sequence);
      return answer;
    },
  };
  const registry = new Registry();
  const metrics = createAgentMetrics(registry);
  const shipper = new Shipper({
    agentId: 'a',
    spool,
    transport,
    metrics,
    logger: silentLogger,
    initialBackoffMs: 5,
    maxBackoffMs: 20,
  });
  return { spool, shipper, delivered, registry };
}

const value = async (registry: Registry, name: string) =>
  (await registry.getSingleMetric(name)!.get()).values.reduce((sum, v) => sum + v.value, 0);

describe('Shipper', () => {
  it('delivers in sequence order and empties the spool', async () => {
    const { spool, shipper, delivered } = setup([]);
    for (const seq of [0, 1, 2]) spool.append(seq, 1, new Uint8Array([seq]));
    await shipper.drain();
    expect(delivered).toEqual([0, 1, 2]);
    expect(spool.size.batches).toBe(0);
  });

  it('keeps the batch and retries the same one after a failure, never skipping ahead', async () => {
    const { spool, shipper, delivered, registry } = setup([{ outcome: 'retry', reason: 'down' }]);
    spool.append(0, 1, new Uint8Array([0]));
    spool.append(1, 1, new Uint8Array([1]));
    await shipper.drain();
    expect(delivered).toEqual([]);
    expect(spool.size.batches).toBe(2);
    expect(await value(registry, 'mlcost_agent_ship_failures_total')).toBe(1);
    // the backoff timer (≤ 20 ms) fires kick(): both arrive, in order
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(delivered).toEqual([0, 1]);
  });

  it('moves a rejected batch to dead-letter and carries on with the next', async () => {
    const { spool, shipper, delivered, registry } = setup([
      { outcome: 'rejected', status: 400, detail: 'bad' },
    ]);
    spool.append(0, 1, new Uint8Array([0]));
    spool.append(1, 1, new Uint8Array([1]));
    await shipper.drain();
    expect(delivered).toEqual([1]);
    expect(await value(registry, 'mlcost_agent_dead_letter_batches_total')).toBe(1);
  });
});
