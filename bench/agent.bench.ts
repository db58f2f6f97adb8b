// Agent benchmark (issue 3, acceptance 5): the real `mlcost agent` as a child process against a busy node's
// worth of endpoints (bench/busy-node.ts: 8 GPUs, 110 pods, 4 model servers, served from the real fixtures),
// sampling every 15 s (1 s with --quick), sending to a local stand-in collector that answers 200.
//
// Measured from Linux /proc, never from inside the process: CPU time per cycle = the growth of utime + stime
// over N whole sampling intervals after a warm-up, divided by N (the reads fall mid-interval, between two
// cycles, so every interval counted holds exactly one cycle, and window closes and sends are amortised in);
// peak RSS = VmHWM at the end. Runs: the compiled build (`node dist/cli/main.js agent`, what the container image
// runs) reaching the API server as in a DaemonSet pod (service-account token and CA under /var/run/secrets, staged
// in a private mount namespace; KUBERNETES_SERVICE_HOST/PORT; the agent sets V8's --optimize-for-size for itself,
// agent/v8-memory.ts); the same with V8's young generation capped too (`--max-semi-space-size=1`); the same with
// V8's defaults (`--no-optimize-for-size`, to show what the agent's own setting saves); the compiled build through
// a kubeconfig (which loads @kubernetes/client-node); and
// tsx (`tsx cli/main.ts agent`, what a developer runs; tsx runs the agent in a node process of its own, which is
// the one measured), also through a kubeconfig. Plus the resident memory of the agent's code alone, before work.
//
// The peer, measured the same way on the same machine in the same run: Debian's prometheus-node-exporter
// (installed into .tools/ by bench/setup-node-exporter.sh) with its default collectors, scraped by this
// process on the same grid as the agent samples. All runs go at once: each is a separate process and CPU time
// is counted per process, so they do not add to one another's figures.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parsePrometheusText } from '../core/prometheus/index.ts';
import { cleanEnv, freePort } from '../test/support/mlcost-process.ts';
import { type BusyNode, startBusyNode } from './busy-node.ts';
import { childrenOf, cpuSeconds, MIB, memory } from './proc.ts';
import type { Row } from './table.ts';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const TSX = join(REPO_ROOT, 'node_modules', '.bin', 'tsx');
const TSC = join(REPO_ROOT, 'node_modules', '.bin', 'tsc');
const COMPILED_CLI = join(REPO_ROOT, 'dist', 'cli', 'main.js');
const SEMI_SPACE_FLAG = '--max-semi-space-size=1';
/** Turns off the V8 setting the agent makes for itself (agent/v8-memory.ts), to show what it saves. */
const V8_DEFAULTS_FLAG = '--no-optimize-for-size';

/** The issue 3 aims: agent under 80 MiB RSS and under 2% of one core at 15 s sampling. */
const AIM_RSS_MIB = 80;
const AIM_CPU_PERCENT = 2;
/** What the figures are stated for: the default sampling interval. */
const NOMINAL_INTERVAL_S = 15;
/** prometheus-node-exporter chart's suggested memory limit (values.yaml, commented out). */
const NODE_EXPORTER_CHART_LIMIT_MIB = 50;

export interface AgentBenchOptions {
  quick: boolean;
  log: (line: string) => void;
}

interface Plan {
  intervalMs: number;
  windowMs: number;
  warmupCycles: number;
  cycles: number;
}

interface Measured {
  label: string;
  /** CPU seconds per cycle of the measured process. */
  cpuPerCycle: number;
  cycles: number;
  /** Cycles the endpoints saw in the measured span (dcgm scrapes, or node-exporter scrapes). */
  observed: number;
  peakRssBytes: number;
  rssBytes: number;
  notes: string[];
}

type Outcome = { ok: true; measured: Measured } | { ok: false; label: string; reason: string };

