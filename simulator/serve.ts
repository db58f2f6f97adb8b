// `mlcost simulate --serve`: live endpoints for the simulated nodes, exactly what an mlcost agent reads on a real
// GPU node, so the real agent runs against them unchanged:
//   API server    https://127.0.0.1:<port>  (kubeconfig written for it, bearer token)
//   kubelet       https://127.0.0.1:<port>/nodes/<node>/stats/summary   (self-signed CA file, same token)
//   dcgm-exporter http://127.0.0.1:<port>/nodes/<node>/metrics
//   pod-resources unix:<dir>/<node>/kubelet.sock
//   model servers http://127.0.0.1:<port>/metrics, one per serving seat (pods annotated with the port)
// Values come from the same functions as windowsAt, at the simulated time. The simulated clock runs with the wall
// clock from `startAt` (default: now), so a test can place itself at a known minute.
//
// Per node, an mlcost.yaml is written that points an agent at that node's endpoints:
//   mlcost agent --config <dir>/<node>/mlcost.yaml
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { Cluster, SimNode } from './cluster.ts';
import { type SimApiServer, startApiServer } from './endpoints/api-server.ts';
import { type SimDcgmExporters, startDcgmExporters } from './endpoints/dcgm-exporter.ts';
import { type SimKubelets, startKubelets } from './endpoints/kubelet.ts';
import { type SimModelServers, startModelServers } from './endpoints/model-servers.ts';
import { type SimPodResources, startPodResources } from './endpoints/pod-resources.ts';
import { selfSignedCert } from './endpoints/tls.ts';
import { SLOT_MS } from './schedule.ts';
import { servingProfile } from './workloads.ts';

export interface ServeOptions {
  cluster: Cluster;
  /** Names of the nodes to serve; default every node of the cluster. */
  nodes?: string[];
  /** Simulated time when serving starts (ms since the epoch); default now. */
  startAt?: number;
  /** Folder for the kubeconfig, token, CA, sockets and agent configs; default a new temporary one (removed by close). */
  dir?: string;
  /** Wall clock, for tests; default Date.now. */
  now?: () => number;
}

export interface ServedNode {
  name: string;
  pool: string;
  kubeletUrl: string;
  dcgmUrl: string;
  podResourcesSocket: string;
  modelServers: Array<{ workload: string; namespace: string; url: string }>;
  /** An mlcost.yaml pointing an agent at this node's endpoints. */
  agentConfig: string;
}

export interface ServeInfo {
  simulated: true;
  seed: number;
  /** Simulated time when serving started, and how far the simulated clock is ahead of the wall clock. */
  startedAt: string;
  clockOffsetMs: number;
  apiServer: string;
  kubeconfig: string;
  tokenFile: string;
  /** CA of the API server's and kubelets' certificate; absent when openssl was missing and they serve plain HTTP. */
  kubeletCaFile?: string;
  dir: string;
  nodes: ServedNode[];
}

export interface Serving {
  info: ServeInfo;
  /** Simulated time now. */
  simNow(): number;
  /** Simulated time at a wall-clock instant. */
  toSimTime(wallMs: number): number;
  /** Recomputes the API server's pods now (it does so every second by itself). */
  refresh(): void;
  close(): Promise<void>;
}

