// Parses `nvidia-smi --query-gpu=... --format=csv,noheader,nounits` output into GPU samples. Pure: no I/O.
import type { GpuSample } from '../samples.ts';

/** The fields asked of nvidia-smi, in order; the parser reads columns by this list. */
export const GPU_QUERY_FIELDS = [
  'index',
  'uuid',
  'name',
  'utilization.gpu',
  'memory.used',
  'memory.total',
  'power.draw',
  'temperature.gpu',
  'clocks.sm',
] as const;

/** Values nvidia-smi prints when a field has no reading on this GPU. */
const MISSING =
  /^\[?(N\/A|Not Supported|Unknown Error|Insufficient Permissions|GPU is lost|Requested functionality has been deprecated)\]?$/i;

const MIB = 2 ** 20;

export function parseNvidiaSmiGpuCsv(text: string): GpuSample[] {
  const gpus: GpuSample[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    const cells = line.split(',').map((cell) => cell.trim());
    if (cells.length !== GPU_QUERY_FIELDS.length) {
      throw new Error(
        `nvidia-smi output line ${i + 1}: expected ${GPU_QUERY_FIELDS.length} fields, got ${cells.length}: ${line.slice(0, 200)}`,
      );
    }
    const [index, uuid, name, utilization, memoryUsed, memoryTotal, power, temperature, smClock] = cells as [
      string,
      string,
      string,
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    const gpu: GpuSample = { id: uuid, uuid, model: name };
    setNumber(gpu, 'index', index, 1);
    setNumber(gpu, 'activity', utilization, 0.01);
    setNumber(gpu, 'memoryUsedBytes', memoryUsed, MIB);
    setNumber(gpu, 'memoryTotalBytes', memoryTotal, MIB);
    setNumber(gpu, 'powerWatts', power, 1);
    setNumber(gpu, 'temperatureCelsius', temperature, 1);
    setNumber(gpu, 'smClockMhz', smClock, 1);
    gpus.push(gpu);
  }
  return gpus;
}

/** Reads one cell as a number times `scale`; a missing marker leaves the field out, anything else unreadable throws. */
function setNumber(gpu: GpuSample, field: keyof GpuSample, cell: string, scale: number): void {
  if (cell === '' || MISSING.test(cell)) return;
  const value = Number(cell);
  if (!Number.isFinite(value))
    throw new Error(`nvidia-smi field ${String(field)}: "${cell}" is not a number`);
  (gpu as unknown as Record<string, number>)[field] = value * scale;
}
