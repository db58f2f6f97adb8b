// Ingest benchmark (issue 10 "Ingest"): usage windows per second the collector stores through its real HTTP
// endpoint and through the store alone, against better-sqlite3's raw prepared-insert rate for the same rows on the
// same machine in the same run; target: collector ingest at least 40% of the raw rate.
//
// The windows: the simulator's cluster (simulator/cluster.ts, 8 GPUs per node) sampled as live agents report it,
// one 60 s window per node per minute, each window one batch (agent/agent.ts sends `windows: [window]`), sent as the
// agent's transport sends it: gzip JSON with a bearer token. Every path below stores the same windows, each in
// its own transaction (what one batch costs), into a fresh store file with the collector's durability settings
// (WAL, synchronous = FULL):
//
//   - raw: better-sqlite3 alone. The schema's window tables with their keys and indexes (migration 0001, no
//     roll-up trigger), one prepared INSERT per row with the values already flattened into arrays (what the batch
//     writer binds), a transaction per window. No decoding, no validation, no batch or node bookkeeping, no roll-up.
//   - store: the collector's batch writer (store.writeBatch) on batches already validated: dedup row, node upsert,
//     window rows, roll-up dirty mark.
//   - ingest service: IngestService.decode + store on the gzip bodies, in process (gunzip, JSON.parse, zod).
//   - HTTP: `mlcost collector` as a child process (node --import tsx cli/main.ts collector) on a loopback port;
//     this process POSTs the bodies to /api/v1/ingest, 4 requests in flight (many agents at once).
//
// Rates are windows per CPU-second of the process that stores them (process.cpuUsage in this process; utime +
// stime from /proc for the collector): on a shared machine wall time also counts other processes' turns and the
// disk's fsyncs. Wall-time rates are in the notes. Each path is warmed up on windows of its own first.
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import Database from 'better-sqlite3';
import { Registry } from 'prom-client';
import { createSharedTokenAuthenticator } from '../collector/ingest/auth.ts';
import { IngestService } from '../collector/ingest/ingest.ts';
import { createCollectorMetrics } from '../collector/metrics.ts';
import { m0001Initial } from '../collector/store/migrations/0001-initial.ts';
import { openStore } from '../collector/store/store.ts';
import { WINDOW_INSERT_SQL, type WindowRows, windowRows } from '../collector/store/window-rows.ts';
import { type Batch, batchSchema } from '../core/protocol/batch.ts';
import { generateCluster } from '../simulator/cluster.ts';
import { nodeWindow } from '../simulator/usage.ts';
import { cleanEnv, freePort, MlcostProcess } from '../test/support/mlcost-process.ts';
import { cpuSeconds } from './proc.ts';
import type { Row } from './table.ts';

const MINUTE = 60_000;
const TOKEN = 'bench-ingest-token';
const IN_FLIGHT = 4;

interface Sample {
  batch: Batch;
  body: Buffer;
  rows: number;
}

interface Rate {
  windows: number;
  rows: number;
  cpuSeconds: number;
  wallSeconds: number;
}

const perCpu = (rate: Rate) => rate.windows / rate.cpuSeconds;
const perWall = (rate: Rate) => rate.windows / rate.wallSeconds;
const cpuNow = () => {
  const used = process.cpuUsage();
  return (used.user + used.system) / 1e6;
};

/** Windows of `nodes` nodes for `minutes` minutes from `from`, as one-window batches in send order. */
function makeSamples(nodes: number, minutes: number, from: number): Sample[] {
  const cluster = generateCluster({ seed: 1, nodes, gpus: nodes * 8 });
  const samples: Sample[] = [];
  for (let minute = 0; minute < minutes; minute++) {
    const start = from + minute * MINUTE;
    for (const node of cluster.nodes) {
      const window = nodeWindow(node, start, start + MINUTE);
      const input = {
        schemaVersion: 1 as const,
        agentId: node.name,
        sequence: Math.floor(start / MINUTE),
        sentAt: new Date(start + MINUTE).toISOString(),
        windows: [window],
      };
      const body = gzipSync(JSON.stringify(input));
      samples.push({
        batch: batchSchema.parse(input),
        body,
        rows: 1 + window.gpus.length + window.containers.length + window.models.length,
      });
    }
  }
  return samples;
}

