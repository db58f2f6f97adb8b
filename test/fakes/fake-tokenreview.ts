// A fake Kubernetes API server that only answers TokenReviews, for tests of the collector's tokenreview mode: a
// real node:http server on 127.0.0.1 serving POST /apis/authentication.k8s.io/v1/tokenreviews. Like the real
// one it requires the caller's own bearer token (the collector's service account, which needs create on
// tokenreviews), answers 401 with a Status otherwise, and judges each token by what the test registered for it:
// its service account and its audiences. When the review names audiences, the answer's status.audiences is the
// intersection, and a token minted for none of them is not authenticated (as kube-apiserver does). A token may
// also be marked audience-unaware: then it is authenticated with no audiences at all, as an authenticator that
// ignores audiences answers; the caller must refuse it, since status.audiences does not name its audience.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeToken {
  /** e.g. system:serviceaccount:mlcost:mlcost-agent */
  username: string;
  audiences: string[];
  audienceUnaware?: boolean;
}

export interface ReviewSeen {
  /** The caller's Authorization header. */
  authorization: string | undefined;
  token: string;
  audiences: string[] | undefined;
  /** What the fake answered: an HTTP status, and for 201 whether the token was authenticated. */
  status: number;
  authenticated?: boolean;
}

export class FakeTokenReviewServer {
  readonly reviews: ReviewSeen[] = [];
  private readonly tokens = new Map<string, FakeToken>();
  private server?: Server;
  url = '';

  /** @param reviewerToken the bearer token the caller (the collector) must present. */
  constructor(private readonly reviewerToken: string) {}

  /** Registers a token the API server knows. */
  addToken(token: string, identity: FakeToken): this {
    this.tokens.set(token, identity);
    return this;
  }

  async start(): Promise<string> {
    this.server = createServer((request, response) => {
      this.handle(request, response).catch((error: unknown) => {
        send(response, 500, status(500, 'InternalError', (error as Error).message));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async close(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    if (request.method !== 'POST' || request.url !== '/apis/authentication.k8s.io/v1/tokenreviews') {
      send(
        response,
        404,
        status(404, 'NotFound', `the server could not find ${request.method} ${request.url}`),
      );
      return;
    }
    let review: { apiVersion?: string; kind?: string; spec?: { token?: string; audiences?: string[] } };
    try {
      review = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof review;
    } catch {
      send(response, 400, status(400, 'BadRequest', 'the body is not JSON'));
      return;
    }
    const token = review.spec?.token ?? '';
    const audiences = review.spec?.audiences;
    const seen: ReviewSeen = { authorization: request.headers.authorization, token, audiences, status: 0 };
    this.reviews.push(seen);
    if (request.headers.authorization !== `Bearer ${this.reviewerToken}`) {
      seen.status = 401;
      send(response, 401, status(401, 'Unauthorized', 'Unauthorized'));
      return;
    }
    if (review.apiVersion !== 'authentication.k8s.io/v1' || review.kind !== 'TokenReview' || token === '') {
      seen.status = 400;
      send(
        response,
        400,
        status(400, 'BadRequest', 'expected an authentication.k8s.io/v1 TokenReview with spec.token'),
      );
      return;
    }
    const identity = this.tokens.get(token);
    let result: Record<string, unknown>;
    if (!identity) {
      result = { authenticated: false, user: {}, error: 'invalid bearer token' };
    } else if (identity.audienceUnaware) {
      result = { authenticated: true, user: userOf(identity), audiences: [] };
    } else {
      const wanted = audiences && audiences.length > 0 ? audiences : ['https://kubernetes.default.svc'];
      const common = identity.audiences.filter((a) => wanted.includes(a));
      result =
        common.length > 0
          ? { authenticated: true, user: userOf(identity), audiences: common }
          : {
              authenticated: false,
              user: {},
              error: `[invalid bearer token, token audiences ${JSON.stringify(identity.audiences)} is invalid for the target audiences ${JSON.stringify(wanted)}]`,
            };
    }
    seen.status = 201;
    seen.authenticated = result['authenticated'] as boolean;
    send(response, 201, {
      kind: 'TokenReview',
      apiVersion: 'authentication.k8s.io/v1',
      metadata: { creationTimestamp: null },
      spec: review.spec,
      status: result,
    });
  }
}

function userOf(identity: FakeToken) {
  const [, , namespace] = identity.username.split(':');
  return {
    username: identity.username,
    uid: `uid-${identity.username}`,
    groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'],
  };
}

function status(code: number, reason: string, message: string) {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

function send(response: ServerResponse, code: number, body: unknown): void {
  response.writeHead(code, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}
