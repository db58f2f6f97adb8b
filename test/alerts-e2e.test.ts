// Issue 8, acceptance 2 and 3, with real processes: a simulated GPU cluster (simulator/) with a day of history
// backfilled into a store, a real `mlcost collector` on it, real `mlcost agent`s reading the simulator's live endpoints
// for three nodes, a real Prometheus (1 s scrapes and evaluations) scraping the collector, the agents, the simulated
// dcgm-exporters and model servers and evaluating alerts/mlcost.rules.yaml with every `for:` shortened by
// alerts/shorten-for.ts, and a real Alertmanager running alerts/alertmanager.example.yaml with its receivers pointed at
// a webhook in this test. What is planted, and must arrive with its labels (and at the receiver the example routes
// it to):
//  - the simulation's waste: GPUs held by idle pods (notebooks planted idle), free GPU capacity (MIG slices left
//    uncarved, an L4 nobody holds);
//  - budgets set below this month's spend and below its forecast (read from the collector first);
//  - a node whose agent runs but cannot reach the collector: it stops reporting, its spool is 600 bytes so it drops
//    windows, and its dcgm source points at a closed port;
//  - an agent target that does not answer (agent down);
//  - a client sending batches without a token (ingest refused);
//  - a GPU node whose dcgm-exporter (the real kOps L4 capture) is changed to show XID 79, thermal throttling and a
//    framebuffer 98% full.
// Then every dashboard panel's query, with the variables as Grafana would set them, must return a series.
//
// Nothing here depends on the wall-clock time the test runs at. The cost series describe the latest complete hour,
// so what they hold is read from the collector for that hour (and read again if the hour turns while the test
// waits); what is planted is checked in it from the generator's own data: MIG slices and GPUs that no seat of the
// cluster ever claims are free in every hour, and truth.ts's idle GPUs (the notebooks planted idle for their
// whole life) are held idle in every hour. Budgets are planted from this month's spend, which is nothing in a
// month's first hour: only then are they left out.
// Prometheus scrapes the collector and agents with the labels the chart's ServiceMonitor and PodMonitor give
// (namespace, pod, container of mlcost's own pods) and honor_labels, as their `honorLabels: true` does.

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server as HttpServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { shortenFor } from '../alerts/shorten-for.ts';
import { openStore } from '../collector/store/store.ts';
import { dashboards } from '../dashboards/generate.ts';
import { alignDown, backfill } from '../simulator/backfill.ts';
import { type Cluster, generateCluster, type SimNode } from '../simulator/cluster.ts';
import { DAY, HOUR, MINUTE } from '../simulator/schedule.ts';
import { type Serving, serve } from '../simulator/serve.ts';
import { groundTruth } from '../simulator/truth.ts';
import {
  cleanEnv,
  freePort,
  killAll,
  MlcostProcess,
  pollUntil,
  REPO_ROOT,
  requireTool,
} from './support/mlcost-process.ts';
import {
  ALERTMANAGER,
  dashboardQueries,
  labelValues,
  PROMETHEUS,
  query,
  queryRange,
  type Server,
  startAlertmanager,
  startPrometheus,
  stopAllServers,
  variableSelector,
} from './support/prom-servers.ts';

const WINDOW_MS = 5 * MINUTE;
const TOKEN = 'alerts-e2e-token-0123456789abcdef';
const CLUSTER = 'e2e';
const GONE_NODE = 'sim-gone-0099';
/** Where the chart would run mlcost: the target labels its ServiceMonitor and PodMonitor give the scrapes. */
const MLCOST_NAMESPACE = 'mlcost';
const KOPS_CAPTURE = join(
  REPO_ROOT,
  'test',
  'fixtures',
  'real',
  'dcgm-exporter',
  'kops-e2e-l4-gpu-operator-metrics.txt',
);

interface Delivered {
  receiver: string;
  status: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

let scratch: string;
let cluster: Cluster;
let h100: SimNode;
let served: SimNode[];
let serving: Serving | undefined;
let prometheus: Server;
let collectorUrl: string;
const delivered: Delivered[] = [];
const httpServers: HttpServer[] = [];
let badClient: NodeJS.Timeout | undefined;
let faultyHost: string;
/** Budgets planted over and over forecast: both, except in a month's first hour (nothing is spent yet). */
const planted = { over: false, forecast: false };

/** The first instant of the UTC month holding `t`. */
function monthStart(t: number): number {
  const date = new Date(t);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1);
}

