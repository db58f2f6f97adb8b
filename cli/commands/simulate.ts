// `mlcost simulate`: a simulated GPU cluster for the demo, tests and benchmarks. One seeded generator
// (simulator/cluster.ts) gives the cluster; from it this command can
//   --backfill   write its history into a collector store (coarse windows, marked simulated),
//   --truth      write what was planted in that history as JSON (sorted keys: same seed, same bytes),
//   --serve      serve live endpoints (API server, kubelet, dcgm-exporter, pod-resources, model servers) that the
//                real agent reads unchanged, printing their addresses as JSON, until interrupted.
// `runDemo()` is `npm run demo`: a week of a 20-node GPU cluster backfilled into ./data/demo.db, kept live minute by
// minute, with the collector serving it.
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { listen } from '../../collector/api/server.ts';
import { createCollector } from '../../collector/collector.ts';
import { openStore } from '../../collector/store/store.ts';
import { loadConfig } from '../../core/config/load.ts';
import { createLogger } from '../../core/logger.ts';
import { type Batch, batchSchema } from '../../core/protocol/batch.ts';
import { parseDuration } from '../../core/units.ts';
import { alignDown, backfill, checkWindow } from '../../simulator/backfill.ts';
import { type Cluster, generateCluster, POOL_NAMES, type PoolName } from '../../simulator/cluster.ts';
import { DAY, MINUTE } from '../../simulator/schedule.ts';
import { serve } from '../../simulator/serve.ts';
import { stableStringify } from '../../simulator/stable-json.ts';
import { groundTruth } from '../../simulator/truth.ts';
import { nodeWindow } from '../../simulator/usage.ts';
import { onShutdown } from '../shutdown.ts';

export interface SimulateOptions {
  seed: number;
  nodes: number;
  gpus?: number;
  pools?: Partial<Record<PoolName, number>>;
  days: number;
  /** End of the history (ms); default now, rounded down to the window. */
  end?: number;
  windowMs: number;
  backfill?: boolean;
  db?: string;
  truth?: string;
  serve?: boolean;
  serveNodes?: string[];
  /** Simulated time when serving starts (ms); default now. */
  start?: number;
  dir?: string;
}

function wholeNumber(name: string, min: number) {
  return (text: string): number => {
    const value = Number(text);
    if (!Number.isInteger(value) || value < min)
      throw new Error(`--${name} ${text}: expected a whole number ≥ ${min}`);
    return value;
  };
}

function time(name: string) {
  return (text: string): number => {
    const value = Date.parse(text);
    if (Number.isNaN(value))
      throw new Error(`--${name} ${text}: expected a time such as 2025-06-01T00:00:00Z`);
    return value;
  };
}

/** `h100=2,cpu=1` → pool weights. */
export function parsePools(text: string): Partial<Record<PoolName, number>> {
  const pools: Partial<Record<PoolName, number>> = {};
  for (const part of text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const [name, weight = '1'] = part.split('=');
    if (!POOL_NAMES.includes(name as PoolName)) {
      throw new Error(`--pools ${text}: unknown pool "${name}"; pools are ${POOL_NAMES.join(', ')}`);
    }
    const value = Number(weight);
    if (!(value >= 0)) throw new Error(`--pools ${text}: weight of ${name} must be a number ≥ 0`);
    pools[name as PoolName] = value;
  }
  return pools;
}

function clusterSummary(cluster: Cluster) {
  const pools: Record<string, number> = {};
  let pods = 0;
  for (const node of cluster.nodes) {
    pools[node.pool] = (pools[node.pool] ?? 0) + 1;
    pods += node.seats.length;
  }
  return {
    simulated: true,
    seed: cluster.seed,
    nodes: cluster.nodes.length,
    gpus: cluster.gpuCount,
    pools,
    seats: pods,
  };
}

