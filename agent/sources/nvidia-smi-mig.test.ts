// Tests of the MIG inventory parsers (`nvidia-smi -L`, `nvidia-smi -q -x`) and their join, against the real
// H100 MIG capture and the Telegraf `-q -x` files in test/fixtures/real/nvidia-smi/ (values read by hand, line
// numbers of those files given), plus small hand-written inputs for the join rules no fixture shows.
import { describe, expect, it } from 'vitest';
import {
  captureSection,
  H100,
  H100_MIG,
  readNvidiaSmiFixture,
} from '../../test/support/nvidia-smi-captures.ts';
import { parseNvidiaSmiQueryCsv } from './nvidia-smi-csv.ts';
import { buildMigSamples, parseNvidiaSmiList, parseNvidiaSmiXml } from './nvidia-smi-mig.ts';

const MIB = 2 ** 20;
const H100_UUID = 'GPU-00000000-0000-0000-0000-000000000000';
const A100_UUID = 'GPU-513536b6-7d19-9063-b049-1e69664bb298';

describe('parseNvidiaSmiList', () => {
  it('reads the H100 MIG listing: one GPU, four MIG devices', () => {
    // Lines 1186-1190 of the MIG capture:
    //   GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-00000000-0000-0000-0000-000000000000)
    //     MIG 3g.40gb     Device  0: (UUID: MIG-00000000-0000-0000-0000-000000000000)
    //     MIG 2g.20gb     Device  1: (UUID: MIG-00000001-0000-0000-0000-000000000001)
    //     MIG 1g.10gb     Device  2: (UUID: MIG-00000002-0000-0000-0000-000000000002)
    //     MIG 1g.10gb     Device  3: (UUID: MIG-00000003-0000-0000-0000-000000000003)
    expect(parseNvidiaSmiList(captureSection(H100_MIG, 'capabilities :: list (-L)'))).toEqual([
      {
        index: 0,
        name: 'NVIDIA H100 80GB HBM3',
        uuid: H100_UUID,
        migDevices: [
          { deviceIndex: 0, profile: '3g.40gb', migUuid: 'MIG-00000000-0000-0000-0000-000000000000' },
          { deviceIndex: 1, profile: '2g.20gb', migUuid: 'MIG-00000001-0000-0000-0000-000000000001' },
          { deviceIndex: 2, profile: '1g.10gb', migUuid: 'MIG-00000002-0000-0000-0000-000000000002' },
          { deviceIndex: 3, profile: '1g.10gb', migUuid: 'MIG-00000003-0000-0000-0000-000000000003' },
        ],
      },
    ]);
  });

  it('reads a listing without MIG', () => {
    // Line 1186 of the non-MIG H100 capture: GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-0000...).
    expect(parseNvidiaSmiList(captureSection(H100, 'capabilities :: list (-L)'))).toEqual([
      { index: 0, name: 'NVIDIA H100 80GB HBM3', uuid: H100_UUID, migDevices: [] },
    ]);
  });

  it('takes GI and CI ids from the R450-R460 MIG UUID form', () => {
    const text = [
      'GPU 0: A100-SXM4-40GB (UUID: GPU-5c89852c-d268-c3f3-1b07-005d5ae1dc3f)',
      '  MIG 3g.20gb Device 0: (UUID: MIG-GPU-5c89852c-d268-c3f3-1b07-005d5ae1dc3f/1/0)',
    ].join('\n');
    expect(parseNvidiaSmiList(text)[0]!.migDevices).toEqual([
      {
        deviceIndex: 0,
        profile: '3g.20gb',
        migUuid: 'MIG-GPU-5c89852c-d268-c3f3-1b07-005d5ae1dc3f/1/0',
        gpuInstanceId: 1,
        computeInstanceId: 0,
      },
    ]);
  });

  it('rejects a MIG device listed before any GPU', () => {
    expect(() => parseNvidiaSmiList('\n  MIG 1g.10gb Device 0: (UUID: MIG-x)\n')).toThrow(
      /-L line 2: MIG device before any GPU/,
    );
  });
});

