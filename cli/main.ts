#!/usr/bin/env node
// The `mlcost` command: parses flags, loads and validates configuration, and runs the chosen part.
// First: for `mlcost agent`, V8 memory settings that must apply before anything else is loaded.
import '../agent/v8-memory.ts';
import { Command } from 'commander';
import type { Config } from '../core/config/config.ts';
import { describeConfigKeys, loadConfig } from '../core/config/load.ts';
import { ConfigError } from '../core/errors.ts';
import { VERSION } from '../core/version.ts';

// Commands are loaded when chosen: the agent on every node must not pay for the collector's or remote mode's code.
// The agent's own entry (agent/run.ts) loads no web framework, fetch or gRPC library: it runs on every node.
const runAgent: typeof import('../agent/run.ts').runAgent = async (...args) =>
  (await import('../agent/run.ts')).runAgent(...args);
const runCollector: typeof import('./commands/collector.ts').runCollector = async (...args) =>
  (await import('./commands/collector.ts')).runCollector(...args);
const runStart: typeof import('./commands/start.ts').runStart = async (...args) =>
  (await import('./commands/start.ts')).runStart(...args);

import { addCommonOptions, flagsFrom } from './options.ts';

function configFrom(options: Record<string, unknown>): Config {
  return loadConfig({ file: options['config'] as string | undefined, flags: flagsFrom(options) });
}

/** Prints one line naming what is wrong and exits non-zero: the contract for bad configuration. */
function fail(error: unknown): never {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`mlcost: ${message}\n`);
  process.exit(error instanceof ConfigError ? 2 : 1);
}

function action(run: (config: Config) => Promise<void>) {
  return async (options: Record<string, unknown>) => {
    let config: Config;
    try {
      config = configFrom(options);
    } catch (error) {
      fail(error);
    }
    await run(config).catch(fail);
  };
}

const program = new Command()
  .name('mlcost')
  .description('Cost and utilization monitor for machine-learning work on Kubernetes.')
  .version(VERSION)
  .showHelpAfterError()
  .addHelpText(
    'after',
    `\nEvery option is also a configuration key; see \`mlcost start --help\` for the full list.`,
  );

addCommonOptions(
  program
    .command('start')
    .description('run a collector and an agent for this machine in one process (SQLite under ./data/)')
    .option('--listen <host:port>', 'address to serve the API, report and /metrics on (collector.listen)')
    .option('--interval <duration>', 'how often the agent samples, e.g. 15s (agent.interval)')
    .option('--window <duration>', 'length of one usage window, e.g. 60s (agent.window)')
    .option('--sources <list>', 'comma-separated agent sources: host, nvidia-smi (agent.sources)')
    .option('--node-name <name>', 'name this machine reports as (agent.nodeName)')
    .option('--no-agent', 'run the collector only (agent.enabled=false)')
    .option(
      '--kubeconfig <file>',
      'watch the cluster this kubeconfig reaches from outside, through the API server proxy (remote.kubeconfig)',
    ),
)
  .addHelpText('after', `\n${describeConfigKeys()}`)
  .action(action(runStart));

addCommonOptions(
  program
    .command('collector')
    .description('run the collector alone: ingest, store, API and /metrics (as the Helm chart does)')
    .option('--listen <host:port>', 'address to listen on (collector.listen)')
    .option(
      '--ingest-token <token>',
      'bearer token agents must send (collector.ingestToken; prefer MLCOST_COLLECTOR_INGEST_TOKEN)',
    ),
)
  .addHelpText('after', `\n${describeConfigKeys()}`)
  .action(action(runCollector));

addCommonOptions(
  program
    .command('agent')
    .description('run the node agent alone, sending usage windows to a collector (as the DaemonSet does)')
    .option('--collector-url <url>', 'collector base URL (agent.collectorUrl)')
    .option(
      '--node-name <name>',
      'node this agent reports for; default NODE_NAME or the host name (agent.nodeName)',
    )
    .option('--interval <duration>', 'how often sources are sampled (agent.interval)')
    .option('--window <duration>', 'length of one usage window (agent.window)')
    .option('--sources <list>', 'comma-separated sources (agent.sources)')
    .option('--agent-listen <host:port>', "address of the agent's /metrics (agent.listen)")
    .option('--once', 'run one window (two collections one interval apart) and exit')
    .option('--print', 'print windows as JSON on stdout instead of sending them'),
)
  .addHelpText('after', `\n${describeConfigKeys()}`)
  .action(async (options: Record<string, unknown>) =>
    action((config) =>
      runAgent(config, { once: options['once'] === true, print: options['print'] === true }),
    )(options),
  );

// Registering these commands loads their modules (the simulator, the report client); the agent that runs on every
// node skips them to keep its memory small.
if (process.argv[2] !== 'agent') {
  (await import('./commands/report.ts')).registerReportCommand(program);
  (await import('./commands/simulate.ts')).registerSimulateCommand(program);
}
program
  .command('demo')
  .description(
    'backfill a week of a simulated 20-node GPU cluster into ./data/demo.db and serve it (npm run demo)',
  )
  .option('-c, --config <file>', 'configuration file')
  .action(async (options: { config?: string }) => {
    await (await import('./commands/simulate.ts')).runDemo({ configFile: options.config }).catch(fail);
  });
await program.parseAsync(process.argv);
