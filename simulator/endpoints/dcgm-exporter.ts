// The simulated dcgm-exporter: each served node's `/metrics` under `/nodes/<node>/metrics` of one HTTP server, in
// the Prometheus text format and label set of dcgm-exporter 4.x in Kubernetes mode (see
// ../shared/reference/gpu-and-model-metrics.md §1 and the kOps capture in test/fixtures/real/dcgm-exporter):
// `gpu, UUID, pci_bus_id, device, modelName, Hostname, DCGM_FI_DRIVER_VERSION`, `GPU_I_PROFILE`/`GPU_I_ID` on
// MIG instances (keyed by the parent's UUID), and `pod, namespace, container` on a GPU or MIG instance a pod holds.
//
// As the real exporter:
//  - a MIG instance has only the profiling and framebuffer fields; the parent has no DEV_GPU_UTIL in MIG mode;
//  - a time-sliced GPU gets no pod labels (the exporter runs without KUBERNETES_VIRTUAL_GPUS, so it cannot map
//    `<uuid>::<n>` device ids): the agent attributes it from the pod-resources device ids instead;
//  - FB_TOTAL is not exported (total = FREE + USED + RESERVED).
// Left out: DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION. Energy is a counter since driver load, which would have to be
// summed over the whole life of every GPU for every window; the power gauge is served and recorded instead.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SimNode } from '../cluster.ts';
import { nodePodsAt } from '../pods.ts';
import { slotOf } from '../schedule.ts';
import { type GpuReading, snapshotOf } from '../snapshot.ts';

const DRIVER_VERSION = '550.127.08';

interface Family {
  name: string;
  help: string;
  type: 'gauge' | 'counter';
  /** The value for a reading, or undefined when the field does not exist for it. */
  value: (r: GpuReading) => number | undefined;
}

const physical = (r: GpuReading) => r.kind !== 'mig-slice';

const FAMILIES: Family[] = [
  {
    name: 'DCGM_FI_DEV_SM_CLOCK',
    help: 'SM clock frequency (in MHz).',
    type: 'gauge',
    value: (r) => r.smClockMhz,
  },
  {
    name: 'DCGM_FI_DEV_GPU_TEMP',
    help: 'GPU temperature (in C).',
    type: 'gauge',
    value: (r) => r.temperatureCelsius,
  },
  { name: 'DCGM_FI_DEV_POWER_USAGE', help: 'Power draw (in W).', type: 'gauge', value: (r) => r.powerWatts },
  {
    name: 'DCGM_FI_DEV_GPU_UTIL',
    help: 'GPU utilization (in %).',
    type: 'gauge',
    value: (r) => (r.kind === 'whole' || r.kind === 'shared' ? Math.round(r.activity * 100) : undefined),
  },
  {
    name: 'DCGM_FI_DEV_FB_FREE',
    help: 'Framebuffer memory free (in MiB).',
    type: 'gauge',
    value: (r) => r.memoryTotalMiB - r.memoryUsedMiB - r.memoryReservedMiB,
  },
  {
    name: 'DCGM_FI_DEV_FB_USED',
    help: 'Framebuffer memory used (in MiB).',
    type: 'gauge',
    value: (r) => r.memoryUsedMiB,
  },
  {
    name: 'DCGM_FI_DEV_FB_RESERVED',
    help: 'Framebuffer memory reserved (in MiB).',
    type: 'gauge',
    value: (r) => (physical(r) ? r.memoryReservedMiB : undefined),
  },
  {
    name: 'DCGM_FI_DEV_XID_ERRORS',
    help: 'Value of the last XID error encountered.',
    type: 'gauge',
    value: () => 0,
  },
  {
    name: 'DCGM_FI_PROF_GR_ENGINE_ACTIVE',
    help: 'Ratio of time the graphics engine is active.',
    type: 'gauge',
    value: (r) => r.activity,
  },
  {
    name: 'DCGM_FI_PROF_PIPE_TENSOR_ACTIVE',
    help: 'Ratio of cycles the tensor (HMMA) pipe is active.',
    type: 'gauge',
    value: (r) => r.tensor,
  },
];

const escapeLabel = (value: string) =>
  value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

function labelsOf(node: SimNode, r: GpuReading): string {
  const labels: Array<[string, string]> = [
    ['gpu', String(r.gpu.index)],
    ['UUID', r.gpu.uuid],
    ['pci_bus_id', r.gpu.pciBusId],
    ['device', `nvidia${r.gpu.index}`],
    ['modelName', r.gpu.model.name],
  ];
  if (r.slice) {
    labels.push(['GPU_I_PROFILE', r.slice.profile.name], ['GPU_I_ID', String(r.slice.instanceId)]);
  }
  labels.push(['Hostname', node.name], ['DCGM_FI_DRIVER_VERSION', DRIVER_VERSION]);
  // Kubernetes mode: the pod holding a whole GPU or MIG instance. Shared GPUs are not mapped (see above).
  if (r.kind !== 'shared' && r.holders.length === 1) {
    const holder = r.holders[0]!;
    labels.push(
      ['container', holder.container],
      ['namespace', holder.pod.seat.namespace],
      ['pod', holder.pod.name],
    );
  }
  return labels.map(([name, value]) => `${name}="${escapeLabel(value)}"`).join(',');
}

/** dcgm-exporter's `/metrics` body for a node at simulated time `now`. */
export function dcgmMetricsAt(node: SimNode, now: number): string {
  const snapshot = snapshotOf(node, slotOf(now), nodePodsAt(node, now));
  const lines: string[] = [];
  for (const family of FAMILIES) {
    lines.push(`# HELP ${family.name} ${family.help}`, `# TYPE ${family.name} ${family.type}`);
    for (const reading of snapshot.gpus) {
      const value = family.value(reading);
      if (value !== undefined) lines.push(`${family.name}{${labelsOf(node, reading)}} ${value}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export interface SimDcgmExporters {
  urlFor(node: string): string;
  close(): Promise<void>;
}

export async function startDcgmExporters(nodes: SimNode[], clock: () => number): Promise<SimDcgmExporters> {
  const byName = new Map(nodes.map((node) => [node.name, node]));
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://dcgm').pathname;
    const match = /^\/nodes\/([^/]+)\/metrics$/.exec(path);
    const node = match ? byName.get(decodeURIComponent(match[1]!)) : undefined;
    if (!node) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('404 page not found\n');
      return;
    }
    res
      .writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' })
      .end(dcgmMetricsAt(node, clock()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    urlFor: (node) => `http://127.0.0.1:${port}/nodes/${encodeURIComponent(node)}/metrics`,
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
