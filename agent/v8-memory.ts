// V8 tuned for the node agent's memory, set by the agent itself as it starts (cli/main.ts imports this module
// first, before the modules it loads). The agent is a long-running DaemonSet process that does a little work
// every 15 s: V8's default heap sizing, made for throughput, lets the young generation grow to 16 MiB semi-spaces
// (32 MiB resident) and the old generation run well ahead of what is live. `--optimize-for-size` keeps both close
// to the live data, which on a busy node took the agent's peak RSS from about 100 MiB to under 80 MiB for about
// a tenth more CPU (still near 1% of one core at 15 s sampling).
//
// `--optimize-for-size` is not allowed in NODE_OPTIONS, and the container image starts every command with the same
// `node dist/cli/main.js`, so the agent sets it here with v8.setFlagsFromString. It changes heap-sizing heuristics
// only; where a V8 version ignores it at run time, nothing breaks and the agent just uses more memory. A flag given
// on the command line (`--optimize-for-size` or `--no-optimize-for-size`) is left as it is.
import { setFlagsFromString } from 'node:v8';

/** The V8 flags the agent sets for itself. */
export const AGENT_V8_FLAGS: readonly string[] = ['--optimize-for-size'];

/** Sets AGENT_V8_FLAGS unless the process was started with its own setting of them; returns the flags set. */
export function applyAgentV8Flags(
  execArgv: readonly string[] = process.execArgv,
  nodeOptions: string = process.env['NODE_OPTIONS'] ?? '',
  set: (flag: string) => void = setFlagsFromString,
): string[] {
  const given = [...execArgv, ...nodeOptions.split(/\s+/)].map((arg) => arg.replace(/_/g, '-'));
  const applied: string[] = [];
  for (const flag of AGENT_V8_FLAGS) {
    const name = flag.replace(/^--/, '');
    if (given.some((arg) => arg === `--${name}` || arg === `--no-${name}` || arg.startsWith(`--${name}=`)))
      continue;
    set(flag);
    applied.push(flag);
  }
  return applied;
}

// `mlcost agent`: set before cli/main.ts loads the rest (this module is its first import).
if (process.argv[2] === 'agent') applyAgentV8Flags();