/** better-sqlite3 alone: the same rows, prepared inserts, one transaction per window. */
function rawRate(
  file: string,
  warm: readonly Sample[],
  measured: readonly Sample[],
): { perWindow: Rate; bulk: Rate } {
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.exec(m0001Initial.sql);
    const insertNode = db.prepare(WINDOW_INSERT_SQL.node);
    const insertGpu = db.prepare(WINDOW_INSERT_SQL.gpu);
    const insertContainer = db.prepare(WINDOW_INSERT_SQL.container);
    const insertModel = db.prepare(WINDOW_INSERT_SQL.model);
    const write = db.transaction((rows: WindowRows) => {
      insertNode.run(rows.node);
      for (const row of rows.gpus) insertGpu.run(row);
      for (const row of rows.containers) insertContainer.run(row);
      for (const row of rows.models) insertModel.run(row);
    });
    for (const sample of warm) write(windowRows(sample.batch.windows[0]!));
    const flat = measured.map((sample) => windowRows(sample.batch.windows[0]!));
    let cpu = cpuNow();
    let began = performance.now();
    for (const rows of flat) write(rows);
    const perWindow = rateOf(measured, cpuNow() - cpu, (performance.now() - began) / 1000);
    // The same rows again, shifted a day on, in one transaction: what a row costs without a commit per window.
    const later = measured.map((sample) => {
      const rows = windowRows(sample.batch.windows[0]!);
      const shift = (row: unknown[]) => {
        row[1] = (row[1] as number) + 86_400_000;
        row[2] = (row[2] as number) + 86_400_000;
      };
      shift(rows.node);
      for (const list of [rows.gpus, rows.containers, rows.models]) for (const row of list) shift(row);
      return rows;
    });
    const writeAll = db.transaction(() => {
      for (const rows of later) write(rows);
    });
    cpu = cpuNow();
    began = performance.now();
    writeAll();
    return { perWindow, bulk: rateOf(measured, cpuNow() - cpu, (performance.now() - began) / 1000) };
  } finally {
    db.close();
  }
}

function rateOf(measured: readonly Sample[], cpuSeconds: number, wallSeconds: number): Rate {
  return {
    windows: measured.length,
    rows: measured.reduce((sum, s) => sum + s.rows, 0),
    cpuSeconds,
    wallSeconds,
  };
}

/** The collector's batch writer on validated batches. */
function storeRate(file: string, warm: readonly Sample[], measured: readonly Sample[]): Rate {
  const store = openStore(file);
  try {
    for (const sample of warm) store.writeBatch(sample.batch, Date.now());
    const cpu = cpuNow();
    const began = performance.now();
    for (const sample of measured) store.writeBatch(sample.batch, Date.now());
    return rateOf(measured, cpuNow() - cpu, (performance.now() - began) / 1000);
  } finally {
    store.close();
  }
}

/** IngestService.decode + store on the gzip bodies, in this process (no HTTP). */
function serviceRate(file: string, warm: readonly Sample[], measured: readonly Sample[]): Rate {
  const store = openStore(file);
  try {
    const metrics = createCollectorMetrics(new Registry(), {
      version: 'bench',
      currency: 'USD',
      storeSizeBytes: () => 0,
      reportingNodes: () => [],
    });
    const ingest = new IngestService(store, metrics, {
      authenticator: createSharedTokenAuthenticator(TOKEN),
      maxBatchBytes: 8 * 2 ** 20,
    });
    const one = (sample: Sample) => ingest.store(ingest.decode(sample.body, 'gzip', 'application/json'));
    for (const sample of warm) one(sample);
    const cpu = cpuNow();
    const began = performance.now();
    for (const sample of measured) one(sample);
    return rateOf(measured, cpuNow() - cpu, (performance.now() - began) / 1000);
  } finally {
    store.close();
  }
}

async function post(url: string, sample: Sample): Promise<void> {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'content-encoding': 'gzip',
      authorization: `Bearer ${TOKEN}`,
    },
    body: sample.body,
  });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`ingest answered ${response.status}: ${text.slice(0, 300)}`);
}

/** Sends every sample with `IN_FLIGHT` requests at a time. */
async function sendAll(url: string, samples: readonly Sample[]): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < samples.length) await post(url, samples[next++]!);
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
}

/** `mlcost collector` as a child process, fed over HTTP; its CPU from /proc. */
async function httpRate(dir: string, warm: readonly Sample[], measured: readonly Sample[]): Promise<Rate> {
  const port = await freePort();
  const collector = new MlcostProcess(
    ['collector', '--listen', `127.0.0.1:${port}`, '--data-dir', join(dir, 'data')],
    { cwd: dir, env: cleanEnv({ MLCOST_COLLECTOR_INGEST_TOKEN: TOKEN, MLCOST_LOG_LEVEL: 'warn' }) },
  );
  try {
    const [, base] = await collector.waitForStdout(/mlcost collector is running at (http:\/\/\S+)\n/, 60_000);
    const url = `${base}/api/v1/ingest`;
    await sendAll(url, warm);
    const cpu = cpuSeconds(collector.pid)!;
    const began = performance.now();
    await sendAll(url, measured);
    const wall = (performance.now() - began) / 1000;
    return rateOf(measured, cpuSeconds(collector.pid)! - cpu, wall);
  } finally {
    collector.signal('SIGTERM');
    await collector.waitForExit(15_000).catch(() => undefined);
  }
}

