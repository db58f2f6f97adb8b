// Roll-up of allocated windows into coarser ones (an hour per node, by default): what a store keeps so that a
// month answers from 720 rows per node instead of 43,200. Sums only, so every invariant of the windows holds.

import { groupRows } from './aggregate.ts';
import type { GpuWaste, GpuWasteItem, NodeCost, WindowAllocation } from './allocate.ts';
import { addInto, cloneAllocation, finalize } from './allocation.ts';

function mergeItems(items: readonly GpuWasteItem[]): GpuWasteItem[] {
  const byId = new Map<string, GpuWasteItem>();
  for (const item of items) {
    const known = byId.get(item.gpuId);
    if (!known) {
      byId.set(item.gpuId, { ...item });
      continue;
    }
    if (item.activity !== undefined && known.activity !== undefined) {
      // Activity over the merged held time, weighted by GPU-hours.
      const hours = known.gpuHours + item.gpuHours;
      known.activity =
        hours > 0 ? (known.activity * known.gpuHours + item.activity * item.gpuHours) / hours : 0;
    }
    known.gpuHours += item.gpuHours;
    known.cost += item.cost;
  }
  return [...byId.values()];
}

function mergeWaste(wastes: readonly GpuWaste[]): GpuWaste {
  return {
    free: {
      gpuHours: wastes.reduce((sum, w) => sum + w.free.gpuHours, 0),
      cost: wastes.reduce((sum, w) => sum + w.free.cost, 0),
      devices: mergeItems(wastes.flatMap((w) => w.free.devices)),
    },
    heldIdle: {
      gpuHours: wastes.reduce((sum, w) => sum + w.heldIdle.gpuHours, 0),
      cost: wastes.reduce((sum, w) => sum + w.heldIdle.cost, 0),
      devices: mergeItems(wastes.flatMap((w) => w.heldIdle.devices)),
    },
    heldUnusedCost: wastes.reduce((sum, w) => sum + w.heldUnusedCost, 0),
  };
}

/**
 * Merges each node's windows per `step` (ms, aligned to the UTC epoch): allocations summed per container row,
 * idle, node cost, storage and GPU waste summed. Per-window device detail (`gpuDevices`) is not kept.
 */
export function rollupWindows(windows: readonly WindowAllocation[], step = 3_600_000): WindowAllocation[] {
  const groups = new Map<string, WindowAllocation[]>();
  for (const w of windows) {
    const key = `${w.node}|${Math.floor(w.start / step)}`;
    const group = groups.get(key) ?? [];
    group.push(w);
    groups.set(key, group);
  }
  const out: WindowAllocation[] = [];
  for (const group of groups.values()) {
    const first = group[0]!;
    const idle = cloneAllocation(first.idle);
    const nodeCost: NodeCost = { ...first.nodeCost };
    for (const w of group.slice(1)) {
      addInto(idle, w.idle);
      for (const key of [
        'cpuCoreHours',
        'ramByteHours',
        'gpuHours',
        'cpuCost',
        'ramCost',
        'gpuCost',
        'totalCost',
      ] as const) {
        nodeCost[key] += w.nodeCost[key];
      }
      nodeCost.start = Math.min(nodeCost.start, w.nodeCost.start);
      nodeCost.end = Math.max(nodeCost.end, w.nodeCost.end);
    }
    out.push({
      node: first.node,
      start: nodeCost.start,
      end: nodeCost.end,
      currency: first.currency,
      discount: first.discount,
      priceSource: first.priceSource,
      nodeCost,
      allocations: groupRows(
        group.flatMap((w) => w.allocations),
        (row) => row.name,
      ),
      idle: finalize(idle),
      gpuWaste: mergeWaste(group.map((w) => w.gpuWaste)),
      gpuDevices: [],
      storageCost: group.reduce((sum, w) => sum + w.storageCost, 0),
    });
  }
  return out.sort((a, b) => a.start - b.start || a.node.localeCompare(b.node));
}
