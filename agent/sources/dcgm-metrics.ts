// Turns one dcgm-exporter scrape (already parsed into metric families) into GPU samples: one per physical GPU
// and one per MIG instance. Pure: no I/O. The `dcgm` source (dcgm.ts) fetches and parses; this maps.
//
// Keys. A series belongs to the GPU named by its `UUID` label; a MIG instance's series carry the *parent's*
// UUID plus `GPU_I_ID` (and `GPU_I_PROFILE`), so instances are keyed `${uuid}/${GPU_I_ID}`, the id form the
// Samples contract uses. Series without a UUID label are ignored: there is nothing to join them to (the Datadog
// T4 fixture has a block of such label-less dummy values; NVLink/NvSwitch series use `gpu_uuid` and other
// fields, none of which are mapped here).
//
// Labels are read case-insensitively: dcgm-exporter renamed `Hostname` to `hostname`, `--use-old-namespace`
// writes `uuid`, and relabelling pipelines lower-case names.
//
// Values. DCGM writes "blank" sentinels for fields a GPU does not support (vGPU, consumer cards, no
// SYS_ADMIN for profiling fields); those become missing fields, never huge numbers. Everything kept is
// finite; ratios are clamped to 0..1; counts, memory, power, clocks and energy are never negative.
import type { Labels, MetricFamily } from '../../core/prometheus/types.ts';
import type { GpuSample } from '../samples.ts';

const MIB = 2 ** 20;

/** GPU fields this module maps, by the dcgm-exporter metric that carries them. */
type DcgmField =
  | 'grEngineActive'
  | 'gpuUtilPercent'
  | 'smActive'
  | 'tensorActive'
  | 'fbUsedMib'
  | 'fbFreeMib'
  | 'fbReservedMib'
  | 'fbTotalMib'
  | 'powerWatts'
  | 'energyMillijoules'
  | 'temperatureCelsius'
  | 'smClockMhz'
  | 'lastXid';

const FIELD_BY_METRIC: ReadonlyMap<string, DcgmField> = new Map<string, DcgmField>([
  ['DCGM_FI_PROF_GR_ENGINE_ACTIVE', 'grEngineActive'],
  ['DCGM_FI_DEV_GPU_UTIL', 'gpuUtilPercent'],
  ['DCGM_FI_PROF_SM_ACTIVE', 'smActive'],
  ['DCGM_FI_PROF_PIPE_TENSOR_ACTIVE', 'tensorActive'],
  ['DCGM_FI_DEV_FB_USED', 'fbUsedMib'],
  ['DCGM_FI_DEV_FB_FREE', 'fbFreeMib'],
  ['DCGM_FI_DEV_FB_RESERVED', 'fbReservedMib'],
  ['DCGM_FI_DEV_FB_TOTAL', 'fbTotalMib'],
  ['DCGM_FI_DEV_POWER_USAGE', 'powerWatts'],
  ['DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION', 'energyMillijoules'],
  ['DCGM_FI_DEV_GPU_TEMP', 'temperatureCelsius'],
  ['DCGM_FI_DEV_SM_CLOCK', 'smClockMhz'],
  ['DCGM_FI_DEV_XID_ERRORS', 'lastXid'],
]);

// DCGM blank values (dcgm_structs.h): each type has a base and 15 values above it meaning "blank", "not
// found", "not supported", "not permissioned", ... NVML's own "unknown" is all ones.
/** DCGM_INT32_BLANK (0x7ffffff0) up to INT32_MAX (0x7fffffff, which some fields use as "unknown"). */
const INT32_BLANK_FIRST = 0x7ffffff0;
const INT32_BLANK_LAST = 0x7fffffff;
/**
 * DCGM_INT64_BLANK (0x7ffffffffffffff0) and the values above it, INT64_MAX (9223372036854775807) and
 * UINT64_MAX (18446744073709551615): as doubles they are all >= 2^63 (9.223372036854776e18), and no field
 * mapped here can reach that, so anything from 2^63 up is blank.
 */
const INT64_BLANK_FLOOR = 2 ** 63;
/** DCGM_FP64_BLANK is 2^47 (140737488355328.0); blank variants are 2^47 + 0..15. */
const FP64_BLANK_FIRST = 2 ** 47;
const FP64_BLANK_LAST = 2 ** 47 + 15;

