// Tests of the nvidia-smi CSV parsers against the real captures in test/fixtures/real/nvidia-smi/. The
// needed section is cut from the capture by its header line (`# load :: query-gpu (...)`); line numbers in
// comments are those of the capture file. Values were read from the files by hand.
import { describe, expect, it } from 'vitest';
import { captureSection, H100, H100_MIG, L40S } from '../../test/support/nvidia-smi-captures.ts';
import {
  GPU_QUERY_FIELDS,
  MEMORY_AS_BYTES,
  parseNvidiaSmiComputeApps,
  parseNvidiaSmiGpuCsv,
  parseNvidiaSmiQueryCsv,
  readQuantity,
} from './nvidia-smi-csv.ts';

const MIB = 2 ** 20;
const UUID = 'GPU-00000000-0000-0000-0000-000000000000'; // masked by the capture tool, same in all three

describe("parseNvidiaSmiQueryCsv with header and units (the captures' --format=csv)", () => {
  it('reads the H100 under load: 100 %, 631.95 W, MiB amounts, MHz clock', () => {
    // Lines 2104-2105 (load :: query-gpu): 212 columns; the ones read here:
    // index 0, uuid GPU-0000..., name "NVIDIA H100 80GB HBM3", pci.bus_id 00000000:00:09.0,
    // memory.total [MiB] "81559 MiB", memory.used [MiB] "19818 MiB", utilization.gpu [%] "100 %",
    // temperature.gpu "59", power.draw [W] "631.95 W", clocks.current.sm [MHz] "1980 MHz",
    // mig.mode.current "Disabled".
    const rows = parseNvidiaSmiQueryCsv(
      captureSection(H100, 'load :: query-gpu (csv, what the exporter parses)'),
      {
        header: true,
      },
    );
    expect(rows).toEqual([
      {
        migEnabled: false,
        gpu: {
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
      },
    ]);
  });

  it('reads the idle H100: 0 % is activity 0, not missing', () => {
    // Lines 1740-1741 (idle :: query-gpu): utilization.gpu "0 %", memory.used "0 MiB", power.draw "69.85 W",
    // temperature.gpu "41", clocks.current.sm "345 MHz".
    const [row] = parseNvidiaSmiQueryCsv(
      captureSection(H100, 'idle :: query-gpu (csv, what the exporter parses)'),
      { header: true },
    );
    expect(row!.gpu).toMatchObject({
      activity: 0,
      memoryUsedBytes: 0,
      powerWatts: 69.85,
      temperatureCelsius: 41,
    });
    expect(row!.gpu.smClockMhz).toBe(345);
  });

  it('reports no whole-GPU activity for the H100 in MIG mode (utilization.gpu is [N/A])', () => {
    // Lines 2303-2304 (load :: query-gpu): utilization.gpu [%] "[N/A]", mig.mode.current "Enabled",
    // memory.used "11125 MiB", memory.total "81559 MiB", power.draw "433.78 W", temperature.gpu "53",
    // clocks.current.sm "1980 MHz".
    const [row] = parseNvidiaSmiQueryCsv(
      captureSection(H100_MIG, 'load :: query-gpu (csv, what the exporter parses)'),
      { header: true },
    );
    expect(row!.migEnabled).toBe(true);
    expect(row!.gpu.activity).toBeUndefined();
    expect(row!.gpu).toMatchObject({
      id: UUID,
      memoryUsedBytes: 11125 * MIB,
      memoryTotalBytes: 81559 * MIB,
      powerWatts: 433.78,
      temperatureCelsius: 53,
      smClockMhz: 1980,
    });
  });

  it('reads the L40S (mig.mode.current [N/A]: no MIG support)', () => {
    // Lines 2051-2052 (load :: query-gpu): utilization.gpu "9 %", memory.used "1235 MiB", memory.total
    // "46068 MiB", power.draw "110.23 W", temperature.gpu "54", clocks.current.sm "2520 MHz",
    // pci.bus_id 00000000:01:00.0, mig.mode.current "[N/A]".
    const [row] = parseNvidiaSmiQueryCsv(
      captureSection(L40S, 'load :: query-gpu (csv, what the exporter parses)'),
      { header: true },
    );
    expect(row!.migEnabled).toBe(false);
    expect(row!.gpu).toEqual({
      id: UUID,
      uuid: UUID,
      index: 0,
      model: 'NVIDIA L40S',
      pciBusId: '00000000:01:00.0',
      activity: 0.09,
      memoryUsedBytes: 1235 * MIB,
      memoryTotalBytes: 46068 * MIB,
      powerWatts: 110.23,
      temperatureCelsius: 54,
      smClockMhz: 2520,
    });
  });
});

describe('parseNvidiaSmiQueryCsv without header (--format=csv,noheader,nounits)', () => {
  it('reads columns in the order asked', () => {
    // Hand-written in GPU_QUERY_FIELDS order with the H100 load values above (the captures only hold the
    // header-and-units form): index, uuid, name, pci.bus_id, mig.mode.current, utilization.gpu,
    // memory.used, memory.total, power.draw, temperature.gpu, clocks.sm.
    expect(GPU_QUERY_FIELDS).toHaveLength(11);
    const text = `0, ${UUID}, NVIDIA H100 80GB HBM3, 00000000:00:09.0, Disabled, 100, 19818, 81559, 631.95, 59, 1980\n`;
    expect(parseNvidiaSmiGpuCsv(text)).toEqual([
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
    ]);
  });

  it('drops activity under MIG even where an old driver prints 0 instead of [N/A]', () => {
    const text = `0, GPU-x, A100, 00000000:01:00.0, Enabled, 0, 50, 81920, [N/A], 27, 1275\n`;
    const [row] = parseNvidiaSmiQueryCsv(text, { header: false });
    expect(row!.migEnabled).toBe(true);
    expect(row!.gpu.activity).toBeUndefined();
    expect(row!.gpu.powerWatts).toBeUndefined();
  });

  it('accepts a custom field list, long and short field names alike', () => {
    const rows = parseNvidiaSmiQueryCsv('GPU-y, 1410\n', {
      header: false,
      fields: ['gpu_uuid', 'clocks.current.sm'],
    });
    expect(rows[0]!.gpu).toEqual({ id: 'GPU-y', uuid: 'GPU-y', smClockMhz: 1410 });
  });

  it('returns nothing for empty output', () => {
    expect(parseNvidiaSmiQueryCsv('\n', { header: true })).toEqual([]);
    expect(parseNvidiaSmiGpuCsv('')).toEqual([]);
  });
});

describe('parseNvidiaSmiQueryCsv errors', () => {
  it('names the line when a row has the wrong number of fields', () => {
    expect(() => parseNvidiaSmiGpuCsv(`\n0, GPU-a, T4\n`)).toThrow(/line 2: expected 11 fields, got 3/);
  });

  it('names the line and column of a value that is not a number', () => {
    const text = `0, GPU-a, T4, 0:0:0.0, Disabled, lots, 1, 2, 3, 4, 5\n`;
    expect(() => parseNvidiaSmiGpuCsv(text)).toThrow(
      'nvidia-smi --query-gpu line 1, utilization.gpu: "lots" is not a number',
    );
  });

  it('rejects a unit that does not belong to the field', () => {
    const text = 'uuid, memory.used [MiB]\nGPU-a, 12 W\n';
    expect(() => parseNvidiaSmiQueryCsv(text, { header: true })).toThrow(
      /line 2, memory.used: unexpected unit "W" in "12 W"/,
    );
  });

  it('requires a uuid column and a uuid in every row', () => {
    expect(() => parseNvidiaSmiQueryCsv('index, name\n0, T4\n', { header: true })).toThrow(/no uuid column/);
    expect(() => parseNvidiaSmiQueryCsv('index, uuid\n0, [N/A]\n', { header: true })).toThrow(/no GPU UUID/);
  });

  it('readQuantity converts memory units to bytes', () => {
    expect(readQuantity('1 GiB', MEMORY_AS_BYTES, 'x')).toBe(2 ** 30);
    expect(readQuantity('[Not Supported]', MEMORY_AS_BYTES, 'x')).toBeUndefined();
  });
});

describe('parseNvidiaSmiComputeApps', () => {
  it('reads the H100 processes (header and units form)', () => {
    // Lines 2112-2115 (load :: query-compute-apps): pid 11327 /root/tools/memhog 2566 MiB, pid 11328
    // /root/tools/memhog 1542 MiB, pid 11345 ./gpu_burn 15690 MiB, all on GPU-0000....
    const apps = parseNvidiaSmiComputeApps(captureSection(H100, 'load :: query-compute-apps (per-process)'), {
      header: true,
    });
    expect(apps).toEqual([
      { gpuUuid: UUID, pid: 11327, processName: '/root/tools/memhog', usedMemoryBytes: 2566 * MIB },
      { gpuUuid: UUID, pid: 11328, processName: '/root/tools/memhog', usedMemoryBytes: 1542 * MIB },
      { gpuUuid: UUID, pid: 11345, processName: './gpu_burn', usedMemoryBytes: 15690 * MIB },
    ]);
  });

  it('names the parent GPU under MIG (no MIG device in this query)', () => {
    // Lines 2311-2314 of the MIG capture: pids 21180 (2296 MiB), 21181 (1272 MiB), 21198 (7484 MiB), all with
    // gpu_uuid GPU-0000... (the physical GPU), although the default table (lines 1928-1930) shows them in GI 2.
    const apps = parseNvidiaSmiComputeApps(
      captureSection(H100_MIG, 'load :: query-compute-apps (per-process)'),
      {
        header: true,
      },
    );
    expect(apps.map((app) => [app.gpuUuid, app.pid, app.usedMemoryBytes])).toEqual([
      [UUID, 21180, 2296 * MIB],
      [UUID, 21181, 1272 * MIB],
      [UUID, 21198, 7484 * MIB],
    ]);
  });

  it('returns nothing for the idle capture (header only)', () => {
    // Line 1748 of the H100 capture: the header row, then no process.
    expect(
      parseNvidiaSmiComputeApps(captureSection(H100, 'idle :: query-compute-apps (per-process)'), {
        header: true,
      }),
    ).toEqual([]);
  });

  it('reads the noheader,nounits form, rejoining a process name that contains commas', () => {
    const text = `${UUID}, 4242, python train.py --dims 1,2,3, 2048\n${UUID}, [N/A], ghost, 1\n${UUID}, 7, svc, [N/A]\n`;
    expect(parseNvidiaSmiComputeApps(text, { header: false })).toEqual([
      { gpuUuid: UUID, pid: 4242, processName: 'python train.py --dims 1,2,3', usedMemoryBytes: 2048 * MIB },
      { gpuUuid: UUID, pid: 7, processName: 'svc' },
    ]);
  });

  it('rejects a pid that is not a process id', () => {
    expect(() => parseNvidiaSmiComputeApps(`${UUID}, 1.5, x, 1\n`, { header: false })).toThrow(
      /pid: "1.5" is not a process id/,
    );
  });
});
