// Hostile input to the agent's scraping sources: malformed text, a label value of megabytes, a response of a
// million series (generated while it streams, never held here), an endless body, truncated JSON from the kubelet
// and garbage from a model server. Each must be rejected by a documented limit (agent.limits.maxBodyBytes,
// agent.limits.maxSeries, the parser's maxLabelValueLength) or as malformed, with an error that names the limit or
// the line; and the real agent process, fed all of it in turn (the million series again and again), must stay up,
// keep closing windows and keep its resident memory under a fixed bound.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PodInfo } from '../agent/samples.ts';
import type { Source } from '../agent/source.ts';
import { createDcgmSource } from '../agent/sources/dcgm.ts';
import { createKubeletSource } from '../agent/sources/kubelet.ts';
import { createModelServersSource } from '../agent/sources/model-servers.ts';
import { loadConfig } from '../core/config/load.ts';
import { MlcostError } from '../core/errors.ts';
import { DEFAULT_PARSE_LIMITS } from '../core/prometheus/parse.ts';
import { type FakeApiServer, startFakeApiServer } from './fakes/fake-apiserver.ts';
import { type FakeKubelet, generateSelfSignedCert, startFakeKubelet } from './fakes/fake-kubelet.ts';
import { type FakeModelServer, startFakeModelServer } from './fakes/fake-model-server.ts';
import {
  cleanEnv,
  freePort,
  killAll,
  MlcostProcess,
  pollUntil,
  REPO_ROOT,
} from './support/mlcost-process.ts';

// ---- the documented limits (core/config/keys.ts and core/prometheus/parse.ts) ----

const MAX_BODY_BYTES = 16 * 2 ** 20; // agent.limits.maxBodyBytes, default 16Mi
const MAX_SERIES = 100_000; // agent.limits.maxSeries
const MAX_LABEL_VALUE = 4096; // parser maxLabelValueLength (not configurable)
/**
 * The agent process runs with V8's old space capped at HEAP_CAP_MIB, as a DaemonSet with a memory limit would: a
 * leak on the heap then ends in "heap out of memory" (the process dies, the test sees it). Under the cap V8 lets
 * garbage pile up until it nears the cap (fed a million series every second without one, the RSS saw-tooths between
 * ~310 and ~580 MiB with no upward trend; tsx alone holds ~210-230 MiB idle, so an absolute bound cannot hold under
 * tsx). So the resident set may grow over idle by at most what that cap allows and no more: the old space (the cap),
 * the young generation (three 16 MiB semi-spaces by default on 64-bit), one body in flight (maxBodyBytes, 16 MiB) and
 * 32 MiB for code and native buffers. A busy CI machine once saw 194 MiB of growth, inside this and over a bound of
 * 192 MiB that left out the young generation. Bodies kept after their scrape (up to 16 MiB each, six big ones)
 * come on top of a full heap and would push it over.
 */
const HEAP_CAP_MIB = 160;
const RSS_GROWTH_BOUND = (HEAP_CAP_MIB + 3 * 16 + 16 + 32) * 2 ** 20;
/** Longest stderr line accepted: an error about a 5 MB token must not be a 5 MB log line. */
const MAX_LOG_LINE = 2048;

// ---- hostile bodies, generated while they stream ----

type Body = () => Iterable<string>;

/** Two good metadata lines, then a broken label set on line 3 (the last value is followed by `5`, not `}`). */
const MALFORMED = [
  '# HELP DCGM_FI_DEV_GPU_UTIL GPU utilization (in %).',
  '# TYPE DCGM_FI_DEV_GPU_UTIL gauge',
  'DCGM_FI_DEV_GPU_UTIL{gpu="0",UUID="GPU-34319582-d595-d1c7-d1d2-179bcfa61660" 5',
  '',
].join('\n');

/** One dcgm sample whose `modelName` label value is 5 MB. */
function* hugeLabel(): Iterable<string> {
  yield 'DCGM_FI_DEV_GPU_UTIL{gpu="0",UUID="GPU-34319582-d595-d1c7-d1d2-179bcfa61660",modelName="';
  const chunk = 'A'.repeat(64 * 1024);
  for (let sent = 0; sent < 5_000_000; sent += chunk.length) yield chunk;
  yield '"} 5\n';
}

