// The SQLite store on a real temporary file: migrations, one transaction per batch, deduplication by
// (agent, sequence), no partial batch on failure, and the node listing's "latest window".
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Batch, type BatchInput, batchSchema } from '../../core/protocol/batch.ts';
import { MIGRATIONS } from './migrations/index.ts';
import { openStore, type Store } from './store.ts';

const T0 = Date.UTC(2025, 0, 1, 0, 0, 0);
const MINUTE = 60_000;
const GIB = 1024 ** 3;

/** A node-only window of one minute starting `minute` minutes after T0. */
function window(minute: number, usage: { cpu?: number; memory?: number; node?: string } = {}) {
  return {
    start: new Date(T0 + minute * MINUTE).toISOString(),
    end: new Date(T0 + (minute + 1) * MINUTE).toISOString(),
    node: {
      name: usage.node ?? 'node-a',
      capacity: { cpuCores: 8, memoryBytes: 32 * GIB },
      cpuUsedCoresAvg: usage.cpu ?? 1,
      cpuUsedCoresMax: (usage.cpu ?? 1) * 2,
      memoryUsedBytesAvg: usage.memory ?? 4 * GIB,
      memoryUsedBytesMax: (usage.memory ?? 4 * GIB) + GIB,
      load1: 0.5,
    },
  };
}

function batch(sequence: number, windows: ReturnType<typeof window>[], agentId = 'agent-a'): Batch {
  const input: BatchInput = {
    schemaVersion: 1,
    agentId,
    sequence,
    sentAt: new Date(T0).toISOString(),
    windows,
  };
  return batchSchema.parse(input);
}

let dir: string;
let file: string;
let store: Store;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mlcost-store-'));
  file = join(dir, 'nested', 'mlcost.db');
  store = openStore(file);
});

afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

