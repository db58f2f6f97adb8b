// Simulated history for the tests that serve it: the real `mlcost simulate --backfill` writes a seeded cluster's
// days at one-hour windows into a SQLite store in a test's temporary folder, ending at the current whole hour, and
// a real `mlcost collector` serves that store on a free loopback port.
import { join } from 'node:path';
import { expect } from 'vitest';
import { cleanEnv, freePort, MlcostProcess, runMlcost } from './mlcost-process.ts';

const HOUR = 3_600_000;

export interface SimulatedStore {
  /** The store's file, mlcost.db in the given folder. */
  db: string;
  /** The end of the last simulated hour (ms since the epoch): the current hour, rounded down. */
  end: number;
}

/** Runs `mlcost simulate --backfill` in `dir` (failing the test if it fails) into `dir`/mlcost.db. */
export function backfillSimulated(
  dir: string,
  options: { seed: number; nodes: number; days: number },
): SimulatedStore {
  const db = join(dir, 'mlcost.db');
  const end = Math.floor(Date.now() / HOUR) * HOUR;
  const simulate = runMlcost(
    [
      'simulate',
      '--seed',
      String(options.seed),
      '--nodes',
      String(options.nodes),
      '--days',
      String(options.days),
      '--window',
      '1h',
      '--end',
      new Date(end).toISOString(),
      '--backfill',
      '--db',
      db,
    ],
    { cwd: dir, timeoutMs: 120_000 },
  );
  expect(simulate.status, simulate.stderr).toBe(0);
  return { db, end };
}

/** Starts `mlcost collector` in `dir` serving the store `db` (warnings and errors logged only) and waits for its URL. */
export async function serveStore(
  dir: string,
  db: string,
  env: NodeJS.ProcessEnv = cleanEnv(),
): Promise<{ process: MlcostProcess; url: string }> {
  const port = await freePort();
  const process = new MlcostProcess(
    [
      'collector',
      '--listen',
      `127.0.0.1:${port}`,
      '--data-dir',
      dir,
      '--set',
      `collector.database=${db}`,
      '--log-level',
      'warn',
    ],
    { env, cwd: dir },
  );
  const [, url] = await process.waitForStdout(/running at (http:\/\/\S+)/, 60_000);
  return { process, url: url! };
}