/** A malformed line carrying one 5 MB token (a value): the error must not quote all of it. */
function* hugeToken(): Iterable<string> {
  yield 'DCGM_FI_DEV_GPU_UTIL{gpu="0",UUID="GPU-34319582-d595-d1c7-d1d2-179bcfa61660"} 5';
  const chunk = '9'.repeat(64 * 1024);
  for (let sent = 0; sent < 5_000_000; sent += chunk.length) yield `x${chunk}`;
  yield '\n';
}

/**
 * A million distinct series, 1,000 lines per chunk. `compact`: `x{i="<n>"} 1`, 10 bytes + the digits of n, so
 * 10 × 10^6 + 5,888,890 digits (0-999999) = 15,888,890 bytes: under maxBodyBytes (16,777,216), so it is the
 * series limit that stops it, at sample 100,001 = line 100,001. `dcgm`: dcgm-exporter-shaped lines of about 110
 * bytes, 110 MB in all: the body limit stops it long before the parser sees it.
 */
function millionSeries(shape: 'compact' | 'dcgm'): Body {
  return function* () {
    for (let start = 0; start < 1_000_000; start += 1000) {
      let chunk = '';
      for (let i = start; i < start + 1000; i++) {
        chunk +=
          shape === 'compact'
            ? `x{i="${i}"} 1\n`
            : `DCGM_FI_DEV_GPU_UTIL{gpu="${i % 8}",UUID="GPU-00000000-0000-0000-0000-${String(i).padStart(12, '0')}",device="nvidia${i % 8}",Hostname="gpu-node-1"} ${i % 100}\n`;
      }
      yield chunk;
    }
  };
}

/** A body that never ends: the same valid dcgm line forever. */
function* endless(): Iterable<string> {
  const chunk = 'DCGM_FI_DEV_GPU_UTIL{gpu="0",UUID="GPU-34319582-d595-d1c7-d1d2-179bcfa61660"} 5\n'.repeat(
    1000,
  );
  for (;;) yield chunk;
}

const HEALTHY_DCGM =
  'DCGM_FI_DEV_GPU_UTIL{gpu="0",UUID="GPU-34319582-d595-d1c7-d1d2-179bcfa61660",device="nvidia0"} 42\n';

/** What a model server behind a broken proxy answers: an HTML error page, served as 200. */
const GARBAGE_METRICS =
  '<!DOCTYPE html>\n<html><head><title>Oops</title></head><body>upstream error</body></html>\n';

// ---- a streaming server: each request gets the body `next(n)` chooses, written with backpressure ----

interface StreamServer {
  url: string;
  readonly requests: number;
  /** Responses whose client hung up before the end (a scrape that gave up mid-body). */
  readonly cutShort: number;
  close(): Promise<void>;
}

