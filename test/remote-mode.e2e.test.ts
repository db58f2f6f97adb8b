// Remote mode: `mlcost start --kubeconfig` watches a cluster from outside. A fake API server (real HTTP) holds two
// nodes and their pods, and answers the node proxy (kubelet /stats/summary) and the pod proxy (dcgm-exporter
// /metrics) only with the kubeconfig's token: the test proves every read went through the API server, with it.

import { mkdtempSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type FakeApiServer, startFakeApiServer } from './fakes/fake-apiserver.ts';
import { cleanEnv, freePort, killAll, MlcostProcess, pollUntil } from './support/mlcost-process.ts';

const TOKEN = 'remote-user-token';
const NODES = ['gpu-node-a', 'gpu-node-b'];

const node = (name: string) => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: {
    name,
    labels: { 'node.kubernetes.io/instance-type': 'g6.xlarge', 'nvidia.com/gpu.product': 'NVIDIA-L4' },
  },
  status: {
    capacity: { cpu: '4', memory: '16Gi', 'nvidia.com/gpu': '1' },
    allocatable: { cpu: '3920m', memory: '15Gi', 'nvidia.com/gpu': '1' },
  },
});

const pod = (
  namespace: string,
  name: string,
  nodeName: string,
  labels: Record<string, string>,
  gpus = 0,
) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { namespace, name, uid: `uid-${name}`, labels },
  spec: {
    nodeName,
    containers: [
      {
        name: 'main',
        resources: {
          requests: { cpu: '1', memory: '2Gi', ...(gpus ? { 'nvidia.com/gpu': String(gpus) } : {}) },
          limits: gpus ? { 'nvidia.com/gpu': String(gpus) } : {},
        },
      },
    ],
  },
  status: { phase: 'Running', podIP: '10.0.0.1', qosClass: 'Burstable' },
});

/** dcgm-exporter's text for one L4 held by `holder` (its own Kubernetes labels), shaped like the real L4 scrape. */
const dcgmText = (nodeName: string, holder: string) =>
  [
    '# HELP DCGM_FI_DEV_GPU_UTIL GPU utilization (in %).',
    '# TYPE DCGM_FI_DEV_GPU_UTIL gauge',
    `DCGM_FI_DEV_GPU_UTIL{gpu="0",UUID="GPU-${nodeName}",pci_bus_id="00000000:31:00.0",device="nvidia0",modelName="NVIDIA L4",Hostname="${nodeName}",container="main",namespace="team-a",pod="${holder}"} 40`,
    '# HELP DCGM_FI_DEV_FB_USED Framebuffer memory used (in MiB).',
    '# TYPE DCGM_FI_DEV_FB_USED gauge',
    `DCGM_FI_DEV_FB_USED{gpu="0",UUID="GPU-${nodeName}",pci_bus_id="00000000:31:00.0",device="nvidia0",modelName="NVIDIA L4",Hostname="${nodeName}",container="main",namespace="team-a",pod="${holder}"} 1024`,
    '',
  ].join('\n');

/** A kubelet summary with the node and one pod, in the shape of the real GKE /stats/summary. */
const summary = (nodeName: string, podName: string, seconds: number) => ({
  node: {
    nodeName,
    cpu: { time: new Date(seconds * 1000).toISOString(), usageCoreNanoSeconds: seconds * 2e9 },
    memory: { time: new Date(seconds * 1000).toISOString(), workingSetBytes: 6 * 2 ** 30 },
  },
  pods: [
    {
      podRef: { name: podName, namespace: 'team-a', uid: `uid-${podName}` },
      containers: [
        {
          name: 'main',
          cpu: { time: new Date(seconds * 1000).toISOString(), usageCoreNanoSeconds: seconds * 1e9 },
          memory: { time: new Date(seconds * 1000).toISOString(), workingSetBytes: 2 ** 30 },
        },
      ],
    },
  ],
});

let api: FakeApiServer;
const proxied: string[] = [];

function proxy(path: string, _req: IncomingMessage, res: ServerResponse): boolean {
  proxied.push(path);
  const nodeMatch = /^\/api\/v1\/nodes\/([^/]+)\/proxy\/stats\/summary$/.exec(path);
  if (nodeMatch) {
    const name = decodeURIComponent(nodeMatch[1]!);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(summary(name, `trainer-${name}`, Math.floor(Date.now() / 1000))));
    return true;
  }
  const podMatch = /^\/api\/v1\/namespaces\/gpu-operator\/pods\/dcgm-([^/:]+):9400\/proxy\/metrics$/.exec(
    path,
  );
  if (podMatch) {
    const name = decodeURIComponent(podMatch[1]!);
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(dcgmText(name, `trainer-${name}`));
    return true;
  }
  return false;
}