/** Budgets count complete hours of the month: in its first hour nothing is spent, and none can be over. */
const firstHourOfMonth = (t: number) => alignDown(t, HOUR) === monthStart(t);

/** The id the agent gives each GPU unit of a node (a MIG slice: `<uuid>/<instance>`), and which no seat claims. */
function neverHeldUnits(node: SimNode): string[] {
  const unitOf = (claim: { gpu: number; slice?: number }) => {
    const gpu = node.gpus[claim.gpu]!;
    return claim.slice === undefined ? gpu.uuid : gpu.slices[claim.slice]!.id;
  };
  const claimed = new Set(node.seats.flatMap((s) => s.containers.flatMap((c) => c.devices.map(unitOf))));
  return node.gpus
    .flatMap((gpu) => (gpu.slices.length > 0 ? gpu.slices.map((slice) => slice.id) : [gpu.uuid]))
    .filter((unit) => !claimed.has(unit));
}

/** The series of `name` in Prometheus text exposition `text`, with their labels and values. */
function seriesOf(text: string, name: string): Array<{ labels: Record<string, string>; value: number }> {
  const out: Array<{ labels: Record<string, string>; value: number }> = [];
  for (const line of text.split('\n')) {
    const match = /^(\w+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
      labels[key!] = value!;
    }
    out.push({ labels, value: Number(match[3]) });
  }
  return out;
}

/** What the collector's cost series say about the latest complete hour (`hour`, its start). */
interface CostState {
  hour: number;
  heldIdle: Array<Record<string, string>>;
  free: Array<Record<string, string>>;
  budgets: Map<string, { spend: number; forecast: number; limit: number }>;
}

/**
 * The collector's cost series as Prometheus scrapes them, read within one hour: they describe the hour before it.
 * Right after an hour turns, the agents' last windows of the hour just ended are given a few seconds to arrive.
 */
async function costState(): Promise<CostState> {
  for (;;) {
    const current = alignDown(Date.now(), HOUR);
    const settled = current + 10_000;
    if (Date.now() < settled) await new Promise((resolve) => setTimeout(resolve, settled - Date.now()));
    const text = await (await fetch(`${collectorUrl}/metrics`)).text();
    if (alignDown(Date.now(), HOUR) !== current) continue;
    const budgets = new Map<string, { spend: number; forecast: number; limit: number }>();
    const budget = (name: string) => {
      let entry = budgets.get(name);
      if (!entry) {
        entry = { spend: Number.NaN, forecast: Number.NaN, limit: Number.NaN };
        budgets.set(name, entry);
      }
      return entry;
    };
    for (const { labels, value } of seriesOf(text, 'mlcost_budget_spend'))
      budget(labels['budget']!).spend = value;
    for (const { labels, value } of seriesOf(text, 'mlcost_budget_forecast'))
      budget(labels['budget']!).forecast = value;
    for (const { labels, value } of seriesOf(text, 'mlcost_budget_limit'))
      budget(labels['budget']!).limit = value;
    return {
      hour: current - HOUR,
      heldIdle: seriesOf(text, 'mlcost_gpu_held_idle_cost')
        .filter((s) => s.value > 0)
        .map((s) => s.labels),
      free: seriesOf(text, 'mlcost_gpu_free_cost')
        .filter((s) => s.value > 0)
        .map((s) => s.labels),
      budgets,
    };
  }
}

