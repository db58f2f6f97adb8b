import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Batch } from '../../core/protocol/batch.ts';
import { expiredWindowsSql, WINDOW_TABLES } from './retention.ts';
import { openStore } from './store.ts';

const window = (startMs: number) => ({
  start: new Date(startMs).toISOString(),
  end: new Date(startMs + 60_000).toISOString(),
  node: { name: 'n1', capacity: { cpuCores: 4, memoryBytes: 8e9 }, labels: {} },
  gpus: [{ id: 'GPU-1', uuid: 'GPU-1', holders: [] }],
  containers: [{ namespace: 'a', pod: 'p', container: 'c', requests: {}, limits: {} }],
  models: [],
});

describe('retention', () => {
  it('deletes the windows that ended at or before the cutoff and keeps the rest', () => {
    const store = openStore(join(mkdtempSync(join(tmpdir(), 'mlcost-ret-')), 'db.sqlite'));
    const t0 = Date.parse('2026-11-01T00:00:00Z');
    const batch: Batch = {
      schemaVersion: 1,
      agentId: 'n1',
      sequence: 0,
      sentAt: new Date(t0).toISOString(),
      windows: [window(t0), window(t0 + 60_000), window(t0 + 120_000)],
    };
    store.writeBatch(batch, t0);
    // cutoff at t0+120s: windows ending at t0+60s and t0+120s go (2 node + 2 gpu + 2 container rows = 6); the
    // third window (ends t0+180s) stays.
    expect(store.pruneBefore(t0 + 120_000)).toBe(6);
    const left = store.db.prepare('SELECT count(*) AS n FROM node_windows').get() as { n: number };
    expect(left.n).toBe(1);
    store.close();
  });

  it('finds the old windows through the start index instead of scanning every window table each sweep', () => {
    const store = openStore(join(mkdtempSync(join(tmpdir(), 'mlcost-ret-')), 'db.sqlite'));
    for (const table of WINDOW_TABLES) {
      const plan = store.db
        .prepare(`EXPLAIN QUERY PLAN ${expiredWindowsSql(table)}`)
        .all({ cutoff: 0 }) as Array<{
        detail: string;
      }>;
      expect(plan.map((step) => step.detail).join('; ')).toContain(`USING INDEX ${table}_by_start`);
    }
    store.close();
  });
});
