// The nvidia-smi source: GPUs through `nvidia-smi --query-gpu`, and MIG instances through `nvidia-smi -L` and
// `nvidia-smi -q -x` when a GPU is in MIG mode. Every call has a timeout and is killed (with its process
// group) when it runs over or the collection is aborted. A machine without nvidia-smi, or without GPUs, has no
// GPUs to report: that is no data, not an error.
//
// Why -L / -q -x only under MIG: the query already says `mig.mode.current` per GPU, and without MIG the two
// calls add nothing; `-q -x` is the slowest nvidia-smi call (the full XML of every GPU, ~20 kB each), so it is
// not paid on every collection of every non-MIG node.
//
// Processes (`--query-compute-apps`) are not collected: the Samples contract has no field for them. The parser
// (parseNvidiaSmiComputeApps) and COMPUTE_APPS_ARGS are exported for the pid → pod mapping.
import { spawn } from 'node:child_process';
import { MlcostError } from '../../core/errors.ts';
import type { GpuSample, Samples } from '../samples.ts';
import type { Source } from '../source.ts';
import {
  COMPUTE_APPS_QUERY_FIELDS,
  GPU_QUERY_FIELDS,
  GPU_QUERY_FIELDS_WITHOUT_MIG,
  type NvidiaSmiGpuRow,
  parseNvidiaSmiQueryCsv,
} from './nvidia-smi-csv.ts';

export interface NvidiaSmiOptions {
  /** The nvidia-smi executable (a name looked up in PATH, or a path). */
  path: string;
  /** Longest one nvidia-smi call may take. */
  timeoutMs: number;
}

/** Arguments of the per-process query; parse its output with parseNvidiaSmiComputeApps(text, { header: false }). */
export const COMPUTE_APPS_ARGS: readonly string[] = [
  `--query-compute-apps=${COMPUTE_APPS_QUERY_FIELDS.join(',')}`,
  '--format=csv,noheader,nounits',
];

/** Most output read from one call; `-q -x` of an 8-GPU node is a few hundred kB. */
const MAX_OUTPUT_BYTES = 16 * 2 ** 20;

/** `--format=csv,nounits`: the header lets columns be read by name, so old and new drivers both parse. */
function gpuQueryArgs(fields: readonly string[]): string[] {
  return [`--query-gpu=${fields.join(',')}`, '--format=csv,nounits'];
}

export function createNvidiaSmiSource(options: NvidiaSmiOptions): Source {
  const call = (args: readonly string[], label: string, signal: AbortSignal) =>
    runNvidiaSmi(options.path, args, label, options.timeoutMs, signal);

  return {
    name: 'nvidia-smi',
    async collect(signal): Promise<Samples> {
      const rows = await queryGpus(call, signal);
      if (rows === undefined || rows.length === 0) return {};
      const gpus: GpuSample[] = rows.map((row) => row.gpu);
      if (rows.some((row) => row.migEnabled)) {
        const list = await call(['-L'], '-L', signal);
        const xml = await call(['-q', '-x'], '-q -x', signal);
        // nvidia-smi vanishing between calls (driver upgrade) leaves the whole-GPU rows; MIG next time.
        if (list !== undefined && xml !== undefined) {
          // Loaded only here: its XML parser is not needed on GPUs without MIG.
          const { buildMigSamples, parseNvidiaSmiList, parseNvidiaSmiXml } = await import(
            './nvidia-smi-mig.ts'
          );
          const listed = parse('-L', () => parseNvidiaSmiList(list));
          const inventory = parse('-q -x', () => parseNvidiaSmiXml(xml));
          gpus.push(...buildMigSamples(listed, inventory));
        }
      }
      return { gpus };
    },
  };
}

type Call = (args: readonly string[], label: string, signal: AbortSignal) => Promise<string | undefined>;

/** Runs --query-gpu; drivers older than R450 do not know mig.mode.current, so it is retried without it. */
async function queryGpus(call: Call, signal: AbortSignal): Promise<NvidiaSmiGpuRow[] | undefined> {
  let output: string | undefined;
  try {
    output = await call(gpuQueryArgs(GPU_QUERY_FIELDS), '--query-gpu', signal);
  } catch (error) {
    if (!(error instanceof Error) || !/not a valid field/i.test(error.message)) throw error;
    output = await call(gpuQueryArgs(GPU_QUERY_FIELDS_WITHOUT_MIG), '--query-gpu', signal);
  }
  if (output === undefined) return undefined;
  return parse('--query-gpu', () => parseNvidiaSmiQueryCsv(output, { header: true }));
}

function parse<T>(label: string, parser: () => T): T {
  try {
    return parser();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new MlcostError('parse', `nvidia-smi ${label} output could not be read: ${message}`, {
      cause: error,
    });
  }
}

/**
 * Runs nvidia-smi and resolves with its stdout; undefined when the executable does not exist, '' when it says
 * there are no GPUs. Rejects on a non-zero exit (naming the first line nvidia-smi wrote), on timeout and on
 * abort. The child runs in its own process group, killed as a whole: a wrapper script's children must not
 * keep the pipes (and this promise) open after the timeout.
 */
export function runNvidiaSmi(
  path: string,
  args: readonly string[],
  label: string,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const what = `${path} ${label}`;
    if (signal.aborted) {
      reject(new MlcostError('source', `${what} was not started: collection aborted`));
      return;
    }
    const child = spawn(path, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let outputBytes = 0;
    let settled = false;

    const kill = () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
      // Release our ends of the pipes even if some process outside the group still holds theirs.
      child.stdout.destroy();
      child.stderr.destroy();
    };
    const finish = (error: Error | undefined, value?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      if (error) reject(error);
      else resolve(value);
    };
    const onAbort = () => {
      kill();
      finish(new MlcostError('source', `${what} was aborted`));
    };
    // Settles at once on timeout: a GPU stuck in the driver can leave nvidia-smi unkillable (D state).
    const timer = setTimeout(() => {
      kill();
      finish(new MlcostError('timeout', `${what} did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    signal.addEventListener('abort', onAbort, { once: true });

    const collect = (into: Buffer[]) => (chunk: Buffer) => {
      outputBytes += chunk.length;
      if (outputBytes > MAX_OUTPUT_BYTES) {
        kill();
        finish(new MlcostError('limit', `${what} wrote more than ${MAX_OUTPUT_BYTES} bytes`));
        return;
      }
      into.push(chunk);
    };
    child.stdout.on('data', collect(stdout));
    child.stderr.on('data', collect(stderr));

    child.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') finish(undefined, undefined);
      else finish(new MlcostError('source', `${what} could not be run: ${error.message}`, { cause: error }));
    });
    child.on('close', (code, killedBy) => {
      const out = Buffer.concat(stdout).toString('utf8');
      if (code === 0) return finish(undefined, out);
      const err = Buffer.concat(stderr).toString('utf8');
      // nvidia-smi writes most errors to stdout; "No devices were found" (exit 6) means no GPUs here.
      const detail = firstLine(err) || firstLine(out);
      if (/no devices were found/i.test(`${out}\n${err}`)) return finish(undefined, '');
      const status = code === null ? `was killed by ${killedBy}` : `exited with code ${code}`;
      finish(new MlcostError('source', `${what} ${status}${detail ? `: ${detail}` : ''}`));
    });
  });
}

function firstLine(text: string): string {
  const line = text.split('\n').find((l) => l.trim() !== '');
  return line === undefined ? '' : line.trim().slice(0, 300);
}
