// The simulated kubelets' Summary API (`GET /stats/summary`, k8s.io/kubelet/pkg/apis/stats/v1alpha1), one per
// served node under `/nodes/<node>` of one HTTPS server (the agent's kubelet URL may carry a path, as an API-server
// proxy URL does). Bearer token required. CPU is served as the kubelet serves it: a cumulative
// `usageCoreNanoSeconds` stamped with the time of the reading to the second, so the agent's rate over two readings
// within one simulated minute is exactly that minute's usage.
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { containerStartedAt, podSlot } from '../behaviour.ts';
import type { SimNode } from '../cluster.ts';
import { NODE_CREATED } from '../kube-objects.ts';
import { nodePodsAt, type PodInstance } from '../pods.ts';
import { SECOND, SLOT_MS, slotOf } from '../schedule.ts';
import { nodeValues } from '../snapshot.ts';
import { CumulativeCounters } from './counters.ts';
import type { SelfSignedCert } from './tls.ts';

export interface KubeletOptions {
  nodes: SimNode[];
  clock: () => number;
  token: string;
  /** Serves HTTPS with this certificate; plain HTTP without one. */
  cert?: SelfSignedCert;
  /** Counters that started before this instant begin from an estimate at it (see counters.ts). */
  anchor: number;
}

export interface SimKubelets {
  /** Base URL of a node's kubelet: `https://127.0.0.1:<port>/nodes/<node>`. */
  urlFor(node: string): string;
  close(): Promise<void>;
}

const iso = (t: number) => new Date(t).toISOString().replace('.000Z', 'Z');
/** Cores → nanoseconds of CPU per millisecond of wall time. */
const NS_PER_CORE_MS = 1e6;

/** Builds `/stats/summary` for a node at simulated time `now`. */
export function summaryAt(node: SimNode, now: number, counters: CumulativeCounters, anchor: number): object {
  const t = Math.floor(now / SECOND) * SECOND;
  const time = iso(t);
  const slot = slotOf(t);
  const pods = nodePodsAt(node, t);
  const values = nodeValues(node, slot, pods);

  // Node CPU: all pods and the system, integrated from the anchor (or the node's creation, estimated at the anchor).
  const nodeRate = (s: number) =>
    nodeValues(node, s, nodePodsAt(node, s * SLOT_MS)).cpuCores * NS_PER_CORE_MS;
  const nodeCpuNs =
    nodeRate(slotOf(anchor)) * (anchor - NODE_CREATED) +
    counters.integral(`node/${node.name}`, anchor, t, nodeRate);

  const podEntries = values.pods.map(({ pod, usage }) => {
    const containers = pod.seat.containers.map((c, index) => {
      const started = containerStartedAt(pod, slot);
      const rate = (s: number) => podSlot(pod, s).cpu[index]! * NS_PER_CORE_MS;
      const origin = Math.max(started, anchor);
      const before = started < anchor ? rate(slotOf(anchor)) * (anchor - started) : 0;
      const usageCoreNanoSeconds = Math.round(
        before + counters.integral(`${pod.uid}/${c.name}/${started}`, origin, t, rate),
      );
      const workingSetBytes = usage.memory[index]!;
      return {
        name: c.name,
        startTime: iso(started),
        cpu: { time, usageNanoCores: Math.round(usage.cpu[index]! * 1e9), usageCoreNanoSeconds },
        memory: {
          time,
          usageBytes: Math.round(workingSetBytes * 1.08),
          workingSetBytes,
          rssBytes: Math.round(workingSetBytes * 0.92),
          pageFaults: 0,
          majorPageFaults: 0,
        },
        userDefinedMetrics: null,
      };
    });
    return {
      podRef: { name: pod.name, namespace: pod.seat.namespace, uid: pod.uid },
      startTime: iso(pod.run.start),
      containers,
      cpu: {
        time,
        usageNanoCores: containers.reduce((sum, c) => sum + c.cpu.usageNanoCores, 0),
        usageCoreNanoSeconds: containers.reduce((sum, c) => sum + c.cpu.usageCoreNanoSeconds, 0),
      },
      memory: { time, workingSetBytes: containers.reduce((sum, c) => sum + c.memory.workingSetBytes, 0) },
    };
  });

  return {
    node: {
      nodeName: node.name,
      startTime: iso(NODE_CREATED),
      cpu: {
        time,
        usageNanoCores: Math.round(values.cpuCores * 1e9),
        usageCoreNanoSeconds: Math.round(nodeCpuNs),
      },
      memory: {
        time,
        availableBytes: Math.max(0, node.memoryBytes - values.memoryBytes),
        usageBytes: Math.round(values.memoryBytes * 1.1),
        workingSetBytes: values.memoryBytes,
        rssBytes: Math.round(values.memoryBytes * 0.9),
        pageFaults: 0,
        majorPageFaults: 0,
      },
      systemContainers: [
        { name: 'kubelet', startTime: iso(NODE_CREATED) },
        { name: 'runtime', startTime: iso(NODE_CREATED) },
      ],
    },
    pods: podEntries,
  };
}

export async function startKubelets(options: KubeletOptions): Promise<SimKubelets> {
  const byName = new Map(options.nodes.map((node) => [node.name, node]));
  const countersByNode = new Map(options.nodes.map((node) => [node.name, new CumulativeCounters()]));

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'https://kubelet').pathname;
    if (req.headers.authorization !== `Bearer ${options.token}`) {
      res.writeHead(401, { 'Content-Type': 'text/plain; charset=utf-8' }).end('Unauthorized');
      return;
    }
    const match = /^\/nodes\/([^/]+)\/stats\/summary$/.exec(path);
    const node = match ? byName.get(decodeURIComponent(match[1]!)) : undefined;
    if (!node) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('404 page not found');
      return;
    }
    const now = options.clock();
    const counters = countersByNode.get(node.name)!;
    const body = summaryAt(node, now, counters, options.anchor);
    // Forget the counters of containers that are gone: keep the node's and those of pods alive now.
    const alive = new Set(nodePodsAt(node, now).map((pod: PodInstance) => pod.uid));
    counters.retain((key) => key.startsWith('node/') || alive.has(key.slice(0, key.indexOf('/'))));
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
  };

  const server = options.cert
    ? createHttpsServer({ key: options.cert.key, cert: options.cert.cert }, handle)
    : createHttpServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const scheme = options.cert ? 'https' : 'http';
  return {
    urlFor: (node) => `${scheme}://127.0.0.1:${port}/nodes/${encodeURIComponent(node)}`,
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
