// Tests of the dcgm-exporter scrape → GPU samples mapping, against the real scrapes in
// test/fixtures/real/dcgm-exporter/ (values read from the files by hand, line numbers given) and small
// hand-written scrapes for the edge cases no fixture has (sentinels, conflicting holders).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parsePrometheusText } from '../../core/prometheus/parse.ts';
import type { MetricFamily } from '../../core/prometheus/types.ts';
import { isDcgmBlank, parseDcgmScrape, readLabel } from './dcgm-metrics.ts';

const MIB = 2 ** 20;
const fixture = (name: string) =>
  readFileSync(new URL(`../../test/fixtures/real/dcgm-exporter/${name}`, import.meta.url), 'utf8');
const scrape = (text: string) => parseDcgmScrape(parsePrometheusText(text));

describe('parseDcgmScrape on the kOps L4 scrape (dcgm-exporter 4.x, GPU Operator)', () => {
  const gpus = scrape(fixture('kops-e2e-l4-gpu-operator-metrics.txt'));

  it('reads the one L4 with its identity labels', () => {
    expect(gpus).toHaveLength(1);
    const gpu = gpus[0]!;
    // Line 3: gpu="0", UUID="GPU-c2f76b33-7953-256e-8f33-1343419b1a1c", pci_bus_id="00000000:31:00.0",
    // modelName="NVIDIA L4". No namespace/pod labels anywhere in the file: no holder.
    expect(gpu.id).toBe('GPU-c2f76b33-7953-256e-8f33-1343419b1a1c');
    expect(gpu.uuid).toBe('GPU-c2f76b33-7953-256e-8f33-1343419b1a1c');
    expect(gpu.index).toBe(0);
    expect(gpu.pciBusId).toBe('00000000:31:00.0');
    expect(gpu.model).toBe('NVIDIA L4');
    expect(gpu.holder).toBeUndefined();
    expect(gpu.migProfile).toBeUndefined();
    expect(gpu.migInstanceId).toBeUndefined();
  });

  it('reads activity from GR_ENGINE_ACTIVE, tensor activity, memory, power, energy, temperature, clock', () => {
    const gpu = gpus[0]!;
    // Line 57: DCGM_FI_PROF_GR_ENGINE_ACTIVE 0.000000 (line 24: DCGM_FI_DEV_GPU_UTIL 0 too; the test below
    // shows which of the two is used). Line 60: DCGM_FI_PROF_PIPE_TENSOR_ACTIVE 0.000000.
    expect(gpu.activity).toBe(0);
    expect(gpu.tensorActivity).toBe(0);
    // SM_ACTIVE is not in the 4.x default counters (not in this file).
    expect(gpu.smActivity).toBeUndefined();
    // Line 39: FB_USED 0 MiB. Lines 36, 42: FB_FREE 22563, FB_RESERVED 470 → total (0+22563+470) MiB.
    expect(gpu.memoryUsedBytes).toBe(0);
    expect(gpu.memoryTotalBytes).toBe((0 + 22563 + 470) * MIB);
    // Line 15: POWER_USAGE 16.365000 W. Line 18: TOTAL_ENERGY_CONSUMPTION 4742776 mJ → 4742.776 J.
    expect(gpu.powerWatts).toBeCloseTo(16.365, 9);
    expect(gpu.energyJoules).toBeCloseTo(4742.776, 9);
    // Line 12: GPU_TEMP 31. Line 3: SM_CLOCK 210.
    expect(gpu.temperatureCelsius).toBe(31);
    expect(gpu.smClockMhz).toBe(210);
    // No DCGM_FI_DEV_XID_ERRORS in the 4.x default set shown here.
    expect(gpu.lastXid).toBeUndefined();
  });

  it('prefers GR_ENGINE_ACTIVE over GPU_UTIL when both are present', () => {
    // Both are 0 in the file, so the GR_ENGINE_ACTIVE sample is set to 0.25 here (a test edit, not fixture
    // data): activity follows it, not GPU_UTIL (line 24, 0 %).
    const families = parsePrometheusText(fixture('kops-e2e-l4-gpu-operator-metrics.txt'));
    const gr = families.find((f) => f.name === 'DCGM_FI_PROF_GR_ENGINE_ACTIVE')!;
    gr.samples[0]!.value = 0.25;
    expect(parseDcgmScrape(families)[0]!.activity).toBe(0.25);
  });
});

