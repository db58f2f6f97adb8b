// MIG inventory from nvidia-smi, pure (no I/O): `nvidia-smi -L` and `nvidia-smi -q -x` are parsed here and
// joined into one GPU sample per MIG GPU instance.
//
// Neither output is enough alone:
// - `-L` names each MIG device's profile (`3g.40gb`) and MIG UUID, numbered per GPU (`Device 0..n`), but
//   not its GPU instance (GI) id (R450-R460 drivers wrote `MIG-GPU-<uuid>/<gi>/<ci>` UUIDs that do carry it).
// - `-q -x` gives each `<mig_device>` its `<index>` (the same per-GPU device number as -L), `gpu_instance_id`,
//   `compute_instance_id` and `fb_memory_usage`, but the v12 DTD has no profile name and no MIG UUID. The
//   profile is not derived from the SM count or memory: the mapping differs per GPU model (H100 3g has 60
//   SMs, A100 3g 42) and a guess would be a wrong label. Without -L the profile stays unset.
// The join key is (parent GPU UUID, device number). A sample's id is `${parentUuid}/${gi}`, the same key
// dcgm-exporter's series give (UUID + GPU_I_ID), so both sources describe the same instance. Where the GI id
// is unknown (no XML row for the device), the MIG UUID is the id: stable, but not joinable to dcgm.
// One GI can hold several compute instances (several MIG devices, e.g. `1c.3g.40gb`): they share the GI's
// memory and are one sample; its MIG UUID is left out then, as no single device stands for the instance.
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { GpuSample } from '../samples.ts';
import { type ComputeApp, isMissing, MEMORY_AS_BYTES, PLAIN, readQuantity } from './nvidia-smi-csv.ts';

/** A GPU line of `nvidia-smi -L` and the MIG devices listed under it. */
export interface ListedGpu {
  index: number;
  name: string;
  uuid: string;
  migDevices: ListedMigDevice[];
}

export interface ListedMigDevice {
  /** `Device N`: the MIG device number within its GPU (the XML `<index>`). */
  deviceIndex: number;
  profile: string;
  migUuid: string;
  /** Only from the old `MIG-GPU-<uuid>/<gi>/<ci>` UUID form. */
  gpuInstanceId?: number;
  computeInstanceId?: number;
}

const GPU_LINE = /^GPU (\d+): (.*?) \(UUID: (GPU-[^)\s]+)\)$/;
const MIG_LINE = /^MIG (\S+)\s+Device\s+(\d+): \(UUID: (MIG-[^)\s]+)\)$/;
/** R450-R460 MIG UUIDs: `MIG-GPU-<parent uuid>/<gi>/<ci>`. */
const OLD_MIG_UUID = /^MIG-GPU-[^/]+\/(\d+)\/(\d+)$/;

/**
 * Parses `nvidia-smi -L`. Lines that are neither a GPU nor a MIG device line (blank lines, warnings) are
 * skipped; a MIG line before any GPU line is an error.
 */
export function parseNvidiaSmiList(text: string): ListedGpu[] {
  const gpus: ListedGpu[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    const gpu = GPU_LINE.exec(line);
    if (gpu) {
      gpus.push({ index: Number(gpu[1]), name: gpu[2]!, uuid: gpu[3]!, migDevices: [] });
      continue;
    }
    const mig = MIG_LINE.exec(line);
    if (!mig) continue;
    const parent = gpus.at(-1);
    if (!parent)
      throw new Error(`nvidia-smi -L line ${i + 1}: MIG device before any GPU: ${line.slice(0, 200)}`);
    const device: ListedMigDevice = { deviceIndex: Number(mig[2]), profile: mig[1]!, migUuid: mig[3]! };
    const old = OLD_MIG_UUID.exec(device.migUuid);
    if (old) {
      device.gpuInstanceId = Number(old[1]);
      device.computeInstanceId = Number(old[2]);
    }
    parent.migDevices.push(device);
  }
  return gpus;
}

/** What `nvidia-smi -q -x` says about one GPU, as far as cost monitoring needs it. */
export interface XmlGpu {
  uuid: string;
  productName?: string;
  pciBusId?: string;
  /** `<mig_mode><current_mig>` is Enabled. */
  migEnabled: boolean;
  memoryTotalBytes?: number;
  memoryUsedBytes?: number;
  migDevices: XmlMigDevice[];
  processes: ComputeApp[];
}

