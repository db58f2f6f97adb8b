// GPU waste over a time range for the report page: GPUs held by a pod that left them idle, and GPU capacity nobody
// held, with what each cost. The cost service rolls waste up per node and hour (cost_hourly_gpu_waste, written with
// the hourly cost roll-ups); this reads those rows in one aggregate query per kind, so the answer stays small and
// fast however many nodes and hours the range holds. An hour belongs to the range when its start does.
import type { CostService, TimeRange } from '../cost-service.ts';
import { HOUR_MS } from '../store/cost-queries.ts';
import type { Db } from '../store/database.ts';

export interface HeldIdleGpus {
  namespace: string;
  pod: string;
  node: string;
  /** GPU product strings (and MIG profiles) the pod held idle. */
  gpus: string[];
  /** Distinct GPUs or slices. */
  units: number;
  gpuHours: number;
  cost: number;
  /** Mean activity over the idle GPU-hours whose activity is known; null when none is. */
  activity: number | null;
}

export interface FreeGpus {
  node: string;
  gpus: string[];
  units: number;
  gpuHours: number;
  cost: number;
}

export interface WasteTotals {
  gpuHours: number;
  cost: number;
  /** Rows before `limit` cut the list. */
  rows: number;
}

export interface WasteSummary {
  currency: string;
  window: TimeRange;
  heldIdle: WasteTotals & { top: HeldIdleGpus[] };
  /** Null under a namespace filter: free capacity belongs to no namespace. */
  free: (WasteTotals & { top: FreeGpus[] }) | null;
}

export interface WasteQuery {
  window: TimeRange;
  namespaces?: readonly string[];
  /** Most rows listed per kind (totals count every row). */
  limit: number;
}

interface HeldRow {
  namespace: string;
  pod: string;
  node: string;
  gpus: string | null;
  units: number;
  gpu_hours: number;
  cost: number;
  active_hours: number;
  measured_hours: number;
}

interface FreeRow {
  node: string;
  gpus: string | null;
  units: number;
  gpu_hours: number;
  cost: number;
}

/** `NVIDIA H100 80GB HBM3 1g.10gb` from the model and MIG profile columns. */
const UNIT_NAME = "trim(coalesce(model, 'GPU') || ' ' || coalesce(mig_profile, ''))";

const split = (text: string | null) => (text ? [...new Set(text.split('\u001f'))].sort() : []);

function totals<T extends { gpuHours: number; cost: number }>(rows: T[], limit: number) {
  let gpuHours = 0;
  let cost = 0;
  for (const row of rows) {
    gpuHours += row.gpuHours;
    cost += row.cost;
  }
  return { gpuHours, cost, rows: rows.length, top: rows.slice(0, limit) };
}

export function createWasteQueries(db: Db) {
  const heldSql = (namespaces: number) => `
    SELECT namespace, pod, node, group_concat(${UNIT_NAME}, char(31)) AS gpus, count(DISTINCT gpu_id) AS units,
      sum(gpu_hours) AS gpu_hours, sum(cost) AS cost,
      sum(CASE WHEN activity IS NULL THEN 0 ELSE activity * gpu_hours END) AS active_hours,
      sum(CASE WHEN activity IS NULL THEN 0 ELSE gpu_hours END) AS measured_hours
    FROM cost_hourly_gpu_waste
    WHERE hour >= ? AND hour < ? AND kind = 'held-idle'
      ${namespaces > 0 ? `AND namespace IN (${Array(namespaces).fill('?').join(', ')})` : ''}
    GROUP BY namespace, pod, node
    ORDER BY sum(cost) DESC, namespace, pod, node`;
  const freeStatement = db.prepare<[number, number], FreeRow>(`
    SELECT node, group_concat(${UNIT_NAME}, char(31)) AS gpus, count(DISTINCT gpu_id) AS units,
      sum(gpu_hours) AS gpu_hours, sum(cost) AS cost
    FROM cost_hourly_gpu_waste
    WHERE hour >= ? AND hour < ? AND kind = 'free'
    GROUP BY node
    ORDER BY sum(cost) DESC, node`);
  const heldStatements = new Map<number, ReturnType<typeof db.prepare<unknown[], HeldRow>>>();

  return {
    /** Held-idle GPUs per pod and node, and free capacity per node, over [start, end), costliest first. */
    summary(query: WasteQuery): Omit<WasteSummary, 'currency'> {
      const from = Math.ceil(query.window.start / HOUR_MS) * HOUR_MS;
      const to = query.window.end;
      const namespaces = [...new Set(query.namespaces ?? [])];
      let held = heldStatements.get(namespaces.length);
      if (!held) {
        held = db.prepare<unknown[], HeldRow>(heldSql(namespaces.length));
        heldStatements.set(namespaces.length, held);
      }
      const heldRows = held.all(from, to, ...namespaces).map(
        (row): HeldIdleGpus => ({
          namespace: row.namespace,
          pod: row.pod,
          node: row.node,
          gpus: split(row.gpus),
          units: row.units,
          gpuHours: row.gpu_hours,
          cost: row.cost,
          activity: row.measured_hours > 0 ? row.active_hours / row.measured_hours : null,
        }),
      );
      const freeRows =
        namespaces.length > 0
          ? null
          : freeStatement.all(from, to).map(
              (row): FreeGpus => ({
                node: row.node,
                gpus: split(row.gpus),
                units: row.units,
                gpuHours: row.gpu_hours,
                cost: row.cost,
              }),
            );
      return {
        window: query.window,
        heldIdle: totals(heldRows, query.limit),
        free: freeRows ? totals(freeRows, query.limit) : null,
      };
    },
  };
}

/** Brings the hourly roll-ups of the range up to date, then sums their waste rows. */
export async function wasteSummary(
  db: Db,
  cost: Pick<CostService, 'currency' | 'refreshRollups'> & { unavailable?: Error | null },
  query: WasteQuery,
  queries = createWasteQueries(db),
): Promise<WasteSummary> {
  if (cost.unavailable) throw cost.unavailable;
  await cost.refreshRollups({
    from: Math.floor(query.window.start / HOUR_MS) * HOUR_MS,
    to: query.window.end,
  });
  return { currency: cost.currency, ...queries.summary(query) };
}
