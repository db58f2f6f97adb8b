// --serve, read by the agent's own sources and parsers (in process, with the wall clock under the test's control):
// each endpoint serves what windowsAt says for the same instant, in the shapes the agent reads.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDcgmScrape } from '../agent/sources/dcgm-metrics.ts';
import { createKubeletSource } from '../agent/sources/kubelet.ts';
import { detectModelServers, readModelServerScrape } from '../agent/sources/model-metrics.ts';
import { createPodResourcesSource } from '../agent/sources/pod-resources.ts';
import { createPodsSource } from '../agent/sources/pods.ts';
import { loadKubeConfig } from '../agent/sources/registry.ts';
import { loadConfig } from '../core/config/load.ts';
import { parsePrometheusText } from '../core/prometheus/parse.ts';
import { type Cluster, generateCluster, type SimNode } from './cluster.ts';
import { nodePodsAt } from './pods.ts';
import { HOUR, MINUTE } from './schedule.ts';
import { type Serving, serve } from './serve.ts';
import { nodeWindow } from './usage.ts';

// Simulated time starts on a Tuesday afternoon, 5 s into a minute; the wall clock is the test's.
const START = Date.parse('2025-06-03T14:20:05Z');
let wall = 1_000_000;
const advance = (ms: number) => {
  wall += ms;
};

let cluster: Cluster;
let serving: Serving;
const node = (pool: string): SimNode => cluster.nodes.find((n) => n.pool === pool)!;
const served = (name: string) => serving.info.nodes.find((n) => n.name === name)!;
const signal = () => new AbortController().signal;

beforeAll(async () => {
  cluster = generateCluster({ seed: 31, nodes: 4, mix: { 'a100-mig': 1, 'l4-shared': 1, l4: 1, cpu: 1 } });
  serving = await serve({ cluster, startAt: START, now: () => wall });
});
afterAll(async () => {
  await serving?.close();
});

