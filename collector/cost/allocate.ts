// Allocation of one node window: what each container held (CPU and memory at max(request, usage), GPUs by the
// devices, MIG slices and shared replicas its pod holds, PVCs by requested size) priced at the node's prices,
// what nobody held (idle), and GPU waste split into free and held-but-idle. Pure; rules in SPEC.md §3–§6.
import { describeNodeCostLabels, type NodeGpuLabels } from '../../core/node-labels.ts';
import { type Allocation, type AllocationProperties, emptyAllocation, finalize } from './allocation.ts';
import { matchGpuModel } from './gpu-models.ts';
import type { StoredContainer, StoredGpu, StoredHolder, StoredWindowInput } from './input.ts';
import { migFraction } from './mig.ts';
import { BYTES_PER_GIB } from './prices.ts';
import type { NodePrices } from './pricing.ts';

/** GPU activity below which a held GPU counts as idle: gpu-pruner's default (DCGM activity never quite hits 0). */
export const DEFAULT_GPU_IDLE_THRESHOLD = 0.01;

export interface AllocateOptions {
  /** 0..1; a held GPU or slice whose mean activity is below this is held-but-idle. */
  gpuIdleThreshold?: number;
}

/** Name of the row for what nobody held, as OpenCost names it. */
export const IDLE = '__idle__';
/** Pod name for a PVC no pod mounts, as OpenCost names it. */
export const UNMOUNTED = '__unmounted__';
/** Container name for a pod's GPU or PVC when the pod has no container record in the window. */
export const POD_LEVEL = '__pod__';

export interface NodeCost {
  node: string;
  start: number;
  end: number;
  cpuCoreHours: number;
  ramByteHours: number;
  /** Physical GPU-hours (boards × hours), reported or not. */
  gpuHours: number;
  cpuCost: number;
  ramCost: number;
  gpuCost: number;
  totalCost: number;
}

export type GpuUnitKind = 'gpu' | 'mig' | 'mig-unpartitioned' | 'unreported';

/** What happened to one GPU, MIG instance, uncarved MIG remainder or unreported GPU in the window. */
export interface GpuDeviceUse {
  gpuId: string;
  uuid: string;
  model: string | null;
  migProfile: string | null;
  kind: GpuUnitKind;
  /** Share of the physical board this unit is. */
  fraction: number;
  activity: number | null;
  /** Holders with their shares after normalisation (a device's shares never sum above 1). */
  holders: Array<{ namespace: string; pod: string; container: string | null; share: number }>;
  heldShare: number;
  /** Share taken by containers that request GPUs but whose pods the agent saw holding none (SPEC.md §4.5). */
  requestShare: number;
  freeShare: number;
  /** This unit's GPU-hours (fraction × hours) and cost, whole. */
  gpuHours: number;
  cost: number;
}

export interface GpuWasteItem {
  gpuId: string;
  uuid: string;
  model: string | null;
  migProfile: string | null;
  kind: GpuUnitKind;
  gpuHours: number;
  cost: number;
  /** For held-but-idle items: the mean activity and who held it. */
  activity?: number;
  holders?: Array<{ namespace: string; pod: string; container: string | null }>;
}

export interface GpuWaste {
  /** GPUs, slices and uncarved MIG capacity nobody held: part of idle. Fix: scale down or bin-pack. */
  free: { gpuHours: number; cost: number; devices: GpuWasteItem[] };
  /** Held, but activity below the threshold: part of allocations. Fix: reclaim, or a smaller slice. */
  heldIdle: { gpuHours: number; cost: number; devices: GpuWasteItem[] };
  /** Σ held cost × (1 − activity) over held units with known activity: the unused part of what was held. */
  heldUnusedCost: number;
}

/** A node window's idle: an Allocation named `__idle__` with `properties.idle` set. */
export type NodeIdle = Allocation;

/** One node window, allocated. */
export interface WindowAllocation {
  node: string;
  start: number;
  end: number;
  currency: string;
  discount: number;
  priceSource: NodePrices['source'];
  nodeCost: NodeCost;
  /** One row per container (plus `__pod__` / `__unmounted__` rows), costs in `currency`. */
  allocations: Allocation[];
  /** What nobody held: node cost − Σ allocations, per resource (negative under overcommit). */
  idle: NodeIdle;
  gpuWaste: GpuWaste;
  gpuDevices: GpuDeviceUse[];
  /** Σ pvCost: persistent volumes are not part of the node's cost. */
  storageCost: number;
}

interface Unit {
  use: GpuDeviceUse;
  /** List price per hour of the whole physical board this unit belongs to. */
  boardPrice: number;
}

