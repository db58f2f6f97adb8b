// Remote mode of `mlcost start`: watch a whole cluster from outside with a kubeconfig, nothing installed in it.
// One agent per node reads that node's pods from the API server, its kubelet summary through the API server's
// node proxy, and dcgm-exporter and model servers through the pod proxy. There is no pod-resources socket from
// outside, so GPUs are attributed by dcgm-exporter's own pod labels. Source names carry the node
// (`kubelet@gpu-node-1`) so `mlcost_agent_source_up` says which node's source failed.
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { Registry } from 'prom-client';
import type { Config } from '../../core/config/config.ts';
import type { Logger } from '../../core/logger.ts';
import { Agent } from '../agent.ts';
import { sequenceFileFor } from '../create-agent.ts';
import { createGpuGaugeMetrics, type GpuGaugeMetrics, gpuGaugeUpdater } from '../gpu-gauges.ts';
import type { AgentMetrics } from '../metrics.ts';
import type { PodInfo } from '../samples.ts';
import { agentIdOf } from '../sequence-file.ts';
import type { BatchSink } from '../sink.ts';
import type { Source } from '../source.ts';
import { createDcgmSource } from '../sources/dcgm.ts';
import { createKubeletSource } from '../sources/kubelet.ts';
import { createModelServersSource } from '../sources/model-servers.ts';
import { createPodsSource } from '../sources/pods.ts';
import { type ApiProxy, startApiProxy } from './api-proxy.ts';

/** Labels that mark dcgm-exporter pods: the GPU Operator's, then the dcgm-exporter Helm chart's. */
const DCGM_POD_LABELS: ReadonlyArray<[string, string]> = [
  ['app', 'nvidia-dcgm-exporter'],
  ['app.kubernetes.io/name', 'dcgm-exporter'],
];
const DCGM_PORT = 9400;
const NODE_RESYNC_MS = 5 * 60_000;

export interface RemoteClusterDeps {
  kubeConfig: KubeConfig;
  sink: BatchSink;
  registry: Registry;
  metrics: AgentMetrics;
  logger: Logger;
}

export class RemoteCluster {
  private readonly agents = new Map<string, Agent>();
  private proxy?: ApiProxy;
  private timer?: NodeJS.Timeout;
  private readonly gpuGauges: GpuGaugeMetrics;

  constructor(
    private readonly config: Config,
    private readonly deps: RemoteClusterDeps,
  ) {
    this.gpuGauges = createGpuGaugeMetrics(deps.registry);
  }

  async start(): Promise<void> {
    this.proxy = await startApiProxy(this.deps.kubeConfig);
    await this.syncNodes();
    this.timer = setInterval(() => {
      this.syncNodes().catch((error: unknown) =>
        this.deps.logger.warn(
          { error: (error as Error).message },
          'remote: could not list nodes; keeping the agents I have',
        ),
      );
    }, NODE_RESYNC_MS);
    this.timer.unref();
  }

  /** Starts an agent for every node the API server lists and stops those of nodes that left. */
  async syncNodes(): Promise<void> {
    const core = this.deps.kubeConfig.makeApiClient(CoreV1Api);
    const list = await core.listNode();
    const names = new Set(list.items.map((node) => node.metadata?.name ?? '').filter(Boolean));
    for (const name of names) {
      if (this.agents.has(name)) continue;
      const agent = this.agentFor(name);
      this.agents.set(name, agent);
      agent.start();
    }
    for (const [name, agent] of this.agents) {
      if (names.has(name)) continue;
      this.agents.delete(name);
      await agent.stop();
    }
    this.deps.logger.info({ nodes: names.size }, `remote: watching ${names.size} node(s)`);
  }

  get nodeNames(): string[] {
    return [...this.agents.keys()];
  }

  private agentFor(nodeName: string): Agent {
    const proxy = this.proxy!.url;
    const logger = this.deps.logger.child({ component: 'agent', node: nodeName });
    let pods: PodInfo[] = [];
    const podsSource = createPodsSource({ kubeConfig: this.deps.kubeConfig, nodeName, logger });
    const limits = this.config.agent.limits;
    const timeoutMs = this.config.agent.sourceTimeout;
    const podProxyUrl = (pod: PodInfo, port: number, path: string) =>
      `${proxy}/api/v1/namespaces/${encodeURIComponent(pod.namespace)}/pods/${encodeURIComponent(pod.name)}:${port}/proxy${path}`;
    const dcgmSources = new Map<string, Source>();

    const sources: Source[] = [
      {
        name: `pods@${nodeName}`,
        async collect(signal) {
          const samples = await podsSource.collect(signal);
          pods = samples.pods ?? [];
          return samples;
        },
        close: () => podsSource.stop(),
      },
      renamed(
        createKubeletSource({
          url: `${proxy}/api/v1/nodes/${encodeURIComponent(nodeName)}/proxy`,
          tokenFile: '',
          timeoutMs,
          maxBodyBytes: limits.maxBodyBytes,
        }),
        `kubelet@${nodeName}`,
      ),
      {
        // dcgm-exporter is a pod on the node: found among the node's pods at each collection, read via its proxy.
        name: `dcgm@${nodeName}`,
        async collect(signal) {
          const exporter = pods.find((pod) =>
            DCGM_POD_LABELS.some(([key, value]) => pod.labels[key] === value),
          );
          if (!exporter) return {}; // no dcgm-exporter on this node: no GPU data, not an error
          const url = podProxyUrl(exporter, DCGM_PORT, '/metrics');
          let source = dcgmSources.get(url);
          if (!source) {
            dcgmSources.clear();
            source = createDcgmSource({
              url,
              timeoutMs,
              maxBodyBytes: limits.maxBodyBytes,
              maxSeries: limits.maxSeries,
            });
            dcgmSources.set(url, source);
          }
          return source.collect(signal);
        },
      },
      renamed(
        createModelServersSource({
          getPods: () => pods,
          timeoutMs,
          maxBodyBytes: limits.maxBodyBytes,
          maxSeries: limits.maxSeries,
          fetchUrlFor: podProxyUrl,
          logger,
        }),
        `model-servers@${nodeName}`,
      ),
    ];

    const sequence = sequenceFileFor(this.config, nodeName);
    return new Agent({
      agentId: agentIdOf(nodeName, sequence.instance),
      nodeName,
      intervalMs: this.config.agent.interval,
      windowMs: this.config.agent.window,
      sourceTimeoutMs: timeoutMs,
      sources,
      sink: this.deps.sink,
      sequence,
      metrics: this.deps.metrics,
      logger,
      onSamples: gpuGaugeUpdater(this.gpuGauges),
    });
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all([...this.agents.values()].map((agent) => agent.stop()));
    this.agents.clear();
    await this.proxy?.close();
  }
}

function renamed(source: Source, name: string): Source {
  return { name, collect: (signal) => source.collect(signal), close: () => source.close?.() };
}