/** True when `value` is one of DCGM's "no value" sentinels (or not a finite number at all). */
export function isDcgmBlank(value: number, int32Sentinels = true): boolean {
  if (!Number.isFinite(value)) return true;
  if (value >= INT64_BLANK_FLOOR || value <= -INT64_BLANK_FLOOR) return true;
  if (value >= FP64_BLANK_FIRST && value <= FP64_BLANK_LAST) return true;
  return int32Sentinels && value >= INT32_BLANK_FIRST && value <= INT32_BLANK_LAST;
}

interface DeviceAccumulator {
  uuid: string;
  /** GPU instance id for a MIG instance; undefined for the whole GPU. */
  gpuInstanceId?: number;
  migProfile?: string;
  index?: number;
  model?: string;
  pciBusId?: string;
  holder?: { namespace: string; pod: string; container?: string };
  /** Set once two series of this device named different pods: the GPU is shared, holder is unknown. */
  holderConflict: boolean;
  values: Partial<Record<DcgmField, number>>;
}

/**
 * Maps a dcgm-exporter scrape to GPU samples, in the order the devices first appear. A GPU whose series carry
 * `GPU_I_ID` yields one sample per MIG instance (id `${uuid}/${GPU_I_ID}`) besides the whole-GPU sample.
 */
export function parseDcgmScrape(families: readonly MetricFamily[]): GpuSample[] {
  const devices = new Map<string, DeviceAccumulator>();
  for (const family of families) {
    for (const sample of family.samples) {
      if (!sample.name.startsWith('DCGM_')) continue;
      const uuid = nonEmpty(readLabel(sample.labels, 'uuid'));
      // No UUID: nothing to join the value to (label-less dummy series, or a pipeline that dropped it).
      if (uuid === undefined) continue;
      const instanceLabel = nonEmpty(readLabel(sample.labels, 'gpu_i_id'));
      const gpuInstanceId = instanceLabel === undefined ? undefined : parseIndex(instanceLabel);
      // A GPU_I_ID that is not a small integer cannot be keyed reliably; skip rather than misattribute.
      if (instanceLabel !== undefined && gpuInstanceId === undefined) continue;
      const key = gpuInstanceId === undefined ? uuid : `${uuid}/${gpuInstanceId}`;
      let device = devices.get(key);
      if (!device) {
        device = { uuid, gpuInstanceId, holderConflict: false, values: {} };
        devices.set(key, device);
      }
      describeDevice(device, sample.labels);
      const field = FIELD_BY_METRIC.get(sample.name);
      if (field !== undefined) {
        // The energy counter is an int64 in mJ that passes through the int32 sentinel range legitimately.
        const value = sample.value;
        if (!isDcgmBlank(value, field !== 'energyMillijoules')) device.values[field] = value;
      }
    }
  }

  // A GPU with MIG instances in the scrape is in MIG mode: DEV_GPU_UTIL is not supported there (it reads 0 or
  // blank), so the whole GPU gets activity only from the profiling engine-active ratio.
  const migParents = new Set<string>();
  for (const device of devices.values()) if (device.gpuInstanceId !== undefined) migParents.add(device.uuid);

  const gpus: GpuSample[] = [];
  for (const [id, device] of devices) gpus.push(toSample(id, device, migParents.has(device.uuid)));
  return gpus;
}

/** Fills identity labels the first time a series of the device carries them, and tracks the holder. */
function describeDevice(device: DeviceAccumulator, labels: Labels): void {
  if (device.index === undefined) {
    const gpu = readLabel(labels, 'gpu');
    if (gpu !== undefined) device.index = parseIndex(gpu);
  }
  device.model ??= nonEmpty(readLabel(labels, 'modelname'));
  device.pciBusId ??= nonEmpty(readLabel(labels, 'pci_bus_id'));
  if (device.gpuInstanceId !== undefined) device.migProfile ??= nonEmpty(readLabel(labels, 'gpu_i_profile'));

  // dcgm-exporter's Kubernetes mapping; `--use-old-namespace` writes pod_namespace/pod_name/container_name.
  const namespace = nonEmpty(readLabel(labels, 'namespace') ?? readLabel(labels, 'pod_namespace'));
  const pod = nonEmpty(readLabel(labels, 'pod') ?? readLabel(labels, 'pod_name'));
  if (namespace === undefined || pod === undefined || device.holderConflict) return;
  const container = nonEmpty(readLabel(labels, 'container') ?? readLabel(labels, 'container_name'));
  if (!device.holder) {
    device.holder = container === undefined ? { namespace, pod } : { namespace, pod, container };
  } else if (device.holder.namespace !== namespace || device.holder.pod !== pod) {
    // Time-sliced GPU: every sharing pod gets its own copy of the series. One holder cannot be named.
    device.holderConflict = true;
    device.holder = undefined;
  }
}

