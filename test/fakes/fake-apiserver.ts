// A fake Kubernetes API server for tests: a real node:http server on 127.0.0.1 that serves get, list (with
// fieldSelector, labelSelector, limit/continue) and watch (with resourceVersion, history replay, 410 Gone once the
// history is compacted, timeoutSeconds) for pods, nodes, replicasets, jobs and a few other built-in kinds.
// Tests change objects through it and watchers see ADDED, MODIFIED and DELETED events, as from a real one.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

interface ResourceInfo {
  groupVersion: string;
  plural: string;
  kind: string;
  namespaced: boolean;
}

const RESOURCES: ResourceInfo[] = [
  { groupVersion: 'v1', plural: 'pods', kind: 'Pod', namespaced: true },
  { groupVersion: 'v1', plural: 'nodes', kind: 'Node', namespaced: false },
  { groupVersion: 'v1', plural: 'namespaces', kind: 'Namespace', namespaced: false },
  { groupVersion: 'apps/v1', plural: 'replicasets', kind: 'ReplicaSet', namespaced: true },
  { groupVersion: 'apps/v1', plural: 'deployments', kind: 'Deployment', namespaced: true },
  { groupVersion: 'apps/v1', plural: 'statefulsets', kind: 'StatefulSet', namespaced: true },
  { groupVersion: 'apps/v1', plural: 'daemonsets', kind: 'DaemonSet', namespaced: true },
  { groupVersion: 'batch/v1', plural: 'jobs', kind: 'Job', namespaced: true },
  { groupVersion: 'batch/v1', plural: 'cronjobs', kind: 'CronJob', namespaced: true },
];

/** A resource by its plural name: `pods`, `nodes`, `replicasets`, `jobs`, … */
export type ResourceName = string;

type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

interface HistoryEvent {
  rv: number;
  type: EventType;
  resource: ResourceInfo;
  object: KubeObject;
}

interface Watcher {
  resource: ResourceInfo;
  namespace?: string;
  matches: (object: KubeObject) => boolean;
  res: ServerResponse;
  timer?: NodeJS.Timeout;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  watch: boolean;
}

