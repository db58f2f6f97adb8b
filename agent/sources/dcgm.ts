// The `dcgm` source: scrapes NVIDIA dcgm-exporter's /metrics on this node and maps it to GPU samples. The
// exporter is the preferred GPU source on Kubernetes: it has the profiling ratios (GR engine, SM, tensor), MIG
// instances and, in Kubernetes mode, the pod holding each GPU. The body is size-limited while it streams and
// parsed with a sample limit, so a runaway exporter cannot exhaust the agent's memory.
//
// Default URL: `http://$HOST_IP:9400/metrics` (DEFAULT_DCGM_URL). dcgm-exporter listens on :9400 on every GPU
// node (GPU Operator DaemonSet); the agent, also a DaemonSet, gets the node's IP into HOST_IP from the
// downward API (`status.hostIP`). `$NAME`/`${NAME}` in the URL are read from the environment at each collect.
import { MlcostError, PrometheusParseError } from '../../core/errors.ts';
import { parsePrometheusText } from '../../core/prometheus/parse.ts';
import type { MetricFamily } from '../../core/prometheus/types.ts';
import { BodyLimitError, describeRequestError, type HttpAnswer, httpRequest } from '../http-request.ts';
import type { Samples } from '../samples.ts';
import type { Source } from '../source.ts';
import { parseDcgmScrape } from './dcgm-metrics.ts';

export const DEFAULT_DCGM_URL = 'http://$HOST_IP:9400/metrics';

export interface DcgmOptions {
  /** dcgm-exporter metrics URL; may name environment variables as `$HOST_IP` or `${HOST_IP}`. */
  url: string;
  /** Longest the whole scrape (connect, headers, body) may take. */
  timeoutMs: number;
  /** Largest body accepted, in bytes; a larger one aborts the scrape. */
  maxBodyBytes: number;
  /** Most samples accepted from one scrape (the parser's maxSamples). */
  maxSeries: number;
}

export function createDcgmSource(options: DcgmOptions): Source {
  return {
    name: 'dcgm',
    async collect(signal): Promise<Samples> {
      const url = expandEnv(options.url, process.env);
      const text = await fetchMetricsText(url, options, signal);
      let families: MetricFamily[];
      try {
        families = parsePrometheusText(text, { maxSamples: options.maxSeries });
      } catch (error) {
        if (error instanceof PrometheusParseError) {
          // Keep the parser's "line N: ..." and say which endpoint it came from (and which option is the limit).
          const overLimit = /maxSamples/.test(error.message);
          const hint = overLimit ? ` (the dcgm source's maxSeries is ${options.maxSeries})` : '';
          throw new MlcostError(
            overLimit ? 'limit' : 'parse',
            `dcgm-exporter at ${url}: ${error.message}${hint}`,
            {
              cause: error,
            },
          );
        }
        throw error;
      }
      return { gpus: parseDcgmScrape(families) };
    },
  };
}

/** Replaces `$NAME` and `${NAME}` with environment values; an unset variable is a configuration error. */
export function expandEnv(url: string, env: Readonly<Record<string, string | undefined>>): string {
  return url.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (_match, braced, bare) => {
    const name = (braced ?? bare) as string;
    const value = env[name];
    if (value === undefined || value === '') {
      throw new MlcostError(
        'config',
        `dcgm URL ${url} names $${name}, which is not set (give the agent HOST_IP from status.hostIP, or set the URL)`,
      );
    }
    return value;
  });
}

/** GETs the URL and returns the body as text, enforcing the timeout, the caller's signal and the size limit. */
async function fetchMetricsText(url: string, options: DcgmOptions, signal: AbortSignal): Promise<string> {
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const combined = AbortSignal.any([signal, timeout]);
  const explain = (error: unknown): Error => {
    if (error instanceof BodyLimitError) return bodyTooLarge(url, options.maxBodyBytes);
    if (timeout.aborted && !signal.aborted) {
      return new MlcostError(
        'timeout',
        `dcgm-exporter at ${url} did not answer within ${options.timeoutMs} ms`,
        {
          cause: error,
        },
      );
    }
    if (signal.aborted)
      return new MlcostError('source', `dcgm-exporter scrape of ${url} was aborted`, { cause: error });
    return new MlcostError(
      'unavailable',
      `dcgm-exporter at ${url} could not be read: ${describeRequestError(error)}`,
      {
        cause: error,
      },
    );
  };

  let answer: HttpAnswer;
  try {
    answer = await httpRequest(new URL(url), {
      signal: combined,
      headers: { accept: 'text/plain;version=0.0.4, application/openmetrics-text;q=0.5, */*;q=0.1' },
      maxBodyBytes: options.maxBodyBytes,
    });
  } catch (error) {
    throw explain(error);
  }
  if (answer.status < 200 || answer.status > 299) {
    throw new MlcostError(
      'source',
      `dcgm-exporter at ${url} answered HTTP ${answer.status}${answer.statusText ? ` ${answer.statusText}` : ''}`,
    );
  }
  return UTF8.decode(answer.body);
}

const UTF8 = new TextDecoder('utf-8');

function bodyTooLarge(url: string, maxBodyBytes: number): MlcostError {
  return new MlcostError(
    'limit',
    `dcgm-exporter at ${url} sent a body over ${maxBodyBytes} bytes (limit maxBodyBytes); scrape aborted`,
  );
}
