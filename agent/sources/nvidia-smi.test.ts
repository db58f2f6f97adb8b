// Tests of the nvidia-smi source with a fake `nvidia-smi`: a shell script written to a temp dir that logs its
// arguments and prints sections of the real captures (test/fixtures/real/nvidia-smi/) depending on them. The
// captures hold exporter-style `--format=csv` output (header, units, 200+ columns); the source asks for
// `--format=csv,nounits` with its own fields, and reads columns by header name, so the capture text is a valid
// answer to its query.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { captureSection, H100, H100_MIG, L40S } from '../../test/support/nvidia-smi-captures.ts';
import { createNvidiaSmiSource } from './nvidia-smi.ts';
import { GPU_QUERY_FIELDS } from './nvidia-smi-csv.ts';

const MIB = 2 ** 20;
const UUID = 'GPU-00000000-0000-0000-0000-000000000000';
const LOAD_QUERY = 'load :: query-gpu (csv, what the exporter parses)';

const root = mkdtempSync(join(tmpdir(), 'mlcost-nvidia-smi-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let fakes = 0;

/** What the fake prints for one kind of call: a file's text, or a shell snippet to run instead. */
type Answer = { output: string } | { shell: string };

interface Fake {
  path: string;
  /** The argument lists nvidia-smi was called with, one string per call. */
  calls(): string[];
}

function fakeNvidiaSmi(answers: { query?: Answer; list?: Answer; xml?: Answer }): Fake {
  const dir = join(root, `fake-${++fakes}`);
  mkdirSync(dir);
  const make = (name: string, answer: Answer | undefined): string => {
    if (answer === undefined) return `echo "fake nvidia-smi: no ${name} answer" >&2; exit 1`;
    if ('shell' in answer) return answer.shell;
    writeFileSync(join(dir, name), answer.output);
    return `cat "${join(dir, name)}"`;
  };
  const script = `#!/bin/sh
echo "$*" >> "${join(dir, 'calls.log')}"
case "$1" in
  --query-gpu=*) ${make('query.csv', answers.query)} ;;
  -L) ${make('list.txt', answers.list)} ;;
  -q) ${make('q.xml', answers.xml)} ;;
  *) echo "fake nvidia-smi: unexpected arguments: $*" >&2; exit 2 ;;
esac
`;
  const path = join(dir, 'nvidia-smi');
  writeFileSync(path, script);
  chmodSync(path, 0o755);
  return {
    path,
    calls: () => {
      const log = join(dir, 'calls.log');
      return existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : [];
    },
  };
}

/** Whether a process is alive: a killed child whose parent died may linger as a zombie (state Z) no one reaps. */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = `/proc/${pid}/stat`;
  if (!existsSync(stat)) return true;
  // Format: "pid (comm) state ...": the state follows the last ')'.
  const text = readFileSync(stat, 'utf8');
  return text.slice(text.lastIndexOf(')') + 2)[0] !== 'Z';
}

const collect = (path: string, timeoutMs = 10_000, signal = new AbortController().signal) =>
  createNvidiaSmiSource({ path, timeoutMs }).collect(signal);

describe('createNvidiaSmiSource', () => {
  it('reads a GPU without MIG with one call, and does not run -L or -q -x', async () => {
    const fake = fakeNvidiaSmi({ query: { output: captureSection(H100, LOAD_QUERY) } });
    const samples = await collect(fake.path);
    // Lines 2104-2105 of the H100 capture: 100 %, 19818 / 81559 MiB, 631.95 W, 59, 1980 MHz, index 0.
    expect(samples).toEqual({
      gpus: [
        {
          id: UUID,
          uuid: UUID,
          index: 0,
          model: 'NVIDIA H100 80GB HBM3',
          pciBusId: '00000000:00:09.0',
          activity: 1,
          memoryUsedBytes: 19818 * MIB,
          memoryTotalBytes: 81559 * MIB,
          powerWatts: 631.95,
          temperatureCelsius: 59,
          smClockMhz: 1980,
        },
      ],
    });
    expect(fake.calls()).toEqual([`--query-gpu=${GPU_QUERY_FIELDS.join(',')} --format=csv,nounits`]);
  });

  it('reads the L40S under NVENC load', async () => {
    const fake = fakeNvidiaSmi({ query: { output: captureSection(L40S, LOAD_QUERY) } });
    const samples = await collect(fake.path);
    // Lines 2051-2052 of the L40S capture: utilization.gpu "9 %", power.draw "110.23 W".
    expect(samples.gpus).toHaveLength(1);
    expect(samples.gpus![0]).toMatchObject({ model: 'NVIDIA L40S', activity: 0.09, powerWatts: 110.23 });
    expect(fake.calls()).toHaveLength(1);
  });

  it('runs -L and -q -x for a GPU in MIG mode, and says which call failed', async () => {
    // The MIG capture has the query (lines 2303-2304, mig.mode.current Enabled) and -L (lines 1186-1190),
    // but no -q -x: the fake fails that call as nvidia-smi would fail, and the source reports it.
    const fake = fakeNvidiaSmi({
      query: { output: captureSection(H100_MIG, LOAD_QUERY) },
      list: { output: captureSection(H100_MIG, 'capabilities :: list (-L)') },
      xml: { shell: 'echo "Failed to get -q -x: not in this capture"; exit 3' },
    });
    await expect(collect(fake.path)).rejects.toThrow(
      `${fake.path} -q -x exited with code 3: Failed to get -q -x: not in this capture`,
    );
    expect(fake.calls().map((call) => call.split(' ')[0])).toEqual([
      `--query-gpu=${GPU_QUERY_FIELDS.join(',')}`,
      '-L',
      '-q',
    ]);
  });

  it('adds one sample per MIG instance, joined from -L and -q -x (hand-written outputs)', async () => {
    const fake = fakeNvidiaSmi({
      query: {
        output:
          'index, uuid, name, mig.mode.current, utilization.gpu [%], memory.used [MiB]\n3, GPU-s, Test GPU, Enabled, [N/A], 509 MiB\n',
      },
      list: { output: 'GPU 3: Test GPU (UUID: GPU-s)\n  MIG 1g.10gb     Device  0: (UUID: MIG-c)\n' },
      xml: {
        output: `<?xml version="1.0" ?>
<nvidia_smi_log><gpu id="00000000:07:00.0"><uuid>GPU-s</uuid><mig_mode><current_mig>Enabled</current_mig></mig_mode>
<mig_devices><mig_device><index>0</index><gpu_instance_id>7</gpu_instance_id><compute_instance_id>0</compute_instance_id>
<fb_memory_usage><total>9984 MiB</total><used>9 MiB</used></fb_memory_usage></mig_device></mig_devices></gpu></nvidia_smi_log>
`,
      },
    });
    expect(await collect(fake.path)).toEqual({
      gpus: [
        { id: 'GPU-s', uuid: 'GPU-s', index: 3, model: 'Test GPU', memoryUsedBytes: 509 * MIB },
        {
          id: 'GPU-s/7',
          uuid: 'GPU-s',
          index: 3,
          model: 'Test GPU',
          migUuid: 'MIG-c',
          migProfile: '1g.10gb',
          migInstanceId: 7,
          memoryTotalBytes: 9984 * MIB,
          memoryUsedBytes: 9 * MIB,
        },
      ],
    });
  });

  it('retries without mig.mode.current for drivers that do not know it', async () => {
    const fake = fakeNvidiaSmi({
      query: {
        shell: `case "$1" in *mig.mode.current*) echo 'Field "mig.mode.current" is not a valid field to query.'; exit 2;; esac; cat "${join(root, 'h100-load.csv')}"`,
      },
    });
    writeFileSync(join(root, 'h100-load.csv'), captureSection(H100, LOAD_QUERY));
    const samples = await collect(fake.path);
    expect(samples.gpus?.map((gpu) => gpu.id)).toEqual([UUID]);
    expect(fake.calls()).toHaveLength(2);
    expect(fake.calls()[1]).not.toContain('mig.mode.current');
  });

  it('returns no data when nvidia-smi is not installed', async () => {
    expect(await collect(join(root, 'no-such-dir', 'nvidia-smi'))).toEqual({});
  });

  it('returns no data when nvidia-smi finds no GPU', async () => {
    const fake = fakeNvidiaSmi({ query: { shell: 'echo "No devices were found"; exit 6' } });
    expect(await collect(fake.path)).toEqual({});
  });

  it('rejects when the driver is broken, quoting nvidia-smi', async () => {
    const fake = fakeNvidiaSmi({
      query: {
        shell: `echo "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver."; exit 9`,
      },
    });
    await expect(collect(fake.path)).rejects.toThrow(
      "--query-gpu exited with code 9: NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.",
    );
  });

  it('rejects output it cannot read, naming the call and the line', async () => {
    const fake = fakeNvidiaSmi({ query: { output: 'uuid, utilization.gpu [%]\nGPU-a, busy\n' } });
    await expect(collect(fake.path)).rejects.toThrow(
      'nvidia-smi --query-gpu output could not be read: nvidia-smi --query-gpu line 2, utilization.gpu: "busy" is not a number',
    );
  });

  it('times out a hanging nvidia-smi and kills what it started', async () => {
    const pidFile = join(root, 'hang.pid');
    // The shell waits on a child: killing only the shell would leave `sleep` holding the pipe open.
    const fake = fakeNvidiaSmi({ query: { shell: `sleep 30 & echo $! > "${pidFile}"; wait` } });
    const started = Date.now();
    await expect(collect(fake.path, 300)).rejects.toThrow(
      `${fake.path} --query-gpu did not answer within 300 ms`,
    );
    expect(Date.now() - started).toBeLessThan(5000);
    const sleepPid = Number(readFileSync(pidFile, 'utf8'));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(isRunning(sleepPid)).toBe(false); // the process group was killed, grandchild included
  });

  it('stops when the collection is aborted', async () => {
    const fake = fakeNvidiaSmi({ query: { shell: 'exec sleep 30' } });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const started = Date.now();
    await expect(collect(fake.path, 30_000, controller.signal)).rejects.toThrow(
      `${fake.path} --query-gpu was aborted`,
    );
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
