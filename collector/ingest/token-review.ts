// Kubernetes mode of ingest authentication: the agent sends its projected service-account token (minted for
// our audience), and the collector asks the API server with a TokenReview whether it is valid for that audience
// and which service account it names. Answers are cached briefly so each batch does not cost a review.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { HttpProblem } from '../api/problem.ts';
import { type AgentAuthenticator, bearerToken } from './auth.ts';

export interface TokenReviewOptions {
  /** API server base URL, e.g. https://kubernetes.default.svc. */
  apiServer: string;
  /** The collector's own token, which needs `create` on tokenreviews (system:auth-delegator). */
  reviewerToken: () => string;
  caFile?: string;
  audience: string;
  /** `namespace:name` of the service accounts whose tokens may ingest; empty allows any authenticated one. */
  allowedServiceAccounts: readonly string[];
  cacheTtlMs?: number;
  timeoutMs?: number;
}

interface TokenReviewStatus {
  authenticated?: boolean;
  user?: { username?: string };
  audiences?: string[];
  error?: string;
}

export function createTokenReviewAuthenticator(options: TokenReviewOptions): AgentAuthenticator {
  const cache = new Map<string, { expires: number; problem?: HttpProblem }>();
  const ttl = options.cacheTtlMs ?? 60_000;
  const allowed = new Set(options.allowedServiceAccounts.map((sa) => `system:serviceaccount:${sa}`));

  return {
    async authenticate(authorization) {
      const token = bearerToken(authorization);
      const key = createHash('sha256').update(token).digest('hex');
      const now = Date.now();
      const cached = cache.get(key);
      if (cached && cached.expires > now) {
        if (cached.problem) throw cached.problem;
        return;
      }
      let status: TokenReviewStatus;
      try {
        status = await review(options, token);
      } catch (error) {
        // The API server being away is not the agent's fault: 503 makes it retry, and nothing is cached.
        throw new HttpProblem(
          503,
          'Service Unavailable',
          `cannot check the agent token: ${(error as Error).message}`,
          {
            headers: { 'retry-after': '10' },
          },
        );
      }
      const problem = judge(status, options.audience, allowed);
      if (cache.size > 10_000) cache.clear(); // bounded: a flood of distinct tokens cannot grow memory
      cache.set(key, { expires: now + ttl, ...(problem ? { problem } : {}) });
      if (problem) throw problem;
    },
  };
}

function judge(status: TokenReviewStatus, audience: string, allowed: Set<string>): HttpProblem | undefined {
  const deny = (detail: string) => new HttpProblem(401, 'Unauthorized', detail);
  if (!status.authenticated)
    return deny(`the token was not accepted by the API server${status.error ? `: ${status.error}` : ''}`);
  if (!status.audiences?.includes(audience)) return deny(`the token is not valid for audience ${audience}`);
  const user = status.user?.username ?? '';
  if (allowed.size > 0 && !allowed.has(user))
    return deny(`${user || 'the token'} may not send batches to this collector`);
  return undefined;
}

function review(options: TokenReviewOptions, token: string): Promise<TokenReviewStatus> {
  const url = new URL('/apis/authentication.k8s.io/v1/tokenreviews', options.apiServer);
  const body = JSON.stringify({
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenReview',
    spec: { token, audiences: [options.audience] },
  });
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const request = client.request(
      url,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${options.reviewerToken()}`,
          'content-length': Buffer.byteLength(body),
        },
        ...(options.caFile ? { ca: readFileSync(options.caFile) } : {}),
        timeout: options.timeoutMs ?? 5_000,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if ((response.statusCode ?? 0) >= 300) {
            reject(new Error(`TokenReview answered ${response.statusCode}: ${text.slice(0, 200)}`));
            return;
          }
          try {
            resolve(((JSON.parse(text) as { status?: TokenReviewStatus }).status ?? {}) as TokenReviewStatus);
          } catch {
            reject(new Error('TokenReview answer is not JSON'));
          }
        });
      },
    );
    request.on('timeout', () => request.destroy(new Error('TokenReview timed out')));
    request.on('error', reject);
    request.end(body);
  });
}
