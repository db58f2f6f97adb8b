// The host source: this machine's CPU and memory capacity and use, and its load, for standalone `mlcost start`.
import { loadavg } from 'node:os';
import type { Samples } from '../samples.ts';
import type { Source } from '../source.ts';

/** systeminformation, loaded on first use: only the standalone host source needs it, not the node agent. */
let systeminformation: Promise<typeof import('systeminformation')> | undefined;

export function createHostSource(): Source {
  return {
    name: 'host',
    async collect(): Promise<Samples> {
      systeminformation ??= import('systeminformation');
      const si = await systeminformation;
      const [load, memory, cpu] = await Promise.all([si.currentLoad(), si.mem(), si.cpu()]);
      const cores = cpu.cores || load.cpus.length;
      return {
        node: {
          cpuCores: cores,
          memoryBytes: memory.total,
          // currentLoad is the busy share of all cores since its previous call: as cores, it is the CPU in use.
          cpuUsedCores: (load.currentLoad / 100) * cores,
          // `active` leaves out page cache and buffers the kernel can drop, as a working set does.
          memoryUsedBytes: memory.active,
          load1: loadavg()[0] ?? 0,
        },
      };
    },
  };
}
