// The pods source: the pods bound to this node, from the API server through a list + watch informer whose cache
// collect() reads, plus this node's Node object (labels, capacity, allocatable). Owners one step above a pod
// (ReplicaSet → Deployment, Job → CronJob) are fetched lazily and cached.
//
// Our own list/watch loop rather than client-node's makeInformer: 1.4.0's makeInformer drops the field selector
// on its watch (it would watch every pod in the cluster), stops for good after a watch error, and says nothing
// about when its first list has landed. This loop relists on 410 Gone, retries with backoff, and knows both.
import type { IncomingMessage } from 'node:http';
import type { RequestOptions } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import type { V1Node, V1OwnerReference, V1Pod } from '@kubernetes/client-node';
import { MlcostError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { NodeSample, Samples } from '../samples.ts';
import type { Source } from '../source.ts';
import type { KubeAccess } from './kube-access.ts';
import { bodySnippet, get, readBody } from './kube-http.ts';
import { nodeSampleOf } from './node-labels.ts';
import { type OwnerKey, type OwnerLookup, ownerToFetch, toPodInfo } from './pod-identity.ts';

export interface PodsSourceOptions {
  kubeConfig: KubeAccess;
  /** This node's name (`spec.nodeName` of its pods; the downward API's `spec.nodeName`). */
  nodeName: string;
  /** Extended resources to count as GPUs besides `nvidia.com/gpu`, `nvidia.com/gpu.shared`, `nvidia.com/mig-*`. */
  extraGpuResources?: readonly string[];
  /** How long a read of the Node object is reused. Default 60 s. */
  nodeRefreshMs?: number;
  /** How long a fetched ReplicaSet's or Job's owners are reused. Default 10 min. */
  ownerCacheTtlMs?: number;
  /** collect() rejects once the watch has been failing this long: the cache is too old to pass off as now. Default 5 min. */
  staleAfterMs?: number;
  /** `timeoutSeconds` asked of the server for each watch. Default 300. */
  watchTimeoutSeconds?: number;
  /** Limit for one list, get or watch-connect request. Default 30 s. */
  requestTimeoutMs?: number;
  /** Backoff after a failed list or watch: starts at the first, doubles up to the second. Default 1 s and 30 s. */
  retryMinMs?: number;
  retryMaxMs?: number;
  logger?: Logger;
}

/** An API server answer other than 2xx, with its HTTP status (410 Gone means: relist). */
export class KubeApiError extends MlcostError {
  readonly status: number;
  constructor(status: number, message: string) {
    super(
      status === 401 || status === 403 ? 'unauthorized' : status === 404 ? 'not-found' : 'source',
      message,
    );
    this.status = status;
    this.name = 'KubeApiError';
  }
}

const MAX_LIST_BYTES = 256 * 2 ** 20;
const MAX_OBJECT_BYTES = 16 * 2 ** 20;
const MAX_WATCH_LINE = 16 * 2 ** 20;
const OWNER_FETCH_CONCURRENCY = 8;
/** Ask for metadata only where we read nothing else; servers that cannot (or fakes) send the whole object. */
const METADATA_ONLY = 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json';

type Query = Record<string, string | undefined>;

/** GETs against the API server with the kubeconfig's credentials, which are re-applied per request (they rotate). */
class KubeApi {
  constructor(private readonly kubeConfig: KubeAccess) {}

  /** Opens a GET; `signal` may end it at any point, `headTimeoutMs` only while waiting for the answer's head. */
  async open(
    path: string,
    query: Query,
    signal: AbortSignal,
    accept = 'application/json',
    headTimeoutMs?: number,
  ): Promise<IncomingMessage> {
    const cluster = await this.kubeConfig.getCurrentCluster();
    if (!cluster) throw new MlcostError('config', 'kubeconfig has no current cluster to read pods from');
    const url = new URL(`${cluster.server.replace(/\/$/, '')}${path}`);
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined) url.searchParams.set(key, value);
    }
    const options: RequestOptions = {};
    await this.kubeConfig.applyToHTTPSOptions(options);
    const what = `API server GET ${path}`;
    const response = await get(
      url,
      { ...options, headers: { ...options.headers, Accept: accept }, signal, headTimeoutMs },
      what,
    );
    const status = response.statusCode ?? 0;
    if (status >= 200 && status < 300) return response;
    const body = await readBody(response, 64 * 1024, what).catch(() => '');
    throw new KubeApiError(status, `${what} answered ${status}: ${statusMessage(body)}`);
  }

  async getJson<T>(
    path: string,
    query: Query,
    signal: AbortSignal,
    maxBytes: number,
    accept?: string,
  ): Promise<T> {
    const response = await this.open(path, query, signal, accept);
    const body = await readBody(response, maxBytes, `API server GET ${path}`);
    try {
      return JSON.parse(body) as T;
    } catch (error) {
      throw new MlcostError(
        'parse',
        `API server GET ${path}: the body is not JSON: ${(error as Error).message}`,
      );
    }
  }
}