async function startStreamServer(
  next: (request: number) => Body,
  options: { https?: boolean } = {},
): Promise<StreamServer> {
  let requests = 0;
  let cutShort = 0;
  const open = new Set<ServerResponse>();
  const handler = (_req: IncomingMessage, res: ServerResponse) => {
    const body = next(requests++)();
    open.add(res);
    res.on('close', () => {
      open.delete(res);
      if (!res.writableFinished) cutShort++;
    });
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    const iterator = body[Symbol.iterator]();
    const pump = () => {
      while (!res.destroyed) {
        const { done, value } = iterator.next();
        if (done) {
          res.end();
          return;
        }
        if (!res.write(value)) {
          res.once('drain', pump);
          return;
        }
      }
    };
    pump();
  };
  const cert = options.https ? generateSelfSignedCert() : undefined;
  const server = cert
    ? createHttpsServer({ key: cert.key, cert: cert.cert }, handler)
    : createHttpServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${cert ? 'https' : 'http'}://127.0.0.1:${port}/metrics`,
    get requests() {
      return requests;
    },
    get cutShort() {
      return cutShort;
    },
    close() {
      for (const res of open) res.destroy();
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

const text =
  (value: string): Body =>
  () => [value];

async function collectError(source: Source): Promise<MlcostError> {
  try {
    await source.collect(new AbortController().signal);
  } catch (error) {
    if (error instanceof MlcostError) return error;
    throw error;
  }
  throw new Error(`source ${source.name} accepted what it should have rejected`);
}

// ---- source level ----

describe('hostile input at the source level', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'mlcost-hostile-src-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('relies on the documented defaults: 16Mi per body, 100,000 series per scrape, 4,096-character label values', () => {
    // An empty file, so a ./mlcost.yaml where the tests run cannot change the defaults.
    writeFileSync(join(dir, 'empty.yaml'), '{}\n');
    expect(loadConfig({ env: {}, file: join(dir, 'empty.yaml') }).agent.limits).toEqual({
      maxBodyBytes: MAX_BODY_BYTES,
      maxSeries: MAX_SERIES,
    });
    expect(DEFAULT_PARSE_LIMITS.maxLabelValueLength).toBe(MAX_LABEL_VALUE);
  });

  const dcgmWith = (url: string, maxBodyBytes = MAX_BODY_BYTES) =>
    createDcgmSource({ url, timeoutMs: 10_000, maxBodyBytes, maxSeries: MAX_SERIES });

  it('dcgm: malformed text is rejected naming the line', async () => {
    const server = await startStreamServer(() => text(MALFORMED));
    try {
      const error = await collectError(dcgmWith(server.url));
      expect(error.kind).toBe('parse');
      expect(error.message).toBe(
        `dcgm-exporter at ${server.url}: line 3: expected "," or "}" after the value of label "UUID", found "5"`,
      );
    } finally {
      await server.close();
    }
  });

  it('dcgm: a 5 MB label value is rejected by maxLabelValueLength', async () => {
    const server = await startStreamServer(() => hugeLabel);
    try {
      const error = await collectError(dcgmWith(server.url));
      expect(error.message).toBe(
        `dcgm-exporter at ${server.url}: line 1: label value for "modelName" longer than ${MAX_LABEL_VALUE} characters (limit maxLabelValueLength)`,
      );
    } finally {
      await server.close();
    }
  });

  it('dcgm: a malformed 5 MB token is rejected with a short message', async () => {
    const server = await startStreamServer(() => hugeToken);
    try {
      const error = await collectError(dcgmWith(server.url));
      expect(error.message).toMatch(/: line 1: unexpected text|: line 1: bad value/);
      // It goes into one log line: quoting the whole token would make that line 5 MB.
      expect(error.message.length).toBeLessThan(MAX_LOG_LINE);
    } finally {
      await server.close();
    }
  });

  it('dcgm: a million series stop at maxSeries, or at maxBodyBytes when the lines are long', async () => {
    const server = await startStreamServer((n) => millionSeries(n === 0 ? 'compact' : 'dcgm'));
    try {
      const compact = await collectError(dcgmWith(server.url));
      expect(compact.kind).toBe('limit');
      expect(compact.message).toBe(
        `dcgm-exporter at ${server.url}: line 100001: more than ${MAX_SERIES} samples (limit maxSamples) (the dcgm source's maxSeries is ${MAX_SERIES})`,
      );
      const long = await collectError(dcgmWith(server.url));
      expect(long.kind).toBe('limit');
      expect(long.message).toBe(
        `dcgm-exporter at ${server.url} sent a body over ${MAX_BODY_BYTES} bytes (limit maxBodyBytes); scrape aborted`,
      );
      // The second download was abandoned, not read to its end.
      await pollUntil(async () => (server.cutShort >= 1 ? true : undefined), {
        timeoutMs: 5_000,
        what: 'the server to see the scrape hang up',
      });
    } finally {
      await server.close();
    }
  });

  it('dcgm: an endless body is cut at maxBodyBytes', async () => {
    const server = await startStreamServer(() => endless);
    try {
      const started = Date.now();
      const error = await collectError(dcgmWith(server.url, 2 ** 20));
      expect(error.message).toBe(
        `dcgm-exporter at ${server.url} sent a body over ${2 ** 20} bytes (limit maxBodyBytes); scrape aborted`,
      );
      expect(Date.now() - started).toBeLessThan(5_000);
      await pollUntil(async () => (server.cutShort === 1 ? true : undefined), {
        timeoutMs: 5_000,
        what: 'the server to see the scrape hang up',
      });
    } finally {
      await server.close();
    }
  });

  it('kubelet: truncated JSON is rejected as truncated', async () => {
    const summary = readFileSync(
      join(REPO_ROOT, 'test', 'fixtures', 'real', 'kubelet', 'stats_summary.datadog-gke-2019.json'),
      'utf8',
    );
    // Cut mid-object, at a line boundary halfway through: 37,643 characters in all.
    const cut = summary.slice(0, summary.indexOf('\n', summary.length / 2));
    const kubelet = await startFakeKubelet({ token: 'k', summary: cut });
    try {
      writeFileSync(join(dir, 'token'), 'k');
      writeFileSync(join(dir, 'ca.pem'), kubelet.ca);
      const source = createKubeletSource({
        url: kubelet.url,
        tokenFile: join(dir, 'token'),
        caFile: join(dir, 'ca.pem'),
        maxBodyBytes: MAX_BODY_BYTES,
      });
      const error = await collectError(source);
      expect(error.kind).toBe('parse');
      expect(error.message).toMatch(
        new RegExp(
          `^kubelet /stats/summary: the body is not valid JSON \\(${cut.length} characters; truncated\\?\\): `,
        ),
      );
    } finally {
      await kubelet.close();
    }
  });

  it('kubelet: an endless body is cut at maxBodyBytes, and the error names that limit', async () => {
    const server = await startStreamServer(() => endless, { https: true });
    try {
      writeFileSync(join(dir, 'token'), 'k');
      const source = createKubeletSource({
        url: server.url.replace(/\/metrics$/, ''),
        tokenFile: join(dir, 'token'),
        insecureSkipTlsVerify: true,
        maxBodyBytes: 2 ** 20,
      });
      const error = await collectError(source);
      expect(error.kind).toBe('limit');
      expect(error.message).toContain(String(2 ** 20));
      expect(error.message).toContain('maxBodyBytes');
    } finally {
      await server.close();
    }
  });

  it('model servers: garbage is rejected naming the line, an endless body at maxBodyBytes', async () => {
    const garbage = await startFakeModelServer({ text: GARBAGE_METRICS });
    const flood = await startStreamServer(() => endless);
    const pod = (name: string, port: number): PodInfo => ({
      uid: `uid-${name}`,
      namespace: 'serving',
      name,
      phase: 'Running',
      podIP: '127.0.0.1',
      labels: {},
      annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(port) },
      containers: [],
    });
    try {
      const source = (pods: PodInfo[]) =>
        createModelServersSource({
          getPods: () => pods,
          timeoutMs: 10_000,
          maxBodyBytes: 2 ** 20,
          maxSeries: MAX_SERIES,
        });
      const bad = await collectError(source([pod('llm-0', garbage.port)]));
      expect(bad.message).toBe(
        `all 1 model-server targets failed; first: ${garbage.url}: line 1: bad metric name "<!DOCTYPE"`,
      );
      const floodPort = Number(new URL(flood.url).port);
      const big = await collectError(source([pod('llm-1', floodPort)]));
      expect(big.message).toBe(
        `all 1 model-server targets failed; first: ${flood.url}: body larger than maxBodyBytes ${2 ** 20} (more than ${2 ** 20} bytes received)`,
      );
    } finally {
      await Promise.all([garbage.close(), flood.close()]);
    }
  });
});

