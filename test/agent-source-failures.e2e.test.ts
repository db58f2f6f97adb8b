// A failing source, end to end: the real `mlcost agent` (continuous mode, its /metrics on a free port) runs against
// a healthy API server and three broken sources at once: dcgm-exporter answering HTTP 500 (later garbage text,
// later the real thing again), a kubelet that accepts the connection and never answers (a timeout), and a
// pod-resources socket path that does not exist. Each broken source must show source_up 0 and log one clear line
// per failed collection naming it and the reason, while the pods source stays up and windows with containers
// still reach `mlcost collector`.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeApiServer, startFakeApiServer } from './fakes/fake-apiserver.ts';
import { generateSelfSignedCert } from './fakes/fake-kubelet.ts';
import { type FakeModelServer, startFakeModelServer } from './fakes/fake-model-server.ts';
import { cleanEnv, freePort, killAll, MlcostProcess, pollUntil } from './support/mlcost-process.ts';

const NODE = 'cpu-node-7';
const API_TOKEN = 'api-token-source-failures';
const INGEST_TOKEN = 'ingest-token-source-failures-0123';
// Long enough for a cold first scrape on a loaded machine; the kubelet, which never answers, takes all of it.
const SOURCE_TIMEOUT_MS = 4000;
const GI = 2 ** 30;

/** Two lines of dcgm text, the second broken: the parser must name line 2. */
const GARBAGE = [
  'DCGM_FI_DEV_GPU_UTIL{gpu="0",UUID="GPU-0000000a-0000-0000-0000-000000000001"} 42',
  '<html><body>502 Bad Gateway</body></html>',
  '',
].join('\n');
const HEALTHY_DCGM = [
  'DCGM_FI_DEV_GPU_UTIL{gpu="0",UUID="GPU-0000000a-0000-0000-0000-000000000001",device="nvidia0"} 42',
  'DCGM_FI_DEV_FB_USED{gpu="0",UUID="GPU-0000000a-0000-0000-0000-000000000001",device="nvidia0"} 1024',
  '',
].join('\n');

interface LogLine {
  level: string;
  msg: string;
  source?: string;
  error?: string;
  [key: string]: unknown;
}

function logLines(stderr: string): LogLine[] {
  return stderr
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      try {
        return JSON.parse(line) as LogLine;
      } catch {
        throw new Error(`the agent wrote a stderr line that is not one JSON log event: ${line}`);
      }
    });
}

/** The value of `mlcost_agent_source_up{source="<name>"}` in a /metrics text, undefined when absent. */
function sourceUp(metrics: string, source: string): number | undefined {
  const match = new RegExp(`^mlcost_agent_source_up\\{source="${source}"\\} (\\S+)$`, 'm').exec(metrics);
  return match ? Number(match[1]) : undefined;
}

let dir: string;
let api: FakeApiServer;
let dcgm: FakeModelServer;
let silentKubelet: HttpsServer;
let silentKubeletRequests = 0;
const heldResponses = new Set<ServerResponse>();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mlcost-source-failures-'));
  api = await startFakeApiServer({ token: API_TOKEN });
  api.apply('nodes', {
    metadata: { name: NODE, labels: { 'kubernetes.io/hostname': NODE } },
    status: {
      capacity: { cpu: '16', memory: '64Gi' },
      allocatable: { cpu: '15800m', memory: '62Gi' },
    },
  });
  for (const [name, cpu] of [
    ['web-0', '500m'],
    ['batch-0', '2'],
  ] as const) {
    api.apply('pods', {
      metadata: { name, namespace: 'apps', uid: `uid-${name}` },
      spec: {
        nodeName: NODE,
        containers: [{ name: 'main', resources: { requests: { cpu, memory: '1Gi' } } }],
      },
      status: { phase: 'Running', podIP: '10.9.0.4' },
    });
  }
  dcgm = await startFakeModelServer({ text: 'internal error\n', status: 500 });

  // A kubelet that completes TLS, takes the request and never answers.
  const cert = generateSelfSignedCert();
  silentKubelet = createHttpsServer({ key: cert.key, cert: cert.cert }, (_req: IncomingMessage, res) => {
    silentKubeletRequests += 1;
    heldResponses.add(res);
    res.on('close', () => heldResponses.delete(res));
  });
  await new Promise<void>((resolve) => silentKubelet.listen(0, '127.0.0.1', resolve));
  writeFileSync(join(dir, 'kubelet-ca.pem'), cert.cert);
  writeFileSync(join(dir, 'kubelet-token'), 'kubelet-token\n');
  writeFileSync(join(dir, 'kubeconfig.json'), api.kubeConfig(API_TOKEN).exportConfig());
});