export interface FakeApiServer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** A client-node KubeConfig pointing here, with this bearer token (default: the server's). */
  kubeConfig(token?: string): KubeConfig;
  /** Creates or replaces an object; watchers see ADDED or MODIFIED, unless `silent` (then only lists show it). */
  apply(resource: ResourceName, object: KubeObject, options?: { silent?: boolean }): KubeObject;
  /** Deletes an object; watchers see DELETED unless `silent`. */
  remove(
    resource: ResourceName,
    namespace: string | undefined,
    name: string,
    options?: { silent?: boolean },
  ): void;
  /** Forgets the event history: a watch from an older resourceVersion then gets 410 Gone. */
  compact(): void;
  /** Ends every open watch; with `gone`, each first gets a 410 Expired ERROR event. */
  endWatches(options?: { gone?: boolean }): void;
  /** How a too-old watch is refused: a 200 with an ERROR event (as kube-apiserver does) or a plain HTTP 410. */
  goneMode: 'event' | 'http';
  /** Answers the next `count` requests that `match` with `status` (a Status body). */
  failNext(match: (request: RecordedRequest) => boolean, status: number, count?: number): void;
  /** Every request, in order. */
  readonly requests: RecordedRequest[];
  readonly openWatches: number;
  close(): Promise<void>;
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

function fieldValue(object: unknown, path: string): string {
  let value: unknown = object;
  for (const part of path.split('.')) value = (value as Record<string, unknown> | undefined)?.[part];
  return value === undefined || value === null ? '' : String(value);
}

/** Field selectors as the API server reads them: `a=b`, `a==b`, `a!=b`, comma-separated, all must hold. */
function fieldMatcher(selector: string | undefined): (object: KubeObject) => boolean {
  if (!selector) return () => true;
  const terms = selector.split(',').map((term) => {
    const match = /^([^!=]+)(!=|==|=)(.*)$/.exec(term.trim());
    if (!match) throw new Error(`unsupported field selector term "${term}"`);
    return { path: match[1]!, negate: match[2] === '!=', value: match[3]! };
  });
  return (object) => terms.every((t) => (fieldValue(object, t.path) === t.value) !== t.negate);
}

/** Label selectors: `k=v`, `k==v`, `k!=v`, `k` (exists), `!k`, comma-separated. */
function labelMatcher(selector: string | undefined): (object: KubeObject) => boolean {
  if (!selector) return () => true;
  const terms = selector.split(',').map((term) => term.trim());
  return (object) => {
    const labels = object.metadata.labels ?? {};
    return terms.every((term) => {
      const match = /^([^!=]+)(!=|==|=)(.*)$/.exec(term);
      if (match) return (labels[match[1]!] === match[3]) !== (match[2] === '!=');
      if (term.startsWith('!')) return !(term.slice(1) in labels);
      return term in labels;
    });
  };
}

function resolvePath(
  pathname: string,
): { resource: ResourceInfo; namespace?: string; name?: string } | undefined {
  const parts = pathname.split('/').filter(Boolean).map(decodeURIComponent);
  let groupVersion: string;
  let rest: string[];
  if (parts[0] === 'api' && parts[1] === 'v1') {
    groupVersion = 'v1';
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 3) {
    groupVersion = `${parts[1]}/${parts[2]}`;
    rest = parts.slice(3);
  } else {
    return undefined;
  }
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const resource = RESOURCES.find((r) => r.groupVersion === groupVersion && r.plural === rest[0]);
  if (!resource || rest.length > 2) return undefined;
  return { resource, namespace, name: rest[1] };
}

export interface FakeApiServerOptions {
  token?: string;
  /**
   * Serves API-server proxy paths (`/api/v1/nodes/<n>/proxy/...`, `/api/v1/namespaces/<ns>/pods/<p>:<port>/proxy/...`)
   * after the token check: return true when it answered the request.
   */
  proxy?: (path: string, req: IncomingMessage, res: ServerResponse) => boolean;
}

export async function startFakeApiServer(options: FakeApiServerOptions = {}): Promise<FakeApiServer> {
  const store = new Map<ResourceInfo, Map<string, KubeObject>>(RESOURCES.map((r) => [r, new Map()]));
  let resourceVersion = 1000;
  let history: HistoryEvent[] = [];
  let oldestKept = 0;
  const watchers = new Set<Watcher>();
  const requests: RecordedRequest[] = [];
  const failures: Array<{ match: (request: RecordedRequest) => boolean; status: number; count: number }> = [];

  const info = (name: ResourceName): ResourceInfo => {
    const resource = RESOURCES.find((r) => r.plural === name);
    if (!resource) throw new Error(`fake API server: unknown resource "${name}"`);
    return resource;
  };
  const keyOf = (namespace: string | undefined, name: string) => `${namespace ?? ''}/${name}`;

  function send(watcher: Watcher, type: string, object: unknown): void {
    watcher.res.write(`${JSON.stringify({ type, object })}\n`);
  }

  function publish(event: HistoryEvent): void {
    history.push(event);
    for (const watcher of watchers) {
      if (watcher.resource !== event.resource) continue;
      if (watcher.namespace && event.object.metadata.namespace !== watcher.namespace) continue;
      if (watcher.matches(event.object)) send(watcher, event.type, event.object);
    }
  }

  function endWatcher(watcher: Watcher): void {
    clearTimeout(watcher.timer);
    watchers.delete(watcher);
    watcher.res.end();
  }

  function visible(resource: ResourceInfo, namespace: string | undefined, query: Record<string, string>) {
    const byField = fieldMatcher(query['fieldSelector']);
    const byLabel = labelMatcher(query['labelSelector']);
    const matches = (object: KubeObject) => byField(object) && byLabel(object);
    const items = [...store.get(resource)!.values()]
      .filter((object) => !namespace || object.metadata.namespace === namespace)
      .filter(matches)
      .sort((a, b) =>
        keyOf(a.metadata.namespace, a.metadata.name).localeCompare(
          keyOf(b.metadata.namespace, b.metadata.name),
        ),
      );
    return { items, matches };
  }

  function handleWatch(
    req: IncomingMessage,
    res: ServerResponse,
    resource: ResourceInfo,
    namespace: string | undefined,
    query: Record<string, string>,
  ): void {
    const { items, matches } = visible(resource, namespace, query);
    const from = query['resourceVersion'];
    const fromNumber = Number(from);
    const tooOld = from !== undefined && from !== '' && from !== '0' && fromNumber < oldestKept;
    if (tooOld && server.goneMode === 'http') {
      status(res, 410, 'Expired', `too old resource version: ${from} (${oldestKept})`);
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
    res.flushHeaders();
    const watcher: Watcher = { resource, namespace, matches, res };
    if (tooOld) {
      send(watcher, 'ERROR', {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: `too old resource version: ${from} (${oldestKept})`,
        reason: 'Expired',
        code: 410,
      });
      res.end();
      return;
    }
    if (!from || from === '0') {
      for (const object of items) send(watcher, 'ADDED', object);
    } else {
      for (const event of history) {
        if (event.rv <= fromNumber || event.resource !== resource) continue;
        if (namespace && event.object.metadata.namespace !== namespace) continue;
        if (matches(event.object)) send(watcher, event.type, event.object);
      }
    }
    watchers.add(watcher);
    const timeoutSeconds = Number(query['timeoutSeconds']);
    if (timeoutSeconds > 0) watcher.timer = setTimeout(() => endWatcher(watcher), timeoutSeconds * 1000);
    req.on('close', () => {
      clearTimeout(watcher.timer);
      watchers.delete(watcher);
    });
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://fake');
    const query = Object.fromEntries(url.searchParams);
    const watch = query['watch'] === 'true' || query['watch'] === '1';
    const recorded: RecordedRequest = { method: req.method ?? 'GET', path: url.pathname, query, watch };
    requests.push(recorded);

    if (options.token !== undefined && req.headers.authorization !== `Bearer ${options.token}`) {
      status(res, 401, 'Unauthorized', 'Unauthorized');
      return;
    }
    const failure = failures.find((f) => f.count > 0 && f.match(recorded));
    if (failure) {
      failure.count--;
      status(res, failure.status, 'InjectedFailure', `injected failure ${failure.status}`);
      return;
    }
    if (url.pathname.includes('/proxy') && options.proxy?.(url.pathname, req, res)) return;
    if (req.method !== 'GET') {
      status(res, 405, 'MethodNotAllowed', `the fake API server only serves GET, not ${req.method}`);
      return;
    }
    const target = resolvePath(url.pathname);
    if (!target) {
      status(res, 404, 'NotFound', `the server could not find the requested resource (${url.pathname})`);
      return;
    }
    const { resource, namespace, name } = target;
    if (name !== undefined) {
      const object = store.get(resource)!.get(keyOf(resource.namespaced ? namespace : undefined, name));
      if (!object) {
        status(res, 404, 'NotFound', `${resource.plural} "${name}" not found`);
        return;
      }
      const partial = (req.headers.accept ?? '').includes('as=PartialObjectMetadata');
      const body = partial
        ? { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: object.metadata }
        : object;
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
      return;
    }
    if (watch) {
      handleWatch(req, res, resource, namespace, query);
      return;
    }
    const { items } = visible(resource, namespace, query);
    const offset = Number(query['continue'] ?? 0) || 0;
    const limit = Number(query['limit'] ?? 0) || items.length;
    const page = items.slice(offset, offset + limit);
    const next = offset + limit < items.length ? String(offset + limit) : undefined;
    const list = {
      kind: `${resource.kind}List`,
      apiVersion: resource.groupVersion,
      metadata: { resourceVersion: String(resourceVersion), ...(next ? { continue: next } : {}) },
      items: page,
    };
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(list));
  }

  const http = createServer(handle);
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;

  const server: FakeApiServer = {
    url,
    goneMode: 'event',
    requests,
    get openWatches() {
      return watchers.size;
    },
    kubeConfig(token = options.token ?? 'unused') {
      const kubeConfig = new KubeConfig();
      kubeConfig.loadFromClusterAndUser(
        { name: 'fake', server: url, skipTLSVerify: true },
        { name: 'fake-user', token },
      );
      return kubeConfig;
    },
    apply(name, object, applyOptions = {}) {
      const resource = info(name);
      const map = store.get(resource)!;
      const key = keyOf(resource.namespaced ? object.metadata.namespace : undefined, object.metadata.name);
      const existing = map.get(key);
      const stored = structuredClone(object);
      stored.apiVersion ??= resource.groupVersion;
      stored.kind ??= resource.kind;
      stored.metadata.uid ??= existing?.metadata.uid ?? randomUUID();
      stored.metadata.creationTimestamp ??= new Date().toISOString();
      resourceVersion++;
      stored.metadata.resourceVersion = String(resourceVersion);
      map.set(key, stored);
      if (!applyOptions.silent) {
        publish({ rv: resourceVersion, type: existing ? 'MODIFIED' : 'ADDED', resource, object: stored });
      }
      return structuredClone(stored);
    },
    remove(name, namespace, objectName, removeOptions = {}) {
      const resource = info(name);
      const map = store.get(resource)!;
      const key = keyOf(resource.namespaced ? namespace : undefined, objectName);
      const existing = map.get(key);
      if (!existing) throw new Error(`fake API server: ${name} ${key} does not exist`);
      map.delete(key);
      resourceVersion++;
      const gone = {
        ...structuredClone(existing),
        metadata: { ...existing.metadata, resourceVersion: String(resourceVersion) },
      };
      if (!removeOptions.silent) publish({ rv: resourceVersion, type: 'DELETED', resource, object: gone });
    },
    compact() {
      history = [];
      oldestKept = resourceVersion;
    },
    endWatches(endOptions = {}) {
      for (const watcher of [...watchers]) {
        if (endOptions.gone) {
          send(watcher, 'ERROR', {
            kind: 'Status',
            apiVersion: 'v1',
            metadata: {},
            status: 'Failure',
            message: 'too old resource version',
            reason: 'Expired',
            code: 410,
          });
        }
        endWatcher(watcher);
      }
    },
    failNext(match, code, count = 1) {
      failures.push({ match, status: code, count });
    },
    close() {
      for (const watcher of [...watchers]) endWatcher(watcher);
      http.closeAllConnections();
      return new Promise((resolve) => http.close(() => resolve()));
    },
  };
  return server;
}