/** The `message` of a Kubernetes Status body, else the body itself, shortened. */
function statusMessage(body: string): string {
  try {
    const status = JSON.parse(body) as { message?: string };
    if (typeof status.message === 'string') return status.message;
  } catch {
    // not a Status: show the text
  }
  return bodySnippet(body) || '(empty body)';
}

function isGone(error: unknown): boolean {
  return error instanceof KubeApiError && error.status === 410;
}

function isAbort(error: unknown): boolean {
  return (error as Error)?.name === 'AbortError';
}

/** A PodList page as the API sends it (client-node's V1ListMeta renames `continue`, so not that type). */
interface PodListPage {
  items?: V1Pod[];
  metadata?: { continue?: string; resourceVersion?: string };
}

interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: V1Pod & { code?: number; message?: string; reason?: string };
}

function podKey(pod: V1Pod): string {
  return `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
}

/** The list + watch loop over this node's pods, and the cache it keeps. */
class PodInformer {
  private pods = new Map<string, V1Pod>();
  private resourceVersion = '';
  private synced = false;
  private lastError: Error | undefined;
  private failingSince: number | undefined;
  private running = false;
  private readonly stopController = new AbortController();
  private readonly listeners = new Set<() => void>();
  private readonly path = '/api/v1/pods';
  private readonly fieldSelector: string;

  constructor(
    private readonly api: KubeApi,
    nodeName: string,
    private readonly options: Required<
      Pick<PodsSourceOptions, 'watchTimeoutSeconds' | 'requestTimeoutMs' | 'retryMinMs' | 'retryMaxMs'>
    > & { logger?: Logger },
  ) {
    this.fieldSelector = `spec.nodeName=${nodeName}`;
  }

  get stopped(): boolean {
    return this.stopController.signal.aborted;
  }

  start(): void {
    if (this.running || this.stopped) return;
    this.running = true;
    void this.loop();
  }

  stop(): void {
    this.stopController.abort();
    this.notify();
  }

  /** The cached pods; resolves once the first list has landed, rejects while listing fails or on abort. */
  async current(signal: AbortSignal, staleAfterMs: number): Promise<V1Pod[]> {
    while (!this.synced || this.stopped) {
      if (this.stopped) throw new MlcostError('unavailable', 'the pods source was stopped');
      if (this.lastError) throw this.unavailable('cannot list pods');
      signal.throwIfAborted();
      await this.changed(signal);
    }
    if (this.failingSince !== undefined && Date.now() - this.failingSince > staleAfterMs) {
      throw this.unavailable(
        `the pod watch has failed for ${Math.round((Date.now() - this.failingSince) / 1000)} s`,
      );
    }
    return [...this.pods.values()];
  }

  private unavailable(what: string): MlcostError {
    const detail = this.lastError?.message ?? 'unknown error';
    return new MlcostError('unavailable', `${what} (${this.fieldSelector}): ${detail}`, {
      cause: this.lastError,
    });
  }

  private changed(signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.listeners.delete(done);
        reject(signal.reason ?? new Error('aborted'));
      };
      const done = () => {
        this.listeners.delete(done);
        signal.removeEventListener('abort', onAbort);
        resolve();
      };
      this.listeners.add(done);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }

  private fail(error: Error): void {
    this.lastError = error;
    this.failingSince ??= Date.now();
    this.notify();
  }

  private healthy(): void {
    this.lastError = undefined;
    this.failingSince = undefined;
  }

  private async loop(): Promise<void> {
    const { retryMinMs, retryMaxMs, logger } = this.options;
    const pause = (ms: number) => sleep(ms, undefined, { signal: this.stopController.signal });
    let delay = retryMinMs;
    let lastGoneAt = 0;
    while (!this.stopped) {
      try {
        if (!this.resourceVersion) await this.list();
        const started = Date.now();
        const events = await this.watch();
        delay = retryMinMs;
        // A server (or proxy) that ends watches at once must not be hammered.
        if (events === 0 && Date.now() - started < 1000) await pause(retryMinMs);
      } catch (error) {
        if (this.stopped) break;
        if (isGone(error)) {
          // Our resourceVersion is older than the server keeps: list afresh, at once unless it keeps happening.
          this.resourceVersion = '';
          const again = Date.now() - lastGoneAt < 10_000;
          lastGoneAt = Date.now();
          logger?.info({ source: 'pods' }, 'pod watch expired (410 Gone): relisting');
          if (!again) continue;
        }
        const err = error instanceof Error ? error : new Error(String(error));
        this.fail(err);
        logger?.warn(
          { source: 'pods', error: err.message, retryInMs: delay },
          `pod list/watch failed: ${err.message}`,
        );
        await pause(delay).catch(() => undefined);
        delay = Math.min(delay * 2, retryMaxMs);
      }
    }
    this.running = false;
  }

  /** Runs one request under the stop signal and the request timeout, naming the timeout when it fires. */
  private async timed<T>(what: string, request: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const { requestTimeoutMs } = this.options;
    const timeout = AbortSignal.timeout(requestTimeoutMs);
    try {
      return await request(AbortSignal.any([this.stopController.signal, timeout]));
    } catch (error) {
      if (timeout.aborted && !this.stopped) {
        throw new MlcostError('timeout', `${what} took longer than ${requestTimeoutMs} ms`, { cause: error });
      }
      throw error;
    }
  }

  private async list(): Promise<void> {
    const items: V1Pod[] = [];
    let continueToken: string | undefined;
    let resourceVersion = '';
    do {
      const page = await this.timed('listing pods', (signal) =>
        this.api.getJson<PodListPage>(
          this.path,
          { fieldSelector: this.fieldSelector, limit: '500', continue: continueToken },
          signal,
          MAX_LIST_BYTES,
        ),
      );
      items.push(...(page.items ?? []));
      continueToken = page.metadata?.continue || undefined;
      resourceVersion = page.metadata?.resourceVersion ?? '';
    } while (continueToken);
    this.pods = new Map(items.map((pod) => [podKey(pod), pod]));
    this.resourceVersion = resourceVersion;
    this.synced = true;
    this.healthy();
    this.notify();
  }

  /** Runs one watch until the server ends it; resolves with the number of events seen. */
  private async watch(): Promise<number> {
    const { watchTimeoutSeconds } = this.options;
    const response = await this.api.open(
      this.path,
      {
        watch: 'true',
        fieldSelector: this.fieldSelector,
        resourceVersion: this.resourceVersion,
        allowWatchBookmarks: 'true',
        timeoutSeconds: String(watchTimeoutSeconds),
      },
      // Not timed(): a timeout would cut a healthy watch short. Only the wait for the answer's head is limited.
      this.stopController.signal,
      'application/json',
      this.options.requestTimeoutMs,
    );
    this.healthy();
    let events = 0;
    await readLines(response, (watchTimeoutSeconds + 30) * 1000, (line) => {
      this.apply(JSON.parse(line) as WatchEvent);
      events++;
    });
    return events;
  }

  private apply(event: WatchEvent): void {
    const object = event.object;
    if (event.type === 'ERROR') {
      // The server ends a watch it cannot serve with a Status; 410 means our resourceVersion is too old.
      const code = object?.code ?? 0;
      throw new KubeApiError(
        code,
        `pod watch error ${code}: ${object?.message ?? object?.reason ?? 'no message'}`,
      );
    }
    if (event.type === 'ADDED' || event.type === 'MODIFIED') this.pods.set(podKey(object), object);
    else if (event.type === 'DELETED') this.pods.delete(podKey(object));
    const version = object?.metadata?.resourceVersion;
    if (version) this.resourceVersion = version;
  }
}

/**
 * Feeds each newline-terminated line of a streaming response to `onLine`, until the response ends. Rejects when
 * `onLine` throws, the stream breaks, or nothing arrives for `idleMs` (a connection that died without a FIN).
 */
function readLines(response: IncomingMessage, idleMs: number, onLine: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    let buffer = '';
    let timer: NodeJS.Timeout | undefined;
    const fail = (error: Error) => {
      clearTimeout(timer);
      response.destroy();
      reject(error);
    };
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(
        () => fail(new MlcostError('timeout', `pod watch sent nothing for ${idleMs} ms`)),
        idleMs,
      );
    };
    arm();
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => {
      arm();
      buffer += chunk;
      let newline = buffer.indexOf('\n');
      while (newline >= 0) {
        const line = buffer.slice(0, newline).trim();
        buffer = buffer.slice(newline + 1);
        if (line) {
          try {
            onLine(line);
          } catch (error) {
            fail(error instanceof Error ? error : new Error(String(error)));
            return;
          }
        }
        newline = buffer.indexOf('\n');
      }
      if (buffer.length > MAX_WATCH_LINE) fail(new MlcostError('limit', 'pod watch sent a line over 16 MiB'));
    });
    response.on('end', () => {
      clearTimeout(timer);
      resolve();
    });
    response.on('error', (error) => fail(error));
    response.on('close', () => {
      if (!response.complete) fail(new MlcostError('unavailable', 'pod watch connection closed mid-stream'));
    });
  });
}

interface OwnerEntry {
  refs: V1OwnerReference[] | undefined;
  expiresAt: number;
}

/** Fetched owners of ReplicaSets and Jobs, kept for a while; failures are cached briefly as "not known". */
class OwnerCache {
  private entries = new Map<string, OwnerEntry>();

  constructor(
    private readonly api: KubeApi,
    private readonly ttlMs: number,
    private readonly logger?: Logger,
  ) {}

  readonly lookup: OwnerLookup = (key) => this.entries.get(keyOf(key))?.refs;

  /** Fetches the owners of these keys that are not cached; forgets keys no current pod needs. */
  async refresh(keys: OwnerKey[], signal: AbortSignal): Promise<void> {
    const wanted = new Map(keys.map((key) => [keyOf(key), key]));
    for (const cached of this.entries.keys()) if (!wanted.has(cached)) this.entries.delete(cached);
    const now = Date.now();
    const missing = [...wanted].filter(([id]) => (this.entries.get(id)?.expiresAt ?? 0) <= now);
    for (let i = 0; i < missing.length; i += OWNER_FETCH_CONCURRENCY) {
      const batch = missing.slice(i, i + OWNER_FETCH_CONCURRENCY);
      await Promise.all(batch.map(([id, key]) => this.fetch(id, key, signal)));
    }
  }

  private async fetch(id: string, key: OwnerKey, signal: AbortSignal): Promise<void> {
    const path =
      key.kind === 'ReplicaSet'
        ? `/apis/apps/v1/namespaces/${encodeURIComponent(key.namespace)}/replicasets/${encodeURIComponent(key.name)}`
        : `/apis/batch/v1/namespaces/${encodeURIComponent(key.namespace)}/jobs/${encodeURIComponent(key.name)}`;
    try {
      const object = await this.api.getJson<{ metadata?: { ownerReferences?: V1OwnerReference[] } }>(
        path,
        {},
        signal,
        MAX_OBJECT_BYTES,
        METADATA_ONLY,
      );
      this.entries.set(id, {
        refs: object.metadata?.ownerReferences ?? [],
        expiresAt: Date.now() + this.ttlMs,
      });
    } catch (error) {
      if (isAbort(error)) throw error;
      // Forbidden (no RBAC for replicasets/jobs), gone, or broken: the naming rule decides until we retry.
      this.logger?.debug(
        { source: 'pods', owner: id, error: (error as Error).message },
        'owner lookup failed',
      );
      this.entries.set(id, { refs: undefined, expiresAt: Date.now() + Math.min(this.ttlMs, 60_000) });
    }
  }
}

function keyOf(key: OwnerKey): string {
  return `${key.kind}/${key.namespace}/${key.name}`;
}

/** The Node object, re-read at most every `refreshMs`; a failed re-read falls back to the last good copy. */
class NodeReader {
  private value: NodeSample | undefined;
  private readAt = 0;

  constructor(
    private readonly api: KubeApi,
    private readonly nodeName: string,
    private readonly refreshMs: number,
    private readonly extraGpuResources: readonly string[],
    private readonly logger?: Logger,
  ) {}

  async get(signal: AbortSignal): Promise<NodeSample> {
    if (this.value && Date.now() - this.readAt < this.refreshMs) return this.value;
    try {
      const node = await this.api.getJson<V1Node>(
        `/api/v1/nodes/${encodeURIComponent(this.nodeName)}`,
        {},
        signal,
        MAX_OBJECT_BYTES,
      );
      this.value = nodeSampleOf(node, this.extraGpuResources);
      this.readAt = Date.now();
    } catch (error) {
      if (!this.value || isAbort(error)) throw error;
      this.logger?.warn(
        { source: 'pods', error: (error as Error).message },
        'node re-read failed: using the last',
      );
    }
    return this.value;
  }
}

/** Creates the `pods` source. Its informer starts at the first collect(); stop() ends it. */
export function createPodsSource(options: PodsSourceOptions): Source & { stop(): void } {
  if (!options.nodeName) throw new MlcostError('config', 'the pods source needs the node name (NODE_NAME)');
  const api = new KubeApi(options.kubeConfig);
  const extraGpuResources = options.extraGpuResources ?? [];
  const informer = new PodInformer(api, options.nodeName, {
    watchTimeoutSeconds: options.watchTimeoutSeconds ?? 300,
    requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
    retryMinMs: options.retryMinMs ?? 1_000,
    retryMaxMs: options.retryMaxMs ?? 30_000,
    logger: options.logger,
  });
  const owners = new OwnerCache(api, options.ownerCacheTtlMs ?? 10 * 60_000, options.logger);
  const nodeReader = new NodeReader(
    api,
    options.nodeName,
    options.nodeRefreshMs ?? 60_000,
    extraGpuResources,
    options.logger,
  );
  const staleAfterMs = options.staleAfterMs ?? 5 * 60_000;

  return {
    name: 'pods',
    async collect(signal): Promise<Samples> {
      informer.start();
      const pods = await informer.current(signal, staleAfterMs);
      const ownerKeys = pods.map(ownerToFetch).filter((key): key is OwnerKey => key !== undefined);
      const [node] = await Promise.all([nodeReader.get(signal), owners.refresh(ownerKeys, signal)]);
      return {
        pods: pods.map((pod) => toPodInfo(pod, owners.lookup, { extraGpuResources })),
        node,
      };
    },
    stop(): void {
      informer.stop();
    },
  };
}