export async function serve(options: ServeOptions): Promise<Serving> {
  const { cluster } = options;
  const wall = options.now ?? Date.now;
  const nodes: SimNode[] = options.nodes
    ? options.nodes.map((name) => {
        const node = cluster.nodes.find((n) => n.name === name);
        if (!node) throw new Error(`no simulated node named ${name}`);
        return node;
      })
    : cluster.nodes;
  const startAt = options.startAt ?? wall();
  const offset = startAt - wall();
  const clock = () => wall() + offset;
  // Counters that started before serving began are estimated up to this minute and exact after it.
  const anchor = Math.floor(startAt / SLOT_MS) * SLOT_MS;

  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'mlcost-sim-'));
  mkdirSync(dir, { recursive: true });
  const token = randomBytes(24).toString('hex');
  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
  const cert = selfSignedCert();
  const kubeletCaFile = cert ? join(dir, 'kubelet-ca.pem') : undefined;
  if (cert && kubeletCaFile) writeFileSync(kubeletCaFile, cert.cert);

  const started: Array<{ close(): Promise<void> }> = [];
  try {
    const models: SimModelServers = await startModelServers(nodes, clock, anchor);
    started.push(models);
    const api: SimApiServer = await startApiServer({
      cluster,
      nodes,
      clock,
      token,
      cert,
      endpointFor: (pod) => {
        const port = models.portFor(pod.seat);
        return port === undefined ? undefined : { podIP: '127.0.0.1', metricsPort: port };
      },
    });
    started.push(api);
    const kubelets: SimKubelets = await startKubelets({ nodes, clock, token, cert, anchor });
    started.push(kubelets);
    const dcgm: SimDcgmExporters = await startDcgmExporters(nodes, clock);
    started.push(dcgm);
    const podResources: SimPodResources = await startPodResources(nodes, clock, (node) =>
      join(dir, node.name, 'kubelet.sock'),
    );
    started.push(podResources);

    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(
      kubeconfig,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [
          {
            name: 'mlcost-simulated',
            cluster: cert
              ? { server: api.url, 'certificate-authority-data': Buffer.from(cert.cert).toString('base64') }
              : { server: api.url, 'insecure-skip-tls-verify': true },
          },
        ],
        users: [{ name: 'mlcost-simulated', user: { token } }],
        contexts: [
          { name: 'mlcost-simulated', context: { cluster: 'mlcost-simulated', user: 'mlcost-simulated' } },
        ],
        'current-context': 'mlcost-simulated',
      }),
      { mode: 0o600 },
    );

    const served: ServedNode[] = nodes.map((node) => {
      const agentConfig = join(dir, node.name, 'mlcost.yaml');
      writeFileSync(
        agentConfig,
        stringify({
          dataDir: join(dir, node.name, 'data'),
          agent: {
            nodeName: node.name,
            sources: ['pods', 'kubelet', 'pod-resources', 'dcgm', 'model-servers'],
            kubernetes: { kubeconfig },
            kubelet: {
              url: kubelets.urlFor(node.name),
              tokenFile,
              ...(kubeletCaFile ? { caFile: kubeletCaFile } : { insecureSkipTlsVerify: true }),
            },
            dcgm: { url: dcgm.urlFor(node.name) },
            podResources: { socket: podResources.socketFor(node.name) },
          },
        }),
      );
      return {
        name: node.name,
        pool: node.pool,
        kubeletUrl: kubelets.urlFor(node.name),
        dcgmUrl: dcgm.urlFor(node.name),
        podResourcesSocket: podResources.socketFor(node.name),
        modelServers: models
          .list()
          .filter((entry) => entry.node === node.name && servingProfile(entry.seat))
          .map((entry) => ({
            workload: entry.seat.baseName,
            namespace: entry.seat.namespace,
            url: entry.url,
          })),
        agentConfig,
      };
    });

    const info: ServeInfo = {
      simulated: true,
      seed: cluster.seed,
      startedAt: new Date(startAt).toISOString(),
      clockOffsetMs: offset,
      apiServer: api.url,
      kubeconfig,
      tokenFile,
      ...(kubeletCaFile ? { kubeletCaFile } : {}),
      dir,
      nodes: served,
    };
    return {
      info,
      simNow: clock,
      toSimTime: (wallMs) => wallMs + offset,
      refresh: () => api.refresh(),
      async close() {
        for (const part of started.reverse()) await part.close();
        // A folder serve made for itself goes with it; one the caller named stays.
        if (options.dir === undefined) rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    for (const part of started.reverse()) await part.close().catch(() => undefined);
    if (options.dir === undefined) rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
