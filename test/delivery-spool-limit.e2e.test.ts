// Issue 4, acceptance 3, with real processes: an `mlcost agent` with a small spool (agent.spool.maxBytes) and
// no collector for a long outage. Only the oldest windows may be dropped (what survives is the newest run of
// sequences, without a hole), every dropped window is counted in mlcost_agent_spool_dropped_windows_total and
// logged, the counter equals the windows lost (made − stored once a collector is back), and the agent's memory
// stays bounded while it drops. A second case has the spool overflow while a delivery is in flight (a slow
// collector): the batch being delivered must not be both counted as dropped and stored, nor crash the agent.

import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, it } from 'vitest';
import {
  logLines,
  metricValue,
  range,
  rssBytes,
  scrape,
  sequenceNext,
  showingLogs,
  sleep,
  spooledSequences,
  startAgent,
  startCollector,
  stopCleanly,
  stored,
  terminate,
} from './support/delivery.ts';
import { freePort, killAll, pollUntil } from './support/mlcost-process.ts';

const TOKEN = 'spool-test-token-0123456789abcdef';
const MiB = 1024 * 1024;
/**
 * One host-only window is one batch, and gzips to 260–290 bytes (JSON of the node's capacity and usage), so
 * 1400 bytes hold 4 or 5 batches: the spool is sized for N ≈ 5.
 */
const SPOOL_MAX_BYTES = 1400;
/**
 * The long outage, in seconds: one window a second (interval = window = 1 s), so about this many windows are made
 * meanwhile and all but the newest ~5 are dropped (20 s by default, ~15 dropped; MLCOST_SPOOL_OUTAGE_SECONDS=600
 * for a ten-minute run).
 */
const OUTAGE_SECONDS = Number(process.env['MLCOST_SPOOL_OUTAGE_SECONDS'] ?? 20);
/**
 * The memory bound. The agent holds at most the spool's index (≤ 6 entries here) and one pending batch; the
 * dropped windows must not pile up anywhere. So the resident set of its node process over the second half of
 * the outage may exceed the highest seen over the first half by at most 48 MiB (V8 heap growth and GC timing
 * on a working process), and never reach 512 MiB (it runs at about 190–250 MiB: tsx, prom-client, the
 * Kubernetes client and OpenTelemetry loaded).
 */
const RSS_GROWTH_LIMIT = 48 * MiB;
const RSS_LIMIT = 512 * MiB;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'mlcost-spool-'));
});
afterAll(async () => {
  await killAll();
  rmSync(dir, { recursive: true, force: true });
});

interface DropLine {
  sequence: number;
  windows: number;
  reason: string;
  level: string;
}

/** The agent's "spool full: dropped batch N with W window(s)" lines. */
function drops(stderr: string): DropLine[] {
  return logLines(stderr)
    .filter((line) => /^spool (full|past its age limit): dropped batch \d+/.test(line.msg ?? ''))
    .map((line) => line as unknown as DropLine);
}