async function listen(handler: (req: IncomingMessage, body: string) => [number, string]): Promise<string> {
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
    });
    req.on('end', () => {
      const [status, text] = handler(req, body);
      res.writeHead(status, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' }).end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  httpServers.push(server);
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/**
 * The kOps capture of a real GPU Operator dcgm-exporter (one L4), with planted faults: the framebuffer 98% used, and
 * two families that capture does not enable, in dcgm-exporter's format with the same labels: the last XID (79, the
 * GPU fell off the bus) and the clock event reasons (0x60: software and hardware thermal slowdown).
 */
function faultyDcgmExporter(capture: string): { text: string; host: string } {
  const labels = /^DCGM_FI_DEV_GPU_UTIL\{([^}]*)\}/m.exec(capture)![1]!;
  const host = /Hostname="([^"]+)"/.exec(labels)![1]!;
  const value = (name: string) => Number(new RegExp(`^${name}\\{[^}]*\\} (\\S+)$`, 'm').exec(capture)![1]);
  const total = value('DCGM_FI_DEV_FB_USED') + value('DCGM_FI_DEV_FB_FREE');
  const used = Math.round(total * 0.98);
  const text = capture
    .replace(/^(DCGM_FI_DEV_FB_USED\{[^}]*\}) \S+$/m, `$1 ${used}`)
    .replace(/^(DCGM_FI_DEV_FB_FREE\{[^}]*\}) \S+$/m, `$1 ${total - used}`)
    .concat(
      '# HELP DCGM_FI_DEV_XID_ERRORS Value of the last XID error encountered.\n',
      '# TYPE DCGM_FI_DEV_XID_ERRORS gauge\n',
      `DCGM_FI_DEV_XID_ERRORS{${labels}} 79\n`,
      '# HELP DCGM_FI_DEV_CLOCKS_EVENT_REASONS Current clock event reasons (bitmask of DCGM_CLOCKS_EVENT_REASON_*).\n',
      '# TYPE DCGM_FI_DEV_CLOCKS_EVENT_REASONS gauge\n',
      `DCGM_FI_DEV_CLOCKS_EVENT_REASONS{${labels}} 96\n`,
    );
  return { text, host };
}

/** The example Alertmanager configuration with every receiver delivering to this test's webhook, and no waiting. */
function exampleAlertmanagerConfig(webhook: string): Record<string, unknown> {
  const config = parse(readFileSync(join(REPO_ROOT, 'alerts', 'alertmanager.example.yaml'), 'utf8')) as {
    global?: Record<string, unknown>;
    route: Record<string, unknown>;
    receivers: Array<{ name: string }>;
  };
  delete config.global?.['slack_api_url'];
  config.receivers = config.receivers.map(({ name }) => ({
    name,
    webhook_configs: [{ url: `http://${webhook}/${name}`, send_resolved: false }],
  }));
  const noWaiting = (route: Record<string, unknown>) => {
    delete route['group_wait'];
    delete route['group_interval'];
    delete route['repeat_interval'];
    for (const child of (route['routes'] as Array<Record<string, unknown>> | undefined) ?? [])
      noWaiting(child);
  };
  noWaiting(config.route);
  Object.assign(config.route, { group_wait: '1s', group_interval: '1s', repeat_interval: '1h' });
  return config;
}

async function getJson<T>(url: string): Promise<T> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

