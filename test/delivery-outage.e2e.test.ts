// Issue 4, acceptance 1, with real processes: three `mlcost agent`s (host source, a window every 2 s, token
// auth, each with its own node name and data folder) send to one `mlcost collector` over loopback. The collector
// is SIGKILLed and stays away for MLCOST_OUTAGE_SECONDS (the issue says "several minutes"; the default of 90 s
// keeps this test near 2.5 minutes — set e.g. MLCOST_OUTAGE_SECONDS=300 for the full-length run); halfway through
// the outage one agent is stopped and started again; then the collector returns on the same port and data folder.
// Every window an agent made must then be stored exactly once: for each agent, the batches table holds exactly
// the sequences 0 … next − 1 of its sequence file (one window per batch), and node_windows holds as many rows.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  logLines,
  metricValue,
  type RunningAgent,
  range,
  scrape,
  sequenceNext,
  showingLogs,
  sleep,
  spooledSequences,
  startAgent,
  startCollector,
  stopCleanly,
  stored,
  withDatabase,
} from './support/delivery.ts';
import { freePort, killAll, pollUntil } from './support/mlcost-process.ts';

const OUTAGE_SECONDS = Number(process.env['MLCOST_OUTAGE_SECONDS'] ?? 90);
const WINDOW_SECONDS = 2;
const TOKEN = 'outage-test-token-0123456789abcdef';
const NODES = ['outage-node-a', 'outage-node-b', 'outage-node-c'] as const;
/** The agent stopped and started again during the outage. */
const RESTARTED = 'outage-node-b';
/**
 * After the collector returns an agent may still sit out its current backoff: full jitter under a 30 s cap
 * (agent/shipper.ts), so at most 30 s; the rest is slack for a loaded machine.
 */
const CATCH_UP_MS = 30_000 + 30_000;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'mlcost-outage-'));
});
afterAll(async () => {
  await killAll();
  rmSync(dir, { recursive: true, force: true });
});

