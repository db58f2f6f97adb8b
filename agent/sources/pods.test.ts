import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type FakeApiServer, type KubeObject, startFakeApiServer } from '../../test/fakes/fake-apiserver.ts';
import type { PodInfo } from '../samples.ts';
import { createPodsSource } from './pods.ts';

const TOKEN = 'pods-test-token';

function pod(
  name: string,
  nodeName: string,
  extra: {
    namespace?: string;
    labels?: Record<string, string>;
    owner?: [string, string, string];
    phase?: string;
    containers?: unknown[];
  } = {},
): KubeObject {
  return {
    metadata: {
      name,
      namespace: extra.namespace ?? 'default',
      labels: extra.labels ?? {},
      ...(extra.owner
        ? {
            ownerReferences: [
              {
                apiVersion: extra.owner[0],
                kind: extra.owner[1],
                name: extra.owner[2],
                uid: `uid-${extra.owner[2]}`,
                controller: true,
              },
            ],
          }
        : {}),
    },
    spec: {
      nodeName,
      containers: extra.containers ?? [
        { name: 'main', resources: { requests: { cpu: '500m', memory: '1Gi' }, limits: { memory: '2Gi' } } },
      ],
    },
    status: { phase: extra.phase ?? 'Running', qosClass: 'Burstable', podIP: '10.4.0.7' },
  };
}

function seed(fake: FakeApiServer): void {
  fake.apply('nodes', {
    metadata: {
      name: 'node-a',
      labels: {
        'node.kubernetes.io/instance-type': 'p4d.24xlarge',
        'karpenter.sh/capacity-type': 'spot',
        'nvidia.com/gpu.product': 'NVIDIA-A100-SXM4-40GB',
        'nvidia.com/gpu.count': '8',
      },
    },
    status: {
      capacity: { cpu: '96', memory: '1152Gi', 'nvidia.com/gpu': '8' },
      allocatable: { cpu: '95690m', memory: '1120Gi', 'nvidia.com/gpu': '8' },
    },
  });
  fake.apply('nodes', { metadata: { name: 'node-b' }, status: { capacity: { cpu: '4', memory: '16Gi' } } });
  fake.apply('replicasets', {
    metadata: {
      name: 'web-5d8f7c9b4',
      namespace: 'default',
      ownerReferences: [
        { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'uid-web', controller: true },
      ],
    },
  });
  fake.apply('jobs', {
    metadata: {
      name: 'nightly-28345678',
      namespace: 'default',
      ownerReferences: [
        { apiVersion: 'batch/v1', kind: 'CronJob', name: 'nightly', uid: 'uid-nightly', controller: true },
      ],
    },
  });
  fake.apply(
    'pods',
    pod('web-5d8f7c9b4-x2x9k', 'node-a', {
      labels: { 'pod-template-hash': '5d8f7c9b4' },
      owner: ['apps/v1', 'ReplicaSet', 'web-5d8f7c9b4'],
    }),
  );
  fake.apply(
    'pods',
    pod('nightly-28345678-q7wzl', 'node-a', { owner: ['batch/v1', 'Job', 'nightly-28345678'] }),
  );
  // Its ReplicaSet is not on the server: the naming rule must find the Deployment.
  fake.apply(
    'pods',
    pod('legacy-7f9c8d6b5-abcde', 'node-a', {
      labels: { 'pod-template-hash': '7f9c8d6b5' },
      owner: ['apps/v1', 'ReplicaSet', 'legacy-7f9c8d6b5'],
    }),
  );
  const trainer = pod('bert-worker-0', 'node-a', {
    namespace: 'ml',
    labels: {
      'training.kubeflow.org/job-name': 'bert',
      'training.kubeflow.org/operator-name': 'pytorchjob-controller',
      'training.kubeflow.org/replica-type': 'worker',
    },
    owner: ['kubeflow.org/v1', 'PyTorchJob', 'bert'],
    containers: [
      { name: 'pytorch', resources: { limits: { cpu: '8', memory: '64Gi', 'nvidia.com/gpu': '2' } } },
    ],
  });
  fake.apply('pods', trainer);
  fake.apply('pods', pod('elsewhere-0', 'node-b'));
}

