// Issue 4, acceptance 4, with real processes: `mlcost collector` refuses what it must, as problem+json, and
// stores nothing of it:
// - shared-token mode: no token, a wrong token → 401; malformed, truncated (JSON or gzip), wrong-version and
//   off-schema batches → 400; a body or a decompressed body over collector.maxBatchBytes → 413; another media
//   type or encoding → 415;
// - TokenReview mode, against a fake API server (test/fakes/fake-tokenreview.ts): no token, an unknown token, a
//   token for another audience (refused by the API server, or accepted by an audience-unaware one), a token of
//   another service account → 401; the collector's own token refused by the API server → 503 (retry), not 401;
//   a real agent with agent.tokenFile gets its windows stored, one whose token is for another audience does
//   not, keeps them spooled, and delivers them once its token file holds a valid token (projected tokens rotate);
// - an agent whose batches the collector rejects (413 from a tiny collector.maxBatchBytes) moves each aside to
//   spool/dead-letter, counts it, and carries on: once the collector takes normal batches again, later ones are
//   stored, and every sequence is either dead-lettered or stored.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeTokenReviewServer } from './fakes/fake-tokenreview.ts';
import {
  deadLetterFiles,
  logLines,
  metricValue,
  range,
  scrape,
  sequenceNext,
  showingLogs,
  spooledSequences,
  startAgent,
  startCollector,
  stopCleanly,
  stored,
  withDatabase,
} from './support/delivery.ts';
import { freePort, killAll, pollUntil } from './support/mlcost-process.ts';

const TOKEN = 'ingest-auth-token-0123456789abcdef';
const MAX_BATCH_BYTES = 64 * 1024;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'mlcost-ingest-auth-'));
});
afterAll(async () => {
  await killAll();
  rmSync(dir, { recursive: true, force: true });
});

/** A valid one-window batch. */
function batch(agentId: string, sequence: number, extra: Record<string, unknown> = {}) {
  const start = Date.UTC(2025, 0, 1) + sequence * 60_000;
  return {
    schemaVersion: 1,
    agentId,
    sequence,
    sentAt: new Date().toISOString(),
    windows: [
      {
        start: new Date(start).toISOString(),
        end: new Date(start + 60_000).toISOString(),
        node: {
          name: agentId,
          capacity: { cpuCores: 8, memoryBytes: 2 ** 34 },
          cpuUsedCoresAvg: 1.5,
          memoryUsedBytesAvg: 2 ** 32,
        },
      },
    ],
    ...extra,
  };
}

interface Answer {
  status: number;
  contentType: string | null;
  retryAfter: string | null;
  body: { type?: string; title?: string; status?: number; detail?: string; instance?: string } & Record<
    string,
    unknown
  >;
}

async function post(
  url: string,
  body: string | Uint8Array,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const response = await fetch(`${url}/api/v1/ingest`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    retryAfter: response.headers.get('retry-after'),
    body: JSON.parse(text) as Answer['body'],
  };
}

/** Checks an answer is an RFC 9457 problem with `status` and a detail matching `detail`. */
function expectProblem(answer: Answer, status: number, detail: RegExp, what: string): void {
  expect(answer.status, `${what}: ${JSON.stringify(answer.body)}`).toBe(status);
  expect(answer.contentType, what).toBe('application/problem+json');
  expect(answer.body, what).toMatchObject({ status, type: 'about:blank', instance: '/api/v1/ingest' });
  expect(answer.body.title, what).toBeTruthy();
  expect(answer.body.detail, what).toMatch(detail);
}

function countRows(dbPath: string): { batches: number; nodes: number; nodeWindows: number } {
  return withDatabase(dbPath, (db) => ({
    batches: (db.prepare('SELECT count(*) AS n FROM batches').get() as { n: number }).n,
    nodes: (db.prepare('SELECT count(*) AS n FROM nodes').get() as { n: number }).n,
    nodeWindows: (db.prepare('SELECT count(*) AS n FROM node_windows').get() as { n: number }).n,
  }));
}