// The two cases share nothing but the temporary folder, and mostly wait: they run at once.
describe.concurrent('a small spool through a long outage', () => {
  it('drops only the oldest windows, counts and logs each, and keeps memory bounded', {
    timeout: OUTAGE_SECONDS * 1000 + 120_000,
  }, async ({ expect }) => {
    const node = 'spool-node';
    const agentDir = join(dir, 'agent');
    const collectorDir = join(dir, 'collector');
    const dbPath = join(collectorDir, 'mlcost.db');
    const port = await freePort(); // nothing listens here until the collector starts at the end
    const agent = await startAgent({
      cwd: dir,
      dataDir: agentDir,
      nodeName: node,
      collectorUrl: `http://127.0.0.1:${port}`,
      listenPort: await freePort(),
      interval: '1s',
      window: '1s',
      env: { MLCOST_AGENT_TOKEN: TOKEN },
      set: [`agent.spool.maxBytes=${SPOOL_MAX_BYTES}`],
    });
    // MlcostProcess runs mlcost as node itself (node --import tsx), so the child is the process to measure.
    const pid = agent.process.pid;

    // The outage: sample the agent's resident memory every half second while it spools and drops.
    const rss: number[] = [];
    const outageEnd = Date.now() + OUTAGE_SECONDS * 1000;
    while (Date.now() < outageEnd) {
      rss.push(rssBytes(pid));
      await sleep(500);
    }

    // A consistent look at the agent between two windows: the sequence file did not move while the spool
    // was listed, and the newest batch numbered is in the spool.
    const atEnd = await pollUntil(
      async () => {
        const before = sequenceNext(agentDir, node);
        const spooled = spooledSequences(agentDir);
        const metrics = await scrape(agent.metricsUrl);
        const after = sequenceNext(agentDir, node);
        return before === after && spooled.at(-1) === before - 1
          ? { next: before, spooled, metrics }
          : undefined;
      },
      { timeoutMs: 10_000, everyMs: 50, what: 'a quiet moment between two windows' },
    );
    // At least OUTAGE_SECONDS / 2 windows made (one a second, with slack for a slow start and a loaded box).
    expect(atEnd.next).toBeGreaterThanOrEqual(OUTAGE_SECONDS / 2);
    // What survives is the newest, without a hole, and no more than the bound allows (≤ 1400 / 260 = 5).
    expect(atEnd.spooled).toEqual(range(atEnd.next - atEnd.spooled.length, atEnd.next));
    expect(atEnd.spooled.length).toBeGreaterThanOrEqual(1);
    expect(atEnd.spooled.length).toBeLessThanOrEqual(Math.floor(SPOOL_MAX_BYTES / 260));
    expect(metricValue(atEnd.metrics, 'mlcost_agent_spool_bytes')).toBeLessThanOrEqual(SPOOL_MAX_BYTES);
    // Every window not in the spool was dropped for the bound, and counted: made − spooled.
    expect(metricValue(atEnd.metrics, 'mlcost_agent_spool_dropped_windows_total', { reason: 'bytes' })).toBe(
      atEnd.next - atEnd.spooled.length,
    );

    // Memory stayed bounded (see RSS_GROWTH_LIMIT and RSS_LIMIT above).
    const half = Math.floor(rss.length / 2);
    const firstHalfPeak = Math.max(...rss.slice(0, half));
    const secondHalfPeak = Math.max(...rss.slice(half));
    expect(secondHalfPeak - firstHalfPeak).toBeLessThanOrEqual(RSS_GROWTH_LIMIT);
    expect(Math.max(...rss)).toBeLessThan(RSS_LIMIT);

    // The collector comes back: the agent delivers what it kept and goes on.
    const collector = await startCollector({
      cwd: dir,
      dataDir: collectorDir,
      port,
      env: { MLCOST_COLLECTOR_INGEST_TOKEN: TOKEN },
    });
    // (The spool keeps dropping while the collector starts, so the windows lost are those logged by then.)
    await showingLogs(
      pollUntil(
        async () =>
          spooledSequences(agentDir).length === 0 &&
          (stored(dbPath, node)?.batches.length ?? 0) + drops(agent.process.stderr).length ===
            sequenceNext(agentDir, node)
            ? true
            : undefined,
        { timeoutMs: 60_000, everyMs: 200, what: 'the spool delivered after the collector returned' },
      ),
      { agent: agent.process, collector: collector.process },
    );
    const before = sequenceNext(agentDir, node);
    const metrics = await scrape(agent.metricsUrl);
    const storedThen = stored(dbPath, node)!.batches.length;
    const after = sequenceNext(agentDir, node);
    await stopCleanly(agent.process, 'agent');
    await stopCleanly(collector.process, 'collector');

    const next = sequenceNext(agentDir, node);
    const { batches, nodeWindows } = stored(dbPath, node)!;
    const logged = drops(agent.process.stderr);
    const lost = logged.length;
    expect(lost).toBeGreaterThanOrEqual(atEnd.next - atEnd.spooled.length);
    const storedSequences = batches.map((b) => b.sequence);
    const droppedSequences = logged.map((d) => d.sequence);
    // Every window made was either stored, once, or dropped and logged; none both, none neither.
    expect([...storedSequences, ...droppedSequences].sort((a, b) => a - b)).toEqual(range(0, next));
    // Only the oldest went, save that the batch in flight is never dropped for a bound (README, "Delivery
    // guarantee"): while the collector starts, the spool can overflow with its oldest batch on the wire, and the
    // next oldest goes instead. So at most one stored batch is older than a dropped one.
    const newestDropped = Math.max(-1, ...droppedSequences);
    expect(storedSequences.filter((sequence) => sequence < newestDropped).length).toBeLessThanOrEqual(1);
    expect(nodeWindows).toBe(next - lost);
    // The counter equals the windows lost, worked out as made − stored: next − (next − lost) = lost.
    const dropped = metricValue(metrics, 'mlcost_agent_spool_dropped_windows_total', { reason: 'bytes' });
    expect(dropped).toBe(next - batches.length);
    expect(dropped).toBe(lost);
    expect(metricValue(metrics, 'mlcost_agent_spool_dropped_windows_total', { reason: 'age' })).toBe(0);
    // And each dropped window was logged, as an error naming its batch, oldest first.
    expect(droppedSequences).toEqual([...droppedSequences].sort((a, b) => a - b));
    expect(new Set(droppedSequences).size).toBe(lost);
    expect(logged.every((d) => d.windows === 1 && d.reason === 'bytes' && d.level === 'error')).toBe(true);
    // The agent's own counters add up: windows_total is the windows made (read between two looks at the
    // sequence file), and batches_shipped_total the batches the collector acknowledged while it ran.
    const windowsTotal = metricValue(metrics, 'mlcost_agent_windows_total')!;
    expect(windowsTotal).toBeGreaterThanOrEqual(before);
    expect(windowsTotal).toBeLessThanOrEqual(after);
    expect
      .soft(
        metricValue(metrics, 'mlcost_agent_batches_shipped_total'),
        'batches shipped = batches acknowledged',
      )
      .toBeLessThanOrEqual(storedThen);
    console.info(
      `spool limit: ${next} windows made, ${lost} dropped (logged and counted), ${batches.length} stored; agent RSS ${Math.round(Math.min(...rss) / MiB)}–${Math.round(Math.max(...rss) / MiB)} MiB over ${OUTAGE_SECONDS} s (first-half peak ${Math.round(firstHalfPeak / MiB)}, second-half peak ${Math.round(secondHalfPeak / MiB)})`,
    );
  });

  it('counts a window as dropped only when it is lost, even when the spool overflows during a slow delivery', {
    timeout: 90_000,
  }, async ({ expect }) => {
    // A slow collector: it holds every request HOLD_MS before acknowledging it, and notes what it acknowledged.
    // The spool holds 2 batches (600 bytes); the agent makes one a second, so while batch 0 is in flight the
    // spool overflows and its oldest entry is the batch being delivered.
    const HOLD_MS = 2_500;
    const acknowledged = new Set<number>();
    const server = createServer((request: IncomingMessage, response: ServerResponse) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        setTimeout(() => {
          const batch = JSON.parse(gunzipSync(Buffer.concat(chunks)).toString('utf8')) as {
            sequence: number;
          };
          acknowledged.add(batch.sequence);
          response.writeHead(200, { 'content-type': 'application/json' });
          response.end(
            JSON.stringify({ accepted: true, duplicate: false, sequence: batch.sequence, windows: 1 }),
          );
        }, HOLD_MS);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const node = 'slow-collector-node';
      const agentDir = join(dir, 'slow');
      const agent = await startAgent({
        cwd: dir,
        dataDir: agentDir,
        nodeName: node,
        collectorUrl: `http://127.0.0.1:${port}`,
        listenPort: await freePort(),
        interval: '1s',
        window: '1s',
        env: { MLCOST_AGENT_TOKEN: TOKEN },
        set: ['agent.spool.maxBytes=600'],
      });
      await sleep(12_000);
      // The counter and the log at one moment (no drop logged between two reads of the log around the scrape).
      const atScrape = await showingLogs(
        pollUntil(
          async () => {
            const logged = drops(agent.process.stderr).length;
            const metrics = await scrape(agent.metricsUrl);
            return drops(agent.process.stderr).length === logged ? { logged, metrics } : undefined;
          },
          { timeoutMs: 10_000, everyMs: 50, what: 'a scrape of the running agent between two drops' },
        ),
        { agent: agent.process },
      );
      terminate(agent.process);
      const exit = await agent.process.waitForExit(20_000);
      // The agent must survive the overflow: a clean exit, not a crash on the batch that was dropped under it.
      expect(exit, `agent log: ${agent.process.stderr.slice(-3000)}`).toEqual({ code: 0, signal: null });

      const next = sequenceNext(agentDir, node);
      const left = spooledSequences(agentDir); // kept for the next start: not lost
      const loggedDrops = drops(agent.process.stderr).map((d) => d.sequence);
      // Each sequence made is exactly one of: acknowledged, still spooled, or dropped (and logged); so the
      // drops logged are exactly the windows lost, next − acknowledged − left.
      expect(
        loggedDrops.filter((s) => acknowledged.has(s)),
        'dropped and yet delivered',
      ).toEqual([]);
      expect([...acknowledged, ...left, ...loggedDrops].sort((a, b) => a - b)).toEqual(range(0, next));
      expect(loggedDrops.length).toBe(next - acknowledged.size - left.length);
      expect(loggedDrops.length).toBeGreaterThan(0); // the overflow did happen
      // And the counter matched the drops logged by the time of its scrape (the stop may drop one more).
      expect(
        metricValue(atScrape.metrics, 'mlcost_agent_spool_dropped_windows_total', { reason: 'bytes' }),
      ).toBe(atScrape.logged);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
