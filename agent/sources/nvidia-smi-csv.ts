// Parses nvidia-smi's CSV query output: `--query-gpu=...` into GPU samples, `--query-compute-apps=...` into
// per-process rows. Pure: no I/O.
//
// Both CSV forms nvidia-smi writes are read:
// - `--format=csv,noheader,nounits`: bare values in the order the fields were asked (`fields`);
// - `--format=csv` (header, units): a header row such as `utilization.gpu [%], memory.used [MiB]` and values
//   such as `100 %`, `81559 MiB`, `631.95 W`. Columns are then found by header name, so extra or reordered
//   columns (exporter-style queries of 200+ fields) are fine. `csv,nounits` (header, bare values) also works.
// Placeholders (`[N/A]`, `N/A`, `[Not Supported]`, `[Requested functionality has been deprecated]`, ...)
// leave the field out. Anything else that is not a number is an error naming the line and column.
import type { GpuSample } from '../samples.ts';

/** The fields the nvidia-smi source asks of `--query-gpu`; see GPU_QUERY_FIELDS_WITHOUT_MIG for old drivers. */
export const GPU_QUERY_FIELDS = [
  'index',
  'uuid',
  'name',
  'pci.bus_id',
  'mig.mode.current',
  'utilization.gpu',
  'memory.used',
  'memory.total',
  'power.draw',
  'temperature.gpu',
  'clocks.sm',
] as const;

/** Drivers before R450 reject `mig.mode.current` ("is not a valid field to query"); this list omits it. */
export const GPU_QUERY_FIELDS_WITHOUT_MIG: readonly string[] = GPU_QUERY_FIELDS.filter(
  (field) => field !== 'mig.mode.current',
);

/** The fields asked of `--query-compute-apps`, in order. */
export const COMPUTE_APPS_QUERY_FIELDS = ['gpu_uuid', 'pid', 'process_name', 'used_gpu_memory'] as const;

/** Values nvidia-smi prints when a field has no reading on this GPU. */
const MISSING =
  /^\[?(N\/A|Not Supported|Unknown Error|Insufficient Permissions|GPU is lost|Requested functionality has been deprecated|Not Available)\]?$/i;

const MIB = 2 ** 20;

/** Units a numeric field may carry, each with the factor to the sample's unit; '' = no unit written. */
export type UnitScale = Readonly<Record<string, number>>;
export const PERCENT_AS_RATIO: UnitScale = { '': 0.01, '%': 0.01 };
export const MEMORY_AS_BYTES: UnitScale = { '': MIB, MiB: MIB, KiB: 1024, GiB: 2 ** 30, B: 1 };
export const WATTS: UnitScale = { '': 1, W: 1 };
export const MEGAHERTZ: UnitScale = { '': 1, MHz: 1 };
export const CELSIUS: UnitScale = { '': 1, C: 1 };
export const PLAIN: UnitScale = { '': 1 };

/** True for an empty cell or one of nvidia-smi's "no reading" placeholders. */
export function isMissing(cell: string): boolean {
  return cell === '' || MISSING.test(cell);
}

/**
 * Reads `12`, `631.95 W`, `81559 MiB` as a number in the sample's unit; undefined for a placeholder. Throws,
 * naming `where`, for text that is not a number or carries a unit not in `units`.
 */
