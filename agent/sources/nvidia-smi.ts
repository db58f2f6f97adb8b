// The nvidia-smi source: GPUs through `nvidia-smi --query-gpu`, every call with a timeout. A machine without
// nvidia-smi has no GPUs to report: that is no data, not an error.
import { execFile } from 'node:child_process';
import type { Samples } from '../samples.ts';
import type { Source } from '../source.ts';
import { GPU_QUERY_FIELDS, parseNvidiaSmiGpuCsv } from './nvidia-smi-csv.ts';

export interface NvidiaSmiOptions {
  path: string;
  timeoutMs: number;
}

export function createNvidiaSmiSource(options: NvidiaSmiOptions): Source {
  return {
    name: 'nvidia-smi',
    async collect(signal): Promise<Samples> {
      const args = [`--query-gpu=${GPU_QUERY_FIELDS.join(',')}`, '--format=csv,noheader,nounits'];
      const output = await run(options.path, args, options.timeoutMs, signal);
      if (output === undefined) return {};
      return { gpus: parseNvidiaSmiGpuCsv(output) };
    },
  };
}

/** Runs nvidia-smi; resolves undefined when the executable does not exist on this machine. */
function run(
  path: string,
  args: string[],
  timeoutMs: number,
  signal: AbortSignal,
): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    execFile(
      path,
      args,
      { timeout: timeoutMs, signal, maxBuffer: 4 * 2 ** 20, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (!error) return resolve(stdout);
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') return resolve(undefined);
        if ((error as { killed?: boolean }).killed)
          return reject(new Error(`${path} did not answer within ${timeoutMs} ms`));
        const detail = (stderr || stdout || error.message).trim().split('\n')[0];
        reject(new Error(`${path} failed: ${detail}`));
      },
    );
  });
}
