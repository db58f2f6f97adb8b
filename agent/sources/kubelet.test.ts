import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeKubelet, generateSelfSignedCert, startFakeKubelet } from '../../test/fakes/fake-kubelet.ts';
import { createKubeletSource } from './kubelet.ts';

const FIXTURE = readFileSync(
  new URL('../../test/fixtures/real/kubelet/stats_summary.datadog-gke-2019.json', import.meta.url),
  'utf8',
);

describe('kubelet source against a real HTTPS server', () => {
  let kubelet: FakeKubelet;
  let dir: string;
  let token = 'sa-token-1';
  let summary: string = FIXTURE;
  let tokenFile: string;
  let caFile: string;

  beforeAll(async () => {
    kubelet = await startFakeKubelet({ token: () => token, summary: () => summary });
    dir = await mkdtemp(join(tmpdir(), 'mlcost-kubelet-'));
    tokenFile = join(dir, 'token');
    caFile = join(dir, 'ca.crt');
    await writeFile(tokenFile, `${token}\n`);
    await writeFile(caFile, kubelet.ca);
  });

  afterAll(async () => {
    await kubelet.close();
    await rm(dir, { recursive: true, force: true });
  });

  const signal = () => new AbortController().signal;

  it('reads the summary with the right token and the CA file', async () => {
    const source = createKubeletSource({ url: kubelet.url, tokenFile, caFile });
    const samples = await source.collect(signal());
    expect(samples.containers).toHaveLength(17);
    expect(samples.containers?.find((c) => c.container === 'fluentd-gcp')?.memoryWorkingSetBytes).toBe(
      161161216,
    );
    expect(samples.node).toEqual({ memoryUsedBytes: 1447833600 });
    expect(kubelet.requests.at(-1)).toEqual({ path: '/stats/summary', authorized: true });
  });

  it('rejects a wrong token with a clear 401 error naming the token file', async () => {
    const badFile = join(dir, 'bad-token');
    await writeFile(badFile, 'not-the-token');
    const source = createKubeletSource({ url: kubelet.url, tokenFile: badFile, caFile });
    await expect(source.collect(signal())).rejects.toThrow(
      `kubelet ${kubelet.url}/stats/summary answered 401 Unauthorized: it rejected the token from ${badFile}`,
    );
  });

  it('re-reads the token file at every collection, so a rotated token is used', async () => {
    const source = createKubeletSource({ url: kubelet.url, tokenFile, caFile });
    await source.collect(signal());
    token = 'sa-token-2';
    await expect(source.collect(signal())).rejects.toThrow('401 Unauthorized');
    await writeFile(tokenFile, token);
    await expect(source.collect(signal())).resolves.toHaveProperty('containers');
  });

  it('turns two scrapes into a CPU rate', async () => {
    const source = createKubeletSource({ url: kubelet.url, tokenFile, caFile });
    summary = FIXTURE;
    await source.collect(signal());
    const json = JSON.parse(FIXTURE);
    // node: 3 CPU-seconds more over 13:13:10Z → 13:13:25Z (15 s) = 0.2 cores.
    json.node.cpu = { time: '2019-11-20T13:13:25Z', usageCoreNanoSeconds: 49368244626551 };
    summary = JSON.stringify(json);
    const samples = await source.collect(signal());
    expect(samples.node?.cpuUsedCores).toBeCloseTo(0.2, 12);
    summary = FIXTURE;
  });

  it('refuses the self-signed certificate without its CA, and accepts it when told to skip verification', async () => {
    const strict = createKubeletSource({ url: kubelet.url, tokenFile });
    await expect(strict.collect(signal())).rejects.toThrow(
      /TLS verification failed \(DEPTH_ZERO_SELF_SIGNED_CERT\)/,
    );
    const insecure = createKubeletSource({ url: kubelet.url, tokenFile, insecureSkipTlsVerify: true });
    await expect(insecure.collect(signal())).resolves.toHaveProperty('containers');
  });

  it('refuses a CA that did not sign the certificate', async () => {
    const otherCa = join(dir, 'other-ca.crt');
    await writeFile(otherCa, generateSelfSignedCert({ commonName: 'someone-else' }).cert);
    const source = createKubeletSource({ url: kubelet.url, tokenFile, caFile: otherCa });
    await expect(source.collect(signal())).rejects.toThrow(/TLS verification failed/);
  });

  it('says a truncated body is not valid JSON', async () => {
    summary = FIXTURE.slice(0, 1000);
    const source = createKubeletSource({ url: kubelet.url, tokenFile, caFile });
    await expect(source.collect(signal())).rejects.toThrow(/not valid JSON \(1000 characters; truncated\?\)/);
    summary = FIXTURE;
  });

  it('refuses a body over the size limit', async () => {
    const source = createKubeletSource({ url: kubelet.url, tokenFile, caFile, maxBodyBytes: 4096 });
    await expect(source.collect(signal())).rejects.toThrow('passed the 4096-byte limit');
  });

  it('names a missing token file', async () => {
    const missing = join(dir, 'nope');
    const source = createKubeletSource({ url: kubelet.url, tokenFile: missing, caFile });
    await expect(source.collect(signal())).rejects.toThrow(
      `cannot read the service-account token file ${missing} (ENOENT)`,
    );
  });

  it('times out a kubelet that does not answer', async () => {
    // A TCP listener that accepts and never speaks TLS.
    const { createServer } = await import('node:net');
    const sockets: Array<{ destroy(): void }> = [];
    const silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    try {
      const source = createKubeletSource({
        url: `https://127.0.0.1:${port}`,
        tokenFile,
        caFile,
        timeoutMs: 300,
      });
      await expect(source.collect(signal())).rejects.toThrow(`did not answer within 300 ms`);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('stops when the collection is aborted', async () => {
    const source = createKubeletSource({ url: kubelet.url, tokenFile, caFile });
    const controller = new AbortController();
    controller.abort();
    await expect(source.collect(controller.signal)).rejects.toThrow(/abort/i);
  });
});