/**
 * A container row's properties: one fixed shape (absent values undefined), which keeps property access
 * monomorphic on a path that runs per container per window. Label maps are shared, never edited in place.
 */
function containerProperties(c: StoredContainer, base: AllocationProperties): AllocationProperties {
  return {
    node: base.node,
    nodePool: base.nodePool,
    instanceType: base.instanceType,
    capacityType: base.capacityType,
    region: base.region,
    zone: base.zone,
    namespace: c.namespace,
    pod: c.pod,
    container: c.container,
    workloadKind: c.workloadKind ?? undefined,
    workloadName: c.workloadName ?? undefined,
    mlJobKind: c.mlJobKind ?? undefined,
    mlJobName: c.mlJobName ?? undefined,
    servedModel: c.servedModel ?? undefined,
    servedModelKind: c.servedModelKind ?? undefined,
    labels: c.labels ?? NO_LABELS,
    gpuModel: undefined,
    discount: base.discount,
    idle: undefined,
  };
}

const NO_LABELS: Record<string, string> = Object.freeze({}) as Record<string, string>;

const holderKey = (namespace: string, pod: string, container: string | null | undefined) =>
  `${namespace}/${pod}/${container ?? ''}`;

/**
 * Allocates one node window at `prices` (from resolveNodePrices / pricesForWindow). Invariant: for every
 * resource, Σ allocations + idle = node cost; every device's held + request + free shares sum to 1.
 */
