// Flags shared by the commands, and how each maps onto a configuration key.
import { type Command, Option } from 'commander';

/** Flag → configuration key. Every flag is also reachable as `--set key=value` and as an MLCOST_* variable. */
export const FLAG_KEYS: Record<string, string> = {
  listen: 'collector.listen',
  dataDir: 'dataDir',
  logLevel: 'logLevel',
  interval: 'agent.interval',
  window: 'agent.window',
  sources: 'agent.sources',
  nodeName: 'agent.nodeName',
  collectorUrl: 'agent.collectorUrl',
  ingestToken: 'collector.ingestToken',
  agentListen: 'agent.listen',
  kubeconfig: 'remote.kubeconfig',
};

export function addCommonOptions(command: Command): Command {
  return command
    .option(
      '-c, --config <file>',
      'configuration file (default: ./mlcost.yaml when it exists; env MLCOST_CONFIG)',
    )
    .option('--data-dir <dir>', 'folder for the SQLite store and agent state (dataDir)')
    .option('--log-level <level>', 'trace, debug, info, warn, error, fatal or silent (logLevel)')
    .addOption(
      new Option(
        '--set <key=value...>',
        'set any configuration key, e.g. --set agent.sourceTimeout=5s',
      ).default([]),
    );
}

/** Turns parsed commander options into configuration flags keyed by dotted configuration keys. */
export function flagsFrom(options: Record<string, unknown>): Record<string, unknown> {
  const flags: Record<string, unknown> = {};
  for (const [flag, key] of Object.entries(FLAG_KEYS)) {
    if (options[flag] !== undefined) flags[key] = options[flag];
  }
  if (options['agent'] === false) flags['agent.enabled'] = false;
  for (const pair of (options['set'] as string[] | undefined) ?? []) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new Error(`--set ${pair}: expected key=value`);
    flags[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return flags;
}