describe('the H100 MIG capture', () => {
  it('yields four instances with profiles 3g.40gb, 2g.20gb, 1g.10gb, 1g.10gb and no whole-GPU activity', () => {
    const listed = parseNvidiaSmiList(captureSection(H100_MIG, 'capabilities :: list (-L)'));
    const instances = buildMigSamples(listed, []);
    // The capture has no `-q -x`, so the GI ids are unknown: the MIG UUID is the id (see nvidia-smi-mig.ts).
    expect(instances).toEqual([
      {
        id: 'MIG-00000000-0000-0000-0000-000000000000',
        uuid: H100_UUID,
        index: 0,
        model: 'NVIDIA H100 80GB HBM3',
        migUuid: 'MIG-00000000-0000-0000-0000-000000000000',
        migProfile: '3g.40gb',
      },
      {
        id: 'MIG-00000001-0000-0000-0000-000000000001',
        uuid: H100_UUID,
        index: 0,
        model: 'NVIDIA H100 80GB HBM3',
        migUuid: 'MIG-00000001-0000-0000-0000-000000000001',
        migProfile: '2g.20gb',
      },
      {
        id: 'MIG-00000002-0000-0000-0000-000000000002',
        uuid: H100_UUID,
        index: 0,
        model: 'NVIDIA H100 80GB HBM3',
        migUuid: 'MIG-00000002-0000-0000-0000-000000000002',
        migProfile: '1g.10gb',
      },
      {
        id: 'MIG-00000003-0000-0000-0000-000000000003',
        uuid: H100_UUID,
        index: 0,
        model: 'NVIDIA H100 80GB HBM3',
        migUuid: 'MIG-00000003-0000-0000-0000-000000000003',
        migProfile: '1g.10gb',
      },
    ]);
    // Whole GPU: lines 2303-2304, utilization.gpu [%] "[N/A]" and mig.mode.current "Enabled" (idle: 1833-1834).
    for (const section of ['idle', 'load']) {
      const rows = parseNvidiaSmiQueryCsv(
        captureSection(H100_MIG, `${section} :: query-gpu (csv, what the exporter parses)`),
        { header: true },
      );
      expect(rows.map((row) => [row.gpu.id, row.migEnabled, row.gpu.activity])).toEqual([
        [H100_UUID, true, undefined],
      ]);
    }
  });
});

describe('parseNvidiaSmiXml', () => {
  it('reads the A100 in MIG mode (DTD v12): four MIG devices with their memory', () => {
    const [gpu, ...rest] = parseNvidiaSmiXml(readNvidiaSmiFixture('telegraf-a100-sxm4-v12.xml'));
    expect(rest).toEqual([]);
    // Line 9: product_name NVIDIA A100-SXM4-80GB; line 153: uuid; line 189: pci_bus_id 00000000:01:00.0;
    // line 17: current_mig Enabled; lines 228-232: fb_memory_usage total 81920 MiB, used 50 MiB.
    expect(gpu).toMatchObject({
      uuid: A100_UUID,
      productName: 'NVIDIA A100-SXM4-80GB',
      pciBusId: '00000000:01:00.0',
      migEnabled: true,
      memoryTotalBytes: 81920 * MIB,
      memoryUsedBytes: 50 * MIB,
      processes: [],
    });
    // Lines 21-144: mig_device index 0..3 with gpu_instance_id 3, 4, 5, 6, compute_instance_id 0, each
    // fb_memory_usage total 19968 MiB, used 12 MiB (lines 41/43, 72/74, 103/105, 134/136).
    expect(gpu!.migDevices).toEqual(
      [3, 4, 5, 6].map((gpuInstanceId, index) => ({
        index,
        gpuInstanceId,
        computeInstanceId: 0,
        memoryTotalBytes: 19968 * MIB,
        memoryUsedBytes: 12 * MIB,
      })),
    );
  });

  it("yields the A100 MIG XML's 4 instances, keyed parent/GI, with their memory", () => {
    const instances = buildMigSamples(
      [],
      parseNvidiaSmiXml(readNvidiaSmiFixture('telegraf-a100-sxm4-v12.xml')),
    );
    // The v12 XML names no profile and no MIG UUID: both stay unset. No activity from nvidia-smi under MIG.
    expect(instances).toEqual(
      [3, 4, 5, 6].map((gi) => ({
        id: `${A100_UUID}/${gi}`,
        uuid: A100_UUID,
        pciBusId: '00000000:01:00.0',
        model: 'NVIDIA A100-SXM4-80GB',
        migInstanceId: gi,
        memoryTotalBytes: 19968 * MIB,
        memoryUsedBytes: 12 * MIB,
      })),
    );
  });

  it('reads GPUs without MIG and their processes (T4, DTD v11)', () => {
    const [gpu] = parseNvidiaSmiXml(readNvidiaSmiFixture('telegraf-tesla-t4.xml'));
    // Line 16: current_mig N/A; line 20: <mig_devices>None; lines 93-97: total 15360 MiB, used 1032 MiB;
    // lines 327-342: pid 675 /usr/lib/xorg/Xorg 22 MiB, pid 5762 python 1005 MiB, gpu_instance_id N/A.
    expect(gpu).toEqual({
      uuid: 'GPU-d37e67a5-91dd-3774-a5cb-99096249601a',
      productName: 'Tesla T4',
      pciBusId: '00000000:00:1E.0',
      migEnabled: false,
      memoryTotalBytes: 15360 * MIB,
      memoryUsedBytes: 1032 * MIB,
      migDevices: [],
      processes: [
        {
          gpuUuid: 'GPU-d37e67a5-91dd-3774-a5cb-99096249601a',
          pid: 675,
          processName: '/usr/lib/xorg/Xorg',
          usedMemoryBytes: 22 * MIB,
        },
        {
          gpuUuid: 'GPU-d37e67a5-91dd-3774-a5cb-99096249601a',
          pid: 5762,
          processName: 'python',
          usedMemoryBytes: 1005 * MIB,
        },
      ],
    });
    expect(buildMigSamples([], [gpu!])).toEqual([]);
  });

  it('reads the A10G (one Xorg process)', () => {
    const [gpu] = parseNvidiaSmiXml(readNvidiaSmiFixture('telegraf-a10g.xml'));
    // Line 29: uuid GPU-9a9a6c50-...; lines 342-349: pid 725 /usr/lib/xorg/Xorg 22 MiB.
    expect(gpu!.uuid).toBe('GPU-9a9a6c50-2a47-2f51-a902-b82c3b127e94');
    expect(gpu!.migDevices).toEqual([]);
    expect(gpu!.processes).toEqual([
      {
        gpuUuid: 'GPU-9a9a6c50-2a47-2f51-a902-b82c3b127e94',
        pid: 725,
        processName: '/usr/lib/xorg/Xorg',
        usedMemoryBytes: 22 * MIB,
      },
    ]);
  });

  it('rejects broken XML with its line, and a GPU without a uuid', () => {
    expect(() => parseNvidiaSmiXml('<nvidia_smi_log>\n<gpu>\n</nvidia_smi_log>')).toThrow(
      /nvidia-smi -q -x: invalid XML at line \d+/,
    );
    expect(() =>
      parseNvidiaSmiXml('<nvidia_smi_log><gpu><product_name>X</product_name></gpu></nvidia_smi_log>'),
    ).toThrow('<gpu> #1: no <uuid>');
    expect(() => parseNvidiaSmiXml('<other/>')).toThrow('no <nvidia_smi_log> root element');
  });
});