/** Runs what the options ask for; resolves with what to print, and a close() while serving. */
export async function runSimulate(
  options: SimulateOptions,
): Promise<{ report: Record<string, unknown>; close?: () => Promise<void> }> {
  checkWindow(options.windowMs);
  const cluster = generateCluster({
    seed: options.seed,
    nodes: options.nodes,
    gpus: options.gpus,
    mix: options.pools,
  });
  const report: Record<string, unknown> = { cluster: clusterSummary(cluster) };
  const to =
    options.end !== undefined
      ? alignDown(options.end, options.windowMs)
      : alignDown(Date.now(), options.windowMs);
  const from = to - options.days * DAY;
  const range = {
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
    windowSeconds: options.windowMs / 1000,
  };

  if (options.backfill) {
    if (!options.db) throw new Error('--backfill needs --db FILE (the collector store to write)');
    const store = openStore(options.db);
    const started = performance.now();
    try {
      const result = backfill(store, cluster, { from, to, windowMs: options.windowMs });
      report['backfill'] = {
        db: options.db,
        ...range,
        ...result,
        seconds: Math.round((performance.now() - started) / 10) / 100,
        storeBytes: store.sizeBytes(),
      };
    } finally {
      store.close();
    }
  }
  if (options.truth) {
    const text = stableStringify(groundTruth(cluster, { from, to, windowMs: options.windowMs }));
    if (options.truth === '-') process.stdout.write(text);
    else writeFileSync(options.truth, text);
    report['truth'] = { file: options.truth, ...range };
  }
  if (options.serve) {
    const serving = await serve({
      cluster,
      nodes: options.serveNodes,
      startAt: options.start,
      dir: options.dir,
    });
    report['serve'] = serving.info;
    return { report, close: () => serving.close() };
  }
  return { report };
}

export function registerSimulateCommand(program: Command): Command {
  return program
    .command('simulate')
    .description(
      'a simulated GPU cluster (nodes, GPUs, pods, jobs, model servers): backfill its history into a store, write its ground truth, or serve live endpoints the agent reads; everything it makes is marked simulated',
    )
    .option(
      '--seed <n>',
      'seed of the generator: the same seed gives the same cluster and history',
      wholeNumber('seed', 0),
      1,
    )
    .option('--nodes <n>', 'number of nodes', wholeNumber('nodes', 1), 20)
    .option(
      '--gpus <n>',
      'total GPUs, in 8-GPU nodes (default six per node on average)',
      wholeNumber('gpus', 0),
    )
    .option(
      '--pools <weights>',
      `node pool weights, e.g. h100=2,l4-shared=1 (pools: ${POOL_NAMES.join(', ')})`,
      parsePools,
    )
    .option('--days <n>', 'days of history for --backfill and --truth', wholeNumber('days', 1), 7)
    .option(
      '--end <time>',
      'end of the history, ISO 8601 (default now, rounded down to the window)',
      time('end'),
    )
    .option('--window <duration>', 'window of the history: 1m, 5m, 10m, 15m, 30m or 1h', '1h')
    .option('--backfill', 'write the history into the collector store --db')
    .option(
      '--db <file>',
      'SQLite store to backfill (the collector.database of the collector that will read it)',
    )
    .option('--truth <file>', "write the ground truth of the same range as JSON ('-' for stdout)")
    .option(
      '--serve',
      'serve live endpoints for the nodes (JSON of their addresses on stdout) until interrupted',
    )
    .option('--serve-nodes <names>', 'serve only these nodes (comma-separated)', (text: string) =>
      text.split(','),
    )
    .option('--start <time>', 'simulated time when serving starts, ISO 8601 (default now)', time('start'))
    .option(
      '--dir <folder>',
      'where --serve writes its kubeconfig, token, CA, sockets and per-node agent configs',
    )
    .action(async (flags: Record<string, unknown>) => {
      try {
        const { report, close } = await runSimulate({
          seed: flags['seed'] as number,
          nodes: flags['nodes'] as number,
          gpus: flags['gpus'] as number | undefined,
          pools: flags['pools'] as SimulateOptions['pools'],
          days: flags['days'] as number,
          end: flags['end'] as number | undefined,
          windowMs: parseDuration(flags['window'] as string),
          backfill: flags['backfill'] === true,
          db: flags['db'] as string | undefined,
          truth: flags['truth'] as string | undefined,
          serve: flags['serve'] === true,
          serveNodes: flags['serveNodes'] as string[] | undefined,
          start: flags['start'] as number | undefined,
          dir: flags['dir'] as string | undefined,
        });
        if (flags['truth'] !== '-') process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
        if (close) {
          const logger = createLogger({ level: 'info' });
          onShutdown(logger, close);
        }
      } catch (error) {
        process.stderr.write(`mlcost: ${(error as Error).message}\n`);
        process.exit(1);
      }
    });
}