describe('parseDcgmScrape on the vGPU scrape (GRID A100-10C, no PROF fields)', () => {
  const gpus = scrape(fixture('vks-vgpu-grid-a100-10c-excerpt.txt'));

  it('works without profiling fields: activity falls back to GPU_UTIL / 100', () => {
    expect(gpus).toHaveLength(1);
    const gpu = gpus[0]!;
    // Line 3: gpu="0", UUID="GPU-44d2411e-1604-478f-aa96-5a3c00000000", pci_bus_id="00000000:03:00.0",
    // modelName="GRID A100-10C".
    expect(gpu.id).toBe('GPU-44d2411e-1604-478f-aa96-5a3c00000000');
    expect(gpu.index).toBe(0);
    expect(gpu.pciBusId).toBe('00000000:03:00.0');
    expect(gpu.model).toBe('GRID A100-10C');
    // Line 12: DCGM_FI_DEV_GPU_UTIL 0 → 0/100. No DCGM_FI_PROF_* line in the file.
    expect(gpu.activity).toBe(0);
    expect(gpu.smActivity).toBeUndefined();
    expect(gpu.tensorActivity).toBeUndefined();
    // Lines 24, 27, 30: FB_FREE 9323, FB_USED 0, FB_RESERVED 916 MiB.
    expect(gpu.memoryUsedBytes).toBe(0);
    expect(gpu.memoryTotalBytes).toBe((0 + 9323 + 916) * MIB);
    // Line 3: SM_CLOCK 1410. No POWER_USAGE, GPU_TEMP or energy lines in this excerpt.
    expect(gpu.smClockMhz).toBe(1410);
    expect(gpu.powerWatts).toBeUndefined();
    expect(gpu.temperatureCelsius).toBeUndefined();
    expect(gpu.energyJoules).toBeUndefined();
  });
});

describe('parseDcgmScrape on the NVIDIA docs A100 MIG excerpt (dcgm-exporter 2.x)', () => {
  const gpus = scrape(fixture('nvidia-docs-a100-mig-excerpt.txt'));
  const parentUuid = 'GPU-34319582-d595-d1c7-d1d2-179bcfa61660';

  it('yields the whole GPU and the 1g.5gb instance (GPU_I_ID 13) joined to the parent UUID', () => {
    // Lines 1-17: whole-GPU series; lines 19-22: the same UUID with GPU_I_PROFILE="1g.5gb", GPU_I_ID="13".
    expect(gpus.map((gpu) => gpu.id)).toEqual([parentUuid, `${parentUuid}/13`]);
    const instance = gpus[1]!;
    expect(instance.uuid).toBe(parentUuid);
    expect(instance.migInstanceId).toBe(13);
    expect(instance.migProfile).toBe('1g.5gb');
    // Line 20: GR_ENGINE_ACTIVE 0.995687; line 21: PIPE_TENSOR_ACTIVE 0.930433; line 19: XID_ERRORS 0.
    expect(instance.activity).toBe(0.995687);
    expect(instance.tensorActivity).toBe(0.930433);
    expect(instance.lastXid).toBe(0);
    // The instance series carry gpu="0" (the parent's index); no FB/power series for the instance.
    expect(instance.index).toBe(0);
    expect(instance.memoryUsedBytes).toBeUndefined();
    expect(instance.powerWatts).toBeUndefined();
  });

  it('reads the whole GPU from the series without GPU_I_ID', () => {
    const gpu = gpus[0]!;
    expect(gpu.uuid).toBe(parentUuid);
    expect(gpu.migInstanceId).toBeUndefined();
    expect(gpu.migProfile).toBeUndefined();
    // Old label set: no modelName, no pci_bus_id (line 1).
    expect(gpu.model).toBeUndefined();
    expect(gpu.pciBusId).toBeUndefined();
    // Line 13: GR_ENGINE_ACTIVE 0.995630 (whole-GPU value as DCGM measures it); line 14: TENSOR 0.929260.
    expect(gpu.activity).toBe(0.99563);
    expect(gpu.tensorActivity).toBe(0.92926);
    // Lines 9, 10: FB_FREE 35690, FB_USED 4845 MiB; no FB_RESERVED in 2.x → total = used + free.
    expect(gpu.memoryUsedBytes).toBe(4845 * MIB);
    expect(gpu.memoryTotalBytes).toBe((4845 + 35690) * MIB);
    // Line 5: POWER_USAGE 409.692000; line 6: TOTAL_ENERGY_CONSUMPTION 319159391 mJ; line 4: GPU_TEMP 61;
    // line 1: SM_CLOCK 1215; line 8: XID_ERRORS 0.
    expect(gpu.powerWatts).toBeCloseTo(409.692, 9);
    expect(gpu.energyJoules).toBeCloseTo(319159.391, 6);
    expect(gpu.temperatureCelsius).toBe(61);
    expect(gpu.smClockMhz).toBe(1215);
    expect(gpu.lastXid).toBe(0);
  });
});