/** Runs `cycle` now and then at every multiple of intervalMs (on the same grid as the agent's own loop). */
function everyInterval(intervalMs: number, cycle: () => Promise<void>): () => void {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const loop = async () => {
    if (stopped) return;
    await cycle().catch(() => {});
    if (stopped) return;
    const now = Date.now();
    timer = setTimeout(loop, (Math.floor(now / intervalMs) + 1) * intervalMs - now);
  };
  void loop();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

async function waitFor<T>(what: string, timeoutMs: number, probe: () => T | undefined): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

/**
 * Waits until `cycles() > warmup`, then measures CPU over `plan.cycles` whole intervals, from the middle of one
 * interval to the middle of another: the process's cycles run at the interval boundaries, so each counted
 * interval holds exactly one.
 */
async function measureCycles(
  pid: number,
  plan: Plan,
  cyclesSoFar: () => number,
): Promise<{ cpuPerCycle: number; observed: number }> {
  await waitFor(
    `${plan.warmupCycles} warm-up cycles`,
    (plan.warmupCycles + 3) * plan.intervalMs + 60_000,
    () => (cyclesSoFar() > plan.warmupCycles ? true : undefined),
  );
  const { intervalMs } = plan;
  let start = (Math.floor(Date.now() / intervalMs) + 0.5) * intervalMs;
  if (start - Date.now() < intervalMs * 0.1) start += intervalMs;
  await sleep(start - Date.now());
  const cpu0 = cpuSeconds(pid);
  const seen0 = cyclesSoFar();
  await sleep(start + plan.cycles * intervalMs - Date.now());
  const cpu1 = cpuSeconds(pid);
  const seen1 = cyclesSoFar();
  if (cpu0 === undefined || cpu1 === undefined)
    throw new Error(`process ${pid} ended during the measurement`);
  return { cpuPerCycle: (cpu1 - cpu0) / plan.cycles, observed: seen1 - seen0 };
}

/** A child process with bounded captured output, and a way to stop it and its group. */
class Child {
  readonly process: ChildProcess;
  output = '';
  exited = false;
  readonly exit: Promise<void>;

  constructor(command: string, args: string[], env: NodeJS.ProcessEnv) {
    this.process = spawn(command, args, {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const keep = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString('utf8')).slice(-64 * 1024);
    };
    this.process.stdout!.on('data', keep);
    this.process.stderr!.on('data', keep);
    this.exit = new Promise((resolve) => {
      this.process.once('close', () => {
        this.exited = true;
        resolve();
      });
    });
  }

  get pid(): number {
    return this.process.pid!;
  }

  /** SIGTERM (a clean stop), then SIGKILL to the whole group after `graceMs`. */
  async stop(graceMs = 15_000): Promise<void> {
    if (this.exited) return;
    this.process.kill('SIGTERM');
    const timedOut = await Promise.race([this.exit.then(() => false), sleep(graceMs).then(() => true)]);
    if (timedOut) this.killGroup();
    await this.exit;
  }

  killGroup(): void {
    if (this.exited) return;
    try {
      process.kill(-this.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** The agent's own /metrics: `mlcost_agent_source_up` per source. */
async function sourcesUp(metricsUrl: string): Promise<string> {
  try {
    const text = await (await fetch(metricsUrl, { signal: AbortSignal.timeout(5000) })).text();
    const family = parsePrometheusText(text).find((f) => f.name === 'mlcost_agent_source_up');
    if (!family) return 'mlcost_agent_source_up not found';
    return family.samples.map((sample) => `${sample.labels['source']}=${sample.value}`).join(', ');
  } catch (error) {
    return `could not read ${metricsUrl}: ${(error as Error).message}`;
  }
}

function describeReceived(node: BusyNode, label: string): string {
  const batches = node.acceptor.received(label);
  const windows = batches.flatMap((batch) => batch.windows);
  const last = windows.at(-1);
  if (!last) return 'no window reached the collector stand-in';
  const gpus = last.gpus ?? [];
  const held = gpus.filter((gpu) => (gpu.holders ?? []).length > 0).length;
  const models = (last.models ?? []).map((model) => `${model.server}:${model.model}`);
  return `${windows.length} windows received; the last: ${gpus.length} GPUs (${held} with a holder), ${(last.containers ?? []).length} containers, ${models.length} models (${models.join(', ')})`;
}

/** One agent run: how it is started and how it reaches the API server. */
interface AgentRun {
  label: string;
  /** The row title. */
  title: string;
  how: 'tsx' | 'compiled';
  nodeFlags: readonly string[];
  access: 'kubeconfig' | 'in-cluster';
}

/**
 * In a private mount namespace: a tmpfs over /var/run holding the service account's token and CA where a pod has
 * them, then exec the command (same pid). Needs unshare(1) and the right to mount (root or CAP_SYS_ADMIN).
 */
const IN_CLUSTER_SCRIPT =
  'set -e; run=$(readlink -f /var/run); mount -t tmpfs -o size=1m tmpfs "$run"; ' +
  'mkdir -p /var/run/secrets/kubernetes.io/serviceaccount; ' +
  'cp "$1/token" "$1/ca.crt" /var/run/secrets/kubernetes.io/serviceaccount/; shift; exec "$@"';

/** Whether in-cluster runs can be staged here; the reason when not. */
function inClusterSupport(): { ok: true } | { ok: false; reason: string } {
  const probe = spawnSync(
    'unshare',
    [
      '--mount',
      '--propagation',
      'private',
      'sh',
      '-c',
      'mount -t tmpfs tmpfs "$(readlink -f /var/run)" && echo ok',
    ],
    { encoding: 'utf8', timeout: 10_000 },
  );
  if (probe.status === 0 && probe.stdout.includes('ok')) return { ok: true };
  const why = probe.error?.message ?? probe.stderr.trim().split('\n').at(-1) ?? `exit ${probe.status}`;
  return {
    ok: false,
    reason: `cannot stage a service-account token at /var/run/secrets (unshare --mount + mount tmpfs, which needs root or CAP_SYS_ADMIN): ${why}`,
  };
}

async function measureAgent(
  node: BusyNode,
  dir: string,
  plan: Plan,
  run: AgentRun,
  log: (line: string) => void,
): Promise<Outcome> {
  const { label, how, nodeFlags, access } = run;
  const config = node.agentConfig(dir, label, {
    intervalMs: plan.intervalMs,
    windowMs: plan.windowMs,
    listen: '127.0.0.1:0',
    access,
  });
  const configFile = join(dir, `${label}.yaml`);
  // JSON is YAML.
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  const args = ['agent', '--config', configFile];
  let child: Child;
  if (how === 'tsx') {
    child = new Child(TSX, [join(REPO_ROOT, 'cli', 'main.ts'), ...args], cleanEnv());
  } else if (access === 'in-cluster') {
    const { serviceAccountDir, env } = node.inCluster(dir);
    child = new Child(
      'unshare',
      [
        '--mount',
        '--propagation',
        'private',
        'sh',
        '-c',
        IN_CLUSTER_SCRIPT,
        'sh',
        serviceAccountDir,
        process.execPath,
        ...nodeFlags,
        COMPILED_CLI,
        ...args,
      ],
      cleanEnv(env),
    );
  } else {
    child = new Child(process.execPath, [...nodeFlags, COMPILED_CLI, ...args], cleanEnv());
  }
  try {
    const metricsUrl = await waitFor('the agent to start', 60_000, () => {
      if (child.exited) throw new Error(`the agent exited at start: ${child.output.slice(-1500)}`);
      return /metrics at (\S+\/metrics)/.exec(child.output)?.[1];
    });
    // tsx runs the program in a child node process; that is the agent. The wrapper is reported apart.
    const pid =
      how === 'tsx'
        ? await waitFor('the node process tsx starts', 10_000, () => childrenOf(child.pid)[0])
        : child.pid;
    log(`agent (${label}): running as pid ${pid}, sampling every ${plan.intervalMs / 1000} s`);
    const path = `/${label}/metrics`;
    const { cpuPerCycle, observed } = await measureCycles(pid, plan, () => node.dcgm.requests(path));
    const mem = memory(pid);
    const wrapper = how === 'tsx' ? memory(child.pid) : undefined;
    const up = await sourcesUp(metricsUrl);
    if (!mem) throw new Error('the agent ended before its memory was read');
    await child.stop();
    const received = describeReceived(node, label);
    const notes = [
      `${plan.cycles} cycles measured after ${plan.warmupCycles} warm-up (${observed} dcgm scrapes seen in the span)`,
      `sources up: ${up}`,
      received,
      `RSS at the end ${(mem.rssBytes / MIB).toFixed(1)} MiB`,
    ];
    // A run that did not do the whole job says why, from the agent's own log.
    if (/=0\b|not found|could not read/.test(up) || received.startsWith('no window'))
      notes.push(`INCOMPLETE RUN; the agent's log ends: ${child.output.slice(-1200).replace(/\s+/g, ' ')}`);
    if (wrapper)
      notes.push(`the tsx wrapper process adds ${(wrapper.peakRssBytes / MIB).toFixed(1)} MiB peak RSS`);
    log(
      `agent (${label}): ${(cpuPerCycle * 1000).toFixed(1)} ms CPU per cycle, peak RSS ${(mem.peakRssBytes / MIB).toFixed(1)} MiB`,
    );
    return {
      ok: true,
      measured: {
        label,
        cpuPerCycle,
        cycles: plan.cycles,
        observed,
        peakRssBytes: mem.peakRssBytes,
        rssBytes: mem.rssBytes,
        notes,
      },
    };
  } catch (error) {
    return { ok: false, label, reason: `${(error as Error).message}; output: ${child.output.slice(-800)}` };
  } finally {
    child.killGroup();
    await child.exit;
  }
}

async function measureNodeExporter(
  binary: string,
  plan: Plan,
  log: (line: string) => void,
): Promise<Outcome> {
  const port = await freePort();
  const child = new Child(binary, [`--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], cleanEnv());
  const url = `http://127.0.0.1:${port}/metrics`;
  let scrapes = 0;
  let samples = 0;
  let stopScraping: (() => void) | undefined;
  try {
    const version = spawnSync(binary, ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0] ?? '';
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (child.exited) throw new Error(`node-exporter exited at start: ${child.output.slice(-800)}`);
      const up = await fetch(url, { signal: AbortSignal.timeout(2000) }).then(
        async (response) => {
          await response.text();
          return response.ok;
        },
        () => false,
      );
      if (up) break;
      if (Date.now() > deadline) throw new Error(`node-exporter did not answer on ${url} within 30 s`);
      await sleep(100);
    }
    stopScraping = everyInterval(plan.intervalMs, async () => {
      const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
      const text = await response.text();
      if (!response.ok) throw new Error(`node-exporter answered ${response.status}`);
      scrapes++;
      if (samples === 0)
        samples = parsePrometheusText(text).reduce((n, family) => n + family.samples.length, 0);
    });
    const { cpuPerCycle, observed } = await measureCycles(child.pid, plan, () => scrapes);
    const mem = memory(child.pid);
    if (!mem) throw new Error('node-exporter ended before its memory was read');
    stopScraping();
    await child.stop();
    log(
      `node-exporter: ${(cpuPerCycle * 1000).toFixed(1)} ms CPU per scrape, peak RSS ${(mem.peakRssBytes / MIB).toFixed(1)} MiB`,
    );
    return {
      ok: true,
      measured: {
        label: 'node-exporter',
        cpuPerCycle,
        cycles: plan.cycles,
        observed,
        peakRssBytes: mem.peakRssBytes,
        rssBytes: mem.rssBytes,
        notes: [
          `${version.trim()} (Debian prometheus-node-exporter), default collectors, ${samples} samples per scrape; ${plan.cycles} scrapes measured after ${plan.warmupCycles} warm-up (${observed} in the span); RSS at the end ${(mem.rssBytes / MIB).toFixed(1)} MiB`,
        ],
      },
    };
  } catch (error) {
    return { ok: false, label: 'node-exporter', reason: `${(error as Error).message}` };
  } finally {
    stopScraping?.();
    child.killGroup();
    await child.exit;
  }
}

/**
 * `npx tsc -p tsconfig.build.json` into dist/, then `node dist/cli/main.js --version` to see that the build starts;
 * the reason when either fails.
 */
function buildDist(log: (line: string) => void): { ok: true } | { ok: false; reason: string } {
  log('agent: building dist/ (tsc -p tsconfig.build.json)');
  const result = spawnSync(TSC, ['-p', 'tsconfig.build.json'], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: 300_000,
  });
  if (result.error) return { ok: false, reason: `tsc did not run: ${result.error.message}` };
  if (result.status !== 0) {
    const errors = `${result.stdout}${result.stderr}`.split('\n').filter(Boolean);
    return {
      ok: false,
      reason: `tsc -p tsconfig.build.json failed (${errors.length} lines): ${errors.slice(0, 3).join(' | ')}`,
    };
  }
  const started = spawnSync(process.execPath, [COMPILED_CLI, '--version'], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (started.status !== 0) {
    const why =
      `${started.stderr}`.split('\n').find((line) => /Error/.test(line)) ?? `exit ${started.status}`;
    return { ok: false, reason: `the build does not start: node dist/cli/main.js --version: ${why}` };
  }
  return { ok: true };
}

function setupNodeExporter(
  log: (line: string) => void,
): { ok: true; path: string } | { ok: false; reason: string } {
  const result = spawnSync('bash', [join(REPO_ROOT, 'bench', 'setup-node-exporter.sh')], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: 300_000,
  });
  for (const line of result.stderr.split('\n').filter(Boolean)) log(line);
  const path = result.stdout.trim().split('\n').at(-1);
  if (result.status !== 0 || !path) {
    const why = result.stderr.trim().split('\n').at(-1) ?? result.error?.message ?? 'unknown';
    return { ok: false, reason: `node-exporter could not be installed: ${why}` };
  }
  return { ok: true, path };
}

/**
 * RSS (bytes, after two full collections) of a fresh `node` that has imported `modules` and done nothing else:
 * what the agent weighs before it reads a single byte.
 */
function importRss(modules: readonly string[], prelude = ''): number | undefined {
  const imports = `${prelude} ${modules.map((module) => `await import(${JSON.stringify(module)});`).join(' ')}`;
  const script = `${imports} globalThis.gc(); await new Promise((r) => setTimeout(r, 200)); globalThis.gc(); process.stdout.write(String(process.memoryUsage().rss));`;
  const result = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: 60_000,
  });
  const rss = Number(result.stdout.trim());
  return result.status === 0 && rss > 0 ? rss : undefined;
}

/** Where the agent's resident memory goes before any work: node itself, the agent's code, client-node. */
function importRows(): Row[] {
  const dist = (path: string) => pathToFileURL(join(REPO_ROOT, 'dist', path)).href;
  // What `mlcost agent` loads before it starts: cli/main.ts's own imports and the agent's entry (agent/run.ts; the
  // other commands are loaded only when chosen; @kubernetes/client-node only when a kubeconfig is used), after
  // the V8 setting the agent makes for itself as it starts (agent/v8-memory.ts).
  const agentCode = [
    'commander',
    dist('core/config/load.js'),
    dist('core/version.js'),
    dist('cli/options.js'),
    dist('agent/run.js'),
  ];
  const agentV8 = `(await import(${JSON.stringify(dist('agent/v8-memory.js'))})).applyAgentV8Flags();`;
  const empty = importRss([]);
  const loaded = importRss(agentCode, agentV8);
  const kube = importRss(['@kubernetes/client-node']);
  const mib = (bytes: number | undefined) => (bytes === undefined ? undefined : bytes / MIB);
  return [
    {
      name: `agent memory before work: an empty node ${process.version} process`,
      figure: mib(empty),
      unit: 'MiB',
      peer: 'aim',
      peerFigure: AIM_RSS_MIB,
      better: 'lower',
      note: 'RSS after two full GCs of a fresh `node --expose-gc` that imported the named modules and did nothing else',
    },
    {
      name: 'agent memory before work: node + the code `mlcost agent` loads',
      figure: mib(loaded),
      unit: 'MiB',
      peer: 'aim',
      peerFigure: AIM_RSS_MIB,
      better: 'lower',
    },
    {
      name: 'agent memory before work: the share of @kubernetes/client-node alone',
      figure: kube === undefined || empty === undefined ? undefined : (kube - empty) / MIB,
      unit: 'MiB',
    },
  ];
}

export async function runAgentBench(options: AgentBenchOptions): Promise<Row[]> {
  const { quick, log } = options;
  if (process.platform !== 'linux') throw new Error('the agent benchmark reads /proc and runs on Linux only');
  const plan: Plan = quick
    ? { intervalMs: 1000, windowMs: 5000, warmupCycles: 2, cycles: 5 }
    : { intervalMs: 15_000, windowMs: 60_000, warmupCycles: 2, cycles: 16 };
  const dir = mkdtempSync(join(tmpdir(), 'mlcost-bench-agent-'));
  const node = await startBusyNode();
  log(
    `agent: busy node up: ${node.counts.pods} pods (${node.counts.containers} containers), ${node.counts.gpus} GPUs in ${node.counts.gpuPods} pods, ${node.counts.modelServers} model servers; ${(node.bytesPerCollection / 1e3).toFixed(0)} kB read per collection`,
  );
  try {
    // --quick leaves the compiled run out: tsc alone takes 8–35 s on two cores, most of the smoke budget.
    const build: ReturnType<typeof buildDist> = quick
      ? { ok: false, reason: 'full run only (--quick skips the tsc build)' }
      : buildDist(log);
    if (!build.ok && !quick) log(`agent: ${build.reason}`);
    const exporter = setupNodeExporter(log);
    const inCluster = build.ok ? inClusterSupport() : build;
    if (build.ok && !inCluster.ok) log(`agent: in-cluster runs left out: ${inCluster.reason}`);
    // The DaemonSet's way first: the compiled build reading the pod's service account (the agent sets
    // --optimize-for-size for itself, agent/v8-memory.ts). Then the same with the young generation capped too; the
    // same with V8's defaults (the agent's own setting turned off); the compiled build through a kubeconfig (which
    // loads @kubernetes/client-node); and tsx (kubeconfig).
    const plannedRuns: Array<AgentRun & { missing?: string }> = [
      {
        label: 'compiled',
        title: 'node dist/cli/main.js, in-cluster',
        how: 'compiled',
        nodeFlags: [],
        access: 'in-cluster',
        ...(inCluster.ok ? {} : { missing: inCluster.reason }),
      },
      {
        label: 'compiled-semi1',
        title: `node ${SEMI_SPACE_FLAG} dist/cli/main.js, in-cluster`,
        how: 'compiled',
        nodeFlags: [SEMI_SPACE_FLAG],
        access: 'in-cluster',
        ...(inCluster.ok ? {} : { missing: inCluster.reason }),
      },
      {
        label: 'compiled-v8-defaults',
        title: `node ${V8_DEFAULTS_FLAG} dist/cli/main.js, in-cluster`,
        how: 'compiled',
        nodeFlags: [V8_DEFAULTS_FLAG],
        access: 'in-cluster',
        ...(inCluster.ok ? {} : { missing: inCluster.reason }),
      },
      {
        label: 'compiled-kubeconfig',
        title: 'node dist/cli/main.js, kubeconfig',
        how: 'compiled',
        nodeFlags: [],
        access: 'kubeconfig',
        ...(build.ok ? {} : { missing: build.reason }),
      },
      { label: 'tsx', title: 'tsx cli/main.ts, kubeconfig', how: 'tsx', nodeFlags: [], access: 'kubeconfig' },
    ];
    const runs: Array<Promise<Outcome>> = plannedRuns
      .filter((run) => run.missing === undefined)
      .map((run) => measureAgent(node, dir, plan, run, log));
    if (exporter.ok) runs.push(measureNodeExporter(exporter.path, plan, log));
    const outcomes = await Promise.all(runs);
    for (const outcome of outcomes) {
      if (!outcome.ok) log(`agent: ${outcome.label} run failed: ${outcome.reason}`);
    }
    const byLabel = new Map(outcomes.filter((o) => o.ok).map((o) => [o.measured.label, o.measured]));
    const peer = byLabel.get('node-exporter');
    const peerMissing = exporter.ok
      ? (outcomes.find((o) => !o.ok && o.label === 'node-exporter') as { reason: string } | undefined)?.reason
      : exporter.reason;

    const rows: Row[] = [];
    const setting = quick ? ` (--quick: ${plan.intervalMs / 1000} s sampling)` : '';
    const agentRows = (label: string, title: string, missing?: string) => {
      const run = byLabel.get(label);
      const failed = outcomes.find((o) => !o.ok && o.label === label) as { reason: string } | undefined;
      const why = missing ?? failed?.reason;
      if (!run) {
        rows.push({
          name: `agent ${title}`,
          figure: undefined,
          unit: '',
          note: `not measured: ${why ?? 'unknown'}`,
        });
        return;
      }
      const ms = run.cpuPerCycle * 1000;
      const mib = run.peakRssBytes / MIB;
      rows.push({
        name: `agent ${title}: CPU per cycle${setting}`,
        figure: ms,
        unit: 'ms',
        peer: 'node-exporter CPU/scrape',
        peerFigure: peer ? peer.cpuPerCycle * 1000 : undefined,
        better: 'lower',
        note: run.notes.join('; '),
      });
      rows.push({
        name: `agent ${title}: CPU at ${NOMINAL_INTERVAL_S} s sampling`,
        figure: (ms / 1000 / NOMINAL_INTERVAL_S) * 100,
        unit: '% of 1 core',
        peer: 'aim',
        peerFigure: AIM_CPU_PERCENT,
        better: 'lower',
      });
      rows.push({
        name: `agent ${title}: peak RSS (VmHWM)`,
        figure: mib,
        unit: 'MiB',
        peer: 'node-exporter',
        peerFigure: peer ? peer.peakRssBytes / MIB : undefined,
        better: 'lower',
        ...(peer ? {} : { note: `no peer: ${peerMissing ?? 'unknown'}` }),
      });
      rows.push({
        name: `agent ${title}: peak RSS vs aim`,
        figure: mib,
        unit: 'MiB',
        peer: 'aim',
        peerFigure: AIM_RSS_MIB,
        better: 'lower',
      });
    };
    for (const run of plannedRuns) agentRows(run.label, run.title, run.missing);
    if (build.ok) rows.push(...importRows());
    rows.push({
      name: `node-exporter: CPU per scrape${setting}`,
      figure: peer ? peer.cpuPerCycle * 1000 : undefined,
      unit: 'ms',
      note: peer ? peer.notes.join('; ') : `not measured: ${peerMissing ?? 'unknown'}`,
    });
    rows.push({
      name: 'node-exporter: peak RSS (VmHWM)',
      figure: peer ? peer.peakRssBytes / MIB : undefined,
      unit: 'MiB',
      peer: 'chart limit',
      peerFigure: NODE_EXPORTER_CHART_LIMIT_MIB,
      better: 'lower',
    });
    if (!plannedRuns.some((run) => byLabel.has(run.label))) {
      const reasons = outcomes.flatMap((o) => (o.ok ? [] : [`${o.label}: ${o.reason}`]));
      throw new Error(`no agent run completed: ${reasons.join('; ')}`);
    }
    return rows;
  } finally {
    await node.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
