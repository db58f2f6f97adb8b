// Reads what the store knows of nodes: each node with its latest window's usage and its GPUs in that window.
import type { Db } from './database.ts';

export interface NodeGpuView {
  id: string;
  uuid: string;
  index: number | null;
  model: string | null;
  migProfile: string | null;
  activity: number | null;
  memoryUsedBytes: number | null;
  memoryTotalBytes: number | null;
  powerWatts: number | null;
  temperatureCelsius: number | null;
  holders: Array<{ namespace: string; pod: string; container?: string; share?: number; via?: string }>;
}

export interface NodeView {
  name: string;
  agentId: string;
  firstSeen: string;
  lastSeen: string;
  simulated: boolean;
  /** `reporting` while the node's agent sends windows; `gone` once it has been silent past collector.nodeGoneAfter. */
  status: 'reporting' | 'gone';
  goneSince: string | null;
  labels: Record<string, string>;
  capacity: { cpuCores: number; memoryBytes: number; gpus: number | null };
  usage: {
    windowStart: string;
    windowEnd: string;
    cpuCores: number | null;
    cpuCoresMax: number | null;
    memoryBytes: number | null;
    memoryBytesMax: number | null;
    load1: number | null;
  } | null;
  gpus: NodeGpuView[];
}

interface NodeRow {
  name: string;
  agent_id: string;
  first_seen: number;
  last_seen: number;
  cpu_cores: number;
  memory_bytes: number;
  gpus: number | null;
  labels: string;
  simulated: number;
  gone_at: number | null;
  start: number | null;
  end: number | null;
  cpu_avg: number | null;
  cpu_max: number | null;
  memory_avg: number | null;
  memory_max: number | null;
  load1: number | null;
}

interface GpuRow {
  gpu_id: string;
  uuid: string;
  gpu_index: number | null;
  model: string | null;
  mig_profile: string | null;
  activity_avg: number | null;
  memory_used_max: number | null;
  memory_total: number | null;
  power_avg: number | null;
  temperature_max: number | null;
  holders: string;
}

export function createNodeQueries(db: Db) {
  const nodes = db.prepare<[], NodeRow>(`
    SELECT n.*, w.start, w.end, w.cpu_avg, w.cpu_max, w.memory_avg, w.memory_max, w.load1
    FROM nodes n
    LEFT JOIN node_windows w ON w.node = n.name
      AND w.start = (SELECT max(start) FROM node_windows WHERE node = n.name)
    ORDER BY n.name`);
  const gpus = db.prepare<[string, number], GpuRow>(`
    SELECT gpu_id, uuid, gpu_index, model, mig_profile, activity_avg, memory_used_max, memory_total, power_avg,
      temperature_max, holders
    FROM gpu_windows WHERE node = ? AND start = ? ORDER BY gpu_index, gpu_id`);

  // A simulated node counts for a range when a window of it, from its first to its last, starts in the range (a
  // window belongs to the range its start falls in). Once retention has pruned a node's windows (the hourly cost
  // roll-ups outlive them), the nodes row stands in: the end of its first window and the end of its last, which
  // places the node to within one window. Two index look-ups per simulated node, none per real one.
  const simulatedIn = db.prepare<{ from: number; to: number }, { name: string }>(`
    SELECT name FROM (
      SELECT n.name, n.first_seen, n.last_seen,
        (SELECT min(w.start) FROM node_windows w WHERE w.node = n.name) AS first_start,
        (SELECT max(w.start) FROM node_windows w WHERE w.node = n.name) AS last_start
      FROM nodes n WHERE n.simulated = 1)
    WHERE (CASE WHEN last_start IS NULL THEN last_seen > @from ELSE last_start >= @from END)
      AND min(first_seen, coalesce(first_start, first_seen)) < @to
    ORDER BY name`);
  const anySimulated = db.prepare<[], { one: number }>(
    'SELECT 1 AS one FROM nodes WHERE simulated = 1 LIMIT 1',
  );

  const markGone = db.prepare('UPDATE nodes SET gone_at = ? WHERE gone_at IS NULL AND last_seen < ?');
  const reporting = db.prepare<[], { name: string; last_seen: number }>(
    'SELECT name, last_seen FROM nodes WHERE gone_at IS NULL ORDER BY name',
  );

  return {
    /** Marks nodes whose last window ended before `cutoff` as gone; returns how many were marked. */
    markGone(cutoff: number, now: number): number {
      return markGone.run(now, cutoff).changes;
    },
    /** Nodes still reporting, with the end of their latest window. */
    reportingNodes(): Array<{ name: string; lastSeen: number }> {
      return reporting.all().map((row) => ({ name: row.name, lastSeen: row.last_seen }));
    },
    /** True when any node in the store was marked simulated by its agent (`mlcost simulate`). */
    anySimulated(): boolean {
      return anySimulated.get() !== undefined;
    },
    /**
     * Names of the simulated nodes with data in [from, to): those whose windows from first to last have a start in
     * the range (a gap between a node's windows counts as covered), sorted.
     */
    simulatedNodesIn(from: number, to: number): string[] {
      if (!(from < to)) return [];
      return simulatedIn.all({ from, to }).map((row) => row.name);
    },
    listNodes(): NodeView[] {
      return nodes.all().map((row) => ({
        name: row.name,
        agentId: row.agent_id,
        firstSeen: new Date(row.first_seen).toISOString(),
        lastSeen: new Date(row.last_seen).toISOString(),
        simulated: row.simulated === 1,
        status: row.gone_at === null ? 'reporting' : 'gone',
        goneSince: row.gone_at === null ? null : new Date(row.gone_at).toISOString(),
        labels: JSON.parse(row.labels) as Record<string, string>,
        capacity: { cpuCores: row.cpu_cores, memoryBytes: row.memory_bytes, gpus: row.gpus },
        usage:
          row.start === null || row.end === null
            ? null
            : {
                windowStart: new Date(row.start).toISOString(),
                windowEnd: new Date(row.end).toISOString(),
                cpuCores: row.cpu_avg,
                cpuCoresMax: row.cpu_max,
                memoryBytes: row.memory_avg,
                memoryBytesMax: row.memory_max,
                load1: row.load1,
              },
        gpus:
          row.start === null
            ? []
            : gpus.all(row.name, row.start).map((gpu) => ({
                id: gpu.gpu_id,
                uuid: gpu.uuid,
                index: gpu.gpu_index,
                model: gpu.model,
                migProfile: gpu.mig_profile,
                activity: gpu.activity_avg,
                memoryUsedBytes: gpu.memory_used_max,
                memoryTotalBytes: gpu.memory_total,
                powerWatts: gpu.power_avg,
                temperatureCelsius: gpu.temperature_max,
                holders: JSON.parse(gpu.holders) as NodeGpuView['holders'],
              })),
      }));
    },
  };
}

export type NodeQueries = ReturnType<typeof createNodeQueries>;