export async function runIngestBench(options: {
  quick: boolean;
  log: (line: string) => void;
}): Promise<Row[]> {
  const nodes = options.quick ? 50 : 200;
  const minutes = options.quick ? 4 : 10;
  const warmMinutes = options.quick ? 1 : 2;
  const dir = mkdtempSync(join(tmpdir(), 'mlcost-bench-ingest-'));
  try {
    // Windows from the start of this hour on, as live agents would send now: the collector's roll-up timer only
    // rolls up hours that ended, so none of its work falls into the measurement.
    const from = Math.floor(Date.now() / 3_600_000) * 3_600_000;
    const samples = makeSamples(nodes, minutes, from);
    const warm = samples.slice(0, warmMinutes * nodes);
    const measured = samples.slice(warmMinutes * nodes);
    const rowsPerWindow = measured.reduce((sum, s) => sum + s.rows, 0) / measured.length;
    const bodyKiB = measured.reduce((sum, s) => sum + s.body.byteLength, 0) / measured.length / 1024;
    options.log(
      `ingest: ${measured.length} windows (${nodes} nodes × ${minutes - warmMinutes} min after ${warm.length} warm-up), ${rowsPerWindow.toFixed(1)} rows and ${bodyKiB.toFixed(1)} KiB gzip per window`,
    );
    const { perWindow: raw, bulk } = rawRate(join(dir, 'raw.db'), warm, measured);
    options.log(
      `ingest: raw ${perCpu(raw).toFixed(0)} windows/CPU-s (${perWall(raw).toFixed(0)}/s wall); in one transaction ${perCpu(bulk).toFixed(0)}`,
    );
    const store = storeRate(join(dir, 'store.db'), warm, measured);
    options.log(
      `ingest: store ${perCpu(store).toFixed(0)} windows/CPU-s (${perWall(store).toFixed(0)}/s wall)`,
    );
    const service = serviceRate(join(dir, 'service.db'), warm, measured);
    options.log(
      `ingest: ingest service ${perCpu(service).toFixed(0)} windows/CPU-s (${perWall(service).toFixed(0)}/s wall)`,
    );
    const http = await httpRate(dir, warm, measured);
    options.log(`ingest: HTTP ${perCpu(http).toFixed(0)} windows/CPU-s (${perWall(http).toFixed(0)}/s wall)`);
    const peer = { peer: 'raw better-sqlite3', peerFigure: perCpu(raw), better: 'higher' as const };
    const detail = (rate: Rate) =>
      `${rate.windows} windows, ${rate.rows.toLocaleString('en-US')} rows; ${rate.cpuSeconds.toFixed(2)} CPU-s, ${rate.wallSeconds.toFixed(2)} s wall (${perWall(rate).toFixed(0)} windows/s wall)`;
    const label = `ingest (${rowsPerWindow.toFixed(1)} rows/window)`;
    return [
      {
        name: `${label}: raw better-sqlite3 inserts`,
        figure: perCpu(raw),
        unit: 'windows/CPU-s',
        note: `${nodes}-node simulated cluster, one 60 s window per node per minute, ${bodyKiB.toFixed(1)} KiB gzip per window; raw: ${detail(raw)}; load average ${loadavg()[0]!.toFixed(2)}`,
      },
      {
        name: `${label}: raw, all windows in one transaction (context)`,
        figure: perCpu(bulk),
        unit: 'windows/CPU-s',
        note: `the same rows with no commit per window (not what an agent's batch costs): ${detail(bulk)}; ${Math.round(bulk.rows / bulk.cpuSeconds).toLocaleString('en-US')} rows/CPU-s`,
      },
      {
        name: `${label}: store.writeBatch (validated batches)`,
        figure: perCpu(store),
        unit: 'windows/CPU-s',
        ...peer,
        note: detail(store),
      },
      {
        name: `${label}: ingest service (gunzip + JSON + batch check + store)`,
        figure: perCpu(service),
        unit: 'windows/CPU-s',
        ...peer,
        note: detail(service),
      },
      {
        name: `${label}: HTTP POST /api/v1/ingest (mlcost collector)`,
        figure: perCpu(http),
        unit: 'windows/CPU-s',
        ...peer,
        note: `collector process CPU; ${IN_FLIGHT} requests in flight; ${detail(http)}`,
      },
      {
        name: `${label}: HTTP vs target 40% of raw`,
        figure: perCpu(http) / perCpu(raw),
        unit: 'of raw',
        peer: 'target',
        peerFigure: 0.4,
        better: 'higher',
      },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
