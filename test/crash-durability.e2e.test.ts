// Crash durability of ingest with real processes: `mlcost collector` on a temporary data folder takes batches
// (several windows each, known sequences) over HTTP as fast as a driver can send them, and is SIGKILLed at a
// random point mid-stream, then restarted on the same folder, several times. Afterwards the SQLite file must be
// intact, every acknowledged (agent, sequence) must be stored with all its windows, and no batch may be stored
// in part. Batches that were in flight at a kill are re-sent after the restart, as an agent would.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, freePort, killAll, MlcostProcess } from './support/mlcost-process.ts';

const ROUNDS = 5;
const WINDOWS_PER_BATCH = 6;
const CONCURRENCY = 4;
const TOKEN = 'crash-test-token-0123456789';
const AGENT = 'crash-agent';
const NODE = 'crash-node';
const T0 = Date.UTC(2025, 0, 1);
const MINUTE = 60_000;

/** A small seeded generator, so a failing run can be repeated with the seed it prints. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Window i of batch `sequence` covers minute sequence × W + i after T0, so every window maps back to its batch. */
const windowStart = (sequence: number, i: number) => T0 + (sequence * WINDOWS_PER_BATCH + i) * MINUTE;

function batchFor(sequence: number) {
  return {
    schemaVersion: 1,
    agentId: AGENT,
    sequence,
    sentAt: new Date().toISOString(),
    windows: Array.from({ length: WINDOWS_PER_BATCH }, (_, i) => ({
      start: new Date(windowStart(sequence, i)).toISOString(),
      end: new Date(windowStart(sequence, i) + MINUTE).toISOString(),
      node: {
        name: NODE,
        capacity: { cpuCores: 32, memoryBytes: 2 ** 37, gpus: 2 },
        cpuUsedCoresAvg: (sequence % 32) + i / 10,
        memoryUsedBytesAvg: 2 ** 30 * (1 + i),
      },
      gpus: [0, 1].map((index) => ({
        id: `GPU-${index}`,
        uuid: `GPU-${index}`,
        index,
        activityAvg: ((sequence + i + index) % 100) / 100,
        powerWattsAvg: 100 + i,
      })),
    })),
  };
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'mlcost-crash-'));
});
afterAll(async () => {
  await killAll();
  rmSync(dir, { recursive: true, force: true });
});