export interface XmlMigDevice {
  /** `<index>`: the MIG device number within its GPU (`Device N` in -L). */
  index: number;
  gpuInstanceId: number;
  computeInstanceId?: number;
  memoryTotalBytes?: number;
  memoryUsedBytes?: number;
}

type XmlNode = { [name: string]: XmlValue };
type XmlValue = string | XmlNode | XmlValue[];

const xmlParser = new XMLParser({
  ignoreAttributes: true,
  // Keep every value a string: "N/A", "19968 MiB" and "00000000:01:00.0" are read by the code below.
  parseTagValue: false,
  trimValues: true,
  ignoreDeclaration: true,
  isArray: (name) => name === 'gpu' || name === 'mig_device' || name === 'process_info',
});

/** Parses `nvidia-smi -q -x` (DTD v11/v12/v13: the elements read here are common to all three). */
export function parseNvidiaSmiXml(xml: string): XmlGpu[] {
  const valid = XMLValidator.validate(xml);
  if (valid !== true) {
    throw new Error(`nvidia-smi -q -x: invalid XML at line ${valid.err.line}: ${valid.err.msg}`);
  }
  const root = asNode(asNode(xmlParser.parse(xml) as XmlValue)?.['nvidia_smi_log']);
  if (!root) throw new Error('nvidia-smi -q -x: no <nvidia_smi_log> root element');
  const gpus: XmlGpu[] = [];
  asArray(root['gpu']).forEach((value, position) => {
    const node = asNode(value);
    const where = `nvidia-smi -q -x <gpu> #${position + 1}`;
    const uuid = text(node?.['uuid']);
    if (!node || uuid === undefined) throw new Error(`${where}: no <uuid>`);
    const gpu: XmlGpu = {
      uuid,
      migEnabled: /^enabled$/i.test(text(path(node, 'mig_mode', 'current_mig')) ?? ''),
      migDevices: [],
      processes: [],
    };
    const productName = text(node['product_name']);
    if (productName !== undefined) gpu.productName = productName;
    const pciBusId = text(path(node, 'pci', 'pci_bus_id'));
    if (pciBusId !== undefined) gpu.pciBusId = pciBusId;
    const memory = readMemory(asNode(node['fb_memory_usage']), `${where} fb_memory_usage`);
    Object.assign(gpu, memory);

    // `<mig_devices>None</mig_devices>` on GPUs without MIG: asNode() gives undefined, so no devices.
    asArray(asNode(node['mig_devices'])?.['mig_device']).forEach((deviceValue, at) => {
      const device = asNode(deviceValue);
      const deviceWhere = `${where} <mig_device> #${at + 1}`;
      const index = readInteger(device?.['index'], `${deviceWhere} index`);
      const gpuInstanceId = readInteger(device?.['gpu_instance_id'], `${deviceWhere} gpu_instance_id`);
      if (index === undefined || gpuInstanceId === undefined) {
        throw new Error(`${deviceWhere}: needs <index> and <gpu_instance_id>`);
      }
      const mig: XmlMigDevice = { index, gpuInstanceId };
      const computeInstanceId = readInteger(
        device?.['compute_instance_id'],
        `${deviceWhere} compute_instance_id`,
      );
      if (computeInstanceId !== undefined) mig.computeInstanceId = computeInstanceId;
      Object.assign(mig, readMemory(asNode(device?.['fb_memory_usage']), `${deviceWhere} fb_memory_usage`));
      gpu.migDevices.push(mig);
    });

    asArray(asNode(node['processes'])?.['process_info']).forEach((processValue, at) => {
      const process = asNode(processValue);
      const processWhere = `${where} <process_info> #${at + 1}`;
      const pid = readInteger(process?.['pid'], `${processWhere} pid`);
      if (!process || pid === undefined) return;
      const app: ComputeApp = { gpuUuid: uuid, pid };
      const name = text(process['process_name']);
      if (name !== undefined) app.processName = name;
      const used = readQuantity(
        text(process['used_memory']) ?? '',
        MEMORY_AS_BYTES,
        `${processWhere} used_memory`,
      );
      if (used !== undefined && used >= 0) app.usedMemoryBytes = used;
      const gi = readInteger(process['gpu_instance_id'], `${processWhere} gpu_instance_id`);
      if (gi !== undefined) app.gpuInstanceId = gi;
      const ci = readInteger(process['compute_instance_id'], `${processWhere} compute_instance_id`);
      if (ci !== undefined) app.computeInstanceId = ci;
      gpu.processes.push(app);
    });
    gpus.push(gpu);
  });
  return gpus;
}

