// The named sources the agent can run, each switchable by `agent.sources`; which run by default depends on
// whether the agent watches this machine alone (`mlcost start`) or a Kubernetes node (`mlcost agent`).
import type { Config } from '../../core/config/config.ts';
import { NODE_SOURCES, type SourceName, STANDALONE_SOURCES } from '../../core/config/keys.ts';
import type { Logger } from '../../core/logger.ts';
import { nodeNameFor } from '../node-name.ts';
import type { PodInfo } from '../samples.ts';
import type { Source } from '../source.ts';
import { createDcgmSource, DEFAULT_DCGM_URL, expandEnv } from './dcgm.ts';
import { createHostSource } from './host.ts';
import { inCluster, inClusterAccess, type KubeAccess, kubeconfigAccess } from './kube-access.ts';
import { createKubeletSource } from './kubelet.ts';
import { createModelServersSource } from './model-servers.ts';
import { createNvidiaSmiSource } from './nvidia-smi.ts';
import { createPodResourcesSource } from './pod-resources.ts';
import { createPodsSource } from './pods.ts';

export type AgentMode = 'standalone' | 'node';

/** What sources share: the pods the pod watcher saw last, which the model-server source scrapes. */
interface SharedState {
  pods: PodInfo[];
  /** The pod watcher's collection under way, so the model-server source scrapes this collection's pods. */
  podsInFlight?: Promise<PodInfo[]>;
}

type SourceFactory = (config: Config, logger: Logger, shared: SharedState) => Source;

const DEFAULT_KUBELET_URL = 'https://$HOST_IP:10250';

export const SOURCE_FACTORIES: Record<SourceName, SourceFactory> = {
  host: () => createHostSource(),
  'nvidia-smi': (config) =>
    createNvidiaSmiSource({ path: config.agent.nvidiaSmi.path, timeoutMs: config.agent.nvidiaSmi.timeout }),
  dcgm: (config) =>
    createDcgmSource({
      url: config.agent.dcgm.url || DEFAULT_DCGM_URL,
      timeoutMs: config.agent.sourceTimeout,
      maxBodyBytes: config.agent.limits.maxBodyBytes,
      maxSeries: config.agent.limits.maxSeries,
    }),
  pods: (config, logger, shared) => {
    const source = createPodsSource({
      kubeConfig: loadKubeConfig(config),
      nodeName: nodeNameFor(config),
      logger,
    });
    return {
      name: source.name,
      async collect(signal) {
        const collecting = source.collect(signal);
        shared.podsInFlight = collecting.then(
          (samples) => samples.pods ?? [],
          () => shared.pods,
        );
        const samples = await collecting;
        shared.pods = samples.pods ?? [];
        return samples;
      },
      close: () => source.stop(),
    };
  },
  kubelet: (config) =>
    createKubeletSource({
      url: expandEnv(config.agent.kubelet.url || DEFAULT_KUBELET_URL, process.env),
      tokenFile: config.agent.kubelet.tokenFile,
      caFile: config.agent.kubelet.insecureSkipTlsVerify ? undefined : config.agent.kubelet.caFile,
      insecureSkipTlsVerify: config.agent.kubelet.insecureSkipTlsVerify,
      timeoutMs: config.agent.sourceTimeout,
      maxBodyBytes: config.agent.limits.maxBodyBytes,
    }),
  'pod-resources': (config) => {
    const source = createPodResourcesSource({
      socketPath: config.agent.podResources.socket,
      timeoutMs: config.agent.sourceTimeout,
    });
    return { name: source.name, collect: (signal) => source.collect(signal), close: () => source.stop() };
  },
  'model-servers': (config, logger, shared) =>
    createModelServersSource({
      getPods: () => shared.podsInFlight ?? shared.pods,
      timeoutMs: config.agent.sourceTimeout,
      maxBodyBytes: config.agent.limits.maxBodyBytes,
      maxSeries: config.agent.limits.maxSeries,
      logger,
    }),
};

/** The kubeconfig named in configuration, else the pod's service account, else $KUBECONFIG or ~/.kube/config. */
export function loadKubeConfig(config: Config): KubeAccess {
  if (config.agent.kubernetes.kubeconfig) return kubeconfigAccess(config.agent.kubernetes.kubeconfig);
  return inCluster() ? inClusterAccess() : kubeconfigAccess();
}

export function sourceNamesFor(config: Config, mode: AgentMode): readonly SourceName[] {
  if (config.agent.sources.length > 0) return config.agent.sources;
  return mode === 'standalone' ? STANDALONE_SOURCES : NODE_SOURCES;
}

/**
 * Creates the configured sources. One that cannot even be set up (a URL naming an unset variable, say) is
 * replaced by a source that fails with that reason at every collection, so it shows as down and the others run.
 */
export function createSources(config: Config, mode: AgentMode, logger: Logger): Source[] {
  const shared: SharedState = { pods: [] };
  // The pod watcher starts first (the runner starts sources in list order), so the model-server source can wait
  // for this collection's pods.
  const names = [...sourceNamesFor(config, mode)].sort((a, b) => Number(b === 'pods') - Number(a === 'pods'));
  return names.map((name) => {
    try {
      return SOURCE_FACTORIES[name](config, logger.child({ source: name }), shared);
    } catch (error) {
      const reason = (error as Error).message;
      logger.error({ source: name, error: reason }, `source ${name} cannot start: ${reason}`);
      return { name, collect: async () => Promise.reject(new Error(`cannot start: ${reason}`)) };
    }
  });
}
