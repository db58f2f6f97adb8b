// Helpers for the delivery end-to-end tests (issue 4): start real `mlcost collector` and `mlcost agent` processes,
// read what an agent made (its sequence file, spool, dead-letter folder, log and /metrics) and what the collector
// stored (its SQLite file), and read a process's resident memory from /proc.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { cleanEnv, MlcostProcess } from './mlcost-process.ts';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface RunningCollector {
  process: MlcostProcess;
  url: string;
}

export interface RunningAgent {
  process: MlcostProcess;
  metricsUrl: string;
}

/** Starts `mlcost collector` on 127.0.0.1:`port` and waits until it says it is running. */
export async function startCollector(options: {
  cwd: string;
  dataDir: string;
  port: number;
  env?: Record<string, string>;
  set?: string[];
}): Promise<RunningCollector> {
  const process = new MlcostProcess(
    [
      'collector',
      '--listen',
      `127.0.0.1:${options.port}`,
      '--data-dir',
      options.dataDir,
      ...(options.set ?? []).flatMap((pair) => ['--set', pair]),
    ],
    { cwd: options.cwd, env: cleanEnv({ MLCOST_LOG_LEVEL: 'info', ...options.env }) },
  );
  const [, url] = await process.waitForStdout(/mlcost collector is running at (http:\/\/\S+)\n/, 60_000);
  return { process, url: url! };
}

/** Starts `mlcost agent` reading the host source only, its /metrics on 127.0.0.1:`listenPort`. */
export async function startAgent(options: {
  cwd: string;
  dataDir: string;
  nodeName: string;
  collectorUrl: string;
  listenPort: number;
  interval?: string;
  window?: string;
  env?: Record<string, string>;
  set?: string[];
}): Promise<RunningAgent> {
  const process = new MlcostProcess(
    [
      'agent',
      '--collector-url',
      options.collectorUrl,
      '--node-name',
      options.nodeName,
      '--data-dir',
      options.dataDir,
      '--sources',
      'host',
      '--interval',
      options.interval ?? '1s',
      '--window',
      options.window ?? '2s',
      '--agent-listen',
      `127.0.0.1:${options.listenPort}`,
      ...(options.set ?? []).flatMap((pair) => ['--set', pair]),
    ],
    { cwd: options.cwd, env: cleanEnv({ MLCOST_LOG_LEVEL: 'info', ...options.env }) },
  );
  const [, url] = await process.waitForStdout(/mlcost agent is running; metrics at (http:\/\/\S+)\n/, 60_000);
  return { process, metricsUrl: url! };
}

/** Batches the agent has numbered so far: its sequence file holds the next number, and numbering starts at 0. */
export function sequenceNext(dataDir: string, nodeName: string): number {
  const file = join(dataDir, 'agent', `${nodeName.replace(/[^A-Za-z0-9._-]/g, '_')}.sequence.json`);
  if (!existsSync(file)) return 0;
  return (JSON.parse(readFileSync(file, 'utf8')) as { next: number }).next;
}

const BATCH_FILE = /^(\d{16})-\d{13,}-(\d+)\.batch\.gz$/;

/** Sequences of the batches waiting in an agent's spool (the folder spool/ under its data folder). */
export function spooledSequences(dataDir: string): number[] {
  return batchFilesIn(join(dataDir, 'spool')).map((f) => f.sequence);
}

/** Batches the agent moved aside as rejected: spool/dead-letter/ under its data folder. */
export function deadLetterFiles(dataDir: string): Array<{ sequence: number; windows: number; file: string }> {
  return batchFilesIn(join(dataDir, 'spool', 'dead-letter'));
}

function batchFilesIn(dir: string): Array<{ sequence: number; windows: number; file: string }> {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((name) => ({ name, match: BATCH_FILE.exec(name) }))
    .filter((entry) => entry.match !== null)
    .map(({ name, match }) => ({
      sequence: Number(match![1]),
      windows: Number(match![2]),
      file: join(dir, name),
    }))
    .sort((a, b) => a.sequence - b.sequence);
}