export function allocateWindow(
  window: StoredWindowInput,
  prices: NodePrices,
  options: AllocateOptions = {},
): WindowAllocation {
  const threshold = options.gpuIdleThreshold ?? DEFAULT_GPU_IDLE_THRESHOLD;
  const { start, end, node } = window;
  const hours = (end - start) / 3_600_000;
  const keep = 1 - prices.discount;
  const described = describeNodeCostLabels(node.labels);

  const base: AllocationProperties = {
    node: node.name,
    capacityType: prices.capacityType,
    discount: prices.discount,
  };
  if (described.nodePool) base.nodePool = described.nodePool;
  if (described.instanceType) base.instanceType = described.instanceType;
  if (described.region) base.region = described.region;
  if (described.zone) base.zone = described.zone;

  // Containers: CPU and memory at max(request, usage).
  const rows = new Map<string, Allocation>();
  const podContainers = new Map<string, StoredContainer[]>();
  for (const c of window.containers) {
    const key = holderKey(c.namespace, c.pod, c.container);
    let row = rows.get(key);
    if (!row) {
      row = emptyAllocation(key, containerProperties(c, base), start, end);
      rows.set(key, row);
      const siblings = podContainers.get(`${c.namespace}/${c.pod}`) ?? [];
      siblings.push(c);
      podContainers.set(`${c.namespace}/${c.pod}`, siblings);
    }
    const cpuRequest = c.requestCpu ?? 0;
    const cpuUsage = c.cpuAvg ?? 0;
    const cpuHeld = Math.max(cpuRequest, cpuUsage) * hours;
    row.cpuCoreHours += cpuHeld;
    row.cpuCoreRequestHours += cpuRequest * hours;
    row.cpuCoreUsageHours += cpuUsage * hours;
    row.cpuCost += cpuHeld * prices.cpuCoreHour * keep;
    const ramRequest = c.requestMemory ?? 0;
    const ramUsage = c.memoryAvg ?? 0;
    const ramHeld = Math.max(ramRequest, ramUsage) * hours;
    row.ramByteHours += ramHeld;
    row.ramByteRequestHours += ramRequest * hours;
    row.ramByteUsageHours += ramUsage * hours;
    row.ramCost += (ramHeld / BYTES_PER_GIB) * prices.memGiBHour * keep;
  }

  /** A row for a pod-level charge (GPU holder or PVC) when no container record names it. */
  const syntheticRow = (namespace: string, pod: string, container: string): Allocation => {
    const key = holderKey(namespace, pod, container);
    const existing = rows.get(key);
    if (existing) return existing;
    const sibling = podContainers.get(`${namespace}/${pod}`)?.[0];
    const props = sibling
      ? { ...containerProperties(sibling, base), container }
      : { ...base, namespace, pod, container };
    const row = emptyAllocation(key, props, start, end);
    rows.set(key, row);
    return row;
  };

  /** The rows a holder's GPU share goes to, with weights summing to 1. */
  const holderRows = (holder: StoredHolder): Array<{ row: Allocation; weight: number }> => {
    if (holder.container) {
      const row =
        rows.get(holderKey(holder.namespace, holder.pod, holder.container)) ??
        syntheticRow(holder.namespace, holder.pod, holder.container);
      return [{ row, weight: 1 }];
    }
    const containers = podContainers.get(`${holder.namespace}/${holder.pod}`) ?? [];
    const requesting = containers.filter((c) => (c.requestGpus ?? 0) > 0);
    if (requesting.length > 0) {
      const total = requesting.reduce((sum, c) => sum + (c.requestGpus ?? 0), 0);
      return requesting.map((c) => ({
        row: rows.get(holderKey(c.namespace, c.pod, c.container))!,
        weight: (c.requestGpus ?? 0) / total,
      }));
    }
    if (containers.length > 0) {
      return containers.map((c) => ({
        row: rows.get(holderKey(c.namespace, c.pod, c.container))!,
        weight: 1 / containers.length,
      }));
    }
    return [{ row: syntheticRow(holder.namespace, holder.pod, POD_LEVEL), weight: 1 }];
  };

  // GPUs: physical boards by UUID; MIG instances are units of their board.
  const units = gpuUnits(window, prices);
  let nodeGpuHours = 0;
  let nodeGpuCost = 0;
  const boards = new Set<string>();
  for (const unit of units) {
    const board = unit.use.kind === 'unreported' ? unit.use.gpuId : unit.use.uuid.toLowerCase();
    if (!boards.has(board)) {
      boards.add(board);
      nodeGpuHours += hours;
      nodeGpuCost += unit.boardPrice * hours * keep;
    }
  }

  const podsHolding = new Set<string>();
  for (const unit of units) {
    const { use } = unit;
    for (const holder of use.holders) {
      const unitHours = use.gpuHours * holder.share;
      const unitCost = use.cost * holder.share;
      podsHolding.add(`${holder.namespace}/${holder.pod}`);
      const targets = holderRows({
        namespace: holder.namespace,
        pod: holder.pod,
        ...(holder.container !== null ? { container: holder.container } : {}),
      });
      for (const { row, weight } of targets) {
        if (use.model) {
          const known = row.properties.gpuModel;
          row.properties.gpuModel = known === undefined || known === use.model ? use.model : 'mixed';
        }
        row.gpuHours += unitHours * weight;
        row.gpuCost += unitCost * weight;
        if (use.activity !== null) {
          row.gpuActiveHours += unitHours * weight * use.activity;
          row.gpuMeasuredHours += unitHours * weight;
        }
      }
    }
  }

  // Containers requesting GPUs whose pods hold none we saw take from the free capacity, at its mean price.
  const demands: Array<{ row: Allocation; amount: number }> = [];
  for (const c of window.containers) {
    if ((c.requestGpus ?? 0) <= 0 || podsHolding.has(`${c.namespace}/${c.pod}`)) continue;
    const amount = requestedGpuShare(c, described.gpu);
    if (amount > 0) demands.push({ row: rows.get(holderKey(c.namespace, c.pod, c.container))!, amount });
  }
  const demand = demands.reduce((sum, d) => sum + d.amount, 0);
  const freeCapacity = units.reduce((sum, u) => sum + u.use.fraction * u.use.freeShare, 0);
  if (demand > 0 && freeCapacity > 0) {
    const taken = Math.min(1, demand / freeCapacity);
    let takenHours = 0;
    let takenCost = 0;
    for (const { use } of units) {
      if (use.freeShare <= 0) continue;
      const share = use.freeShare * taken;
      takenHours += use.gpuHours * share;
      takenCost += use.cost * share;
      use.requestShare = share;
      use.freeShare -= share;
    }
    for (const { row, amount } of demands) {
      row.gpuHours += takenHours * (amount / demand);
      row.gpuCost += takenCost * (amount / demand);
    }
  }

  // PVCs: requested size × hours × the storage class's price, split evenly over the mounting pod's containers.
  let storageCost = 0;
  for (const pvc of window.pvcs ?? []) {
    const classPrice = pvc.storageClass ? prices.storageGiBHourByClass[pvc.storageClass] : undefined;
    const perGiBHour = classPrice ?? prices.storageGiBHour;
    const byteHours = pvc.requestedBytes * hours;
    const cost = (byteHours / BYTES_PER_GIB) * perGiBHour;
    storageCost += cost;
    const containers = pvc.pod ? (podContainers.get(`${pvc.namespace}/${pvc.pod}`) ?? []) : [];
    const targets =
      containers.length > 0
        ? containers.map((c) => rows.get(holderKey(c.namespace, c.pod, c.container))!)
        : [syntheticRow(pvc.namespace, pvc.pod ?? UNMOUNTED, pvc.pod ? POD_LEVEL : UNMOUNTED)];
    for (const row of targets) {
      row.pvByteHours += byteHours / targets.length;
      row.pvCost += cost / targets.length;
    }
  }

  const allocations = [...rows.values()].map(finalize);

  const nodeCost: NodeCost = {
    node: node.name,
    start,
    end,
    cpuCoreHours: node.cpuCores * hours,
    ramByteHours: node.memoryBytes * hours,
    gpuHours: nodeGpuHours,
    cpuCost: node.cpuCores * hours * prices.cpuCoreHour * keep,
    ramCost: (node.memoryBytes / BYTES_PER_GIB) * hours * prices.memGiBHour * keep,
    gpuCost: nodeGpuCost,
    totalCost: 0,
  };
  nodeCost.totalCost = nodeCost.cpuCost + nodeCost.ramCost + nodeCost.gpuCost;

  const idle = emptyAllocation(IDLE, { ...base, idle: true }, start, end);
  idle.cpuCoreHours = nodeCost.cpuCoreHours;
  idle.ramByteHours = nodeCost.ramByteHours;
  idle.gpuHours = nodeCost.gpuHours;
  idle.cpuCost = nodeCost.cpuCost;
  idle.ramCost = nodeCost.ramCost;
  idle.gpuCost = nodeCost.gpuCost;
  for (const row of allocations) {
    idle.cpuCoreHours -= row.cpuCoreHours;
    idle.ramByteHours -= row.ramByteHours;
    idle.gpuHours -= row.gpuHours;
    idle.cpuCost -= row.cpuCost;
    idle.ramCost -= row.ramCost;
    idle.gpuCost -= row.gpuCost;
  }
  finalize(idle);

  return {
    node: node.name,
    start,
    end,
    currency: prices.currency,
    discount: prices.discount,
    priceSource: prices.source,
    nodeCost,
    allocations,
    idle,
    gpuWaste: gpuWaste(units, threshold),
    gpuDevices: units.map((u) => u.use),
    storageCost,
  };
}