export function readQuantity(cell: string, units: UnitScale, where: string): number | undefined {
  const text = cell.trim();
  if (isMissing(text)) return undefined;
  const match = /^([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([A-Za-z%]*)$/.exec(text);
  if (!match) throw new Error(`${where}: "${text.slice(0, 80)}" is not a number`);
  const unit = match[2] ?? '';
  const scale = units[unit];
  if (scale === undefined) {
    const expected = Object.keys(units)
      .filter((u) => u !== '')
      .join(', ');
    throw new Error(`${where}: unexpected unit "${unit}" in "${text}" (expected ${expected || 'none'})`);
  }
  const value = Number(match[1]) * scale;
  if (!Number.isFinite(value)) throw new Error(`${where}: "${text}" is out of range`);
  return value;
}

/** Header spellings nvidia-smi uses for the same field (long and short names), mapped to ours. */
const GPU_COLUMN_ALIASES: Readonly<Record<string, string>> = {
  'clocks.current.sm': 'clocks.sm',
  gpu_bus_id: 'pci.bus_id',
  gpu_name: 'name',
  gpu_uuid: 'uuid',
};
const COMPUTE_APPS_COLUMN_ALIASES: Readonly<Record<string, string>> = {
  name: 'process_name',
  used_memory: 'used_gpu_memory',
};

interface CsvRow {
  /** 1-based line number in the text, for error messages. */
  line: number;
  cells: string[];
}

interface CsvTable {
  /** Canonical column names, in column order. */
  columns: string[];
  rows: CsvRow[];
}

export interface QueryCsvOptions {
  /** True when the first non-empty line is nvidia-smi's header row (`--format=csv` without `noheader`). */
  header: boolean;
  /** Without a header: the fields as asked, in order. Defaults to the source's own field list. */
  fields?: readonly string[];
}

/** One `--query-gpu` row: the sample, and whether the GPU is in MIG mode (instances then come from -L / -q -x). */
export interface NvidiaSmiGpuRow {
  gpu: GpuSample;
  /** `mig.mode.current` said Enabled. */
  migEnabled: boolean;
}

/** Parses `--query-gpu` CSV output, with or without header and units. */
export function parseNvidiaSmiQueryCsv(text: string, options: QueryCsvOptions): NvidiaSmiGpuRow[] {
  const table = readTable(text, options.header, options.fields ?? GPU_QUERY_FIELDS, GPU_COLUMN_ALIASES);
  if (table.rows.length > 0 && !table.columns.includes('uuid')) {
    throw new Error(`nvidia-smi --query-gpu output has no uuid column (columns: ${describeColumns(table)})`);
  }
  const column = columnLookup(table.columns);
  return table.rows.map((row) => {
    const cell = (name: string): string | undefined => {
      const at = column.get(name);
      return at === undefined ? undefined : row.cells[at];
    };
    const where = (name: string) => `nvidia-smi --query-gpu line ${row.line}, ${name}`;
    const number = (name: string, units: UnitScale): number | undefined => {
      const value = cell(name);
      return value === undefined ? undefined : readQuantity(value, units, where(name));
    };

    const uuid = cell('uuid') ?? '';
    if (isMissing(uuid)) throw new Error(`${where('uuid')}: no GPU UUID`);
    const gpu: GpuSample = { id: uuid, uuid };
    const name = cell('name');
    if (name !== undefined && !isMissing(name)) gpu.model = name;
    const pciBusId = cell('pci.bus_id');
    if (pciBusId !== undefined && !isMissing(pciBusId)) gpu.pciBusId = pciBusId;
    const index = number('index', PLAIN);
    if (index !== undefined) {
      if (!Number.isInteger(index) || index < 0)
        throw new Error(`${where('index')}: "${cell('index')}" is not an index`);
      gpu.index = index;
    }
    const migEnabled = /^enabled$/i.test(cell('mig.mode.current') ?? '');
    // Under MIG, utilization.gpu is [N/A] (no whole-GPU figure exists); older drivers print 0 instead, which
    // would read as an idle GPU. Activity is reported per MIG instance by dcgm-exporter, not here.
    const utilization = migEnabled ? undefined : number('utilization.gpu', PERCENT_AS_RATIO);
    if (utilization !== undefined) gpu.activity = Math.min(1, Math.max(0, utilization));
    setAmount(gpu, 'memoryUsedBytes', number('memory.used', MEMORY_AS_BYTES));
    setAmount(gpu, 'memoryTotalBytes', number('memory.total', MEMORY_AS_BYTES));
    setAmount(gpu, 'powerWatts', number('power.draw', WATTS));
    const temperature = number('temperature.gpu', CELSIUS);
    if (temperature !== undefined) gpu.temperatureCelsius = temperature;
    setAmount(gpu, 'smClockMhz', number('clocks.sm', MEGAHERTZ));
    return { gpu, migEnabled };
  });
}

/** `--query-gpu=${GPU_QUERY_FIELDS} --format=csv,noheader,nounits` into samples (the original, headerless form). */
export function parseNvidiaSmiGpuCsv(text: string): GpuSample[] {
  return parseNvidiaSmiQueryCsv(text, { header: false }).map((row) => row.gpu);
}

/** A process with a compute context on a GPU, from `--query-compute-apps` or `-q -x` `<process_info>`. */
export interface ComputeApp {
  /** The GPU's UUID. Under MIG, `--query-compute-apps` names the *parent* GPU, never the MIG device. */
  gpuUuid: string;
  pid: number;
  processName?: string;
  /** Memory the process's context holds on the device; absent when nvidia-smi cannot tell (`[N/A]`). */
  usedMemoryBytes?: number;
  /** MIG GPU instance the process runs in (only `-q -x` says; the CSV query has no such field). */
  gpuInstanceId?: number;
  computeInstanceId?: number;
}

/**
 * Parses `--query-compute-apps=gpu_uuid,pid,process_name,used_gpu_memory` output (any of the CSV forms). Rows
 * without a pid (`[N/A]`) are skipped: they cannot be joined to anything. A process name containing commas
 * is rejoined, since nvidia-smi does not quote cells.
 */
export function parseNvidiaSmiComputeApps(text: string, options: QueryCsvOptions): ComputeApp[] {
  const table = readTable(
    text,
    options.header,
    options.fields ?? COMPUTE_APPS_QUERY_FIELDS,
    COMPUTE_APPS_COLUMN_ALIASES,
    'process_name',
  );
  for (const required of ['gpu_uuid', 'pid']) {
    if (table.rows.length > 0 && !table.columns.includes(required)) {
      throw new Error(
        `nvidia-smi --query-compute-apps output has no ${required} column (columns: ${describeColumns(table)})`,
      );
    }
  }
  const column = columnLookup(table.columns);
  const apps: ComputeApp[] = [];
  for (const row of table.rows) {
    const cell = (name: string): string | undefined => {
      const at = column.get(name);
      return at === undefined ? undefined : row.cells[at];
    };
    const where = (name: string) => `nvidia-smi --query-compute-apps line ${row.line}, ${name}`;
    const gpuUuid = cell('gpu_uuid') ?? '';
    const pid = readQuantity(cell('pid') ?? '', PLAIN, where('pid'));
    if (isMissing(gpuUuid) || pid === undefined) continue;
    if (!Number.isInteger(pid) || pid <= 0)
      throw new Error(`${where('pid')}: "${cell('pid')}" is not a process id`);
    const app: ComputeApp = { gpuUuid, pid };
    const processName = cell('process_name');
    if (processName !== undefined && !isMissing(processName)) app.processName = processName;
    const memory = cell('used_gpu_memory');
    const usedMemoryBytes =
      memory === undefined ? undefined : readQuantity(memory, MEMORY_AS_BYTES, where('used_gpu_memory'));
    if (usedMemoryBytes !== undefined && usedMemoryBytes >= 0) app.usedMemoryBytes = usedMemoryBytes;
    apps.push(app);
  }
  return apps;
}

type AmountField = 'memoryUsedBytes' | 'memoryTotalBytes' | 'powerWatts' | 'smClockMhz';

/** Amounts are never negative; a negative reading is left out rather than reported. */
function setAmount(gpu: GpuSample, field: AmountField, value: number | undefined): void {
  if (value !== undefined && value >= 0) gpu[field] = value;
}

/** `memory.used [MiB]` → `memory.used`; then the alias table maps long/short names to ours. */
function canonicalColumn(headerCell: string, aliases: Readonly<Record<string, string>>): string {
  const name = headerCell
    .replace(/\s*\[[^\]]*\]\s*$/, '')
    .trim()
    .toLowerCase();
  return aliases[name] ?? name;
}

function columnLookup(columns: readonly string[]): Map<string, number> {
  const lookup = new Map<string, number>();
  // First occurrence wins; a repeated field would hold the same value anyway.
  columns.forEach((name, at) => {
    if (!lookup.has(name)) lookup.set(name, at);
  });
  return lookup;
}

function describeColumns(table: CsvTable): string {
  const list = table.columns.join(', ');
  return list.length > 200 ? `${list.slice(0, 200)}...` : list;
}

/**
 * Splits the text into rows of trimmed cells (nvidia-smi writes `a, b, c` without quoting) and checks each row
 * has one cell per column. `freeTextColumn`, when given, absorbs extra cells (commas inside that value).
 */
function readTable(
  text: string,
  header: boolean,
  fields: readonly string[],
  aliases: Readonly<Record<string, string>>,
  freeTextColumn?: string,
): CsvTable {
  const lines = text.split(/\r?\n/);
  let columns: string[] | undefined = header ? undefined : fields.map((f) => canonicalColumn(f, aliases));
  const rows: CsvRow[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    let cells = line.split(',');
    if (columns === undefined) {
      columns = cells.map((cell) => canonicalColumn(cell, aliases));
      continue;
    }
    const freeAt = freeTextColumn === undefined ? -1 : columns.indexOf(freeTextColumn);
    if (cells.length > columns.length && freeAt !== -1) {
      // Rejoined before trimming, so the value comes back exactly as nvidia-smi printed it.
      const extra = cells.length - columns.length;
      cells = [
        ...cells.slice(0, freeAt),
        cells.slice(freeAt, freeAt + extra + 1).join(','),
        ...cells.slice(freeAt + extra + 1),
      ];
    }
    cells = cells.map((cell) => cell.trim());
    if (cells.length !== columns.length) {
      throw new Error(
        `nvidia-smi output line ${i + 1}: expected ${columns.length} fields, got ${cells.length}: ${line.slice(0, 200)}`,
      );
    }
    rows.push({ line: i + 1, cells });
  }
  return { columns: columns ?? [], rows };
}