export interface StoredBatches {
  /** (sequence, windows) rows of the batches table for the agent, by sequence. */
  batches: Array<{ sequence: number; windows: number; receivedAt: number }>;
  /** Rows of node_windows for the node. */
  nodeWindows: number;
}

/** What the collector's SQLite file holds for one node's agent (any instance); undefined while the file does not exist yet. */
export function stored(dbPath: string, agentId: string, node = agentId): StoredBatches | undefined {
  if (!existsSync(dbPath)) return undefined;
  const db = new Database(dbPath, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    const batches = db
      .prepare(
        // An agent's id is its node name and its sequence file's instance (agent/sequence-file.ts): `node/3fa94c1e`.
        `SELECT sequence, windows, received_at AS receivedAt FROM batches
         WHERE agent_id = @id OR substr(agent_id, 1, length(@id) + 1) = @id || '/' ORDER BY sequence`,
      )
      .all({ id: agentId }) as StoredBatches['batches'];
    const nodeWindows = (
      db.prepare('SELECT count(*) AS n FROM node_windows WHERE node = ?').get(node) as { n: number }
    ).n;
    return { batches, nodeWindows };
  } catch (error) {
    if ((error as Error).message.includes('no such table')) return undefined; // not migrated yet
    throw error;
  } finally {
    db.close();
  }
}

/** Runs `read` on the collector's SQLite file (opened for this call only). */
export function withDatabase<T>(dbPath: string, read: (db: Database.Database) => T): T {
  const db = new Database(dbPath, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    return read(db);
  } finally {
    db.close();
  }
}

/** 0, 1, …, n − 1. */
export const range = (from: number, to: number) =>
  Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);

/** The value of one sample in Prometheus text format, e.g. metricValue(text, 'x_total', { reason: 'bytes' }). */
export function metricValue(
  text: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!match || match[1] !== name) continue;
    const given = new Map<string, string>();
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      given.set(pair[1]!, pair[2]!);
    if (Object.entries(labels).every(([key, value]) => given.get(key) === value)) return Number(match[3]);
  }
  return undefined;
}

/** GETs a /metrics page. */
export async function scrape(metricsUrl: string): Promise<string> {
  const response = await fetch(metricsUrl, { signal: AbortSignal.timeout(5_000) });
  if (response.status !== 200) throw new Error(`${metricsUrl} answered ${response.status}`);
  return response.text();
}

/** The JSON log lines (pino) a process wrote to stderr. */
export function logLines(stderr: string): Array<Record<string, unknown> & { msg?: string; level?: string }> {
  const lines: Array<Record<string, unknown>> = [];
  for (const line of stderr.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      lines.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // a line cut by the end of the buffer
    }
  }
  return lines as Array<Record<string, unknown> & { msg?: string; level?: string }>;
}

/** Resident memory of a process from /proc/<pid>/status (VmRSS, in bytes). */
export function rssBytes(pid: number): number {
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}

/** Sends SIGTERM to the process running mlcost. */
export function terminate(process: MlcostProcess): void {
  process.signal('SIGTERM');
}

/** Sends SIGTERM (see terminate) and waits for a clean exit (code 0), failing with the process's log otherwise. */
export async function stopCleanly(process: MlcostProcess, what: string, timeoutMs = 20_000): Promise<void> {
  terminate(process);
  const exit = await process.waitForExit(timeoutMs);
  if (exit.code !== 0 || exit.signal !== null) {
    throw new Error(
      `${what} exited with ${JSON.stringify(exit)} after SIGTERM, not 0; stdout: ${process.stdout.slice(-1000)}; stderr: ${process.stderr.slice(-3000)}`,
    );
  }
}

/** Awaits `waiting`; if it fails, fails with the end of the logs of `processes` added, to show why. */
export async function showingLogs<T>(
  waiting: Promise<T>,
  processes: Record<string, MlcostProcess>,
): Promise<T> {
  try {
    return await waiting;
  } catch (error) {
    const logs = Object.entries(processes)
      .map(([name, process]) => `${name} log: ${process.stderr.slice(-2000)}`)
      .join('\n');
    throw new Error(`${(error as Error).message}\n${logs}`);
  }
}