const byName = (pods: PodInfo[] | undefined) => new Map((pods ?? []).map((p) => [p.name, p]));

describe('pods source against a fake API server', () => {
  let fake: FakeApiServer;
  const stops: Array<() => void> = [];

  beforeEach(async () => {
    fake = await startFakeApiServer({ token: TOKEN });
    seed(fake);
  });

  afterEach(async () => {
    for (const stop of stops.splice(0)) stop();
    await fake.close();
  });

  function source(overrides: Partial<Parameters<typeof createPodsSource>[0]> = {}) {
    const created = createPodsSource({
      kubeConfig: fake.kubeConfig(),
      nodeName: 'node-a',
      retryMinMs: 20,
      retryMaxMs: 200,
      ...overrides,
    });
    stops.push(created.stop);
    return created;
  }

  const signal = () => AbortSignal.timeout(5_000);

  it("lists only this node's pods, with workloads, ML identity and the Node object", async () => {
    const pods = source();
    const samples = await pods.collect(signal());
    const got = byName(samples.pods);
    expect([...got.keys()].sort()).toEqual([
      'bert-worker-0',
      'legacy-7f9c8d6b5-abcde',
      'nightly-28345678-q7wzl',
      'web-5d8f7c9b4-x2x9k',
    ]);
    expect(got.get('web-5d8f7c9b4-x2x9k')?.workload).toEqual({ kind: 'Deployment', name: 'web' });
    expect(got.get('nightly-28345678-q7wzl')?.workload).toEqual({ kind: 'CronJob', name: 'nightly' });
    expect(got.get('legacy-7f9c8d6b5-abcde')?.workload).toEqual({ kind: 'Deployment', name: 'legacy' });
    const bert = got.get('bert-worker-0')!;
    expect(bert.workload).toEqual({ kind: 'PyTorchJob', name: 'bert' });
    expect(bert.mlJob).toEqual({ kind: 'PyTorchJob', name: 'bert' });
    expect(bert.containers[0]?.requests).toEqual({
      cpuCores: 8,
      memoryBytes: 64 * 2 ** 30,
      gpus: 2,
      gpuResource: 'nvidia.com/gpu',
    });
    const web = got.get('web-5d8f7c9b4-x2x9k')!;
    expect(web).toMatchObject({
      namespace: 'default',
      nodeName: 'node-a',
      phase: 'Running',
      podIP: '10.4.0.7',
    });
    expect(web.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(web.containers[0]).toEqual({
      name: 'main',
      requests: { cpuCores: 0.5, memoryBytes: 2 ** 30 },
      limits: { memoryBytes: 2 * 2 ** 30 },
    });

    expect(samples.node).toEqual({
      cpuCores: 96,
      memoryBytes: 1152 * 2 ** 30,
      allocatable: { cpuCores: 95.69, memoryBytes: 1120 * 2 ** 30, gpus: 8 },
      gpus: 8,
      labels: {
        'node.kubernetes.io/instance-type': 'p4d.24xlarge',
        'karpenter.sh/capacity-type': 'spot',
        'nvidia.com/gpu.product': 'NVIDIA-A100-SXM4-40GB',
        'nvidia.com/gpu.count': '8',
      },
    });

    const list = fake.requests.find((r) => r.path === '/api/v1/pods' && !r.watch);
    expect(list?.query['fieldSelector']).toBe('spec.nodeName=node-a');
  });

  it('asks the watch for this node only, and follows added, modified and deleted pods', async () => {
    const pods = source();
    await pods.collect(signal());
    await vi.waitFor(() => expect(fake.openWatches).toBe(1));
    const watch = fake.requests.find((r) => r.path === '/api/v1/pods' && r.watch);
    expect(watch?.query['fieldSelector']).toBe('spec.nodeName=node-a');
    expect(watch?.query['resourceVersion']).toMatch(/^\d+$/);

    fake.apply('pods', pod('new-on-a', 'node-a', { phase: 'Pending' }));
    fake.apply('pods', pod('new-on-b', 'node-b'));
    await vi.waitFor(async () =>
      expect(byName((await pods.collect(signal())).pods).has('new-on-a')).toBe(true),
    );
    expect(byName((await pods.collect(signal())).pods).has('new-on-b')).toBe(false);

    fake.apply('pods', pod('new-on-a', 'node-a', { phase: 'Running' }));
    await vi.waitFor(async () =>
      expect(byName((await pods.collect(signal())).pods).get('new-on-a')?.phase).toBe('Running'),
    );

    fake.remove('pods', 'default', 'web-5d8f7c9b4-x2x9k');
    await vi.waitFor(async () =>
      expect(byName((await pods.collect(signal())).pods).has('web-5d8f7c9b4-x2x9k')).toBe(false),
    );
    // Still one list: everything since came through the watch.
    expect(fake.requests.filter((r) => r.path === '/api/v1/pods' && !r.watch)).toHaveLength(1);
  });

  it('relists when the watch is refused with 410 Gone (ERROR event), picking up what it missed', async () => {
    const pods = source();
    await pods.collect(signal());
    await vi.waitFor(() => expect(fake.openWatches).toBe(1));
    // A pod the watch never hears about, then the history it would resume from is gone.
    fake.apply('pods', pod('missed-while-away', 'node-a'), { silent: true });
    fake.compact();
    fake.endWatches();
    await vi.waitFor(async () =>
      expect(byName((await pods.collect(signal())).pods).has('missed-while-away')).toBe(true),
    );
    expect(fake.requests.filter((r) => r.path === '/api/v1/pods' && !r.watch)).toHaveLength(2);
    const watches = fake.requests.filter((r) => r.path === '/api/v1/pods' && r.watch);
    expect(watches.length).toBeGreaterThanOrEqual(2);
  });

  it('relists when the watch answers HTTP 410, and when an open watch sends a 410 ERROR event', async () => {
    const pods = source();
    await pods.collect(signal());
    await vi.waitFor(() => expect(fake.openWatches).toBe(1));
    fake.goneMode = 'http';
    fake.apply('pods', pod('missed-1', 'node-a'), { silent: true });
    fake.compact();
    fake.endWatches();
    await vi.waitFor(async () =>
      expect(byName((await pods.collect(signal())).pods).has('missed-1')).toBe(true),
    );

    await vi.waitFor(() => expect(fake.openWatches).toBe(1));
    fake.apply('pods', pod('missed-2', 'node-a'), { silent: true });
    fake.endWatches({ gone: true });
    await vi.waitFor(async () =>
      expect(byName((await pods.collect(signal())).pods).has('missed-2')).toBe(true),
    );
    expect(fake.requests.filter((r) => r.path === '/api/v1/pods' && !r.watch)).toHaveLength(3);
  });

  it('keeps a quiet watch open past the request timeout', async () => {
    const pods = source({ requestTimeoutMs: 150 });
    await pods.collect(signal());
    await vi.waitFor(() => expect(fake.openWatches).toBe(1));
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(fake.openWatches).toBe(1);
    expect(fake.requests.filter((r) => r.path === '/api/v1/pods' && r.watch)).toHaveLength(1);
    fake.apply('pods', pod('late', 'node-a'));
    await vi.waitFor(async () => expect(byName((await pods.collect(signal())).pods).has('late')).toBe(true));
  });

  it('resumes from its resourceVersion, without a relist, when the server ends a watch at timeoutSeconds', async () => {
    const pods = source({ watchTimeoutSeconds: 1 });
    await pods.collect(signal());
    await vi.waitFor(
      () => expect(fake.requests.filter((r) => r.path === '/api/v1/pods' && r.watch).length).toBe(2),
      { timeout: 5_000 },
    );
    const [first, second] = fake.requests.filter((r) => r.path === '/api/v1/pods' && r.watch);
    expect(first?.query['timeoutSeconds']).toBe('1');
    expect(second?.query['resourceVersion']).toBe(first?.query['resourceVersion']);
    expect(fake.requests.filter((r) => r.path === '/api/v1/pods' && !r.watch)).toHaveLength(1);
  });

  it('keeps serving its cache while the watch fails, and resumes without a relist', async () => {
    const pods = source();
    await pods.collect(signal());
    await vi.waitFor(() => expect(fake.openWatches).toBe(1));
    fake.failNext((r) => r.watch, 500, 3);
    fake.endWatches();
    expect(byName((await pods.collect(signal())).pods).size).toBe(4);
    fake.apply('pods', pod('after-outage', 'node-a'));
    await vi.waitFor(async () =>
      expect(byName((await pods.collect(signal())).pods).has('after-outage')).toBe(true),
    );
    expect(fake.requests.filter((r) => r.watch && r.path === '/api/v1/pods').length).toBeGreaterThanOrEqual(
      5,
    );
    expect(fake.requests.filter((r) => r.path === '/api/v1/pods' && !r.watch)).toHaveLength(1);
  });

  it('rejects once the watch has failed for longer than staleAfterMs', async () => {
    const pods = source({ staleAfterMs: 100 });
    await pods.collect(signal());
    await vi.waitFor(() => expect(fake.openWatches).toBe(1));
    fake.failNext((r) => r.watch, 500, 1_000_000);
    fake.endWatches();
    await vi.waitFor(async () =>
      expect(pods.collect(signal())).rejects.toThrow(
        /the pod watch has failed for \d+ s .*injected failure 500/,
      ),
    );
  });

  it('fetches each owner once and falls back to the naming rule when owners are forbidden', async () => {
    const pods = source();
    fake.failNext((r) => r.path.includes('/replicasets/'), 403, 10);
    const first = byName((await pods.collect(signal())).pods);
    expect(first.get('web-5d8f7c9b4-x2x9k')?.workload).toEqual({ kind: 'Deployment', name: 'web' });
    expect(first.get('nightly-28345678-q7wzl')?.workload).toEqual({ kind: 'CronJob', name: 'nightly' });
    await pods.collect(signal());
    await pods.collect(signal());
    const jobGets = fake.requests.filter(
      (r) => r.path === '/apis/batch/v1/namespaces/default/jobs/nightly-28345678',
    );
    expect(jobGets).toHaveLength(1);
  });

  it('rejects with a clear error when the API server refuses the token', async () => {
    const pods = source({ kubeConfig: fake.kubeConfig('wrong-token') });
    await expect(pods.collect(signal())).rejects.toThrow(
      /cannot list pods \(spec\.nodeName=node-a\): API server GET \/api\/v1\/pods answered 401: Unauthorized/,
    );
  });

  it('rejects when the Node object cannot be read the first time', async () => {
    const pods = source({ nodeName: 'node-missing' });
    await expect(pods.collect(signal())).rejects.toThrow(
      'API server GET /api/v1/nodes/node-missing answered 404: nodes "node-missing" not found',
    );
  });

  it('pages through a long list', async () => {
    for (let i = 0; i < 620; i++) fake.apply('pods', pod(`batch-${i}`, 'node-a'), { silent: true });
    const pods = source();
    expect((await pods.collect(signal())).pods).toHaveLength(624);
    const lists = fake.requests.filter((r) => r.path === '/api/v1/pods' && !r.watch);
    expect(lists.map((r) => r.query['continue'] ?? '')).toEqual(['', '500']);
  });

  it('stops its watch on stop(), and refuses to collect after', async () => {
    const pods = source();
    await pods.collect(signal());
    await vi.waitFor(() => expect(fake.openWatches).toBe(1));
    pods.stop();
    await vi.waitFor(() => expect(fake.openWatches).toBe(0));
    await expect(pods.collect(signal())).rejects.toThrow('the pods source was stopped');
  });
});