afterAll(async () => {
  await killAll();
  for (const res of heldResponses) res.destroy();
  silentKubelet?.closeAllConnections();
  await new Promise<void>((resolve) => (silentKubelet ? silentKubelet.close(() => resolve()) : resolve()));
  await Promise.allSettled([api?.close(), dcgm?.close()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('a failing source', () => {
  it('shows source_up 0 and logs one clear line per failure, while the others still produce records', async () => {
    const kubeletPort = (silentKubelet.address() as AddressInfo).port;
    const missingSocket = join(dir, 'no-such-dir', 'kubelet.sock');
    const collectorPort = await freePort();
    const agentPort = await freePort();
    const collectorDir = join(dir, 'collector');
    const collector = new MlcostProcess(
      ['collector', '--listen', `127.0.0.1:${collectorPort}`, '--data-dir', collectorDir],
      { cwd: dir, env: cleanEnv({ MLCOST_COLLECTOR_INGEST_TOKEN: INGEST_TOKEN, MLCOST_LOG_LEVEL: 'warn' }) },
    );
    const agent = new MlcostProcess(
      [
        'agent',
        '--interval',
        '1s',
        '--window',
        '2s',
        '--collector-url',
        `http://127.0.0.1:${collectorPort}`,
        '--agent-listen',
        `127.0.0.1:${agentPort}`,
        '--sources',
        'pods,kubelet,pod-resources,dcgm',
        '--set',
        `agent.sourceTimeout=${SOURCE_TIMEOUT_MS}ms`,
      ],
      {
        cwd: dir,
        env: cleanEnv({
          NODE_NAME: NODE,
          MLCOST_DATA_DIR: join(dir, 'agent-data'),
          MLCOST_AGENT_TOKEN: INGEST_TOKEN,
          MLCOST_AGENT_KUBERNETES_KUBECONFIG: join(dir, 'kubeconfig.json'),
          MLCOST_AGENT_KUBELET_URL: `https://127.0.0.1:${kubeletPort}`,
          MLCOST_AGENT_KUBELET_CA_FILE: join(dir, 'kubelet-ca.pem'),
          MLCOST_AGENT_KUBELET_TOKEN_FILE: join(dir, 'kubelet-token'),
          MLCOST_AGENT_POD_RESOURCES_SOCKET: missingSocket,
          MLCOST_AGENT_DCGM_URL: dcgm.url,
          MLCOST_LOG_LEVEL: 'info',
        }),
      },
    );
    await Promise.all([
      collector.waitForStdout(/mlcost collector is running at/, 30_000),
      agent.waitForStdout(/mlcost agent is running/, 30_000),
    ]);
    const metricsUrl = `http://127.0.0.1:${agentPort}/metrics`;
    const metrics = () => fetch(metricsUrl).then((response) => response.text());

    // 1. source_up: 0 for each broken source, 1 for pods.
    const first = await pollUntil(
      async () => {
        const text = await metrics();
        // Each source sets its gauge when it ends: the kubelet only once its timeout has passed.
        const all = ['pods', 'kubelet', 'pod-resources', 'dcgm'].every(
          (s) => sourceUp(text, s) !== undefined,
        );
        return all ? text : undefined;
      },
      { timeoutMs: 40_000, everyMs: 200, what: 'source_up on the agent /metrics' },
    );
    expect({
      pods: sourceUp(first, 'pods'),
      kubelet: sourceUp(first, 'kubelet'),
      'pod-resources': sourceUp(first, 'pod-resources'),
      dcgm: sourceUp(first, 'dcgm'),
    }).toEqual({ pods: 1, kubelet: 0, 'pod-resources': 0, dcgm: 0 });
    expect(silentKubeletRequests).toBeGreaterThan(0);

    // 2. dcgm now answers 200 with garbage: still down, now for a parse error on line 2.
    dcgm.update({ status: 200, text: GARBAGE });
    await pollUntil(async () => (/dcgm-exporter at \S+: line 2: /.test(agent.stderr) ? true : undefined), {
      timeoutMs: 10_000,
      what: 'a dcgm parse error in the agent log',
    });
    expect(sourceUp(await metrics(), 'dcgm')).toBe(0);

    // 3. Windows keep reaching the collector, with the pods' containers and their requests.
    const db = await pollUntil(
      async () => {
        try {
          return new Database(join(collectorDir, 'mlcost.db'), { readonly: true, fileMustExist: true });
        } catch {
          return undefined;
        }
      },
      { timeoutMs: 10_000, what: 'the collector database' },
    );
    try {
      const containers = db.prepare(
        `SELECT DISTINCT namespace, pod, container, request_cpu AS requestCpu, request_memory AS requestMemory
         FROM container_windows WHERE node = ? ORDER BY pod`,
      );
      const rows = await pollUntil(
        async () => {
          const all = containers.all(NODE);
          return all.length === 2 ? all : undefined;
        },
        { timeoutMs: 40_000, everyMs: 250, what: 'container windows at the collector' },
      );
      expect(rows).toEqual([
        { namespace: 'apps', pod: 'batch-0', container: 'main', requestCpu: 2, requestMemory: GI },
        { namespace: 'apps', pod: 'web-0', container: 'main', requestCpu: 0.5, requestMemory: GI },
      ]);
      const nodes = (await (await fetch(`http://127.0.0.1:${collectorPort}/api/v1/nodes`)).json()) as {
        nodes: Array<{ name: string; status: string; capacity: { cpuCores: number } }>;
      };
      expect(nodes.nodes).toMatchObject([{ name: NODE, status: 'reporting', capacity: { cpuCores: 16 } }]);
    } finally {
      db.close();
    }

    // 4. dcgm recovers: up again, the others stay down.
    dcgm.update({ text: HEALTHY_DCGM });
    const recovered = await pollUntil(
      async () => {
        const text = await metrics();
        return sourceUp(text, 'dcgm') === 1 ? text : undefined;
      },
      { timeoutMs: 30_000, everyMs: 200, what: 'dcgm back up' },
    );
    expect(sourceUp(recovered, 'kubelet')).toBe(0);
    expect(sourceUp(recovered, 'pod-resources')).toBe(0);
    expect(sourceUp(recovered, 'pods')).toBe(1);

    agent.signal('SIGTERM');
    collector.signal('SIGTERM');
    expect((await agent.waitForExit(15_000)).code).toBe(0);
    expect((await collector.waitForExit(15_000)).code).toBe(0);

    // 5. The log: every stderr line is one JSON event; each failed collection of a source is one warn line that
    // names the source and says why, and nothing else is logged about it.
    const lines = logLines(agent.stderr);
    const about = (source: string) =>
      lines.filter((line) => line.source === source || line.msg.includes(`source ${source} `));
    const failures = (source: string) => about(source).filter((line) => line.level !== 'info');
    const kubeletLines = failures('kubelet');
    const socketLines = failures('pod-resources');
    const dcgmLines = failures('dcgm');
    for (const line of [...kubeletLines, ...socketLines, ...dcgmLines]) {
      expect(line.level, JSON.stringify(line)).toBe('warn');
      expect(line.msg, JSON.stringify(line)).toMatch(/^source (kubelet|pod-resources|dcgm) failed: /);
      expect(line.msg).toContain(line.error);
    }
    expect(kubeletLines.length).toBeGreaterThanOrEqual(3);
    for (const line of kubeletLines) {
      expect(line).toMatchObject({ source: 'kubelet' });
      expect(line.error).toMatch(new RegExp(`(timed out after|within) ${SOURCE_TIMEOUT_MS} ms`));
    }
    for (const line of socketLines) {
      expect(line).toMatchObject({ source: 'pod-resources' });
      expect(line.error).toBe(
        `pod-resources socket ${missingSocket} does not exist: mount the host's /var/lib/kubelet/pod-resources into the agent`,
      );
    }
    // dcgm: first the 500s, then the parse errors naming the line, then nothing (it recovered).
    const dcgmReasons = dcgmLines.map((line) =>
      /answered HTTP 500/.test(line.error ?? '')
        ? '500'
        : /: line 2: /.test(line.error ?? '')
          ? 'garbage'
          : `other: ${line.error}`,
    );
    const firstGarbage = dcgmReasons.indexOf('garbage');
    expect(firstGarbage).toBeGreaterThan(0);
    expect(dcgmReasons).toEqual([
      ...Array(firstGarbage).fill('500'),
      ...Array(dcgmReasons.length - firstGarbage).fill('garbage'),
    ]);
    expect(dcgmLines[0]?.error).toBe(`dcgm-exporter at ${dcgm.url} answered HTTP 500 Internal Server Error`);
    for (const line of dcgmLines) expect(line.error).toContain(dcgm.url);
    // One line per failed collection: the kubelet and the socket failed at every collection, so they have the
    // same number of lines, and dcgm as many up to its recovery.
    expect(socketLines.length).toBe(kubeletLines.length);
    expect(dcgmLines.length).toBeLessThan(kubeletLines.length);
    // No failure line from the healthy source.
    expect(failures('pods')).toEqual([]);
  });
});