function toSample(id: string, device: DeviceAccumulator, inMigMode: boolean): GpuSample {
  const v = device.values;
  const gpu: GpuSample = { id, uuid: device.uuid };
  if (device.index !== undefined) gpu.index = device.index;
  if (device.pciBusId !== undefined) gpu.pciBusId = device.pciBusId;
  if (device.model !== undefined) gpu.model = device.model;
  if (device.gpuInstanceId !== undefined) {
    gpu.migInstanceId = device.gpuInstanceId;
    if (device.migProfile !== undefined) gpu.migProfile = device.migProfile;
  }

  // GR_ENGINE_ACTIVE measures the share of time the graphics/compute engine was busy; DEV_GPU_UTIL only says
  // "a kernel was running" during the sample period, so it is the fallback.
  const activity =
    v.grEngineActive ??
    (v.gpuUtilPercent !== undefined && device.gpuInstanceId === undefined && !inMigMode
      ? v.gpuUtilPercent / 100
      : undefined);
  setRatio(gpu, 'activity', activity);
  setRatio(gpu, 'smActivity', v.smActive);
  setRatio(gpu, 'tensorActivity', v.tensorActive);

  setNonNegative(gpu, 'memoryUsedBytes', v.fbUsedMib, MIB);
  // dcgm-exporter does not export FB_TOTAL by default: total = used + free + reserved. Where FB_TOTAL is
  // configured it wins (the sum would be wrong if one part is missing).
  const total =
    v.fbTotalMib ??
    (v.fbUsedMib !== undefined && v.fbFreeMib !== undefined
      ? v.fbUsedMib + v.fbFreeMib + (v.fbReservedMib ?? 0)
      : undefined);
  setNonNegative(gpu, 'memoryTotalBytes', total, MIB);
  setNonNegative(gpu, 'powerWatts', v.powerWatts, 1);
  setNonNegative(gpu, 'energyJoules', v.energyMillijoules, 1 / 1000);
  if (v.temperatureCelsius !== undefined) gpu.temperatureCelsius = v.temperatureCelsius;
  setNonNegative(gpu, 'smClockMhz', v.smClockMhz, 1);
  if (v.lastXid !== undefined && Number.isInteger(v.lastXid) && v.lastXid >= 0) gpu.lastXid = v.lastXid;
  if (device.holder) gpu.holder = device.holder;
  return gpu;
}

type NumericField = 'activity' | 'smActivity' | 'tensorActivity';
type AmountField = 'memoryUsedBytes' | 'memoryTotalBytes' | 'powerWatts' | 'energyJoules' | 'smClockMhz';

function setRatio(gpu: GpuSample, field: NumericField, value: number | undefined): void {
  if (value === undefined || !Number.isFinite(value)) return;
  gpu[field] = Math.min(1, Math.max(0, value));
}

/** A negative reading of an amount is not a reading (the protocol rejects it): leave the field out. */
function setNonNegative(gpu: GpuSample, field: AmountField, value: number | undefined, scale: number): void {
  if (value === undefined) return;
  const scaled = value * scale;
  if (Number.isFinite(scaled) && scaled >= 0) gpu[field] = scaled;
}

/**
 * A label's value, its name matched case-insensitively (`UUID`/`uuid`, `Hostname`/`hostname`,
 * `GPU_I_ID`/`gpu_i_id`). `lowerName` must be lower case.
 */
export function readLabel(labels: Labels, lowerName: string): string | undefined {
  const exact = labels[lowerName];
  if (exact !== undefined) return exact;
  for (const name in labels) {
    if (name.length === lowerName.length && name.toLowerCase() === lowerName) return labels[name];
  }
  return undefined;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

/** A small non-negative decimal integer (`"0"`, `"13"`); undefined for anything else. */
function parseIndex(text: string): number | undefined {
  if (!/^\d{1,9}$/.test(text)) return undefined;
  return Number(text);
}