describe('buildMigSamples joins -L and -q -x', () => {
  // Hand-written: one GPU whose GI 1 holds two compute instances (two MIG devices) and whose GI 7 holds one.
  const list = [
    'GPU 3: Test GPU (UUID: GPU-s)',
    '  MIG 1c.3g.40gb Device 0: (UUID: MIG-a)',
    '  MIG 1c.3g.40gb Device 1: (UUID: MIG-b)',
    '  MIG 1g.10gb Device 2: (UUID: MIG-c)',
  ].join('\n');
  const device = (index: number, gi: number, ci: number, total: number, used: number) =>
    `<mig_device><index>${index}</index><gpu_instance_id>${gi}</gpu_instance_id><compute_instance_id>${ci}</compute_instance_id><fb_memory_usage><total>${total} MiB</total><used>${used} MiB</used></fb_memory_usage></mig_device>`;
  const xml = `<?xml version="1.0" ?>
<nvidia_smi_log><gpu id="00000000:07:00.0"><product_name>Test GPU</product_name><uuid>GPU-s</uuid>
<mig_mode><current_mig>Enabled</current_mig></mig_mode>
<mig_devices>${device(0, 1, 0, 40448, 500)}${device(1, 1, 1, 40448, 500)}${device(2, 7, 0, 9984, 9)}</mig_devices>
<pci><pci_bus_id>00000000:07:00.0</pci_bus_id></pci></gpu></nvidia_smi_log>`;

  it('keys instances parent/GI, with the profile and MIG UUID from -L and memory from the XML', () => {
    expect(buildMigSamples(parseNvidiaSmiList(list), parseNvidiaSmiXml(xml))).toEqual([
      // Two compute instances of GI 1: one sample, no single MIG UUID.
      {
        id: 'GPU-s/1',
        uuid: 'GPU-s',
        index: 3,
        pciBusId: '00000000:07:00.0',
        model: 'Test GPU',
        migProfile: '1c.3g.40gb',
        migInstanceId: 1,
        memoryTotalBytes: 40448 * MIB,
        memoryUsedBytes: 500 * MIB,
      },
      {
        id: 'GPU-s/7',
        uuid: 'GPU-s',
        index: 3,
        pciBusId: '00000000:07:00.0',
        model: 'Test GPU',
        migUuid: 'MIG-c',
        migProfile: '1g.10gb',
        migInstanceId: 7,
        memoryTotalBytes: 9984 * MIB,
        memoryUsedBytes: 9 * MIB,
      },
    ]);
  });
});
