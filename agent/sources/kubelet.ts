// The kubelet source: per-container CPU and working-set memory, and node usage, from this node's kubelet
// `GET /stats/summary` (RBAC `nodes/stats`), authenticated with the pod's service-account token.
import { readFile } from 'node:fs/promises';
import { MlcostError } from '../../core/errors.ts';
import type { Samples } from '../samples.ts';
import type { Source } from '../source.ts';
import { bodySnippet, get, readBody } from './kube-http.ts';
import { createSummaryRateStep, parseSummary } from './kubelet-summary.ts';

export const SERVICE_ACCOUNT_TOKEN_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/token';

export interface KubeletSourceOptions {
  /** The kubelet's base URL, e.g. `https://10.0.3.7:10250` (the node's `status.hostIP` via the downward API). */
  url: string;
  /**
   * Bearer token file, read at every collection because projected tokens rotate. Default: the service account's.
   * Empty: send no token (the URL is a local API-server proxy that authenticates for us).
   */
  tokenFile?: string;
  /** PEM file of the CA that signed the kubelet's serving certificate, read at every collection. */
  caFile?: string;
  /** Skips TLS verification: for kubelets with self-signed serving certificates and no CA to give. */
  insecureSkipTlsVerify?: boolean;
  /** Name to verify the certificate against when it does not name the address we dial (a node IP). */
  tlsServerName?: string;
  /** Default 10 s. */
  timeoutMs?: number;
  /** Largest response accepted. Default 32 MiB: a summary for 110 pods is well under 1 MiB. */
  maxBodyBytes?: number;
}

async function readTextFile(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new MlcostError('config', `kubelet: cannot read the ${what} file ${path} (${code})`, {
      cause: error,
    });
  }
}

export function createKubeletSource(options: KubeletSourceOptions): Source {
  const base = new URL(options.url);
  if (base.protocol !== 'https:' && base.protocol !== 'http:') {
    throw new MlcostError('config', `kubelet url "${options.url}" must be http:// or https://`);
  }
  // Kept relative to any path in the URL, so an API-server proxy URL (…/nodes/<n>/proxy) works too.
  const summaryUrl = new URL(`${base.pathname.replace(/\/$/, '')}/stats/summary`, base);
  const tokenFile = options.tokenFile ?? SERVICE_ACCOUNT_TOKEN_FILE;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const maxBodyBytes = options.maxBodyBytes ?? 32 * 2 ** 20;
  const what = `kubelet ${summaryUrl.href}`;
  const rateStep = createSummaryRateStep();

  return {
    name: 'kubelet',
    async collect(signal): Promise<Samples> {
      const token = tokenFile === '' ? '' : (await readTextFile(tokenFile, 'service-account token')).trim();
      const ca = options.caFile ? await readTextFile(options.caFile, 'CA') : undefined;
      const timeout = AbortSignal.timeout(timeoutMs);
      const requestSignal = AbortSignal.any([signal, timeout]);
      let body: string;
      try {
        const response = await get(
          summaryUrl,
          {
            headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), Accept: 'application/json' },
            ca,
            rejectUnauthorized: !options.insecureSkipTlsVerify,
            servername: options.tlsServerName,
            signal: requestSignal,
          },
          what,
        );
        body = await readBody(response, maxBodyBytes, what, 'maxBodyBytes');
        checkStatus(response.statusCode ?? 0, body, what, tokenFile);
      } catch (error) {
        if (timeout.aborted && !signal.aborted) {
          throw new MlcostError('timeout', `${what} did not answer within ${timeoutMs} ms`, { cause: error });
        }
        throw error;
      }
      const usage = rateStep(parseSummary(body));
      return { containers: usage.containers, node: usage.node };
    },
  };
}

function checkStatus(status: number, body: string, what: string, tokenFile: string): void {
  if (status === 200) return;
  if (status === 401) {
    throw new MlcostError(
      'unauthorized',
      `${what} answered 401 Unauthorized: it rejected the token from ${tokenFile}`,
    );
  }
  if (status === 403) {
    throw new MlcostError(
      'unauthorized',
      `${what} answered 403 Forbidden: the service account needs RBAC "get" on "nodes/stats" (${bodySnippet(body)})`,
    );
  }
  throw new MlcostError('source', `${what} answered ${status}: ${bodySnippet(body)}`);
}
