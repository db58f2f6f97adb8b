// Backfill at the scale of the largest clusters: writes the simulated history of a 5,000-node, 40,000-GPU cluster
// (14 days at 1h windows: 1.68 million node-windows) into a temporary collector store through `mlcost simulate`'s
// backfill, and prints the time, the peak resident memory and the store's size, with rates that let a shorter run be
// scaled up (time and size grow with node-windows; memory does not: batches are written and dropped a day at a time).
//
//   npx tsx bench/backfill-scale.ts [--nodes 5000] [--gpus 40000] [--days 14] [--window 1h] [--seed 1] [--keep]
//
// The store goes to a temporary folder and is removed afterwards unless --keep is given.
import { mkdtempSync, rmSync, statfsSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../collector/store/store.ts';
import { parseDuration } from '../core/units.ts';
import { backfill } from '../simulator/backfill.ts';
import { generateCluster } from '../simulator/cluster.ts';
import { DAY } from '../simulator/schedule.ts';

interface Options {
  nodes: number;
  gpus: number;
  days: number;
  windowMs: number;
  seed: number;
  keep: boolean;
}

function parseArgs(argv: readonly string[]): Options {
  const options: Options = {
    nodes: 5000,
    gpus: 40_000,
    days: 14,
    windowMs: parseDuration('1h'),
    seed: 1,
    keep: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = () => argv[++i] ?? '';
    if (arg === '--nodes') options.nodes = Number(value());
    else if (arg === '--gpus') options.gpus = Number(value());
    else if (arg === '--days') options.days = Number(value());
    else if (arg === '--window') options.windowMs = parseDuration(value());
    else if (arg === '--seed') options.seed = Number(value());
    else if (arg === '--keep') options.keep = true;
    else if (arg === '--help' || arg === '-h') {
      process.stdout.write(
        'usage: tsx bench/backfill-scale.ts [--nodes N] [--gpus N] [--days N] [--window 1h] [--seed N] [--keep]\n',
      );
      process.exit(0);
    } else throw new Error(`unknown option ${arg} (see --help)`);
  }
  return options;
}

const mib = (bytes: number) => Math.round(bytes / 2 ** 20);

function main(): void {
  const options = parseArgs(process.argv.slice(2));
  const dir = mkdtempSync(join(tmpdir(), 'mlcost-backfill-scale-'));
  const file = join(dir, 'mlcost.db');
  const end = Date.parse('2025-06-15T00:00:00Z');
  const from = end - options.days * DAY;
  const started = performance.now();
  const cpuStarted = process.cpuUsage();
  try {
    const cluster = generateCluster({ seed: options.seed, nodes: options.nodes, gpus: options.gpus });
    const generated = performance.now();
    const store = openStore(file);
    let lastReport = performance.now();
    const result = backfill(store, cluster, {
      from,
      to: end,
      windowMs: options.windowMs,
      onProgress: (done, total) => {
        if (performance.now() - lastReport < 10_000 && done < total) return;
        lastReport = performance.now();
        const seconds = (performance.now() - started) / 1000;
        process.stderr.write(
          `${new Date().toISOString()} ${done}/${total} node-windows, ${seconds.toFixed(0)} s, store ${mib(store.sizeBytes())} MiB, rss ${mib(process.memoryUsage().rss)} MiB, load ${loadavg()[0]!.toFixed(1)}\n`,
        );
      },
    });
    store.close();
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuStarted);
    const storeBytes = openStore(file).sizeBytes();
    const rows = result.nodeWindows + result.gpuWindows + result.containerWindows + result.modelWindows;
    const free = statfsSync(dir);
    const report = {
      cluster: { nodes: cluster.nodes.length, gpus: cluster.gpuCount, seed: options.seed },
      history: {
        days: options.days,
        windowSeconds: options.windowMs / 1000,
        from: new Date(from).toISOString(),
        to: new Date(end).toISOString(),
      },
      written: { ...result, rows },
      seconds: Math.round(seconds * 10) / 10,
      generateClusterSeconds: Math.round(generated - started) / 1000,
      cpuSeconds: Math.round((cpu.user + cpu.system) / 1e5) / 10,
      peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
      storeMiB: mib(storeBytes),
      rates: {
        nodeWindowsPerSecond: Math.round(result.nodeWindows / seconds),
        rowsPerSecond: Math.round(rows / seconds),
        storeBytesPerNodeWindow: Math.round(storeBytes / result.nodeWindows),
        storeBytesPerRow: Math.round(storeBytes / rows),
      },
      machine: {
        cpus: cpus().length,
        cpu: cpus()[0]?.model ?? 'unknown',
        node: process.version,
        loadAverage1m: loadavg()[0],
      },
      diskFreeGiB: Math.round(((free.bavail * free.bsize) / 2 ** 30) * 10) / 10,
      store: options.keep ? file : '(removed)',
    };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } finally {
    if (!options.keep) rmSync(dir, { recursive: true, force: true });
  }
}

main();