const count = (table: string, db = store.db) =>
  (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;

describe('migrations', () => {
  it('create the file (and its folder) in WAL mode and set user_version to the last migration', () => {
    const last = Math.max(...MIGRATIONS.map((m) => m.version));
    expect(last).toBeGreaterThanOrEqual(1);
    expect(store.db.pragma('user_version', { simple: true })).toBe(last);
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    for (const table of ['batches', 'nodes', 'node_windows', 'gpu_windows']) expect(count(table)).toBe(0);
  });

  it('are not applied twice when the file is opened again, and keep the data', () => {
    store.writeBatch(batch(0, [window(0)]), T0);
    store.close();
    store = openStore(file);
    expect(store.db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.at(-1)!.version);
    expect(count('batches')).toBe(1);
    expect(count('node_windows')).toBe(1);
  });

  it('answers ping', () => {
    expect(store.ping()).toBe(true);
  });
});

describe('writeBatch', () => {
  it('stores the batch row and every window of the batch', () => {
    const result = store.writeBatch(batch(7, [window(0), window(1), window(2)]), T0 + 5);
    expect(result).toEqual({ duplicate: false, windows: 3 });
    expect(store.db.prepare('SELECT agent_id, sequence, received_at, windows FROM batches').all()).toEqual([
      { agent_id: 'agent-a', sequence: 7, received_at: T0 + 5, windows: 3 },
    ]);
    const rows = store.db
      .prepare('SELECT node, start, end, cpu_avg, cpu_max, memory_avg FROM node_windows ORDER BY start')
      .all();
    expect(rows).toEqual(
      [0, 1, 2].map((m) => ({
        node: 'node-a',
        start: T0 + m * MINUTE,
        end: T0 + (m + 1) * MINUTE,
        cpu_avg: 1,
        cpu_max: 2,
        memory_avg: 4 * GIB,
      })),
    );
    expect(count('nodes')).toBe(1);
  });

  it('writes all the windows of a batch in one transaction: a second connection sees none until all are in', () => {
    // A trigger calls back into the test after each window row is inserted; from there a separate read
    // connection counts what is committed. In one transaction it sees nothing until the whole batch commits.
    const reader = new Database(file, { readonly: true });
    const seen: Array<{ windows: number; batches: number }> = [];
    const windowsNow = reader.prepare('SELECT count(*) AS n FROM node_windows');
    const batchesNow = reader.prepare('SELECT count(*) AS n FROM batches');
    store.db.function('observe_commit_state', () => {
      seen.push({
        windows: (windowsNow.get() as { n: number }).n,
        batches: (batchesNow.get() as { n: number }).n,
      });
      return 0;
    });
    store.db.exec(
      'CREATE TEMP TRIGGER observe_windows AFTER INSERT ON main.node_windows BEGIN SELECT observe_commit_state(); END',
    );
    try {
      store.writeBatch(batch(1, [window(0), window(1), window(2), window(3)]), T0);
      expect(seen).toEqual([
        { windows: 0, batches: 0 },
        { windows: 0, batches: 0 },
        { windows: 0, batches: 0 },
        { windows: 0, batches: 0 },
      ]);
      expect((windowsNow.get() as { n: number }).n).toBe(4);
      expect((batchesNow.get() as { n: number }).n).toBe(1);
    } finally {
      reader.close();
    }
  });

  it('stores the same (agent, sequence) once and reports the second as a duplicate', () => {
    expect(store.writeBatch(batch(3, [window(0), window(1)]), T0)).toEqual({ duplicate: false, windows: 2 });
    // Same agent and sequence, different content: still the batch already stored, not written again.
    expect(store.writeBatch(batch(3, [window(5, { cpu: 7 })]), T0 + 1)).toEqual({
      duplicate: true,
      windows: 0,
    });
    expect(store.writeBatch(batch(3, [window(0), window(1)]), T0 + 2)).toEqual({
      duplicate: true,
      windows: 0,
    });
    expect(count('batches')).toBe(1);
    expect(count('node_windows')).toBe(2);
    expect(store.db.prepare('SELECT received_at FROM batches').get()).toEqual({ received_at: T0 });
    expect(store.db.prepare('SELECT count(*) AS n FROM node_windows WHERE cpu_avg = 7').get()).toEqual({
      n: 0,
    });
  });

  it('keeps sequences of different agents apart', () => {
    expect(store.writeBatch(batch(0, [window(0, { node: 'node-a' })], 'agent-a'), T0).duplicate).toBe(false);
    expect(store.writeBatch(batch(0, [window(0, { node: 'node-b' })], 'agent-b'), T0).duplicate).toBe(false);
    expect(count('batches')).toBe(2);
    expect(count('node_windows')).toBe(2);
  });

  it('leaves nothing of a batch whose second window fails: no batch row, no first window, no node', () => {
    const failingStart = T0 + MINUTE;
    store.db.exec(`CREATE TEMP TRIGGER fail_second_window BEFORE INSERT ON main.node_windows
      WHEN NEW.start = ${failingStart} BEGIN SELECT RAISE(ABORT, 'forced failure on the second window'); END`);
    expect(() => store.writeBatch(batch(9, [window(0), window(1), window(2)]), T0)).toThrowError(
      /forced failure on the second window/,
    );
    expect(count('batches')).toBe(0);
    expect(count('node_windows')).toBe(0);
    expect(count('nodes')).toBe(0);
    expect(store.db.inTransaction).toBe(false);

    // The batch was not half-recorded as seen: once the fault is gone it is stored in full, not a duplicate.
    store.db.exec('DROP TRIGGER fail_second_window');
    expect(store.writeBatch(batch(9, [window(0), window(1), window(2)]), T0)).toEqual({
      duplicate: false,
      windows: 3,
    });
    expect(count('node_windows')).toBe(3);
  });

  it('leaves nothing of a batch whose second window breaks a NOT NULL constraint', () => {
    const bad = batch(4, [window(0), window(1)]);
    // A value the schema would refuse, slipped past it to reach the database's own constraint.
    (bad.windows[1]!.node.capacity as { cpuCores: unknown }).cpuCores = null;
    expect(() => store.writeBatch(bad, T0)).toThrowError(/NOT NULL/);
    expect(count('batches')).toBe(0);
    expect(count('node_windows')).toBe(0);
    expect(count('nodes')).toBe(0);
  });
});

describe('listNodes', () => {
  it('is empty on a new store', () => {
    expect(store.nodes.listNodes()).toEqual([]);
  });

  it("returns each node with its latest window's usage", () => {
    store.writeBatch(
      batch(0, [window(0, { cpu: 1, memory: 2 * GIB }), window(1, { cpu: 2, memory: 3 * GIB })]),
      T0,
    );
    store.writeBatch(batch(1, [window(2, { cpu: 3.5, memory: 6 * GIB })]), T0);
    const [node, ...rest] = store.nodes.listNodes();
    expect(rest).toEqual([]);
    expect(node).toMatchObject({
      name: 'node-a',
      agentId: 'agent-a',
      simulated: false,
      capacity: { cpuCores: 8, memoryBytes: 32 * GIB },
      firstSeen: new Date(T0 + MINUTE).toISOString(),
      lastSeen: new Date(T0 + 3 * MINUTE).toISOString(),
      usage: {
        windowStart: '2025-01-01T00:02:00.000Z',
        windowEnd: '2025-01-01T00:03:00.000Z',
        cpuCores: 3.5,
        cpuCoresMax: 7,
        memoryBytes: 6 * GIB,
        memoryBytesMax: 7 * GIB,
        load1: 0.5,
      },
      gpus: [],
    });
  });

  it('still shows the latest window when an older one arrives after it', () => {
    store.writeBatch(batch(0, [window(10, { cpu: 4 })]), T0);
    store.writeBatch(batch(1, [window(3, { cpu: 1 })]), T0);
    const [node] = store.nodes.listNodes();
    expect(node?.usage).toMatchObject({ windowStart: '2025-01-01T00:10:00.000Z', cpuCores: 4 });
    expect(node?.lastSeen).toBe('2025-01-01T00:11:00.000Z');
  });

  it('lists several nodes by name', () => {
    store.writeBatch(batch(0, [window(0, { node: 'zeta', cpu: 1 })], 'agent-z'), T0);
    store.writeBatch(batch(0, [window(0, { node: 'alpha', cpu: 2 })], 'agent-a'), T0);
    expect(store.nodes.listNodes().map((n) => [n.name, n.agentId, n.usage?.cpuCores])).toEqual([
      ['alpha', 'agent-a', 2],
      ['zeta', 'agent-z', 1],
    ]);
  });
});

describe('close', () => {
  it('checkpoints the WAL into the database file', () => {
    store.writeBatch(batch(0, [window(0)]), T0);
    expect(store.sizeBytes()).toBeGreaterThan(0);
    store.close();
    const db = new Database(file, { readonly: true });
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      expect((db.prepare('SELECT count(*) AS n FROM node_windows').get() as { n: number }).n).toBe(1);
    } finally {
      db.close();
    }
    store = openStore(file);
  });
});
