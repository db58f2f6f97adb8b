// The query benchmark at sizes too big for `npm run bench` (the 5,000-node cluster; the 30-day models query and
// 14 days of rightsizing history): builds a history with bench/history.ts and measures the queries of
// bench/queries.bench.ts over it, each in a fresh process. Prints the table and a JSON report.
//
//   npx tsx bench/queries-scale.ts [--nodes 5000] [--days 30] [--real-days 1] [--copy summaries|rollups]
//                                  [--raw-days 1] [--window 1h] [--reps 21] [--slow-reps 3] [--models-days 1,30]
//                                  [--skip models,rightsizing] [--keep]
//
// The store goes to a temporary folder and is removed afterwards unless --keep is given.
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDuration } from '../core/units.ts';
import { buildHistory, type HistoryOptions } from './history.ts';
import { historyNote, measureQuery, queryRows, querySpecs } from './queries.bench.ts';
import { type Row, renderTable } from './table.ts';

interface Options {
  nodes: number;
  days: number;
  realDays: number;
  copy: HistoryOptions['copy'];
  rawDays: number;
  windowMs: number;
  reps: number;
  slowReps: number;
  modelsDays: number[];
  skip: Set<string>;
  keep: boolean;
}

function parseArgs(argv: readonly string[]): Options {
  const options: Options = {
    nodes: 5000,
    days: 30,
    realDays: 1,
    copy: 'summaries',
    rawDays: 1,
    windowMs: 3_600_000,
    reps: 21,
    slowReps: 3,
    modelsDays: [1],
    skip: new Set(),
    keep: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = () => argv[++i] ?? '';
    if (arg === '--nodes') options.nodes = Number(value());
    else if (arg === '--days') options.days = Number(value());
    else if (arg === '--real-days') options.realDays = Number(value());
    else if (arg === '--copy') options.copy = value() === 'rollups' ? 'rollups' : 'summaries';
    else if (arg === '--raw-days') options.rawDays = Number(value());
    else if (arg === '--window') options.windowMs = parseDuration(value());
    else if (arg === '--reps') options.reps = Number(value());
    else if (arg === '--slow-reps') options.slowReps = Number(value());
    else if (arg === '--models-days') options.modelsDays = value().split(',').filter(Boolean).map(Number);
    else if (arg === '--skip') options.skip = new Set(value().split(',').filter(Boolean));
    else if (arg === '--keep') options.keep = true;
    else if (arg === '--help' || arg === '-h') {
      process.stdout.write(
        'usage: tsx bench/queries-scale.ts [--nodes N] [--days N] [--real-days N] [--copy summaries|rollups] [--raw-days N] [--window 1h] [--reps N] [--slow-reps N] [--models-days 1,30] [--skip models,rightsizing] [--keep]\n',
      );
      process.exit(0);
    } else throw new Error(`unknown option ${arg} (see --help)`);
  }
  return options;
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const started = performance.now();
  const log = (line: string) =>
    process.stderr.write(
      `queries-scale [${((performance.now() - started) / 1000).toFixed(1)} s, load ${loadavg()[0]!.toFixed(1)}]: ${line}\n`,
    );
  const dir = mkdtempSync(join(tmpdir(), 'mlcost-queries-scale-'));
  const file = join(dir, 'mlcost.db');
  try {
    const history = await buildHistory({
      file,
      nodes: options.nodes,
      days: options.days,
      realDays: options.realDays,
      copy: options.copy,
      rawDays: options.rawDays,
      windowMs: options.windowMs,
      log,
    });
    log(historyNote(history));
    const specs = querySpecs(history, {
      reps: options.reps,
      slowReps: options.slowReps,
      modelsDays: options.modelsDays,
    }).filter((spec) => ![...options.skip].some((name) => spec.name.startsWith(name)));
    const rows: Row[] = [
      {
        name: `history build, ${options.nodes} nodes`,
        figure: history.seconds.total,
        unit: 's',
        note: historyNote(history),
      },
    ];
    const measured = [];
    for (const spec of specs) {
      const m = await measureQuery(file, history.end, spec);
      log(
        `${spec.name}: median ${m.medianMs.toFixed(1)} ms, p99 ${m.p99Ms.toFixed(1)} ms, CPU median ${m.medianCpuMs.toFixed(1)} ms, peak RSS ${m.peakRssMiB.toFixed(0)} MiB`,
      );
      rows.push(...queryRows(history, m));
      measured.push({
        name: spec.name,
        path: spec.path,
        wallMs: m.wallMs.map((v) => Math.round(v * 10) / 10),
        cpuMs: m.cpuMs.map((v) => Math.round(v * 10) / 10),
        medianMs: m.medianMs,
        p99Ms: m.p99Ms,
        medianCpuMs: m.medianCpuMs,
        peakRssMiB: Math.round(m.peakRssMiB),
        baseRssMiB: Math.round(m.baseRssMiB),
        bytes: m.bytes,
        load: m.load,
      });
    }
    process.stdout.write(`${renderTable(rows)}\n\n`);
    const report = {
      history,
      queries: measured,
      machine: {
        cpus: cpus().length,
        cpu: cpus()[0]?.model ?? 'unknown',
        node: process.version,
        loadAverage1m: loadavg()[0],
      },
      seconds: Math.round((performance.now() - started) / 100) / 10,
      store: options.keep ? file : '(removed)',
    };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } finally {
    if (!options.keep) rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