function collectorConfig(dir: string, port: number, budgets: Array<Record<string, unknown>>): string {
  const file = join(dir, `mlcost-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(
    file,
    stringify({
      logLevel: 'warn',
      dataDir: join(dir, 'collector'),
      currency: 'USD',
      collector: {
        listen: `127.0.0.1:${port}`,
        database: join(dir, 'mlcost.db'),
        ingestToken: TOKEN,
        // Backfilled nodes stopped reporting minutes ago: keep their last-report series for the alert to see.
        nodeGoneAfter: '1h',
      },
      budgets,
    }),
  );
  return file;
}

async function startCollector(config: string): Promise<MlcostProcess> {
  const collector = new MlcostProcess(['collector', '--config', config], { env: cleanEnv() });
  await collector.waitForStdout(/mlcost collector is running at/, 60_000);
  return collector;
}

beforeAll(async () => {
  requireTool(PROMETHEUS, 'prometheus');
  requireTool(ALERTMANAGER, 'alertmanager');
  scratch = mkdtempSync(join(tmpdir(), 'mlcost-alerts-e2e-'));
  const startedAt = Date.now();

  // The cluster and a day of history that ended ten minutes ago.
  cluster = generateCluster({ seed: 1, nodes: 4, mix: { h100: 1, 'a100-mig': 1, l4: 1, cpu: 1 } });
  const pool = (name: string) => cluster.nodes.find((n) => n.pool === name)!;
  h100 = pool('h100');
  served = [pool('a100-mig'), pool('l4'), pool('cpu')];
  const historyEnd = alignDown(startedAt - 10 * MINUTE, WINDOW_MS);
  const store = openStore(join(scratch, 'mlcost.db'));
  try {
    backfill(store, cluster, { from: historyEnd - DAY, to: historyEnd, windowMs: WINDOW_MS });
  } finally {
    store.close();
  }

  // Budgets: read this month's spend and forecast of every namespace, then set two budgets below them.
  const namespaces = [...new Set(cluster.nodes.flatMap((n) => n.seats.map((s) => s.namespace)))];
  const port = await freePort();
  collectorUrl = `http://127.0.0.1:${port}`;
  const probe = await startCollector(
    collectorConfig(
      scratch,
      port,
      namespaces.map((namespace) => ({ name: namespace, namespace, monthly: 1e9 })),
    ),
  );
  const { asOf, budgets } = await pollUntil(
    () =>
      getJson<{
        asOf: string;
        budgets: Array<{ name: string; spent: number; forecast: number; runRatePerHour: number }>;
      }>(`${collectorUrl}/api/v1/budgets`),
    { timeoutMs: 60_000, everyMs: 500, what: 'the budgets from the probe collector' },
  );
  probe.signal('SIGTERM');
  await probe.waitForExit(30_000);
  // The namespace that spends most gets a budget of half its spend: spend only grows until the month ends. The one
  // over forecast is a namespace whose every pod runs all the time on a node with a live agent, so its spend per
  // hour stays steady and its forecast holds while the test runs, even across an hour: its budget lies halfway
  // between its spend and its forecast.
  const steady = new Set(namespaces);
  for (const node of cluster.nodes) {
    for (const seat of node.seats) {
      if (seat.schedule.type !== 'always' || !served.includes(node)) steady.delete(seat.namespace);
    }
  }
  const bySpend = [...budgets].sort((a, b) => b.spent - a.spent);
  const over = bySpend[0]!;
  const forecast = bySpend.find(
    (b) => b !== over && steady.has(b.name) && b.forecast > b.spent && b.spent > 0,
  );
  const fine = bySpend.at(-1)!;
  const final: Array<Record<string, unknown>> = [{ name: 'team-fine', namespace: fine.name, monthly: 1e9 }];
  if (over.spent > 0 && forecast) {
    planted.over = planted.forecast = true;
    final.push({ name: 'team-over', namespace: over.name, monthly: over.spent / 2 });
    final.push({
      name: 'team-forecast',
      namespace: forecast.name,
      monthly: (forecast.spent + forecast.forecast) / 2,
    });
  } else {
    // Nothing has been spent this month yet: only in its first hour.
    expect(firstHourOfMonth(Date.parse(asOf)), `no budget to plant: ${JSON.stringify(budgets)}`).toBe(true);
  }

  // The simulator's live endpoints for three nodes, the collector, and an agent for each of those nodes.
  serving = await serve({ cluster, nodes: served.map((n) => n.name), dir: join(scratch, 'sim') });
  await startCollector(collectorConfig(scratch, port, final));
  await pollUntil(
    async () =>
      (await (await fetch(`${collectorUrl}/metrics`)).text()).includes('mlcost_namespace_cost{')
        ? true
        : undefined,
    { timeoutMs: 60_000, everyMs: 500, what: 'cost series on the collector' },
  );
  const agentEnv = cleanEnv({ MLCOST_AGENT_TOKEN: TOKEN });
  // The labels the chart's PodMonitor gives an agent's scrape: its own pod's, and the node it runs on.
  const agentLabels = (node: string) => ({
    cluster: CLUSTER,
    namespace: MLCOST_NAMESPACE,
    pod: `mlcost-agent-${node.slice(-4)}`,
    container: 'agent',
    node,
  });
  const agentTargets: Array<{ targets: string[]; labels: Record<string, string> }> = [];
  const agents: MlcostProcess[] = [];
  for (const node of serving.info.nodes) {
    const listenAt = `127.0.0.1:${await freePort()}`;
    agents.push(
      new MlcostProcess(
        [
          'agent',
          '--config',
          node.agentConfig,
          '--collector-url',
          collectorUrl,
          '--agent-listen',
          listenAt,
          '--interval',
          '1s',
          '--window',
          '2s',
          '--log-level',
          'warn',
        ],
        { env: agentEnv },
      ),
    );
    agentTargets.push({ targets: [listenAt], labels: agentLabels(node.name) });
  }
  // The H100 node's agent: running, but its collector URL and dcgm-exporter are closed ports, and its spool holds
  // two batches.
  const closed = await freePort();
  const spoolAgentAt = `127.0.0.1:${await freePort()}`;
  mkdirSync(join(scratch, 'spool-agent'));
  agents.push(
    new MlcostProcess(
      [
        'agent',
        '--node-name',
        h100.name,
        '--sources',
        'host,dcgm',
        '--collector-url',
        `http://127.0.0.1:${closed}`,
        '--agent-listen',
        spoolAgentAt,
        '--interval',
        '1s',
        '--window',
        '1s',
        '--data-dir',
        join(scratch, 'spool-agent'),
        '--set',
        `agent.dcgm.url=http://127.0.0.1:${closed}/metrics`,
        'agent.spool.maxBytes=600',
        '--log-level',
        'fatal',
      ],
      { env: agentEnv },
    ),
  );
  await Promise.all(agents.map((agent) => agent.waitForStdout(/mlcost agent is running/, 60_000)));
  agentTargets.push({ targets: [spoolAgentAt], labels: agentLabels(h100.name) });
  agentTargets.push({ targets: [`127.0.0.1:${closed}`], labels: agentLabels(GONE_NODE) });

  // The faulty GPU node's dcgm-exporter and the webhook receiver.
  const faulty = faultyDcgmExporter(readFileSync(KOPS_CAPTURE, 'utf8'));
  faultyHost = faulty.host;
  const faultyAt = await listen(() => [200, faulty.text]);
  const webhook = await listen((req, body) => {
    if (req.method === 'POST') {
      const payload = JSON.parse(body) as { receiver: string; alerts: Array<Omit<Delivered, 'receiver'>> };
      for (const alert of payload.alerts) delivered.push({ receiver: payload.receiver, ...alert });
    }
    return [200, 'ok'];
  });

  // Alertmanager with the example's routes, and Prometheus with the shortened rules.
  const alertmanager = await startAlertmanager(
    join(scratch, 'alertmanager'),
    exampleAlertmanagerConfig(webhook),
  );
  mkdirSync(join(scratch, 'prometheus'));
  const rules = join(scratch, 'prometheus', 'mlcost.rules.yaml');
  writeFileSync(
    rules,
    shortenFor(readFileSync(join(REPO_ROOT, 'alerts', 'mlcost.rules.yaml'), 'utf8'), '2s'),
  );
  const target = (url: string, labels: Record<string, string>) => {
    const parsed = new URL(url);
    return {
      targets: [parsed.host],
      labels: { cluster: CLUSTER, __metrics_path__: parsed.pathname, ...labels },
    };
  };
  prometheus = await startPrometheus(join(scratch, 'prometheus'), {
    global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
    rule_files: [rules],
    alerting: { alertmanagers: [{ static_configs: [{ targets: [new URL(alertmanager.url).host] }] }] },
    scrape_configs: [
      {
        job_name: 'mlcost-collector',
        honor_labels: true,
        // As the chart's ServiceMonitor: the collector pod's own labels on the target, the series' labels kept.
        static_configs: [
          {
            targets: [new URL(collectorUrl).host],
            labels: {
              cluster: CLUSTER,
              namespace: MLCOST_NAMESPACE,
              pod: 'mlcost-collector-5d8c7b9f4-x2k8q',
              container: 'collector',
            },
          },
        ],
      },
      { job_name: 'mlcost-agent', honor_labels: true, static_configs: agentTargets },
      {
        job_name: 'gpu-metrics',
        static_configs: [
          ...serving.info.nodes.map((node) => target(node.dcgmUrl, {})),
          { targets: [faultyAt], labels: { cluster: CLUSTER } },
        ],
      },
      {
        job_name: 'model-servers',
        static_configs: serving.info.nodes.flatMap((node) =>
          node.modelServers.map((server) =>
            target(server.url, { namespace: server.namespace, pod: server.workload }),
          ),
        ),
      },
    ],
  });

  // A client that is not an agent: batches without a token, four a second.
  badClient = setInterval(() => {
    fetch(`${collectorUrl}/api/v1/ingest`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{}',
    }).catch(() => {});
  }, 250);
}, 240_000);