/** Every priced GPU unit of the window, with holders' shares normalised (SPEC.md §4). */
function gpuUnits(window: StoredWindowInput, prices: NodePrices): Unit[] {
  const hours = (window.end - window.start) / 3_600_000;
  const keep = 1 - prices.discount;
  const byBoard = new Map<string, StoredGpu[]>();
  for (const gpu of window.gpus) {
    const board = gpu.uuid.toLowerCase();
    const list = byBoard.get(board) ?? [];
    list.push(gpu);
    byBoard.set(board, list);
  }

  const units: Unit[] = [];
  const push = (
    gpu: { gpuId: string; uuid: string; model: string | null; migProfile: string | null },
    kind: GpuUnitKind,
    fraction: number,
    boardPrice: number,
    activity: number | null,
    holders: readonly StoredHolder[],
  ) => {
    const normalised = normaliseHolders(holders);
    const heldShare = normalised.reduce((sum, h) => sum + h.share, 0);
    units.push({
      boardPrice,
      use: {
        ...gpu,
        kind,
        fraction,
        activity,
        holders: normalised,
        heldShare,
        requestShare: 0,
        freeShare: Math.max(0, 1 - heldShare),
        gpuHours: fraction * hours,
        cost: fraction * boardPrice * hours * keep,
      },
    });
  };

  for (const records of byBoard.values()) {
    const first = records[0]!;
    const model = records.find((r) => r.model)?.model ?? null;
    const boardPrice = model
      ? (prices.gpuHourByModel[model] ?? prices.gpuHourDefault)
      : prices.gpuHourDefault;
    const slices = records.filter((r) => r.migProfile);
    if (slices.length > 0) {
      const key = matchGpuModel(model).key;
      const fractions = slices.map((s) => migFraction(s.migProfile, key) ?? 1 / 7);
      const total = fractions.reduce((sum, f) => sum + f, 0);
      // More slices than a board holds means stale or duplicate rows: scale so the board is priced once.
      const scale = total > 1 ? 1 / total : 1;
      slices.forEach((slice, i) => {
        push(
          { gpuId: slice.gpuId, uuid: slice.uuid, model, migProfile: slice.migProfile ?? null },
          'mig',
          fractions[i]! * scale,
          boardPrice,
          slice.activityAvg ?? null,
          slice.holders,
        );
      });
      const rest = 1 - total * scale;
      if (rest > 1e-12) {
        push(
          { gpuId: `${first.uuid}/unpartitioned`, uuid: first.uuid, model, migProfile: null },
          'mig-unpartitioned',
          rest,
          boardPrice,
          null,
          [],
        );
      }
    } else {
      push(
        { gpuId: first.gpuId, uuid: first.uuid, model, migProfile: null },
        'gpu',
        1,
        boardPrice,
        records.find((r) => r.activityAvg !== null && r.activityAvg !== undefined)?.activityAvg ?? null,
        records.flatMap((r) => r.holders),
      );
    }
  }

  // GPUs the node counts but no exporter reported: priced, held by nobody we saw.
  const unreported = Math.max(0, Math.round(window.node.gpus ?? 0) - byBoard.size);
  const labelModel = describeNodeCostLabels(window.node.labels).gpu?.model ?? null;
  for (let i = 0; i < unreported; i++) {
    const gpuId = `${window.node.name}/unreported-${i}`;
    push(
      { gpuId, uuid: gpuId, model: labelModel, migProfile: null },
      'unreported',
      1,
      prices.gpuHourDefault,
      null,
      [],
    );
  }
  return units;
}