// The three cases share nothing but the temporary folder, and mostly wait on processes: they run at once.
describe.concurrent('ingest refusals', () => {
  describe('ingest with a shared token', () => {
    it('answers 401, 400, 413 and 415 as problem+json naming what is wrong, and stores nothing', {
      timeout: 120_000,
    }, async () => {
      const dataDir = join(dir, 'token-mode');
      const collector = await startCollector({
        cwd: dir,
        dataDir,
        port: await freePort(),
        env: { MLCOST_COLLECTOR_INGEST_TOKEN: TOKEN },
        set: [`collector.maxBatchBytes=${MAX_BATCH_BYTES}`],
      });
      const auth = { authorization: `Bearer ${TOKEN}` };
      const good = JSON.stringify(batch('refused-agent', 0));
      const gzipped = gzipSync(good);

      // Who: 401 before the body is looked at.
      expectProblem(await post(collector.url, good), 401, /missing bearer token/, 'no token');
      expectProblem(
        await post(collector.url, good, { authorization: 'Bearer not-the-token' }),
        401,
        /bearer token is not valid for ingest/,
        'wrong token',
      );
      expectProblem(
        await post(collector.url, good, {
          authorization: `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}`,
        }),
        401,
        /missing bearer token/,
        'the token as a Basic password',
      );

      // What: malformed, truncated, wrong version, off schema → 400.
      expectProblem(await post(collector.url, 'this is not JSON', auth), 400, /not valid JSON/, 'not JSON');
      expectProblem(
        await post(collector.url, good.slice(0, Math.floor(good.length / 2)), auth),
        400,
        /not valid JSON \(truncated\?\)/,
        'truncated JSON',
      );
      expectProblem(
        await post(collector.url, gzipped.subarray(0, Math.floor(gzipped.length / 2)), {
          ...auth,
          'content-encoding': 'gzip',
        }),
        400,
        /gzip body cannot be decompressed/,
        'truncated gzip',
      );
      expectProblem(
        await post(collector.url, JSON.stringify(batch('refused-agent', 1, { schemaVersion: 2 })), auth),
        400,
        /schemaVersion 2 is not supported; this collector reads version 1/,
        'a newer schema version',
      );
      const negative = batch('refused-agent', 2);
      negative.windows[0]!.node.capacity.cpuCores = -8;
      expectProblem(
        await post(collector.url, JSON.stringify(negative), auth),
        400,
        /windows\.0\.node\.capacity\.cpuCores/,
        'a negative capacity',
      );
      expectProblem(
        await post(collector.url, JSON.stringify(batch('refused-agent', 3, { windows: [] })), auth),
        400,
        /windows/,
        'no windows',
      );

      // How much: 413 for the body, and for what it decompresses to (a gzip bomb of 1 MiB of spaces, ~1 KiB sent).
      const padded = JSON.stringify(batch('refused-agent', 4, { padding: 'x'.repeat(MAX_BATCH_BYTES) }));
      expectProblem(
        await post(collector.url, padded, auth),
        413,
        new RegExp(`exceeds the limit of ${MAX_BATCH_BYTES} bytes \\(collector\\.maxBatchBytes\\)`),
        'oversized body',
      );
      const bomb = gzipSync(`${' '.repeat(1024 * 1024)}${JSON.stringify(batch('refused-agent', 5))}`);
      expect(bomb.byteLength).toBeLessThan(MAX_BATCH_BYTES);
      expectProblem(
        await post(collector.url, bomb, { ...auth, 'content-encoding': 'gzip' }),
        413,
        /decompressed body exceeds the limit/,
        'gzip bomb',
      );

      // In what form: 415.
      expectProblem(
        await post(collector.url, good, { ...auth, 'content-type': 'text/plain' }),
        415,
        /content-type text\/plain is not application\/json/,
        'text/plain',
      );
      expectProblem(
        await post(collector.url, good, { ...auth, 'content-encoding': 'br' }),
        415,
        /content-encoding br is not gzip or identity/,
        'brotli',
      );

      // Nothing of it was stored, and each refusal was counted by reason. By hand, from the 13 requests above:
      // unauthorized 3 (none, wrong, Basic); malformed 3 (not JSON, truncated JSON, truncated gzip); schema 3
      // (version, negative capacity, no windows); too_large 2 (body, bomb); unsupported_media 2 (text/plain, br).
      const dbPath = join(dataDir, 'mlcost.db');
      expect(countRows(dbPath)).toEqual({ batches: 0, nodes: 0, nodeWindows: 0 });
      const metrics = await scrape(`${collector.url}/metrics`);
      const rejections = (reason: string) =>
        metricValue(metrics, 'mlcost_collector_ingest_rejections_total', { reason });
      expect({
        unauthorized: rejections('unauthorized'),
        malformed: rejections('malformed'),
        schema: rejections('schema'),
        too_large: rejections('too_large'),
        unsupported_media: rejections('unsupported_media'),
      }).toEqual({ unauthorized: 3, malformed: 3, schema: 3, too_large: 2, unsupported_media: 2 });
      expect(metricValue(metrics, 'mlcost_collector_batches_accepted_total')).toBe(0);

      // The same batch, well formed and with the token, is stored once; sent again it is accepted, not stored twice.
      const accepted = await post(collector.url, gzipped, { ...auth, 'content-encoding': 'gzip' });
      expect(accepted.status).toBe(200);
      expect(accepted.body).toMatchObject({ accepted: true, duplicate: false, sequence: 0, windows: 1 });
      const again = await post(collector.url, good, auth);
      expect(again.status).toBe(200);
      expect(again.body).toMatchObject({ accepted: true, duplicate: true, sequence: 0 });
      expect(countRows(dbPath)).toEqual({ batches: 1, nodes: 1, nodeWindows: 1 });

      await stopCleanly(collector.process, 'collector');
    });
  });

  describe('ingest with TokenReview', () => {
    it('accepts only tokens for its audience and service accounts, checked with its own token', {
      timeout: 180_000,
    }, async () => {
      const reviewerToken = 'collector-own-sa-token';
      const agentSa = 'system:serviceaccount:mlcost:mlcost-agent';
      const apiServer = new FakeTokenReviewServer(reviewerToken)
        .addToken('agent-token', { username: agentSa, audiences: ['mlcost'] })
        .addToken('agent-token-2', { username: agentSa, audiences: ['mlcost'] })
        .addToken('agent-token-for-the-api-server', {
          username: agentSa,
          audiences: ['https://kubernetes.default.svc'],
        })
        .addToken('agent-token-audience-unaware', { username: agentSa, audiences: [], audienceUnaware: true })
        .addToken('intruder-token', {
          username: 'system:serviceaccount:default:intruder',
          audiences: ['mlcost'],
        });
      await apiServer.start();
      try {
        const dataDir = join(dir, 'tokenreview-mode');
        const dbPath = join(dataDir, 'mlcost.db');
        const collectorTokenFile = join(dir, 'collector-token');
        writeFileSync(collectorTokenFile, `${reviewerToken}\n`);
        const collector = await startCollector({
          cwd: dir,
          dataDir,
          port: await freePort(),
          set: [
            'collector.auth.mode=tokenreview',
            'collector.auth.audience=mlcost',
            'collector.auth.serviceAccounts=mlcost:mlcost-agent',
            `collector.kubernetes.apiServer=${apiServer.url}`,
            `collector.kubernetes.tokenFile=${collectorTokenFile}`,
          ],
        });
        const body = JSON.stringify(batch('refused-agent', 0));
        const as = (token: string) => ({ authorization: `Bearer ${token}` });

        expectProblem(await post(collector.url, body), 401, /missing bearer token/, 'no token');
        expect(apiServer.reviews).toHaveLength(0); // nothing to review
        expectProblem(
          await post(collector.url, body, as('a-token-nobody-issued')),
          401,
          /not accepted by the API server: invalid bearer token/,
          'unknown token',
        );
        expectProblem(
          await post(collector.url, body, as('agent-token-for-the-api-server')),
          401,
          /not accepted by the API server.*invalid for the target audiences \["mlcost"\]/,
          'a token for another audience',
        );
        expectProblem(
          await post(collector.url, body, as('agent-token-audience-unaware')),
          401,
          /not valid for audience mlcost/,
          'a token an audience-unaware authenticator accepts',
        );
        expectProblem(
          await post(collector.url, body, as('intruder-token')),
          401,
          /system:serviceaccount:default:intruder may not send batches/,
          'another service account',
        );
        // Every review was made with the collector's own token, for its audience.
        expect(apiServer.reviews.map((r) => [r.authorization, r.audiences, r.status])).toEqual(
          Array.from({ length: 4 }, () => [`Bearer ${reviewerToken}`, ['mlcost'], 201]),
        );
        expect(countRows(dbPath)).toEqual({ batches: 0, nodes: 0, nodeWindows: 0 });

        // The API server refusing the collector itself is not the agent's fault: 503 with Retry-After, nothing
        // cached; the token file is read for each review, so once it is right the same agent token passes.
        writeFileSync(collectorTokenFile, 'a-stale-collector-token\n');
        const unavailable = await post(
          collector.url,
          JSON.stringify(batch('probe-agent', 0)),
          as('agent-token-2'),
        );
        expectProblem(
          unavailable,
          503,
          /cannot check the agent token: TokenReview answered 401/,
          'reviewer refused',
        );
        expect(unavailable.retryAfter).toBe('10');
        writeFileSync(collectorTokenFile, `${reviewerToken}\n`);
        const accepted = await post(
          collector.url,
          JSON.stringify(batch('probe-agent', 0)),
          as('agent-token-2'),
        );
        expect(accepted.status, JSON.stringify(accepted.body)).toBe(200);
        expect(countRows(dbPath)).toEqual({ batches: 1, nodes: 1, nodeWindows: 1 });
        const metrics = await scrape(`${collector.url}/metrics`);
        expect(
          metricValue(metrics, 'mlcost_collector_ingest_rejections_total', { reason: 'unauthorized' }),
        ).toBe(5);

        // Real agents reading their projected token from agent.tokenFile.
        const goodToken = join(dir, 'good-agent-token');
        const wrongToken = join(dir, 'wrong-audience-agent-token');
        writeFileSync(goodToken, 'agent-token\n');
        writeFileSync(wrongToken, 'agent-token-for-the-api-server\n');
        const agentOptions = async (node: string, tokenFile: string) => ({
          cwd: dir,
          dataDir: join(dir, node),
          nodeName: node,
          collectorUrl: collector.url,
          listenPort: await freePort(),
          interval: '1s',
          window: '1s',
          set: [`agent.tokenFile=${tokenFile}`],
        });
        const [good, wrong] = await Promise.all([
          startAgent(await agentOptions('tokenreview-good', goodToken)),
          startAgent(await agentOptions('tokenreview-wrong', wrongToken)),
        ]);
        await showingLogs(
          pollUntil(
            async () => ((stored(dbPath, 'tokenreview-good')?.batches.length ?? 0) >= 2 ? true : undefined),
            {
              timeoutMs: 30_000,
              everyMs: 200,
              what: 'two batches stored from the agent with a valid token',
            },
          ),
          { collector: collector.process, good: good.process, wrong: wrong.process },
        );
        // The agent with a token for another audience: refused (401 is not the batch's fault, so its batches stay
        // in the spool to be retried, none dead-lettered), nothing stored.
        await showingLogs(
          pollUntil(
            async () =>
              logLines(wrong.process.stderr).some((line) =>
                /collector answered 401/.test(String(line['reason'])),
              )
                ? true
                : undefined,
            { timeoutMs: 15_000, what: 'the wrong-audience agent told 401' },
          ),
          { collector: collector.process, good: good.process, wrong: wrong.process },
        );
        expect(stored(dbPath, 'tokenreview-wrong')?.batches).toEqual([]);
        expect(spooledSequences(join(dir, 'tokenreview-wrong')).length).toBeGreaterThan(0);
        expect(deadLetterFiles(join(dir, 'tokenreview-wrong'))).toEqual([]);
        // Its token rotates to a valid one: the token file is re-read before each send, and what it kept arrives.
        writeFileSync(wrongToken, 'agent-token\n');
        await showingLogs(
          pollUntil(
            async () =>
              spooledSequences(join(dir, 'tokenreview-wrong')).length === 0 &&
              stored(dbPath, 'tokenreview-wrong')?.batches.length ===
                sequenceNext(join(dir, 'tokenreview-wrong'), 'tokenreview-wrong')
                ? true
                : undefined,
            { timeoutMs: 45_000, everyMs: 200, what: 'the rotated token accepted and the spool delivered' },
          ),
          { collector: collector.process, good: good.process, wrong: wrong.process },
        );

        await Promise.all([
          stopCleanly(good.process, 'good agent'),
          stopCleanly(wrong.process, 'wrong agent'),
        ]);
        await stopCleanly(collector.process, 'collector');
        for (const node of ['tokenreview-good', 'tokenreview-wrong']) {
          const next = sequenceNext(join(dir, node), node);
          expect(
            stored(dbPath, node)!.batches.map((b) => b.sequence),
            node,
          ).toEqual(range(0, next));
        }
        // Nothing stored under the agent id of the refused requests.
        expect(stored(dbPath, 'refused-agent')!.batches).toEqual([]);
      } finally {
        await apiServer.close();
      }
    });
  });

  describe('a batch the collector rejects', () => {
    it('is moved to the dead-letter folder and counted, and the agent carries on with the next', {
      timeout: 180_000,
    }, async () => {
      const node = 'dead-letter-node';
      const agentDir = join(dir, node);
      const collectorDir = join(dir, 'dead-letter-collector');
      const dbPath = join(collectorDir, 'mlcost.db');
      const port = await freePort();
      // A host-only batch gzips to 260–290 bytes: a collector that takes at most 100 refuses each one with 413.
      const tiny = await startCollector({
        cwd: dir,
        dataDir: collectorDir,
        port,
        env: { MLCOST_COLLECTOR_INGEST_TOKEN: TOKEN },
        set: ['collector.maxBatchBytes=100'],
      });
      const agent = await startAgent({
        cwd: dir,
        dataDir: agentDir,
        nodeName: node,
        collectorUrl: tiny.url,
        listenPort: await freePort(),
        interval: '1s',
        window: '1s',
        env: { MLCOST_AGENT_TOKEN: TOKEN },
      });
      await showingLogs(
        pollUntil(async () => (deadLetterFiles(agentDir).length >= 3 ? true : undefined), {
          timeoutMs: 30_000,
          everyMs: 100,
          what: 'three batches dead-lettered',
        }),
        { collector: tiny.process, agent: agent.process },
      );
      const tinyMetrics = await scrape(`${tiny.url}/metrics`);
      expect(
        metricValue(tinyMetrics, 'mlcost_collector_ingest_rejections_total', { reason: 'too_large' }),
      ).toBeGreaterThanOrEqual(3);
      await stopCleanly(tiny.process, 'collector with the tiny limit');
      expect(countRows(dbPath)).toEqual({ batches: 0, nodes: 0, nodeWindows: 0 });

      // The collector comes back with the normal limit (8Mi): later batches are stored.
      const normal = await startCollector({
        cwd: dir,
        dataDir: collectorDir,
        port,
        env: { MLCOST_COLLECTOR_INGEST_TOKEN: TOKEN },
      });
      await showingLogs(
        pollUntil(async () => ((stored(dbPath, node)?.batches.length ?? 0) >= 3 ? true : undefined), {
          timeoutMs: 45_000,
          everyMs: 200,
          what: 'three batches stored after the collector took normal batches again',
        }),
        { collector: normal.process, agent: agent.process },
      );
      const agentMetrics = await scrape(agent.metricsUrl);
      await stopCleanly(agent.process, 'agent');
      await stopCleanly(normal.process, 'collector with the normal limit');

      const next = sequenceNext(agentDir, node);
      const dead = deadLetterFiles(agentDir);
      const deadSequences = dead.map((d) => d.sequence);
      const storedSequences = stored(dbPath, node)!.batches.map((b) => b.sequence);
      // The rejected ones are the first batches (made while the tiny collector ran), and each is counted …
      expect(deadSequences).toEqual(range(0, dead.length));
      expect(metricValue(agentMetrics, 'mlcost_agent_dead_letter_batches_total')).toBe(dead.length);
      // … and logged as an error naming the batch and why.
      const rejectedLines = logLines(agent.process.stderr).filter((line) =>
        /^collector rejected batch \d+ \(413: .*collector\.maxBatchBytes.*\); moved to dead-letter$/.test(
          line.msg ?? '',
        ),
      );
      expect(rejectedLines.map((line) => line['sequence'])).toEqual(deadSequences);
      expect(rejectedLines.every((line) => line.level === 'error' && line['status'] === 413)).toBe(true);
      // Each dead-letter file is the batch exactly as it was sent (gzip JSON), kept for a person to look at.
      for (const { sequence, file } of dead) {
        expect(JSON.parse(gunzipSync(readFileSync(file)).toString('utf8'))).toMatchObject({
          schemaVersion: 1,
          // The agent's id is its node name and its sequence file's instance (agent/sequence-file.ts).
          agentId: expect.stringMatching(new RegExp(`^${node}/[0-9a-f]{8}$`)),
          sequence,
          windows: [{ node: { name: node } }],
        });
      }
      // It carried on: every other sequence is stored, none dead-lettered and stored, none missing.
      expect(storedSequences).toEqual(range(dead.length, next));
      expect(spooledSequences(agentDir)).toEqual([]);
      console.info(
        `dead letter: ${dead.length} batches rejected and moved aside, ${storedSequences.length} stored after`,
      );
    });
  });
});
