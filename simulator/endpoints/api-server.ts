// The simulated cluster's Kubernetes API server, as much of it as an mlcost agent (or kubectl get) reads: pods
// (list with fieldSelector/labelSelector/limit/continue, watch with resourceVersion, ADDED/MODIFIED/DELETED events,
// 410 Gone for a compacted version), nodes, namespaces, and the ReplicaSets and Jobs that own pods. Requests need
// the bearer token. Pods follow the simulated clock: every second the server recomputes each served node's pods
// and tells watchers what changed (a rollout, a job starting or ending, a restart after an OOM kill).
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Cluster, SimNode } from '../cluster.ts';
import {
  controllerObject,
  type KubeObject,
  namespaceObject,
  nodeObject,
  podObject,
  type ServedEndpoint,
} from '../kube-objects.ts';
import { nodePodsAt, type PodInstance } from '../pods.ts';
import type { SelfSignedCert } from './tls.ts';

export interface ApiServerOptions {
  cluster: Cluster;
  /** The nodes whose pods are served. */
  nodes: SimNode[];
  /** Simulated time now. */
  clock: () => number;
  token: string;
  /** Where the agent reaches a pod (for model servers: loopback and the port --serve listens on). */
  endpointFor: (pod: PodInstance) => ServedEndpoint | undefined;
  /** How often pods are recomputed; default 1 s. */
  refreshMs?: number;
  /** Events kept for watches that resume from a resourceVersion; older ones get 410 Gone. */
  historyLimit?: number;
  /** Serves HTTPS with this certificate (as a real API server does); plain HTTP without one. */
  cert?: SelfSignedCert;
}

export interface SimApiServer {
  url: string;
  /** Recomputes the pods now (the ticker does this every refreshMs). */
  refresh(): void;
  close(): Promise<void>;
}

interface StoredPod {
  object: KubeObject;
  json: string;
  pod: PodInstance;
}

interface WatchEvent {
  rv: number;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: KubeObject;
}

interface Watcher {
  namespace?: string;
  matches: (object: KubeObject) => boolean;
  res: ServerResponse;
  timer?: NodeJS.Timeout;
}

function status(res: ServerResponse, code: number, reason: string, message: string): void {
  res.writeHead(code, { 'Content-Type': 'application/json' });
  res.end(
    JSON.stringify({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message,
      reason,
      code,
    }),
  );
}

function fieldOf(object: unknown, path: string): string {
  let value: unknown = object;
  for (const part of path.split('.')) value = (value as Record<string, unknown> | undefined)?.[part];
  return value === undefined || value === null ? '' : String(value);
}

