// Issue 4, "nodes whose agents stop reporting are marked gone after a configurable time, and their series
// stop", with real processes: a collector with collector.nodeGoneAfter=4s and two agents (a window a second).
// One agent stops: within nodeGoneAfter plus a sweep its node shows `status: "gone"` in /api/v1/nodes and its
// mlcost_collector_node_last_report_timestamp_seconds series leaves the collector's /metrics, while the other
// node stays reporting. The agent starts again: its node is `reporting` again and its series is back.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  logLines,
  metricValue,
  scrape,
  startAgent,
  startCollector,
  stopCleanly,
} from './support/delivery.ts';
import { freePort, killAll, pollUntil } from './support/mlcost-process.ts';

const TOKEN = 'node-gone-token-0123456789abcdef';
const GONE_AFTER_MS = 4_000;
/** The collector sweeps every nodeGoneAfter / 4, but at least every second (collector/collector.ts): 1 s here. */
const SWEEP_MS = 1_000;
const SERIES = 'mlcost_collector_node_last_report_timestamp_seconds';

interface NodeView {
  name: string;
  status: 'reporting' | 'gone';
  goneSince: string | null;
  lastSeen: string;
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'mlcost-node-gone-'));
});
afterAll(async () => {
  await killAll();
  rmSync(dir, { recursive: true, force: true });
});

describe('a node whose agent stops reporting', () => {
  it('is marked gone after collector.nodeGoneAfter, its series stops, and it returns with its agent', {
    timeout: 150_000,
  }, async () => {
    const collector = await startCollector({
      cwd: dir,
      dataDir: join(dir, 'collector'),
      port: await freePort(),
      env: { MLCOST_COLLECTOR_INGEST_TOKEN: TOKEN },
      set: [`collector.nodeGoneAfter=${GONE_AFTER_MS / 1000}s`],
    });
    const start = async (node: string) =>
      startAgent({
        cwd: dir,
        dataDir: join(dir, node),
        nodeName: node,
        collectorUrl: collector.url,
        listenPort: await freePort(),
        interval: '1s',
        window: '1s',
        env: { MLCOST_AGENT_TOKEN: TOKEN },
      });
    const nodes = async () => {
      const response = await fetch(`${collector.url}/api/v1/nodes`);
      return ((await response.json()) as { nodes: NodeView[] }).nodes;
    };
    const node = async (name: string) => (await nodes()).find((n) => n.name === name);
    const series = async (name: string) =>
      metricValue(await scrape(`${collector.url}/metrics`), SERIES, { node: name });

    let leaving = await start('leaving-node');
    const staying = await start('staying-node');
    await pollUntil(
      async () => {
        const [a, b] = [await node('leaving-node'), await node('staying-node')];
        return a?.status === 'reporting' &&
          b?.status === 'reporting' &&
          (await series('leaving-node')) !== undefined
          ? true
          : undefined;
      },
      { timeoutMs: 30_000, everyMs: 200, what: 'both nodes reporting' },
    );
    // The series holds the end of the node's latest window, in seconds.
    const reported = (await series('leaving-node'))!;
    expect(Math.abs(reported * 1000 - Date.parse((await node('leaving-node'))!.lastSeen))).toBeLessThan(1);

    await stopCleanly(leaving.process, 'leaving agent');
    const stoppedAt = Date.now();
    const gone = await pollUntil(
      async () => {
        const view = await node('leaving-node');
        return view?.status === 'gone' ? view : undefined;
      },
      { timeoutMs: GONE_AFTER_MS + SWEEP_MS + 15_000, everyMs: 200, what: 'leaving-node marked gone' },
    );
    const goneAfter = Date.now() - stoppedAt;
    // Marked once silent for longer than nodeGoneAfter: the sweep marks a node whose last window ended before
    // now − 4 s, so goneSince − lastSeen > 4 s; and no later than one sweep after that (+ slack for a slow box).
    const silence = Date.parse(gone.goneSince!) - Date.parse(gone.lastSeen);
    expect(silence).toBeGreaterThan(GONE_AFTER_MS);
    expect(silence).toBeLessThan(GONE_AFTER_MS + SWEEP_MS + 10_000);
    // Its series has stopped; the node that kept reporting keeps its status and series.
    expect(await series('leaving-node')).toBeUndefined();
    expect((await node('staying-node'))!.status).toBe('reporting');
    expect(await series('staying-node')).toBeGreaterThan(0);
    expect(
      logLines(collector.process.stderr).some(
        (line) =>
          line.level === 'warn' && /node\(s\) stopped reporting and are marked gone/.test(line.msg ?? ''),
      ),
    ).toBe(true);

    // The agent comes back on the same data folder: the node reports again and its series returns.
    leaving = await start('leaving-node');
    const back = await pollUntil(
      async () => {
        const view = await node('leaving-node');
        return view?.status === 'reporting' && (await series('leaving-node')) !== undefined
          ? view
          : undefined;
      },
      { timeoutMs: 30_000, everyMs: 200, what: 'leaving-node reporting again' },
    );
    expect(back.goneSince).toBeNull();
    expect(Date.parse(back.lastSeen)).toBeGreaterThan(Date.parse(gone.lastSeen));
    console.info(
      `node gone: marked ${goneAfter} ms after its agent stopped (silent ${silence} ms at the mark)`,
    );

    await Promise.all([
      stopCleanly(leaving.process, 'leaving agent'),
      stopCleanly(staying.process, 'staying agent'),
    ]);
    await stopCleanly(collector.process, 'collector');
  });
});