describe('parseDcgmScrape on the Datadog mixed T4/A10G fixture', () => {
  const gpus = scrape(fixture('datadog-t4-mixed-metrics.txt'));

  it('ignores the label-less dummy series (lines 71-113) and keeps the three GPUs that have a UUID', () => {
    // Lines 3-48: GPU-20c56d28-... (T4, driver 460); lines 51-70: GPU-9ef1b6d0-... (T4, driver 470);
    // line 116: GPU-abc (A10G). Lines 74-113 have no labels at all: no UUID, nothing to join to.
    expect(gpus.map((gpu) => gpu.id)).toEqual([
      'GPU-20c56d28-0da5-6d26-a36a-e7af1ce2586e',
      'GPU-9ef1b6d0-3643-5dd7-b823-c0ec20dcf2d5',
      'GPU-abc',
    ]);
  });

  it('reads the first T4 (old exporter, no PROF fields)', () => {
    const gpu = gpus[0]!;
    expect(gpu.model).toBe('Tesla T4');
    expect(gpu.index).toBe(0);
    // Line 21: GPU_UTIL 0 → activity 0. Lines 36, 39: FB_FREE 15109, FB_USED 0, no FB_RESERVED.
    expect(gpu.activity).toBe(0);
    expect(gpu.memoryUsedBytes).toBe(0);
    expect(gpu.memoryTotalBytes).toBe((0 + 15109) * MIB);
    // Line 12: POWER 8.969000 W; line 15: energy 128996013 mJ; line 9: temp 25; line 3: SM clock 300;
    // line 33: XID_ERRORS 0.
    expect(gpu.powerWatts).toBeCloseTo(8.969, 9);
    expect(gpu.energyJoules).toBeCloseTo(128996.013, 6);
    expect(gpu.temperatureCelsius).toBe(25);
    expect(gpu.smClockMhz).toBe(300);
    expect(gpu.lastXid).toBe(0);
  });

  it('takes FB_TOTAL when the exporter is configured to send it', () => {
    const gpu = gpus[1]!;
    // Line 60: FB_TOTAL 15109. Line 64: FB_RESERVED 15109 (copied from FB_TOTAL by Datadog, line 61 says so);
    // no FB_USED / FB_FREE: the total is FB_TOTAL, not a sum.
    expect(gpu.memoryTotalBytes).toBe(15109 * MIB);
    expect(gpu.memoryUsedBytes).toBeUndefined();
    expect(gpu.activity).toBeUndefined();
  });

  it('sets the holder from dcgm-exporter namespace/pod/container labels', () => {
    // Line 116: container="ray-worker", namespace="ray-llm", pod="ray-1111111", modelName="NVIDIA A10G".
    const gpu = gpus[2]!;
    expect(gpu.model).toBe('NVIDIA A10G');
    expect(gpu.holder).toEqual({ namespace: 'ray-llm', pod: 'ray-1111111', container: 'ray-worker' });
    // Its only series is PROF_DRAM_ACTIVE, which is not mapped: inventory and holder only.
    expect(gpu.activity).toBeUndefined();
  });
});