/** Field and label selectors: `a=b`, `a==b`, `a!=b`, (labels also `k` and `!k`), comma-separated, all must hold. */
function selectorMatcher(
  fields: string | undefined,
  labels: string | undefined,
): (object: KubeObject) => boolean {
  const terms = (fields ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean)
    .map((term) => {
      const match = /^([^!=]+)(!=|==|=)(.*)$/.exec(term);
      if (!match) throw new Error(`unsupported field selector "${term}"`);
      return { path: match[1]!, negate: match[2] === '!=', value: match[3]! };
    });
  const labelTerms = (labels ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  return (object) => {
    if (!terms.every((t) => (fieldOf(object, t.path) === t.value) !== t.negate)) return false;
    const have = (object.metadata['labels'] ?? {}) as Record<string, string>;
    return labelTerms.every((term) => {
      const match = /^([^!=]+)(!=|==|=)(.*)$/.exec(term);
      if (match) return (have[match[1]!] === match[3]) !== (match[2] === '!=');
      if (term.startsWith('!')) return !(term.slice(1) in have);
      return term in have;
    });
  };
}

function list(kind: string, apiVersion: string, items: KubeObject[], rv: number, query: URLSearchParams) {
  const offset = Number(query.get('continue') ?? 0) || 0;
  const limit = Number(query.get('limit') ?? 0) || items.length;
  const page = items.slice(offset, offset + limit);
  const next = offset + limit < items.length ? String(offset + limit) : undefined;
  return {
    kind: `${kind}List`,
    apiVersion,
    metadata: { resourceVersion: String(rv), ...(next ? { continue: next } : {}) },
    items: page,
  };
}

export async function startApiServer(options: ApiServerOptions): Promise<SimApiServer> {
  const { cluster, nodes, clock, token } = options;
  const historyLimit = options.historyLimit ?? 20_000;
  let resourceVersion = 1;
  const pods = new Map<string, StoredPod>();
  let history: WatchEvent[] = [];
  const watchers = new Set<Watcher>();
  const nodeObjects = new Map(nodes.map((node) => [node.name, nodeObject(node)]));
  const namespaces = cluster.namespaces.map((ns) => namespaceObject(ns.name, ns.team));
  for (const object of [...nodeObjects.values(), ...namespaces]) object.metadata['resourceVersion'] = '1';

  function publish(event: WatchEvent): void {
    history.push(event);
    if (history.length > historyLimit) history = history.slice(history.length - historyLimit);
    for (const watcher of watchers) {
      if (watcher.namespace && event.object.metadata['namespace'] !== watcher.namespace) continue;
      if (watcher.matches(event.object))
        watcher.res.write(`${JSON.stringify({ type: event.type, object: event.object })}\n`);
    }
  }

  function refresh(): void {
    const t = clock();
    const seen = new Set<string>();
    for (const node of nodes) {
      for (const pod of nodePodsAt(node, t)) {
        const key = `${pod.seat.namespace}/${pod.name}`;
        seen.add(key);
        const object = podObject(pod, t, options.endpointFor(pod));
        const json = JSON.stringify(object);
        const stored = pods.get(key);
        if (stored && stored.json === json) continue;
        resourceVersion++;
        object.metadata['resourceVersion'] = String(resourceVersion);
        pods.set(key, { object, json, pod });
        publish({ rv: resourceVersion, type: stored ? 'MODIFIED' : 'ADDED', object });
      }
    }
    for (const [key, stored] of pods) {
      if (seen.has(key)) continue;
      pods.delete(key);
      resourceVersion++;
      const object = {
        ...stored.object,
        metadata: { ...stored.object.metadata, resourceVersion: String(resourceVersion) },
      };
      publish({ rv: resourceVersion, type: 'DELETED', object });
    }
  }

  function watch(
    req: IncomingMessage,
    res: ServerResponse,
    namespace: string | undefined,
    query: URLSearchParams,
  ) {
    const matches = selectorMatcher(
      query.get('fieldSelector') ?? undefined,
      query.get('labelSelector') ?? undefined,
    );
    const from = query.get('resourceVersion');
    const fromNumber = Number(from);
    const oldest = history[0]?.rv ?? resourceVersion + 1;
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
    res.flushHeaders();
    if (from && from !== '0' && fromNumber < oldest - 1 && fromNumber < resourceVersion) {
      res.end(
        `${JSON.stringify({
          type: 'ERROR',
          object: {
            kind: 'Status',
            apiVersion: 'v1',
            metadata: {},
            status: 'Failure',
            reason: 'Expired',
            code: 410,
            message: `too old resource version: ${from} (${oldest - 1})`,
          },
        })}\n`,
      );
      return;
    }
    const send = (type: string, object: KubeObject) => res.write(`${JSON.stringify({ type, object })}\n`);
    if (!from || from === '0') {
      for (const stored of pods.values()) {
        if (namespace && stored.object.metadata['namespace'] !== namespace) continue;
        if (matches(stored.object)) send('ADDED', stored.object);
      }
    } else {
      for (const event of history) {
        if (event.rv <= fromNumber) continue;
        if (namespace && event.object.metadata['namespace'] !== namespace) continue;
        if (matches(event.object)) send(event.type, event.object);
      }
    }
    const watcher: Watcher = { namespace, matches, res };
    watchers.add(watcher);
    const timeoutSeconds = Number(query.get('timeoutSeconds'));
    if (timeoutSeconds > 0) {
      watcher.timer = setTimeout(() => {
        watchers.delete(watcher);
        res.end();
      }, timeoutSeconds * 1000);
    }
    req.on('close', () => {
      clearTimeout(watcher.timer);
      watchers.delete(watcher);
    });
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://simulated');
    const query = url.searchParams;
    if (req.headers.authorization !== `Bearer ${token}`) {
      status(res, 401, 'Unauthorized', 'Unauthorized');
      return;
    }
    if (req.method !== 'GET') {
      status(res, 405, 'MethodNotAllowed', `the simulated API server only serves GET, not ${req.method}`);
      return;
    }
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const json = (body: unknown) =>
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
    const notFound = (what: string) => status(res, 404, 'NotFound', `${what} not found`);

    if (url.pathname === '/version') {
      json({ major: '1', minor: '31', gitVersion: 'v1.31.4-mlcost-simulated', platform: 'linux/amd64' });
      return;
    }
    // /api/v1/... and /apis/<group>/<version>/...
    let groupVersion: string;
    let rest: string[];
    if (parts[0] === 'api' && parts[1] === 'v1') {
      groupVersion = 'v1';
      rest = parts.slice(2);
    } else if (parts[0] === 'apis' && parts.length >= 3) {
      groupVersion = `${parts[1]}/${parts[2]}`;
      rest = parts.slice(3);
    } else {
      notFound(url.pathname);
      return;
    }
    let namespace: string | undefined;
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      namespace = rest[1];
      rest = rest.slice(2);
    }
    const [resource, name] = rest;
    const isWatch = query.get('watch') === 'true' || query.get('watch') === '1';

    if (groupVersion === 'v1' && resource === 'pods') {
      if (name !== undefined) {
        const stored = pods.get(`${namespace}/${name}`);
        if (stored) json(stored.object);
        else notFound(`pods "${name}"`);
        return;
      }
      if (isWatch) {
        watch(req, res, namespace, query);
        return;
      }
      const matches = selectorMatcher(
        query.get('fieldSelector') ?? undefined,
        query.get('labelSelector') ?? undefined,
      );
      const items = [...pods.values()]
        .map((stored) => stored.object)
        .filter((object) => (!namespace || object.metadata['namespace'] === namespace) && matches(object))
        .sort((a, b) =>
          `${a.metadata['namespace']}/${a.metadata['name']}`.localeCompare(
            `${b.metadata['namespace']}/${b.metadata['name']}`,
          ),
        );
      json(list('Pod', 'v1', items, resourceVersion, query));
      return;
    }
    if (groupVersion === 'v1' && resource === 'nodes' && !namespace) {
      if (name !== undefined) {
        const object = nodeObjects.get(name);
        if (object) json(object);
        else notFound(`nodes "${name}"`);
        return;
      }
      const matches = selectorMatcher(
        query.get('fieldSelector') ?? undefined,
        query.get('labelSelector') ?? undefined,
      );
      json(list('Node', 'v1', [...nodeObjects.values()].filter(matches), resourceVersion, query));
      return;
    }
    if (groupVersion === 'v1' && (resource === 'namespaces' || (rest.length === 0 && namespace))) {
      const wanted = name ?? (rest.length === 0 ? namespace : undefined);
      if (wanted !== undefined) {
        const object = namespaces.find((ns) => ns.metadata['name'] === wanted);
        if (object) json(object);
        else notFound(`namespaces "${wanted}"`);
        return;
      }
      json(list('Namespace', 'v1', namespaces, resourceVersion, query));
      return;
    }
    const controllerKind =
      groupVersion === 'apps/v1' && resource === 'replicasets'
        ? 'ReplicaSet'
        : groupVersion === 'batch/v1' && resource === 'jobs'
          ? 'Job'
          : undefined;
    if (controllerKind && namespace && name) {
      for (const stored of pods.values()) {
        const { pod } = stored;
        if (
          pod.seat.namespace === namespace &&
          pod.owner.kind === controllerKind &&
          pod.owner.name === name
        ) {
          json(controllerObject(pod));
          return;
        }
      }
      notFound(`${resource} "${name}"`);
      return;
    }
    notFound(`the server could not find the requested resource (${url.pathname})`);
  }

  refresh();
  const server = options.cert
    ? createHttpsServer({ key: options.cert.key, cert: options.cert.cert }, handle)
    : createHttpServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const ticker = setInterval(refresh, options.refreshMs ?? 1000);
  ticker.unref();
  const { port } = server.address() as AddressInfo;
  return {
    url: `${options.cert ? 'https' : 'http'}://127.0.0.1:${port}`,
    refresh,
    close() {
      clearInterval(ticker);
      for (const watcher of watchers) {
        clearTimeout(watcher.timer);
        watcher.res.end();
      }
      watchers.clear();
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