describe('simulate --serve', () => {
  it('prints where everything is, and an agent config per node', () => {
    const { info } = serving;
    expect(info.simulated).toBe(true);
    expect(info.apiServer).toMatch(/^https?:\/\/127\.0\.0\.1:\d+$/);
    expect(info.nodes.map((n) => n.name)).toEqual(cluster.nodes.map((n) => n.name));
    const config = loadConfig({ file: served(node('l4').name).agentConfig, env: {} });
    expect(config.agent).toMatchObject({
      nodeName: node('l4').name,
      sources: ['pods', 'kubelet', 'pod-resources', 'dcgm', 'model-servers'],
    });
    expect(served(node('l4').name).modelServers).toHaveLength(7);
  });

  it('serves dcgm-exporter text whose GPUs, MIG slices and pod labels are the snapshot of the minute', async () => {
    const a100 = node('a100-mig');
    const text = await (await fetch(served(a100.name).dcgmUrl)).text();
    const gpus = parseDcgmScrape(parsePrometheusText(text));
    const t = serving.simNow();
    const expected = nodeWindow(a100, t, t + 1000);
    expect(gpus.map((g) => g.id).sort()).toEqual(expected.gpus.map((g) => g.id).sort());
    for (const gpu of gpus) {
      const want = expected.gpus.find((g) => g.id === gpu.id)!;
      expect(gpu.activity).toBe(want.activityAvg);
      expect(gpu.memoryUsedBytes).toBe(want.memoryUsedBytesMax);
      expect(gpu.memoryTotalBytes).toBe(want.memoryTotalBytes);
      expect(gpu.powerWatts).toBe(want.powerWattsAvg);
      expect(gpu.migProfile).toBe(want.migProfile);
      // The exporter names the pod of a MIG slice it holds; MIG parents have none.
      const holder = want.holders[0];
      expect(gpu.holder).toEqual(
        holder ? { namespace: holder.namespace, pod: holder.pod, container: holder.container } : undefined,
      );
    }
    // Time-sliced GPUs carry no pod labels (the exporter cannot map `<uuid>::<n>`).
    const shared = parseDcgmScrape(
      parsePrometheusText(await (await fetch(served(node('l4-shared').name).dcgmUrl)).text()),
    );
    expect(shared).toHaveLength(8);
    for (const gpu of shared) expect(gpu.holder).toBeUndefined();
  });

  it('serves pod-resources device ids as the NVIDIA device plugin names them', async () => {
    for (const pool of ['a100-mig', 'l4-shared']) {
      const n = node(pool);
      const source = createPodResourcesSource({ socketPath: served(n.name).podResourcesSocket });
      const { devices } = await source.collect(signal());
      source.stop();
      const ids = devices!.flatMap((d) => d.deviceIds);
      if (pool === 'a100-mig') {
        expect(ids).toHaveLength(26);
        for (const d of devices!) expect(d.resource).toMatch(/^nvidia\.com\/mig-\dg\.\d+gb$/);
        for (const id of ids) expect(id).toMatch(/^MIG-/);
      } else {
        expect(ids.sort()).toEqual(n.gpus.flatMap((g) => [`${g.uuid}::0`, `${g.uuid}::1`]).sort());
      }
    }
  });

  it('serves the kubelet summary over HTTPS: CPU rates and memory of the minute, to the agent source', async () => {
    const n = node('cpu');
    const source = createKubeletSource({
      url: served(n.name).kubeletUrl,
      tokenFile: serving.info.tokenFile,
      caFile: serving.info.kubeletCaFile,
      insecureSkipTlsVerify: serving.info.kubeletCaFile === undefined,
    });
    await source.collect(signal());
    const t1 = serving.simNow();
    advance(3000);
    const second = await source.collect(signal());
    const expected = nodeWindow(n, t1, serving.simNow());
    for (const c of second.containers!) {
      const want = expected.containers.find((e) => e.pod === c.pod && e.container === c.container)!;
      expect(c.cpuUsedCores).toBeCloseTo(want.cpuCoresAvg!, 9);
      expect(c.memoryWorkingSetBytes).toBe(want.memoryBytesAvg);
    }
    expect(second.containers).toHaveLength(expected.containers.length);
    expect(second.node!.cpuUsedCores).toBeCloseTo(expected.node.cpuUsedCoresAvg!, 6);
    expect(second.node!.memoryUsedBytes).toBe(expected.node.memoryUsedBytesAvg);
  });

  it('serves model-server counters whose increase between scrapes is what windowsAt reports', async () => {
    const n = node('l4');
    const scrape = async () => {
      const out = new Map<string, Record<string, number>>();
      for (const server of served(n.name).modelServers) {
        const families = parsePrometheusText(await (await fetch(server.url)).text());
        for (const kind of detectModelServers(families)) {
          for (const counters of readModelServerScrape(kind, families)) {
            out.set(`${server.workload}/${counters.model}`, { ...counters } as unknown as Record<
              string,
              number
            >);
          }
        }
      }
      return out;
    };
    const t1 = serving.simNow();
    const before = await scrape();
    advance(2 * MINUTE + 17_000); // across two minute boundaries
    const after = await scrape();
    const expected = nodeWindow(n, t1, serving.simNow());
    expect(expected.models).toHaveLength(8);
    for (const model of expected.models) {
      const workload = expected.containers.find((c) => c.pod === model.pod)!.workload!.name;
      const a = before.get(`${workload}/${model.model}`)!;
      const b = after.get(`${workload}/${model.model}`)!;
      expect(b['requestsOk']! - a['requestsOk']!).toBe(model.requestsOk);
      expect(b['requestsFailed']! - a['requestsFailed']!).toBe(model.requestsFailed);
      expect(b['promptTokens']! - a['promptTokens']!).toBe(model.promptTokens);
      expect(b['generatedTokens']! - a['generatedTokens']!).toBe(model.generatedTokens);
      expect(b['latencySecondsSum']! - a['latencySecondsSum']!).toBeCloseTo(model.latencySecondsSum, 5);
      expect(model.requestsOk).toBeGreaterThan(0);
    }
  });

  it('serves pods by list and watch: the agent pod source follows rollouts and jobs as simulated time passes', async () => {
    const n = node('cpu');
    const config = loadConfig({ file: served(n.name).agentConfig, env: {} });
    const source = createPodsSource({ kubeConfig: loadKubeConfig(config), nodeName: n.name });
    try {
      const names = async () => ((await source.collect(signal())).pods ?? []).map((p) => p.name).sort();
      expect(await names()).toEqual(
        nodePodsAt(n, serving.simNow())
          .map((p) => p.name)
          .sort(),
      );
      const first = await source.collect(signal());
      const leaky = first.pods!.find((p) => p.name.startsWith('session-cache'))!;
      expect(leaky.workload).toEqual({
        kind: 'Deployment',
        name: leaky.name.split('-').slice(0, 3).join('-'),
      });
      // An hour later the ETL CronJob has started or stopped: the watch delivers the change.
      advance(HOUR);
      serving.refresh();
      const want = nodePodsAt(n, serving.simNow())
        .map((p) => p.name)
        .sort();
      let got: string[] = [];
      for (let i = 0; i < 50 && got.join() !== want.join(); i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        got = await names();
      }
      expect(got).toEqual(want);
      const etl = (await source.collect(signal())).pods!.find((p) => p.name.startsWith('etl-'));
      if (etl) expect(etl.workload?.kind).toBe('CronJob');
    } finally {
      source.stop();
    }
  });
});
