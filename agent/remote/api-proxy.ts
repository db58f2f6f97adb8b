// A local, loopback-only proxy to the API server, as `kubectl proxy` is: requests to it are forwarded with the
// kubeconfig's credentials (token, client certificate, exec plugin). Sources that read kubelets, dcgm-exporter
// and model servers through the API server's node and pod proxy then need no credentials of their own.
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { KubeConfig } from '@kubernetes/client-node';

export interface ApiProxy {
  /** `http://127.0.0.1:<port>`: the API server, authenticated. */
  url: string;
  close(): Promise<void>;
}

/** Only the read paths remote mode needs: node and pod proxies, and the objects the pod watcher reads. */
const ALLOWED =
  /^\/(api\/v1\/(nodes|pods|namespaces\/[^/]+\/pods|namespaces\/[^/]+\/pods\/[^/]+\/proxy|nodes\/[^/]+\/proxy)|apis\/(apps|batch)\/v1)(\/|\?|$)/;

export async function startApiProxy(kubeConfig: KubeConfig): Promise<ApiProxy> {
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig names no current cluster');
  const upstream = new URL(cluster.server);

  const server = http.createServer(async (req, res) => {
    if (req.method !== 'GET' || !ALLOWED.test(req.url ?? '')) {
      res
        .writeHead(403, { 'content-type': 'text/plain' })
        .end('mlcost remote proxy: only GET of nodes, pods and their proxies\n');
      return;
    }
    try {
      const options: https.RequestOptions = {
        method: 'GET',
        headers: { accept: req.headers.accept ?? '*/*' },
      };
      await kubeConfig.applyToHTTPSOptions(options);
      const target = new URL(req.url ?? '/', upstream);
      const client = target.protocol === 'https:' ? https : http;
      const outgoing = client.request(target, options, (incoming) => {
        res.writeHead(incoming.statusCode ?? 502, incoming.headers);
        incoming.pipe(res);
      });
      outgoing.on('error', (error) => {
        if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(`mlcost remote proxy: ${error.message}\n`);
      });
      req.on('close', () => outgoing.destroy());
      outgoing.end();
    } catch (error) {
      res
        .writeHead(502, { 'content-type': 'text/plain' })
        .end(`mlcost remote proxy: ${(error as Error).message}\n`);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