describe('collector crash durability', () => {
  it('keeps every acknowledged batch whole across SIGKILLs, and never stores part of a batch', async () => {
    const seed = Number(process.env['MLCOST_CRASH_SEED'] ?? Date.now() % 2 ** 31);
    const random = mulberry32(seed);
    const dataDir = join(dir, 'data');
    const acknowledged = new Set<number>();
    /** Sent but not acknowledged (refused, connection dropped by the kill): re-sent next round. */
    const unacknowledged = new Set<number>();
    let nextSequence = 0;
    let duplicates = 0;
    let backPressure = 0;
    const log: string[] = [`seed ${seed}`];

    for (let round = 1; round <= ROUNDS; round++) {
      const port = await freePort();
      const collector = new MlcostProcess(
        ['collector', '--listen', `127.0.0.1:${port}`, '--data-dir', dataDir],
        {
          cwd: dir,
          env: cleanEnv({ MLCOST_COLLECTOR_INGEST_TOKEN: TOKEN, MLCOST_LOG_LEVEL: 'warn' }),
        },
      );
      const [, url] = await collector.waitForStdout(
        /mlcost collector is running at (http:\/\/\S+)\n/,
        30_000,
      );
      const retry = [...unacknowledged].sort((a, b) => a - b);
      let killed = false;
      let ackedThisRound = 0;
      let firstAck: () => void = () => {};
      const firstAckSeen = new Promise<void>((resolve) => {
        firstAck = resolve;
      });

      const send = async (sequence: number): Promise<void> => {
        const json = JSON.stringify(batchFor(sequence));
        const gzip = sequence % 2 === 0;
        try {
          const response = await fetch(`${url}/api/v1/ingest`, {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              authorization: `Bearer ${TOKEN}`,
              ...(gzip ? { 'content-encoding': 'gzip' } : {}),
            },
            body: gzip ? gzipSync(json) : json,
            signal: AbortSignal.timeout(10_000),
          });
          const body = (await response.json()) as {
            accepted?: boolean;
            duplicate?: boolean;
            detail?: string;
          };
          if (response.status === 200 && body.accepted === true) {
            acknowledged.add(sequence);
            unacknowledged.delete(sequence);
            ackedThisRound += 1;
            if (body.duplicate) duplicates += 1;
            firstAck();
            return;
          }
          // 429 and 503 ask the agent to come back later: not acknowledged, re-sent by a later worker.
          if (response.status === 429 || response.status === 503) {
            backPressure += 1;
            retry.push(sequence);
            await new Promise((resolve) => setTimeout(resolve, 20));
            return;
          }
          // Any other refusal would be a bug in the collector, not a crash effect.
          if (!killed) throw new Error(`batch ${sequence} refused with ${response.status}: ${body.detail}`);
        } catch (error) {
          if (!killed) throw error;
        }
        unacknowledged.add(sequence);
      };

      const worker = async () => {
        while (!killed) {
          const sequence = retry.shift() ?? nextSequence++;
          unacknowledged.add(sequence);
          await send(sequence);
        }
      };
      const workers = Promise.all(Array.from({ length: CONCURRENCY }, worker));

      // A worker only stops early by throwing (a refusal that is not the kill's doing): fail at once then.
      await Promise.race([
        firstAckSeen,
        workers.then(() => {
          throw new Error('the driver stopped before the first acknowledgement');
        }),
      ]);
      const killAfterMs = Math.round(100 + random() * 900);
      await new Promise((resolve) => setTimeout(resolve, killAfterMs));
      killed = true;
      collector.killGroup();
      const exit = await collector.exited;
      expect(exit.signal ?? exit.code).not.toBe(0);
      await workers;
      log.push(
        `round ${round}: killed ${killAfterMs} ms after the first ack; ${ackedThisRound} acked; ${unacknowledged.size} in flight at the kill`,
      );
    }

    console.info(
      `crash durability: ${log.join('; ')}; total acked ${acknowledged.size}, duplicates on re-send ${duplicates}, answered 429/503 ${backPressure}`,
    );
    expect(acknowledged.size).toBeGreaterThanOrEqual(ROUNDS);

    const db = new Database(join(dataDir, 'mlcost.db'));
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');

      const batches = db
        .prepare('SELECT sequence, windows FROM batches WHERE agent_id = ? ORDER BY sequence')
        .all(AGENT) as Array<{ sequence: number; windows: number }>;
      const stored = new Map(batches.map((b) => [b.sequence, b.windows]));
      const nodeWindows = db.prepare(
        'SELECT count(*) AS n FROM node_windows WHERE node = ? AND start >= ? AND start < ?',
      );
      const gpuWindows = db.prepare(
        'SELECT count(*) AS n FROM gpu_windows WHERE node = ? AND start >= ? AND start < ?',
      );
      const windowsOf = (sequence: number) =>
        (nodeWindows.get(NODE, windowStart(sequence, 0), windowStart(sequence + 1, 0)) as { n: number }).n;
      const gpuRowsOf = (sequence: number) =>
        (gpuWindows.get(NODE, windowStart(sequence, 0), windowStart(sequence + 1, 0)) as { n: number }).n;

      // Every acknowledged batch is there, with all its windows and all their GPU rows.
      const lost = [...acknowledged].filter((s) => !stored.has(s));
      expect(lost, `acknowledged but missing after a crash (seed ${seed})`).toEqual([]);
      for (const sequence of acknowledged) {
        expect(windowsOf(sequence), `node windows of acknowledged batch ${sequence}`).toBe(WINDOWS_PER_BATCH);
        expect(gpuRowsOf(sequence), `GPU rows of acknowledged batch ${sequence}`).toBe(2 * WINDOWS_PER_BATCH);
      }

      // No batch is stored in part: each batch row's window count matches the rows stored for it.
      for (const { sequence, windows } of batches) {
        expect(windows, `batch ${sequence} row`).toBe(WINDOWS_PER_BATCH);
        expect(windowsOf(sequence), `node windows of stored batch ${sequence}`).toBe(windows);
        expect(gpuRowsOf(sequence), `GPU rows of stored batch ${sequence}`).toBe(2 * windows);
      }

      // And no window is stored without its batch row.
      const totalWindows = (db.prepare('SELECT count(*) AS n FROM node_windows').get() as { n: number }).n;
      expect(totalWindows).toBe(batches.length * WINDOWS_PER_BATCH);
      const totalGpuRows = (db.prepare('SELECT count(*) AS n FROM gpu_windows').get() as { n: number }).n;
      expect(totalGpuRows).toBe(batches.length * WINDOWS_PER_BATCH * 2);

      // Sequences the driver never sent are not there.
      expect(batches.every((b) => b.sequence < nextSequence)).toBe(true);
    } finally {
      db.close();
    }
  });
});