/**
 * Joins the -L listing and the -q -x inventory into one sample per MIG GPU instance. Either input may be
 * empty; what only one of them knows is filled from that one (see the top of this file).
 */
export function buildMigSamples(listed: readonly ListedGpu[], xml: readonly XmlGpu[]): GpuSample[] {
  const xmlByUuid = new Map(xml.map((gpu) => [gpu.uuid, gpu]));
  const listedByUuid = new Map(listed.map((gpu) => [gpu.uuid, gpu]));
  const parents = [...new Set([...listed.map((gpu) => gpu.uuid), ...xml.map((gpu) => gpu.uuid)])];

  const samples: GpuSample[] = [];
  for (const parentUuid of parents) {
    const fromList = listedByUuid.get(parentUuid);
    const fromXml = xmlByUuid.get(parentUuid);
    const listedByIndex = new Map((fromList?.migDevices ?? []).map((device) => [device.deviceIndex, device]));
    const xmlByIndex = new Map((fromXml?.migDevices ?? []).map((device) => [device.index, device]));
    const deviceIndexes = [...new Set([...listedByIndex.keys(), ...xmlByIndex.keys()])].sort((a, b) => a - b);

    const byId = new Map<string, GpuSample>();
    for (const deviceIndex of deviceIndexes) {
      const listedDevice = listedByIndex.get(deviceIndex);
      const xmlDevice = xmlByIndex.get(deviceIndex);
      const gpuInstanceId = xmlDevice?.gpuInstanceId ?? listedDevice?.gpuInstanceId;
      const id = gpuInstanceId !== undefined ? `${parentUuid}/${gpuInstanceId}` : listedDevice!.migUuid;
      const existing = byId.get(id);
      if (existing) {
        // Another compute instance of the same GI: same memory, same instance for cost purposes.
        delete existing.migUuid;
        continue;
      }
      const sample: GpuSample = { id, uuid: parentUuid };
      if (fromList) sample.index = fromList.index;
      if (fromXml?.pciBusId !== undefined) sample.pciBusId = fromXml.pciBusId;
      const model = fromXml?.productName ?? fromList?.name;
      if (model !== undefined) sample.model = model;
      if (listedDevice) {
        sample.migUuid = listedDevice.migUuid;
        sample.migProfile = listedDevice.profile;
      }
      if (gpuInstanceId !== undefined) sample.migInstanceId = gpuInstanceId;
      if (xmlDevice?.memoryTotalBytes !== undefined) sample.memoryTotalBytes = xmlDevice.memoryTotalBytes;
      if (xmlDevice?.memoryUsedBytes !== undefined) sample.memoryUsedBytes = xmlDevice.memoryUsedBytes;
      byId.set(id, sample);
      samples.push(sample);
    }
  }
  return samples;
}

function readMemory(
  node: XmlNode | undefined,
  where: string,
): { memoryTotalBytes?: number; memoryUsedBytes?: number } {
  const memory: { memoryTotalBytes?: number; memoryUsedBytes?: number } = {};
  if (!node) return memory;
  const total = readQuantity(text(node['total']) ?? '', MEMORY_AS_BYTES, `${where} total`);
  const used = readQuantity(text(node['used']) ?? '', MEMORY_AS_BYTES, `${where} used`);
  if (total !== undefined && total >= 0) memory.memoryTotalBytes = total;
  if (used !== undefined && used >= 0) memory.memoryUsedBytes = used;
  return memory;
}

function readInteger(value: XmlValue | undefined, where: string): number | undefined {
  const raw = text(value);
  if (raw === undefined) return undefined;
  const number = readQuantity(raw, PLAIN, where);
  if (number === undefined) return undefined;
  if (!Number.isInteger(number) || number < 0) throw new Error(`${where}: "${raw}" is not a whole number`);
  return number;
}

/** An element's text; undefined when absent, empty, an element with children, or a placeholder (N/A). */
function text(value: XmlValue | undefined): string | undefined {
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  return isMissing(trimmed) ? undefined : trimmed;
}

function asNode(value: XmlValue | undefined): XmlNode | undefined {
  return value !== undefined && typeof value === 'object' && !Array.isArray(value) ? value : undefined;
}

function asArray(value: XmlValue | undefined): XmlValue[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

function path(node: XmlNode, ...names: string[]): XmlValue | undefined {
  let current: XmlValue | undefined = node;
  for (const name of names) current = asNode(current)?.[name];
  return current;
}
