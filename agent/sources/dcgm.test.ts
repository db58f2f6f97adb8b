// Tests of the dcgm source against a real HTTP server on 127.0.0.1 (port 0) serving a real dcgm-exporter
// scrape, an error status, an oversized body, garbage, and a server that never answers.
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDcgmSource, type DcgmOptions, DEFAULT_DCGM_URL, expandEnv } from './dcgm.ts';

const L4_SCRAPE = readFileSync(
  new URL('../../test/fixtures/real/dcgm-exporter/kops-e2e-l4-gpu-operator-metrics.txt', import.meta.url),
  'utf8',
);

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
const routes: Record<string, Handler> = {
  '/metrics': (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(L4_SCRAPE);
  },
  '/error': (_req, res) => {
    res.writeHead(500, { 'content-type': 'text/plain' });
    res.end('collector failed\n');
  },
  // Chunked (no content-length): the limit has to be enforced while the body streams.
  '/chunked': (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    for (let i = 0; i < 8; i++) res.write(L4_SCRAPE);
    res.end();
  },
  '/garbage': (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('# HELP x fine\nthis is { not a metric\n');
  },
  // Sends headers, then never finishes the body.
  '/slow': (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('# HELP DCGM_FI_DEV_SM_CLOCK SM clock frequency (in MHz).\n');
  },
  // Never even sends headers.
  '/silent': () => {},
};

let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const handler = routes[req.url ?? ''];
    if (handler) handler(req, res);
    else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const options = (path: string, overrides: Partial<DcgmOptions> = {}): DcgmOptions => ({
  url: `${base}${path}`,
  timeoutMs: 5000,
  maxBodyBytes: 1024 * 1024,
  maxSeries: 10_000,
  ...overrides,
});
const collect = (opts: DcgmOptions, signal = new AbortController().signal) =>
  createDcgmSource(opts).collect(signal);

describe('createDcgmSource', () => {
  it('is named dcgm and returns the GPUs of a real scrape', async () => {
    const source = createDcgmSource(options('/metrics'));
    expect(source.name).toBe('dcgm');
    const samples = await source.collect(new AbortController().signal);
    // The L4 fixture has one GPU, UUID GPU-c2f76b33-... (line 3); mapping details are in dcgm-metrics.test.ts.
    expect(samples.gpus?.map((gpu) => gpu.id)).toEqual(['GPU-c2f76b33-7953-256e-8f33-1343419b1a1c']);
    expect(samples.gpus?.[0]?.model).toBe('NVIDIA L4');
  });

  it('rejects a non-2xx answer, naming the status and the URL', async () => {
    const url = `${base}/error`;
    await expect(collect(options('/error'))).rejects.toThrow(`dcgm-exporter at ${url} answered HTTP 500`);
  });

  it('rejects a body over maxBodyBytes announced by content-length', async () => {
    // The fixture is 7843 bytes; the server sends content-length, so this fails before reading.
    await expect(collect(options('/metrics', { maxBodyBytes: 1000 }))).rejects.toThrow(
      /over 1000 bytes \(limit maxBodyBytes\)/,
    );
  });

  it('aborts a chunked body once it passes maxBodyBytes', async () => {
    // 8 copies of the fixture (8 x 7843 bytes) streamed without content-length; limit 10000.
    await expect(collect(options('/chunked', { maxBodyBytes: 10_000 }))).rejects.toThrow(
      /over 10000 bytes \(limit maxBodyBytes\)/,
    );
  });

  it('rejects garbage with the line number', async () => {
    await expect(collect(options('/garbage'))).rejects.toThrow(/dcgm-exporter at .*\/garbage: line 2: /);
  });

  it('passes maxSeries to the parser as maxSamples', async () => {
    // The L4 fixture has 23 samples.
    await expect(collect(options('/metrics', { maxSeries: 5 }))).rejects.toThrow(
      /more than 5 samples \(limit maxSamples\) \(the dcgm source's maxSeries is 5\)/,
    );
  });

  it('times out a server that never answers', async () => {
    const started = Date.now();
    await expect(collect(options('/silent', { timeoutMs: 200 }))).rejects.toThrow(
      /did not answer within 200 ms/,
    );
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('times out a body that never ends', async () => {
    await expect(collect(options('/slow', { timeoutMs: 200 }))).rejects.toThrow(
      /did not answer within 200 ms/,
    );
  });

  it('stops when the collection signal aborts', async () => {
    const controller = new AbortController();
    const pending = collect(options('/slow', { timeoutMs: 30_000 }), controller.signal);
    setTimeout(() => controller.abort(), 100);
    const started = Date.now();
    await expect(pending).rejects.toThrow(/scrape of .*\/slow was aborted/);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('reports a refused connection clearly', async () => {
    // A port that was free a moment ago: listen on port 0, note the port, close.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const url = `http://127.0.0.1:${port}/metrics`;
    await expect(collect({ ...options('/metrics'), url })).rejects.toThrow(
      new RegExp(`dcgm-exporter at ${url.replaceAll('.', '\\.')} could not be read: .*ECONNREFUSED`),
    );
  });
});

describe('expandEnv', () => {
  it('fills $HOST_IP and braced names from the environment', () => {
    expect(DEFAULT_DCGM_URL).toBe('http://$HOST_IP:9400/metrics');
    expect(expandEnv(DEFAULT_DCGM_URL, { HOST_IP: '10.0.0.7' })).toBe('http://10.0.0.7:9400/metrics');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal ${NAME} placeholder is the input under test
    expect(expandEnv('http://${H}:${P}/metrics', { H: 'a', P: '1' })).toBe('http://a:1/metrics');
  });

  it('names the variable that is not set', () => {
    expect(() => expandEnv(DEFAULT_DCGM_URL, {})).toThrow(/names \$HOST_IP, which is not set/);
  });
});
