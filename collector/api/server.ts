// Listens: serves a hono app on host:port with Node's HTTP server. Nothing else happens here.
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';
import { parseListenAddress } from '../../core/listen-address.ts';

export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

export function listen(app: Hono, address: string): Promise<RunningServer> {
  const { host, port } = parseListenAddress(address);
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, hostname: host, port }, (info) => {
      const shownHost = info.family === 'IPv6' ? `[${info.address}]` : info.address;
      resolve({
        url: `http://${shownHost}:${info.port}`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            // Idle keep-alive connections would hold close() open until they time out.
            (server as unknown as { closeIdleConnections?: () => void }).closeIdleConnections?.();
          }),
      });
    });
    server.once('error', reject);
  });
}
