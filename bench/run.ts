// `npm run bench`: runs every benchmark and prints one table at the end. `npm run bench -- --quick` runs each
// briefly (the CI smoke: it proves the benchmarks still run, it judges no figure). No benchmark asserts a time:
// the exit status says only whether every benchmark ran.
//
// Options:
//   --quick           short runs (1 s agent sampling, few repetitions, a 20k-sample synthetic scrape, 50-node
//                     ingest and query histories)
//   --only <names>    comma-separated benchmark names to run (parser, agent, ingest, queries)
//   --json <file>     also write the rows (and the machine) as JSON
import { writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { runAgentBench } from './agent.bench.ts';
import { runIngestBench } from './ingest.bench.ts';
import { runParserBench } from './parser.bench.ts';
import { runQueriesBench } from './queries.bench.ts';
import { type Row, ratioOf, renderTable } from './table.ts';

interface Benchmark {
  name: string;
  run: (options: { quick: boolean; log: (line: string) => void }) => Promise<Row[]>;
}

/** Every benchmark, in the order they run (backfill and query scale runs are separate scripts: BENCHMARKS.md). */
const BENCHMARKS: readonly Benchmark[] = [
  { name: 'parser', run: runParserBench },
  { name: 'agent', run: runAgentBench },
  { name: 'ingest', run: runIngestBench },
  { name: 'queries', run: runQueriesBench },
];

function parseArgs(argv: readonly string[]): { quick: boolean; only?: Set<string>; json?: string } {
  const result: { quick: boolean; only?: Set<string>; json?: string } = { quick: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--quick') result.quick = true;
    else if (arg === '--only') result.only = new Set((argv[++i] ?? '').split(',').filter(Boolean));
    else if (arg.startsWith('--only=')) result.only = new Set(arg.slice(7).split(',').filter(Boolean));
    else if (arg === '--json') result.json = argv[++i];
    else if (arg.startsWith('--json=')) result.json = arg.slice(7);
    else if (arg === '--help' || arg === '-h') {
      process.stdout.write(
        'usage: npm run bench -- [--quick] [--only parser,agent,ingest,queries] [--json file]\n',
      );
      process.exit(0);
    } else throw new Error(`unknown option ${arg} (see --help)`);
  }
  return result;
}

/** The 1-minute load average: on a shared machine, a high one means the CPU figures include contention. */
const load = () => loadavg()[0]!.toFixed(2);

interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  platform: string;
}

function machine(): Machine {
  const cpu = cpus()[0];
  return {
    cpu: cpu?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const started = performance.now();
  const log = (line: string) =>
    process.stderr.write(`bench [${((performance.now() - started) / 1000).toFixed(1)} s]: ${line}\n`);
  const selected = BENCHMARKS.filter((benchmark) => !args.only || args.only.has(benchmark.name));
  if (args.only) {
    const unknown = [...args.only].filter((name) => !BENCHMARKS.some((b) => b.name === name));
    if (unknown.length > 0) throw new Error(`unknown benchmark ${unknown.join(', ')}`);
  }
  const loadAtStart = load();
  const rows: Row[] = [];
  const failures: string[] = [];
  for (const benchmark of selected) {
    const benchStarted = performance.now();
    log(`${benchmark.name}: starting${args.quick ? ' (quick)' : ''}`);
    try {
      rows.push(...(await benchmark.run({ quick: args.quick, log })));
      log(`${benchmark.name}: done in ${((performance.now() - benchStarted) / 1000).toFixed(1)} s`);
    } catch (error) {
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      failures.push(`${benchmark.name}: ${message}`);
      log(`${benchmark.name}: FAILED: ${message}`);
    }
  }
  const seconds = (performance.now() - started) / 1000;
  const info = { ...machine(), loadAverageAtStart: loadAtStart, loadAverageAtEnd: load() };
  process.stdout.write(
    `\nmlcost benchmarks${args.quick ? ' (--quick: smoke run, figures not representative)' : ''} — ${info.cpu}, ${info.cores} cores, ${info.memoryGiB} GiB, node ${info.node}; ${seconds.toFixed(0)} s; load average ${info.loadAverageAtStart} at start, ${info.loadAverageAtEnd} at end\n\n`,
  );
  process.stdout.write(`${renderTable(rows)}\n`);
  if (args.json) {
    const json = rows.map((row) => ({ ...row, ratio: ratioOf(row) }));
    writeFileSync(
      args.json,
      `${JSON.stringify({ machine: info, quick: args.quick, seconds, rows: json, failures }, null, 2)}\n`,
    );
  }
  if (failures.length > 0) {
    process.stdout.write(`\n${failures.length} benchmark(s) did not run:\n${failures.join('\n')}\n`);
    process.exitCode = 1;
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