export interface DemoOptions {
  seed?: number;
  nodes?: number;
  days?: number;
  /** History window; default 15m. */
  windowMs?: number;
  /** SQLite file; default <dataDir>/demo.db. */
  database?: string;
  /** Configuration file, as --config. */
  configFile?: string;
}

/** Writes every node's one-minute windows from `from` to `to` through the collector's ingest path. */
function feedMinutes(
  cluster: Cluster,
  ingest: { store(batch: Batch): unknown },
  from: number,
  to: number,
): void {
  for (const node of cluster.nodes) {
    for (let start = from; start < to; start += MINUTE) {
      ingest.store(
        batchSchema.parse({
          schemaVersion: 1,
          agentId: node.name,
          sequence: Math.floor(start / MINUTE),
          sentAt: new Date(start + MINUTE).toISOString(),
          windows: [nodeWindow(node, start, start + MINUTE)],
        }),
      );
    }
  }
}

/**
 * `npm run demo`: backfills a week of a 20-node GPU cluster into ./data/demo.db (replacing an older one), starts the
 * collector on it, and keeps the cluster live: every minute each node's last minute is written, so the nodes stay
 * "reporting" and the newest data is now.
 */
export async function runDemo(options: DemoOptions = {}): Promise<void> {
  const base = loadConfig({ file: options.configFile });
  const database = options.database ?? join(base.dataDir, 'demo.db');
  const config = { ...base, collector: { ...base.collector, database } };
  const logger = createLogger({ level: config.logLevel });
  const windowMs = options.windowMs ?? 15 * MINUTE;
  const days = options.days ?? 7;
  const cluster = generateCluster({ seed: options.seed ?? 1, nodes: options.nodes ?? 20 });

  for (const suffix of ['', '-wal', '-shm']) {
    if (existsSync(`${database}${suffix}`)) rmSync(`${database}${suffix}`);
  }
  const to = alignDown(Date.now(), windowMs);
  const started = performance.now();
  const store = openStore(database);
  let result: ReturnType<typeof backfill>;
  try {
    result = backfill(store, cluster, { from: to - days * DAY, to, windowMs });
  } finally {
    store.close();
  }
  logger.info(
    { database, ...result, seconds: Math.round(performance.now() - started) / 1000 },
    'demo history written',
  );

  const collector = createCollector(config, logger);
  let fedUntil = to;
  const feed = () => {
    const until = alignDown(Date.now(), MINUTE);
    if (until <= fedUntil) return;
    try {
      feedMinutes(cluster, collector.ingest, fedUntil, until);
      fedUntil = until;
    } catch (error) {
      logger.error({ err: error }, 'demo: writing the live minute failed');
    }
  };
  feed();
  const timer = setInterval(feed, 5_000);
  const server = await listen(collector.app, config.collector.listen);
  const summary = clusterSummary(cluster);
  process.stdout.write(
    `mlcost demo: a simulated cluster of ${summary.nodes} nodes and ${summary.gpus} GPUs, ${days} days of history, at ${server.url}\n` +
      `  try: curl -s ${server.url}/api/v1/nodes\n` +
      `       ${server.url}/api/v1/allocation?window=7d&aggregate=namespace\n` +
      `       ${server.url}/api/v1/rightsizing\n` +
      `       ${server.url}/api/v1/models?window=7d\n` +
      `       ${server.url}/api/v1/jobs?window=7d\n` +
      `  or open ${server.url}/ for the report page\n`,
  );
  onShutdown(logger, async () => {
    clearInterval(timer);
    await server.close();
    collector.close();
  });
}