afterAll(async () => {
  if (badClient) clearInterval(badClient);
  await stopAllServers();
  await killAll();
  await serving?.close();
  await Promise.all(
    httpServers.map(
      (server) =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    ),
  );
  if (scratch) rmSync(scratch, { recursive: true, force: true });
}, 60_000);

interface Expectation {
  alertname: string;
  labels: Record<string, string>;
  receiver: string;
}

const matches = (d: Delivered, e: Expectation) =>
  d.labels['alertname'] === e.alertname && Object.entries(e.labels).every(([k, v]) => d.labels[k] === v);

const teamOf = (namespace: string) =>
  /^(research-.*|nlp-research|vision-research)$/.test(namespace)
    ? 'team-research'
    : /^(.*-serving|ml-platform)$/.test(namespace)
      ? 'team-serving'
      : 'platform-slack';

interface IdleGpu {
  reason: string;
  namespace: string;
  pod: string;
  node: string;
  gpuIds: string[];
  from: string;
  to: string;
}

/** The GPUs truth.ts says were held and unused for the whole of `hour` (the notebooks planted idle among them). */
function idleAllHour(hour: number): IdleGpu[] {
  const truth = groundTruth(cluster, { from: hour, to: hour + HOUR, windowMs: WINDOW_MS }) as {
    idleGpus: IdleGpu[];
  };
  return truth.idleGpus.filter((g) => Date.parse(g.from) <= hour && Date.parse(g.to) >= hour + HOUR);
}

