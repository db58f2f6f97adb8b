// How the agent reaches the API server: the two things the pod watcher needs of a kubeconfig (the server, and
// credentials applied to each request). In a pod this is the service account, read without @kubernetes/client-node:
// loading that library costs the agent about 70 MiB, a large share of a DaemonSet's memory budget on every node.
import { readFileSync } from 'node:fs';
import type { RequestOptions } from 'node:https';

export interface KubeAccess {
  getCurrentCluster(): { server: string } | null | Promise<{ server: string } | null>;
  applyToHTTPSOptions(options: RequestOptions): Promise<void>;
}

const SERVICE_ACCOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';

/** True inside a pod with a mounted service account, where in-cluster access works. */
export function inCluster(env: NodeJS.ProcessEnv = process.env, dir = SERVICE_ACCOUNT): boolean {
  try {
    readFileSync(`${dir}/token`);
    return Boolean(env['KUBERNETES_SERVICE_HOST']);
  } catch {
    return false;
  }
}

/** The pod's service account: the API server from KUBERNETES_SERVICE_HOST/PORT, its CA, and a token re-read per request. */
export function inClusterAccess(env: NodeJS.ProcessEnv = process.env, dir = SERVICE_ACCOUNT): KubeAccess {
  const host = env['KUBERNETES_SERVICE_HOST'] ?? '';
  const port = env['KUBERNETES_SERVICE_PORT'] ?? '443';
  const server = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const ca = readFileSync(`${dir}/ca.crt`);
  return {
    getCurrentCluster: () => ({ server }),
    async applyToHTTPSOptions(options) {
      // projected tokens rotate (the kubelet refreshes them at 80% of their life): read it at every request
      const token = readFileSync(`${dir}/token`, 'utf8').trim();
      options.ca = ca;
      options.headers = { ...options.headers, Authorization: `Bearer ${token}` };
    },
  };
}

/**
 * A kubeconfig file (or, with no path, $KUBECONFIG / ~/.kube/config) read through @kubernetes/client-node, which
 * handles every credential kind (exec plugins, client certificates). Loaded on first use only.
 */
export function kubeconfigAccess(path?: string): KubeAccess {
  let loading: Promise<import('@kubernetes/client-node').KubeConfig> | undefined;
  const load = () => {
    loading ??= import('@kubernetes/client-node').then(({ KubeConfig }) => {
      const kubeConfig = new KubeConfig();
      if (path) kubeConfig.loadFromFile(path);
      else kubeConfig.loadFromDefault();
      return kubeConfig;
    });
    return loading;
  };
  return {
    getCurrentCluster: async () => (await load()).getCurrentCluster(),
    applyToHTTPSOptions: async (options) => (await load()).applyToHTTPSOptions(options),
  };
}
