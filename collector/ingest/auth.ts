// Who may send batches: the agent authenticator interface and the shared-token mode (a token from a Secret).
import { timingSafeEqual } from 'node:crypto';
import { HttpProblem } from '../api/problem.ts';

export interface AgentAuthenticator {
  /** Resolves when the Authorization header proves an agent; rejects with a 401 HttpProblem saying why not. */
  authenticate(authorization: string | undefined): Promise<void>;
}

export function bearerToken(authorization: string | undefined): string {
  const token = authorization?.startsWith('Bearer ') ? authorization.slice(7).trim() : '';
  if (token === '')
    throw new HttpProblem(401, 'Unauthorized', 'missing bearer token in the Authorization header');
  return token;
}

/** Compares the bearer token with the shared one in constant time; an empty shared token accepts every agent. */
export function createSharedTokenAuthenticator(sharedToken: string): AgentAuthenticator {
  const expected = Buffer.from(sharedToken);
  return {
    async authenticate(authorization) {
      if (sharedToken === '') return;
      const given = Buffer.from(bearerToken(authorization));
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        throw new HttpProblem(401, 'Unauthorized', 'the bearer token is not valid for ingest');
      }
    },
  };
}
