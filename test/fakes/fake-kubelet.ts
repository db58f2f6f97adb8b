// A fake kubelet for tests: a real HTTPS server with a self-signed certificate made for it (openssl CLI), that
// checks the bearer token and serves `/stats/summary` (and `/metrics/cadvisor`) with what the test gives it.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SelfSignedCert {
  key: string;
  cert: string;
}

/**
 * A throwaway key and self-signed certificate (P-256, one day) for `127.0.0.1` and `localhost`, or the given
 * subject alternative names (`IP:10.0.0.1`, `DNS:node-1`).
 */
export function generateSelfSignedCert(
  options: { commonName?: string; altNames?: string[] } = {},
): SelfSignedCert {
  const dir = mkdtempSync(join(tmpdir(), 'mlcost-cert-'));
  try {
    const keyPath = join(dir, 'key.pem');
    const certPath = join(dir, 'cert.pem');
    const altNames = options.altNames ?? ['IP:127.0.0.1', 'DNS:localhost'];
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-subj',
        `/CN=${options.commonName ?? 'fake-kubelet'}`,
        '-addext',
        `subjectAltName=${altNames.join(',')}`,
        '-keyout',
        keyPath,
        '-out',
        certPath,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    return { key: readFileSync(keyPath, 'utf8'), cert: readFileSync(certPath, 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

type Body = string | object;

export interface FakeKubeletOptions {
  /** The token requests must carry; a function lets a test rotate it. */
  token: string | (() => string);
  /** What `/stats/summary` answers: JSON text or an object, or a function called per request. */
  summary: Body | (() => Body);
  /** What `/metrics/cadvisor` answers (Prometheus text). */
  cadvisor?: string;
  /** Defaults to a fresh self-signed certificate for 127.0.0.1. */
  cert?: SelfSignedCert;
}

export interface FakeKubelet {
  /** `https://127.0.0.1:<port>` */
  url: string;
  /** The serving certificate (PEM): the CA a client must trust. */
  ca: string;
  /** Each request's path and whether its token was right. */
  readonly requests: Array<{ path: string; authorized: boolean }>;
  setSummary(summary: Body | (() => Body)): void;
  close(): Promise<void>;
}

export async function startFakeKubelet(options: FakeKubeletOptions): Promise<FakeKubelet> {
  const cert = options.cert ?? generateSelfSignedCert();
  let summary = options.summary;
  const requests: Array<{ path: string; authorized: boolean }> = [];

  const server = createServer(
    { key: cert.key, cert: cert.cert },
    (req: IncomingMessage, res: ServerResponse) => {
      const path = new URL(req.url ?? '/', 'https://kubelet').pathname;
      const token = typeof options.token === 'function' ? options.token() : options.token;
      const authorized = req.headers.authorization === `Bearer ${token}`;
      requests.push({ path, authorized });
      if (!authorized) {
        // The kubelet answers a bad token with a bare 401 and text body.
        res.writeHead(401, { 'Content-Type': 'text/plain; charset=utf-8' }).end('Unauthorized');
        return;
      }
      if (path === '/stats/summary') {
        const body = typeof summary === 'function' ? summary() : summary;
        const text = typeof body === 'string' ? body : JSON.stringify(body);
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(text);
        return;
      }
      if (path === '/metrics/cadvisor' && options.cadvisor !== undefined) {
        res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' }).end(options.cadvisor);
        return;
      }
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('404 page not found');
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `https://127.0.0.1:${port}`,
    ca: cert.cert,
    requests,
    setSummary(next) {
      summary = next;
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