// ---- the real agent process ----

/** Resident set size of a process in bytes, from /proc/<pid>/status; undefined once it is gone. */
function rssOf(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** The processes `pid` started (tsx runs mlcost in a child node process), from /proc/<n>/stat. */
function childrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // After the parenthesised command: state, then ppid.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) children.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return children;
}

function metricValue(metrics: string, series: string): number | undefined {
  const escaped = series.replace(/[{}"]/g, (c) => `\\${c}`);
  const match = new RegExp(`^${escaped} (\\S+)$`, 'm').exec(metrics);
  return match ? Number(match[1]) : undefined;
}

describe('hostile input against the real agent process', () => {
  const NODE = 'hostile-node';
  let dir: string;
  let api: FakeApiServer;
  let kubelet: FakeKubelet;
  let modelServer: FakeModelServer;
  let dcgm: StreamServer;

  /** What dcgm-exporter answers at each scrape, in turn; after the last, a healthy scrape. */
  const DCGM_PLAN: Body[] = [
    text(MALFORMED),
    hugeLabel,
    hugeToken,
    ...Array.from({ length: 3 }, () => millionSeries('compact')),
    ...Array.from({ length: 2 }, () => millionSeries('dcgm')),
    endless,
  ];
  /** The reason each planned answer must be rejected with, in the same order. */
  const DCGM_REASONS = [
    /: line 3: expected "," or "}" after the value of label "UUID"/,
    /: line 1: label value for "modelName" longer than 4096 characters \(limit maxLabelValueLength\)/,
    /: line 1: (unexpected text|bad value)/,
    ...Array(3).fill(
      /: line 100001: more than 100000 samples \(limit maxSamples\) \(the dcgm source's maxSeries is 100000\)/,
    ),
    // Two million-series answers of long lines, then the endless one.
    ...Array(3).fill(/ sent a body over 16777216 bytes \(limit maxBodyBytes\); scrape aborted/),
  ];
  /** The kubelet's summary cut after 20,000 of its 37,643 characters. */
  const TRUNCATED_AT = 20_000;

  beforeAll(async () => {
    if (process.platform !== 'linux') throw new Error('this test reads /proc and needs Linux');
    dir = mkdtempSync(join(tmpdir(), 'mlcost-hostile-agent-'));
    api = await startFakeApiServer({ token: 'api' });
    modelServer = await startFakeModelServer({ text: GARBAGE_METRICS });
    api.apply('nodes', {
      metadata: { name: NODE },
      status: { capacity: { cpu: '8', memory: '32Gi' }, allocatable: { cpu: '8', memory: '32Gi' } },
    });
    api.apply('pods', {
      metadata: {
        name: 'llm-0',
        namespace: 'serving',
        annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(modelServer.port) },
      },
      spec: { nodeName: NODE, containers: [{ name: 'server' }] },
      status: { phase: 'Running', podIP: '127.0.0.1' },
    });
    const summary = readFileSync(
      join(REPO_ROOT, 'test', 'fixtures', 'real', 'kubelet', 'stats_summary.datadog-gke-2019.json'),
      'utf8',
    );
    kubelet = await startFakeKubelet({ token: 'kubelet', summary: summary.slice(0, TRUNCATED_AT) });
    dcgm = await startStreamServer((n) => DCGM_PLAN[n] ?? text(HEALTHY_DCGM));
    writeFileSync(join(dir, 'kubeconfig.json'), api.kubeConfig('api').exportConfig());
    writeFileSync(join(dir, 'kubelet-ca.pem'), kubelet.ca);
    writeFileSync(join(dir, 'kubelet-token'), 'kubelet');
  });

  afterAll(async () => {
    await killAll();
    await Promise.allSettled([api?.close(), kubelet?.close(), modelServer?.close(), dcgm?.close()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('rejects each with a clear log line, stays up, keeps making windows, and keeps its memory bounded', async () => {
    const agentPort = await freePort();
    const agent = new MlcostProcess(
      [
        'agent',
        '--interval',
        '1s',
        '--window',
        '2s',
        // Nothing listens there: batches wait in the spool, which is not what this test is about.
        '--collector-url',
        `http://127.0.0.1:${await freePort()}`,
        '--agent-listen',
        `127.0.0.1:${agentPort}`,
        '--sources',
        'pods,kubelet,dcgm,model-servers',
      ],
      {
        cwd: dir,
        env: cleanEnv({
          NODE_NAME: NODE,
          NODE_OPTIONS: `--max-old-space-size=${HEAP_CAP_MIB}`,
          MLCOST_DATA_DIR: join(dir, 'data'),
          MLCOST_AGENT_KUBERNETES_KUBECONFIG: join(dir, 'kubeconfig.json'),
          MLCOST_AGENT_KUBELET_URL: kubelet.url,
          MLCOST_AGENT_KUBELET_CA_FILE: join(dir, 'kubelet-ca.pem'),
          MLCOST_AGENT_KUBELET_TOKEN_FILE: join(dir, 'kubelet-token'),
          MLCOST_AGENT_DCGM_URL: dcgm.url,
          MLCOST_LOG_LEVEL: 'info',
        }),
      },
    );
    await agent.waitForStdout(/mlcost agent is running/, 30_000);
    const metrics = () => fetch(`http://127.0.0.1:${agentPort}/metrics`).then((r) => r.text());
    const windowsBefore = metricValue(await metrics(), 'mlcost_agent_windows_total') ?? Number.NaN;

    // The agent's resident memory: the node process tsx started (the largest of tsx and its children).
    const agentRss = () =>
      Math.max(0, ...[agent.pid, ...childrenOf(agent.pid)].map((pid) => rssOf(pid) ?? 0));
    // Idle: what it holds once it has started and sampled, before the first big answer (the first is 3 lines).
    await pollUntil(async () => (dcgm.requests >= 1 ? true : undefined), {
      timeoutMs: 10_000,
      what: 'the first dcgm scrape',
    });
    const idle = agentRss();
    let peak = idle;
    const sampler = setInterval(() => {
      peak = Math.max(peak, agentRss());
    }, 25);
    let after: string;
    try {
      // Every planned answer served, then a healthy one that brings dcgm back up.
      after = await pollUntil(
        async () => {
          if (agent.child.exitCode !== null)
            throw new Error(`the agent exited: ${agent.stderr.slice(-2000)}`);
          const text = await metrics();
          return dcgm.requests > DCGM_PLAN.length &&
            metricValue(text, 'mlcost_agent_source_up{source="dcgm"}') === 1
            ? text
            : undefined;
        },
        {
          timeoutMs: 60_000,
          everyMs: 100,
          what: `${DCGM_PLAN.length} hostile dcgm answers, then a healthy one`,
        },
      );
    } finally {
      clearInterval(sampler);
    }
    console.info(
      `agent RSS idle ${(idle / 2 ** 20).toFixed(0)} MiB, peak ${(peak / 2 ** 20).toFixed(0)} MiB over ${dcgm.requests} dcgm scrapes (heap cap ${HEAP_CAP_MIB} MiB)`,
    );

    // Still up, still closing a window every 2 s, the healthy source healthy, the broken ones down.
    expect(agent.child.exitCode).toBeNull();
    expect((metricValue(after, 'mlcost_agent_windows_total') ?? 0) - windowsBefore).toBeGreaterThanOrEqual(3);
    expect(metricValue(after, 'mlcost_agent_source_up{source="pods"}')).toBe(1);
    expect(metricValue(after, 'mlcost_agent_source_up{source="kubelet"}')).toBe(0);
    expect(metricValue(after, 'mlcost_agent_source_up{source="model-servers"}')).toBe(0);
    // Memory: bounded growth over idle while fed five million-series answers (two of 110 MB) and an endless one.
    expect(idle).toBeGreaterThan(0);
    expect(peak - idle).toBeLessThan(RSS_GROWTH_BOUND);

    agent.signal('SIGTERM');
    expect((await agent.waitForExit(15_000)).code).toBe(0);

    // The log: one JSON event per line, none of them huge, and one warn line per rejection, in order, naming the
    // limit or the line. The kubelet and the model server failed at every collection, for the same reason.
    const lines = agent.stderr.split('\n').filter((line) => line !== '');
    const events = lines.map((line) => JSON.parse(line) as { level: string; msg: string });
    const failures = (source: string) =>
      events
        .filter((e) => e.level === 'warn' && e.msg.startsWith(`source ${source} failed: `))
        .map((e) => e.msg);
    const dcgmFailures = failures('dcgm');
    expect(dcgmFailures).toHaveLength(DCGM_REASONS.length);
    for (const [index, reason] of DCGM_REASONS.entries()) expect(dcgmFailures[index]).toMatch(reason);
    const kubeletFailures = failures('kubelet');
    expect(kubeletFailures.length).toBeGreaterThanOrEqual(DCGM_PLAN.length);
    for (const message of kubeletFailures) {
      expect(message).toContain(`the body is not valid JSON (${TRUNCATED_AT} characters; truncated?)`);
    }
    const modelFailures = failures('model-servers');
    expect(modelFailures.length).toBeGreaterThanOrEqual(DCGM_PLAN.length - 1);
    for (const message of modelFailures) {
      expect(message).toContain(`${modelServer.url}: line 1: bad metric name "<!DOCTYPE"`);
    }
    for (const line of lines) expect(line.length, `${line.slice(0, 300)}…`).toBeLessThan(MAX_LOG_LINE);
  });
});