/**
 * Checks what was planted against the collector's cost series of one hour, and returns the alerts they must raise:
 * each GPU held idle, each node with free capacity, and the budgets. `asPlanted`: the budgets still stand as they
 * were planted (the hour has not turned since); after a turn, the alert each budget's spend and forecast now call for.
 */
function wasteAndBudgetAlerts(state: CostState, asPlanted: boolean): Expectation[] {
  const what = `the hour from ${new Date(state.hour).toISOString()}`;
  // Free: every MIG slice and GPU that no seat ever claims, on the nodes that have one (the A100 MIG node's
  // uncarved slices, the L4 nobody holds).
  const neverHeld = cluster.nodes.flatMap((node) =>
    neverHeldUnits(node).map((gpu) => ({ node: node.name, gpu })),
  );
  expect(new Set(neverHeld.map((u) => u.node)), 'nodes with GPU units no seat claims').toEqual(
    new Set(served.filter((n) => n.pool !== 'cpu').map((n) => n.name)),
  );
  for (const unit of neverHeld) {
    expect(state.free, `${what}: ${unit.node} ${unit.gpu} is free`).toContainEqual(unit);
  }
  // Held idle: the GPUs truth.ts names idle all hour, the planted idle notebook always among them.
  const idle = idleAllHour(state.hour);
  expect(
    idle.filter((g) => g.reason === 'notebook-never-used').map((g) => g.node),
    `${what}: planted idle notebooks`,
  ).toContain(served[0]!.name);
  for (const gpu of idle) {
    for (const id of gpu.gpuIds) {
      expect(state.heldIdle, `${what}: GPU ${id} of ${gpu.namespace}/${gpu.pod} is held idle`).toContainEqual(
        {
          namespace: gpu.namespace,
          pod: gpu.pod,
          node: gpu.node,
          gpu: id,
        },
      );
    }
  }
  const expected: Expectation[] = [
    ...state.heldIdle.map((labels) => ({
      alertname: 'MLCostGPUHeldIdle',
      labels: { ...labels, severity: 'warning' },
      receiver: teamOf(labels['namespace']!),
    })),
    ...[...new Set(state.free.map((labels) => labels['node']!))].map((node) => ({
      alertname: 'MLCostGPUsFree',
      labels: { node, severity: 'warning' },
      receiver: 'platform-slack',
    })),
  ];

  // Budgets: the one kept under its limit raises nothing; the planted ones are over and over forecast, except in a
  // month's first hour, when nothing is spent yet.
  const fine = state.budgets.get('team-fine')!;
  expect(fine.spend, `${what}: team-fine`).toBeLessThan(fine.limit);
  expect(fine.forecast, `${what}: team-fine`).toBeLessThan(fine.limit);
  if (firstHourOfMonth(state.hour + HOUR)) {
    for (const [name, budget] of state.budgets) expect(budget.spend, `${what}: ${name}`).toBe(0);
    return expected;
  }
  if (!planted.over) return expected;
  const over = state.budgets.get('team-over')!;
  const forecast = state.budgets.get('team-forecast')!;
  if (asPlanted) {
    expect(over.spend, `${what}: team-over is over its limit`).toBeGreaterThan(over.limit);
    expect(forecast.spend, `${what}: team-forecast is under its limit`).toBeLessThan(forecast.limit);
    expect(forecast.forecast, `${what}: team-forecast is forecast over it`).toBeGreaterThan(forecast.limit);
  }
  for (const [name, budget] of [
    ['team-over', over],
    ['team-forecast', forecast],
  ] as const) {
    const alertname =
      budget.spend > budget.limit
        ? 'MLCostBudgetExceeded'
        : budget.forecast > budget.limit
          ? 'MLCostBudgetForecastExceeded'
          : undefined;
    if (!alertname) continue;
    expected.push({
      alertname,
      labels: {
        budget: name,
        severity: alertname === 'MLCostBudgetExceeded' ? 'critical' : 'warning',
      },
      receiver: 'finops-slack',
    });
  }
  return expected;
}