describe('delivery through a collector outage', () => {
  it('stores every window the agents made exactly once, across the outage and an agent restart', {
    timeout: OUTAGE_SECONDS * 1000 + 200_000,
  }, async () => {
    const collectorDir = join(dir, 'collector');
    const dbPath = join(collectorDir, 'mlcost.db');
    const port = await freePort();
    const collectorUrl = `http://127.0.0.1:${port}`;
    const dataDirOf = (node: string) => join(dir, node);
    const startCollectorHere = () =>
      startCollector({
        cwd: dir,
        dataDir: collectorDir,
        port,
        env: { MLCOST_COLLECTOR_INGEST_TOKEN: TOKEN },
      });
    const startAgentHere = async (node: string) =>
      startAgent({
        cwd: dir,
        dataDir: dataDirOf(node),
        nodeName: node,
        collectorUrl,
        listenPort: await freePort(),
        interval: '1s',
        window: `${WINDOW_SECONDS}s`,
        env: { MLCOST_AGENT_TOKEN: TOKEN },
      });

    let collector = await startCollectorHere();
    const agents = new Map<string, RunningAgent>();
    await Promise.all(NODES.map(async (node) => agents.set(node, await startAgentHere(node))));

    // Delivery works before the outage: each agent has a couple of batches stored.
    await pollUntil(
      async () =>
        NODES.every((node) => (stored(dbPath, node)?.batches.length ?? 0) >= 2) ? true : undefined,
      { timeoutMs: 30_000, everyMs: 250, what: 'two batches stored from every agent' },
    );

    // The outage: the collector dies at once (no clean shutdown), and stays away.
    const outageStart = Date.now();
    collector.process.killGroup();
    await collector.process.exited;

    // Halfway through, one agent is stopped cleanly and started again on the same data folder.
    await sleep((OUTAGE_SECONDS * 1000) / 2);
    const first = agents.get(RESTARTED)!;
    await stopCleanly(first.process, `agent ${RESTARTED}`);
    // What it made during the outage is on disk: the newest sequences, contiguous up to the last one taken.
    const nextAtStop = sequenceNext(dataDirOf(RESTARTED), RESTARTED);
    const spooledAtStop = spooledSequences(dataDirOf(RESTARTED));
    expect(spooledAtStop.length).toBeGreaterThan(0);
    expect(spooledAtStop).toEqual(range(nextAtStop - spooledAtStop.length, nextAtStop));
    const second = await startAgentHere(RESTARTED);
    agents.set(RESTARTED, second);
    const replaying = logLines(second.process.stderr).find((line) =>
      line.msg?.startsWith('replaying batches spooled before the restart'),
    );
    expect(replaying, `restarted agent log: ${second.process.stderr.slice(-2000)}`).toMatchObject({
      batches: spooledAtStop.length,
      windows: spooledAtStop.length,
    });

    // The collector returns on the same port and data folder.
    await sleep(Math.max(0, outageStart + OUTAGE_SECONDS * 1000 - Date.now()));
    const outageEnd = Date.now();
    collector = await startCollectorHere();
    const caughtUpAt = await showingLogs(
      pollUntil(
        async () =>
          NODES.every((node) => {
            const next = sequenceNext(dataDirOf(node), node);
            return (
              spooledSequences(dataDirOf(node)).length === 0 && stored(dbPath, node)?.batches.length === next
            );
          })
            ? Date.now()
            : undefined,
        { timeoutMs: CATCH_UP_MS, everyMs: 200, what: 'every agent caught up after the outage' },
      ),
      {
        collector: collector.process,
        ...Object.fromEntries([...agents].map(([node, agent]) => [node, agent.process])),
      },
    );

    // The agents that ran throughout counted every window they made: mlcost_agent_windows_total equals the
    // batches numbered (read before and after the scrape, since a window may close in between).
    for (const node of NODES.filter((n) => n !== RESTARTED)) {
      const before = sequenceNext(dataDirOf(node), node);
      const windowsTotal = metricValue(
        await scrape(agents.get(node)!.metricsUrl),
        'mlcost_agent_windows_total',
      );
      const after = sequenceNext(dataDirOf(node), node);
      expect(windowsTotal, `${node} windows_total`).toBeGreaterThanOrEqual(before);
      expect(windowsTotal, `${node} windows_total`).toBeLessThanOrEqual(after);
    }

    // Clean stop: each agent closes its open window and delivers it before exiting.
    await Promise.all([...agents].map(([node, agent]) => stopCleanly(agent.process, `agent ${node}`)));
    for (const [node, agent] of agents) {
      expect(spooledSequences(dataDirOf(node)), `${node} spool after a clean stop`).toEqual([]);
      expect(agent.process.stderr, `${node} log`).not.toMatch(/"level":"(fatal)"|dead-letter|dropped batch/);
    }
    await stopCleanly(collector.process, 'collector');

    const report: string[] = [];
    withDatabase(dbPath, (db) => {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      const windowsMadeDuringOutage = db.prepare(
        'SELECT count(*) AS n FROM node_windows WHERE node = ? AND start >= ? AND end <= ?',
      );
      for (const node of NODES) {
        const next = sequenceNext(dataDirOf(node), node);
        const { batches, nodeWindows } = stored(dbPath, node)!;
        // Exactly once: every sequence the agent took is stored (no gap), none twice (the primary key
        // (agent_id, sequence) allows no duplicate; the equality of counts shows none is missing either).
        expect(
          batches.map((b) => b.sequence),
          `${node}: sequences stored`,
        ).toEqual(range(0, next));
        expect(batches.every((b) => b.windows === 1)).toBe(true);
        // One node_windows row per window: none lost to a (node, start) collision, none from elsewhere.
        expect(nodeWindows, `${node}: node_windows rows`).toBe(next);
        // The outage was real: windows wholly inside it were made and stored. At one window per 2 s an agent
        // makes OUTAGE_SECONDS / 2 of them (45 for 90 s); the restarted one misses its few seconds down, and a
        // loaded machine may start late, so ask for half.
        const during = (windowsMadeDuringOutage.get(node, outageStart, outageEnd) as { n: number }).n;
        expect(during, `${node}: windows made during the outage`).toBeGreaterThanOrEqual(
          Math.floor(OUTAGE_SECONDS / WINDOW_SECONDS / 2),
        );
        report.push(`${node}: ${next} windows made and stored, ${during} of them during the outage`);
      }
    });
    console.info(
      `delivery outage (${OUTAGE_SECONDS} s): ${report.join('; ')}; caught up ${caughtUpAt - outageEnd} ms after the collector returned`,
    );
  });
});