/**
 * Merges repeated holders, takes a missing share as 1, and scales shares down when they sum above 1 (a shared
 * GPU whose replica count the agent did not know): a device is never held more than once.
 */
function normaliseHolders(holders: readonly StoredHolder[]): GpuDeviceUse['holders'] {
  const merged = new Map<string, GpuDeviceUse['holders'][number]>();
  for (const h of holders) {
    const share = Math.min(1, Math.max(0, h.share ?? 1));
    const key = holderKey(h.namespace, h.pod, h.container);
    const existing = merged.get(key);
    if (existing) existing.share = Math.max(existing.share, share);
    else merged.set(key, { namespace: h.namespace, pod: h.pod, container: h.container ?? null, share });
  }
  const list = [...merged.values()];
  const total = list.reduce((sum, h) => sum + h.share, 0);
  if (total > 1) for (const h of list) h.share /= total;
  return list;
}

/**
 * GPU-equivalents a container's request stands for, from its resource name and the node's GPU labels: a whole
 * GPU is 1, `nvidia.com/mig-<profile>` its MIG share, a shared replica 1/replicas.
 */
export function requestedGpuShare(
  c: Pick<StoredContainer, 'requestGpus' | 'gpuResource'>,
  gpuLabels: NodeGpuLabels | undefined,
): number {
  const count = c.requestGpus ?? 0;
  if (count <= 0) return 0;
  const resource = c.gpuResource ?? 'nvidia.com/gpu';
  const key = matchGpuModel(gpuLabels?.model).key;
  if (resource.startsWith('nvidia.com/mig-')) return count * (migFraction(resource, key) ?? 1 / 7);
  const replicas = gpuLabels?.replicas && gpuLabels.replicas > 1 ? gpuLabels.replicas : 1;
  const shared = gpuLabels?.sharingStrategy !== undefined && gpuLabels.sharingStrategy !== 'none';
  if (resource === 'nvidia.com/gpu.shared') return count / replicas;
  if (resource === 'nvidia.com/gpu') {
    // MIG "single": every nvidia.com/gpu is one slice of the profile GFD appends to the product label.
    if (gpuLabels?.migStrategy === 'single') return count * (migFraction(gpuLabels.product, key) ?? 1);
    if (shared) return count / replicas;
  }
  return count;
}

function gpuWaste(units: readonly Unit[], threshold: number): GpuWaste {
  const waste: GpuWaste = {
    free: { gpuHours: 0, cost: 0, devices: [] },
    heldIdle: { gpuHours: 0, cost: 0, devices: [] },
    heldUnusedCost: 0,
  };
  for (const { use } of units) {
    const item = {
      gpuId: use.gpuId,
      uuid: use.uuid,
      model: use.model,
      migProfile: use.migProfile,
      kind: use.kind,
    };
    if (use.freeShare > 1e-12) {
      const free = { ...item, gpuHours: use.gpuHours * use.freeShare, cost: use.cost * use.freeShare };
      waste.free.gpuHours += free.gpuHours;
      waste.free.cost += free.cost;
      waste.free.devices.push(free);
    }
    if (use.heldShare > 0 && use.activity !== null) {
      const heldCost = use.cost * use.heldShare;
      waste.heldUnusedCost += heldCost * (1 - use.activity);
      if (use.activity < threshold) {
        const held = {
          ...item,
          gpuHours: use.gpuHours * use.heldShare,
          cost: heldCost,
          activity: use.activity,
          holders: use.holders.map(({ namespace, pod, container }) => ({ namespace, pod, container })),
        };
        waste.heldIdle.gpuHours += held.gpuHours;
        waste.heldIdle.cost += held.cost;
        waste.heldIdle.devices.push(held);
      }
    }
  }
  return waste;
}