describe('planted alerts, through a real Prometheus and Alertmanager', () => {
  it('arrive at the webhook with their labels, at the receiver the example routes them to', async () => {
    const fixed: Expectation[] = [
      {
        alertname: 'MLCostAgentNotReporting',
        labels: { node: h100.name, severity: 'warning' },
        receiver: 'platform-slack',
      },
      {
        alertname: 'MLCostAgentSpoolDroppingData',
        labels: { node: h100.name, reason: 'bytes', severity: 'critical' },
        receiver: 'platform-pager',
      },
      {
        alertname: 'MLCostAgentSourceFailing',
        labels: { node: h100.name, source: 'dcgm', severity: 'warning' },
        receiver: 'platform-slack',
      },
      {
        alertname: 'MLCostAgentDown',
        labels: { node: GONE_NODE, severity: 'warning' },
        receiver: 'platform-slack',
      },
      {
        alertname: 'MLCostCollectorIngestFailing',
        labels: { reason: 'unauthorized', job: 'mlcost-collector', severity: 'warning' },
        receiver: 'platform-slack',
      },
      {
        alertname: 'MLCostGPUHardwareXIDError',
        labels: { Hostname: faultyHost, gpu: '0', xid: '79', severity: 'critical' },
        receiver: 'platform-pager',
      },
      {
        alertname: 'MLCostGPUClockThrottled',
        labels: { Hostname: faultyHost, gpu: '0', reason: 'thermal', severity: 'warning' },
        receiver: 'platform-slack',
      },
      {
        alertname: 'MLCostGPUMemoryNearlyFull',
        labels: { Hostname: faultyHost, gpu: '0', severity: 'warning' },
        receiver: 'platform-slack',
      },
    ];

    // The cost series describe the latest complete hour: what they say is wasted must alert. When the hour turns
    // before everything has arrived, the new hour's series are read and must alert in turn (what arrived stays).
    let state = await costState();
    const plantedHour = state.hour;
    let expected = [...fixed, ...wasteAndBudgetAlerts(state, true)];
    const missing = () => expected.filter((e) => !delivered.some((d) => matches(d, e)));
    const deadline = Date.now() + 90_000;
    while (missing().length > 0) {
      if (alignDown(Date.now(), HOUR) !== state.hour + HOUR) {
        state = await costState();
        expected = [...fixed, ...wasteAndBudgetAlerts(state, state.hour === plantedHour)];
        continue;
      }
      if (Date.now() > deadline) {
        throw new Error(
          `the planted alerts did not all arrive at the webhook within 90 s\nmissing: ${JSON.stringify(
            missing(),
            null,
            1,
          )}\ndelivered: ${JSON.stringify(
            [...new Set(delivered.map((d) => `${d.labels['alertname']} ${JSON.stringify(d.labels)}`))],
            null,
            1,
          )}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }

    for (const e of expected) {
      const arrived = delivered.filter((d) => matches(d, e));
      expect(
        arrived.map((d) => d.receiver),
        `${e.alertname} ${JSON.stringify(e.labels)}`,
      ).toContain(e.receiver);
    }
    for (const d of delivered) {
      expect(d.status).toBe('firing');
      expect(d.labels['cluster'], `${d.labels['alertname']} keeps the cluster label`).toBe(CLUSTER);
      expect(d.annotations['runbook_url']).toBe(`alerts/runbook.md#${d.labels['alertname']!.toLowerCase()}`);
      expect(d.annotations['description']).not.toMatch(/\{\{|<no value>/);
    }
    // The budget kept under its limit does not alert.
    expect(delivered.filter((d) => d.labels['budget'] === 'team-fine')).toEqual([]);
  }, 150_000);

  it("keeps the workload's namespace and pod on mlcost's series, and mlcost's own where a series has none", async () => {
    // honor_labels, as the chart's `honorLabels: true`: the target's namespace and pod (mlcost's own pods) do not
    // overwrite those the collector and agents put on their series, and fill in where a series has none.
    const costNamespaces = await labelValues(prometheus.url, 'namespace', 'mlcost_namespace_cost');
    const alwaysRunning = cluster.nodes.flatMap((n) =>
      n.seats.filter((s) => s.schedule.type === 'always').map((s) => s.namespace),
    );
    expect(costNamespaces).toEqual(expect.arrayContaining(alwaysRunning));
    expect(costNamespaces).not.toContain(MLCOST_NAMESPACE);
    const held = await query(prometheus.url, 'mlcost_agent_gpu_activity_ratio{pod!=""}');
    expect(held.length).toBeGreaterThan(0);
    for (const { metric } of held) expect(metric['pod']).not.toMatch(/^mlcost-agent-/);
    const info = await query(prometheus.url, 'mlcost_build_info{job="mlcost-collector"}');
    expect(info.map((s) => [s.metric['namespace'], s.metric['container']])).toEqual([
      [MLCOST_NAMESPACE, 'collector'],
    ]);
  });
});

describe('every dashboard panel, against that Prometheus', () => {
  it('returns at least one series, with the variables Grafana would set', async () => {
    const all = dashboards();
    const clusters = await labelValues(prometheus.url, 'cluster', 'mlcost_build_info');
    expect(clusters).toEqual([CLUSTER]);
    const checks: Array<{ what: string; expr: string }> = [];
    for (const dashboard of all) {
      const values: Record<string, string> = { cluster: clusters[0]! };
      for (const variable of dashboard.templating.list.filter((v) => v.type === 'query')) {
        const { selector, label } = variableSelector(variable, values);
        const options = await labelValues(prometheus.url, label, selector);
        if (variable.name === 'namespace' && dashboard.uid !== 'mlcost-health') {
          expect(options.length, `${dashboard.uid}: namespaces to choose from`).toBeGreaterThan(0);
        }
        if (variable.name !== 'cluster') values[variable.name] = String(variable['allValue']);
      }
      for (const { panel, refId, expr } of dashboardQueries(dashboard, values)) {
        checks.push({ what: `${dashboard.uid} "${panel}" ${refId}`, expr });
      }
    }
    const empty = async () => {
      const out: string[] = [];
      for (const check of checks) {
        if ((await queryRange(prometheus.url, check.expr, 120)).length === 0)
          out.push(`${check.what}: ${check.expr}`);
      }
      return out;
    };
    let last: string[] = [];
    await pollUntil(
      async () => {
        last = await empty();
        return last.length === 0 ? true : undefined;
      },
      { timeoutMs: 60_000, everyMs: 2_000, what: 'a series from every panel query' },
    ).catch(() => {
      throw new Error(`panel queries without a series:\n${last.join('\n')}`);
    });
    expect(last).toEqual([]);
  }, 120_000);
});
