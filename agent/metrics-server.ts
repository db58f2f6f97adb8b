// The agent's own HTTP endpoints on port 9495: GET /metrics (Prometheus text) and GET /healthz, served with
// node:http. A web framework here would load the fetch API's Request and Response (Node's bundled undici), which
// costs the agent several MiB of resident memory for two fixed routes.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import { parseListenAddress } from '../core/listen-address.ts';

export interface AgentMetricsServer {
  /** `http://host:port`, with the port the system chose when the configuration said 0. */
  url: string;
  close(): Promise<void>;
}

function send(
  response: ServerResponse,
  status: number,
  contentType: string,
  body: string,
  head: boolean,
): void {
  response.writeHead(status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(body),
  });
  response.end(head ? undefined : body);
}

async function handle(registry: Registry, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const method = request.method ?? 'GET';
  const path = (request.url ?? '/').split('?', 1)[0];
  const head = method === 'HEAD';
  if (method !== 'GET' && !head) {
    send(response, 404, 'text/plain; charset=UTF-8', '404 Not Found', head);
    return;
  }
  if (path === '/metrics') {
    send(response, 200, registry.contentType, await registry.metrics(), head);
  } else if (path === '/healthz') {
    send(response, 200, 'application/json', JSON.stringify({ status: 'ok' }), head);
  } else {
    send(response, 404, 'text/plain; charset=UTF-8', '404 Not Found', head);
  }
}

/** Serves `registry` at `address` (host:port); resolves once listening. */
export function listenForMetrics(registry: Registry, address: string): Promise<AgentMetricsServer> {
  const { host, port } = parseListenAddress(address);
  const server = createServer((request, response) => {
    handle(registry, request, response).catch((error: unknown) => {
      if (response.headersSent) response.destroy(error as Error);
      else send(response, 500, 'text/plain; charset=UTF-8', 'Internal Server Error', false);
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const info = server.address();
      if (info === null || typeof info === 'string') {
        reject(new Error(`the agent's metrics server is not on a TCP port (${String(info)})`));
        return;
      }
      const shownHost = info.family === 'IPv6' ? `[${info.address}]` : info.address;
      resolve({
        url: `http://${shownHost}:${info.port}`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            // Idle keep-alive connections would hold close() open until they time out.
            server.closeIdleConnections();
          }),
      });
    });
  });
}
