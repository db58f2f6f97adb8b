// Runs every enabled source in parallel, each with its own timeout: a failing or slow source marks its own
// `source_up` 0 and logs one line, and never stops the others.
import type { Logger } from '../core/logger.ts';
import type { AgentMetrics } from './metrics.ts';
import type { Samples } from './samples.ts';
import type { Source } from './source.ts';

export interface SourceOutcome {
  source: string;
  ok: boolean;
  samples: Samples;
  error?: string;
  seconds: number;
}

export async function runSources(
  sources: readonly Source[],
  options: { timeoutMs: number; metrics?: AgentMetrics; logger?: Logger },
): Promise<SourceOutcome[]> {
  return Promise.all(sources.map((source) => runOne(source, options)));
}

async function runOne(
  source: Source,
  options: { timeoutMs: number; metrics?: AgentMetrics; logger?: Logger },
): Promise<SourceOutcome> {
  const started = performance.now();
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new Error(`timed out after ${options.timeoutMs} ms`));
    }, options.timeoutMs);
  });
  let outcome: SourceOutcome;
  try {
    const samples = await Promise.race([source.collect(controller.signal), timeout]);
    outcome = { source: source.name, ok: true, samples, seconds: (performance.now() - started) / 1000 };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    outcome = {
      source: source.name,
      ok: false,
      samples: {},
      error: message,
      seconds: (performance.now() - started) / 1000,
    };
    options.logger?.warn({ source: source.name, error: message }, `source ${source.name} failed: ${message}`);
  } finally {
    clearTimeout(timer);
  }
  options.metrics?.sourceUp.set({ source: source.name }, outcome.ok ? 1 : 0);
  options.metrics?.sourceDuration.set({ source: source.name }, outcome.seconds);
  return outcome;
}