afterAll(async () => {
  await killAll();
  await api?.close();
});

describe('mlcost start --kubeconfig (remote mode)', () => {
  it('watches every node through the API server: capacity, usage, GPUs and the pods holding them', async () => {
    api = await startFakeApiServer({ token: TOKEN, proxy });
    for (const name of NODES) {
      api.apply('nodes', node(name));
      api.apply('pods', pod('team-a', `trainer-${name}`, name, { app: 'trainer' }, 1));
      api.apply('pods', pod('gpu-operator', `dcgm-${name}`, name, { app: 'nvidia-dcgm-exporter' }));
    }
    const dir = mkdtempSync(join(tmpdir(), 'mlcost-remote-'));
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(
      kubeconfig,
      [
        'apiVersion: v1',
        'kind: Config',
        `clusters: [{name: fake, cluster: {server: "${api.url}", insecure-skip-tls-verify: true}}]`,
        `users: [{name: me, user: {token: "${TOKEN}"}}]`,
        'contexts: [{name: fake, context: {cluster: fake, user: me}}]',
        'current-context: fake',
      ].join('\n'),
    );
    const port = await freePort();
    const mlcost = new MlcostProcess(
      [
        'start',
        '--kubeconfig',
        kubeconfig,
        '--listen',
        `127.0.0.1:${port}`,
        '--data-dir',
        join(dir, 'data'),
        '--interval',
        '1s',
        '--window',
        '2s',
      ],
      { env: cleanEnv() },
    );
    await mlcost.waitForStdout(/mlcost is running at (http:\/\/\S+)/, 30_000);

    type NodeView = {
      name: string;
      capacity: { cpuCores: number; memoryBytes: number };
      usage: { cpuCores: number | null; memoryBytes: number | null } | null;
      gpus: Array<{
        id: string;
        model: string | null;
        activity: number | null;
        holders: Array<{ pod: string; via?: string }>;
      }>;
    };
    const nodes = await pollUntil(
      async () => {
        const body = (await (await fetch(`http://127.0.0.1:${port}/api/v1/nodes`)).json()) as {
          nodes: NodeView[];
        };
        const ready = body.nodes.filter((n) => n.gpus.length > 0 && n.usage?.cpuCores != null);
        return ready.length === NODES.length ? body.nodes : undefined;
      },
      { timeoutMs: 30_000, what: 'both nodes with GPUs and usage' },
    );
    for (const name of NODES) {
      const view = nodes.find((n) => n.name === name)!;
      // capacity from the Node object: 4 cores, 16Gi = 17179869184 bytes
      expect(view.capacity).toMatchObject({ cpuCores: 4, memoryBytes: 16 * 2 ** 30 });
      // node CPU: usageCoreNanoSeconds grows 2e9 per second → 2 cores; working set 6 GiB
      expect(view.usage?.cpuCores).toBeCloseTo(2, 1);
      expect(view.usage?.memoryBytes).toBe(6 * 2 ** 30);
      // the L4 at 40 % held by the trainer, known from dcgm-exporter's own pod labels
      expect(view.gpus).toEqual([
        expect.objectContaining({
          id: `GPU-${name}`,
          model: 'NVIDIA L4',
          activity: 0.4,
          holders: [expect.objectContaining({ pod: `trainer-${name}`, via: 'exporter' })],
        }),
      ]);
    }
    // every kubelet and exporter read went through the API server's proxies (the fake answers 401 without the token)
    expect(proxied.some((p) => p === '/api/v1/nodes/gpu-node-a/proxy/stats/summary')).toBe(true);
    expect(
      proxied.some((p) => p === '/api/v1/namespaces/gpu-operator/pods/dcgm-gpu-node-b:9400/proxy/metrics'),
    ).toBe(true);
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toMatch(/mlcost_agent_source_up\{source="kubelet@gpu-node-a"\} 1/);
    expect(metrics).toMatch(/mlcost_agent_source_up\{source="dcgm@gpu-node-b"\} 1/);

    mlcost.child.kill('SIGTERM');
    expect((await mlcost.waitForExit(15_000)).code).toBe(0);
  });
});