describe('parseDcgmScrape on hand-written edge cases', () => {
  it('turns DCGM blank sentinels into missing fields, never huge numbers', () => {
    // Values from dcgm_structs.h: INT32 blank 0x7ffffff0 (2147483632) .. INT32_MAX, INT64 blank
    // 0x7ffffffffffffff0 and INT64_MAX (both print as ~9.223372036854776e18), FP64 blank 2^47 (+1..15),
    // and NVML's UINT64_MAX (1.8446744073709552e19).
    const gpus = scrape(`
DCGM_FI_DEV_SM_CLOCK{gpu="0",UUID="GPU-a"} 2147483647
DCGM_FI_DEV_GPU_TEMP{gpu="0",UUID="GPU-a"} 2147483632
DCGM_FI_DEV_POWER_USAGE{gpu="0",UUID="GPU-a"} 140737488355328
DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION{gpu="0",UUID="GPU-a"} 9223372036854775794
DCGM_FI_DEV_FB_USED{gpu="0",UUID="GPU-a"} 9223372036854775807
DCGM_FI_DEV_FB_FREE{gpu="0",UUID="GPU-a"} 9.223372036854776e18
DCGM_FI_DEV_XID_ERRORS{gpu="0",UUID="GPU-a"} 1.8446744073709552e19
DCGM_FI_PROF_GR_ENGINE_ACTIVE{gpu="0",UUID="GPU-a"} 140737488355330
DCGM_FI_DEV_GPU_UTIL{gpu="0",UUID="GPU-a"} 2147483634
DCGM_FI_PROF_SM_ACTIVE{gpu="0",UUID="GPU-a"} NaN
DCGM_FI_PROF_PIPE_TENSOR_ACTIVE{gpu="0",UUID="GPU-a"} +Inf
`);
    expect(gpus).toEqual([{ id: 'GPU-a', uuid: 'GPU-a', index: 0 }]);
  });

  it('keeps an energy counter that passes through the int32 sentinel range (it is an int64 in mJ)', () => {
    const gpus = scrape('DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION{UUID="GPU-a"} 2147483640\n');
    expect(gpus[0]!.energyJoules).toBeCloseTo(2147483.64, 6);
  });

  it('clamps ratios to 0..1 and drops negative amounts', () => {
    const gpus = scrape(`
DCGM_FI_PROF_GR_ENGINE_ACTIVE{UUID="GPU-a"} 1.7
DCGM_FI_PROF_SM_ACTIVE{UUID="GPU-a"} -0.2
DCGM_FI_DEV_POWER_USAGE{UUID="GPU-a"} -5
DCGM_FI_DEV_XID_ERRORS{UUID="GPU-a"} 79
DCGM_FI_DEV_GPU_TEMP{UUID="GPU-a"} -3
`);
    expect(gpus[0]).toMatchObject({ activity: 1, smActivity: 0, lastXid: 79, temperatureCelsius: -3 });
    expect(gpus[0]!.powerWatts).toBeUndefined();
  });

  it('reads labels case-insensitively (uuid, gpu_i_id, gpu_i_profile, modelname, pod_name)', () => {
    const gpus = scrape(`
DCGM_FI_DEV_FB_USED{gpu="2",uuid="GPU-b",modelname="NVIDIA H100 80GB HBM3",hostname="n1"} 100
DCGM_FI_PROF_GR_ENGINE_ACTIVE{gpu="2",uuid="GPU-b",gpu_i_profile="3g.40gb",gpu_i_id="2",pod_namespace="ml",pod_name="train-0",container_name="main"} 0.5
`);
    expect(gpus).toEqual([
      { id: 'GPU-b', uuid: 'GPU-b', index: 2, model: 'NVIDIA H100 80GB HBM3', memoryUsedBytes: 100 * MIB },
      {
        id: 'GPU-b/2',
        uuid: 'GPU-b',
        index: 2,
        migInstanceId: 2,
        migProfile: '3g.40gb',
        activity: 0.5,
        holder: { namespace: 'ml', pod: 'train-0', container: 'main' },
      },
    ]);
    expect(readLabel({ Hostname: 'x' }, 'hostname')).toBe('x');
  });

  it('gives a MIG-mode parent no activity from GPU_UTIL (unsupported under MIG)', () => {
    const gpus = scrape(`
DCGM_FI_DEV_GPU_UTIL{gpu="0",UUID="GPU-c"} 0
DCGM_FI_PROF_GR_ENGINE_ACTIVE{gpu="0",UUID="GPU-c",GPU_I_PROFILE="1g.10gb",GPU_I_ID="9"} 0.4
`);
    expect(gpus[0]!.activity).toBeUndefined();
    expect(gpus[1]!.activity).toBe(0.4);
  });

  it('names no holder when pods sharing a GPU (time-slicing) each get a copy of the series', () => {
    const gpus = scrape(`
DCGM_FI_DEV_GPU_UTIL{UUID="GPU-d",namespace="a",pod="p1",container="c"} 50
DCGM_FI_DEV_GPU_UTIL{UUID="GPU-d",namespace="a",pod="p2",container="c"} 50
`);
    expect(gpus).toHaveLength(1);
    expect(gpus[0]!.holder).toBeUndefined();
    expect(gpus[0]!.activity).toBe(0.5);
  });

  it('ignores series without a UUID, non-DCGM families and unusable GPU_I_ID values', () => {
    const families: MetricFamily[] = parsePrometheusText(`
DCGM_FI_DEV_GPU_UTIL 12
DCGM_FI_DEV_GPU_UTIL{UUID=""} 12
node_load1{UUID="GPU-e"} 3
DCGM_FI_DEV_GPU_UTIL{UUID="GPU-f",GPU_I_ID="x"} 12
`);
    expect(parseDcgmScrape(families)).toEqual([]);
  });

  it('isDcgmBlank separates sentinels from ordinary readings', () => {
    expect(isDcgmBlank(0)).toBe(false);
    expect(isDcgmBlank(2147483631)).toBe(false);
    expect(isDcgmBlank(2147483632)).toBe(true);
    expect(isDcgmBlank(2147483632, false)).toBe(false);
    expect(isDcgmBlank(2 ** 47 + 15)).toBe(true);
    expect(isDcgmBlank(2 ** 47 + 16)).toBe(false);
    expect(isDcgmBlank(Number('9223372036854775807'))).toBe(true); // INT64_MAX
    expect(isDcgmBlank(Number.NaN)).toBe(true);
  });
});
