// Hourly cost roll-ups: each node's allocated windows merged per hour (collector/cost/rollup.ts), so a month of
// costs reads 720 rows per node and container instead of 43,200 windows, plus per-hour namespace sums, served-model
// records and GPU waste. Kept up to date through a dirty set: every new node window marks its (node, hour) dirty by
// trigger, in the ingest transaction itself, and the roll-up step (collector/store/cost-queries.ts, driven by
// collector/cost-service.ts) recomputes dirty node-hours with the pure cost model. A window belongs to the hour
// that holds its start.
import type { Migration } from './index.ts';

const HOUR_OF = (column: string) => `${column} - (${column} % 3600000)`;

const markDirty = (table: string) => `
CREATE TRIGGER ${table}_mark_cost_dirty AFTER INSERT ON ${table}
BEGIN
  INSERT OR IGNORE INTO cost_dirty_hours (hour, node) VALUES (${HOUR_OF('NEW.start')}, NEW.node);
END;`;

const SUMS = `
  cpu_core_hours          REAL NOT NULL,
  cpu_core_request_hours  REAL NOT NULL,
  cpu_core_usage_hours    REAL NOT NULL,
  ram_byte_hours          REAL NOT NULL,
  ram_byte_request_hours  REAL NOT NULL,
  ram_byte_usage_hours    REAL NOT NULL,
  gpu_hours               REAL NOT NULL,
  gpu_active_hours        REAL NOT NULL,
  gpu_measured_hours      REAL NOT NULL,
  pv_byte_hours           REAL NOT NULL,
  cpu_cost                REAL NOT NULL,
  ram_cost                REAL NOT NULL,
  gpu_cost                REAL NOT NULL,
  pv_cost                 REAL NOT NULL`;

export const m0002HourlyRollups: Migration = {
  version: 2,
  name: 'hourly-rollups',
  sql: `
-- (node, hour) pairs whose roll-up is missing or stale. hour = epoch ms of the UTC hour's start.
CREATE TABLE cost_dirty_hours (
  hour  INTEGER NOT NULL,
  node  TEXT    NOT NULL,
  PRIMARY KEY (hour, node)
) WITHOUT ROWID;
-- One trigger per new node window: the batch writer stores a window's GPU, container and model rows in the same
-- transaction as its node window (a per-row trigger on those tables would double the cost of ingest).
${markDirty('node_windows')}

-- One row per node and hour: the node's cost (capacity × prices), its volumes and its GPU waste.
CREATE TABLE cost_hourly_nodes (
  hour                  INTEGER NOT NULL,
  node                  TEXT    NOT NULL,
  start                 INTEGER NOT NULL,
  end                   INTEGER NOT NULL,
  windows               INTEGER NOT NULL,
  currency              TEXT    NOT NULL,
  discount              REAL    NOT NULL,
  price_source          TEXT    NOT NULL,
  cpu_core_hours        REAL    NOT NULL,
  ram_byte_hours        REAL    NOT NULL,
  gpu_hours             REAL    NOT NULL,
  cpu_cost              REAL    NOT NULL,
  ram_cost              REAL    NOT NULL,
  gpu_cost              REAL    NOT NULL,
  total_cost            REAL    NOT NULL,
  storage_cost          REAL    NOT NULL,
  free_gpu_hours        REAL    NOT NULL,
  free_gpu_cost         REAL    NOT NULL,
  held_idle_gpu_hours   REAL    NOT NULL,
  held_idle_gpu_cost    REAL    NOT NULL,
  held_unused_gpu_cost  REAL    NOT NULL,
  PRIMARY KEY (hour, node)
) WITHOUT ROWID;

-- One row per node, hour and container (or __pod__ / __unmounted__ row), with OpenCost's sums; and one idle row
-- per node and hour (idle = 1, namespace = '', pod = '', container = '__idle__'). Idle is stored unshared.
CREATE TABLE cost_hourly_allocations (
  hour                INTEGER NOT NULL,
  node                TEXT    NOT NULL,
  namespace           TEXT    NOT NULL,
  pod                 TEXT    NOT NULL,
  container           TEXT    NOT NULL,
  idle                INTEGER NOT NULL DEFAULT 0,
  start               INTEGER NOT NULL,
  end                 INTEGER NOT NULL,
  node_pool           TEXT,
  instance_type       TEXT,
  capacity_type       TEXT,
  region              TEXT,
  zone                TEXT,
  workload_kind       TEXT,
  workload_name       TEXT,
  ml_job_kind         TEXT,
  ml_job_name         TEXT,
  served_model        TEXT,
  served_model_kind   TEXT,
  gpu_model           TEXT,
  discount            REAL,
  labels              TEXT,
${SUMS},
  PRIMARY KEY (hour, node, namespace, pod, container)
) WITHOUT ROWID;
CREATE INDEX cost_hourly_allocations_by_namespace ON cost_hourly_allocations (namespace, hour);

-- The same rows summed per hour and namespace (idle: namespace = '', idle = 1), with the properties every summed
-- row agrees on: what aggregate=namespace or cluster reads, a few dozen rows per hour whatever the cluster's size.
-- Rebuilt from cost_hourly_allocations for every hour listed in cost_dirty_summaries.
CREATE TABLE cost_hourly_namespaces (
  hour                INTEGER NOT NULL,
  namespace           TEXT    NOT NULL,
  idle                INTEGER NOT NULL DEFAULT 0,
  start               INTEGER NOT NULL,
  end                 INTEGER NOT NULL,
  node                TEXT,
  node_pool           TEXT,
  instance_type       TEXT,
  capacity_type       TEXT,
  region              TEXT,
  zone                TEXT,
  workload_kind       TEXT,
  workload_name       TEXT,
  ml_job_kind         TEXT,
  ml_job_name         TEXT,
  served_model        TEXT,
  served_model_kind   TEXT,
  gpu_model           TEXT,
  discount            REAL,
  labels              TEXT,
${SUMS},
  PRIMARY KEY (hour, namespace)
) WITHOUT ROWID;
CREATE TABLE cost_dirty_summaries (
  hour  INTEGER PRIMARY KEY
) WITHOUT ROWID;

-- Served-model records summed per node, hour, pod and model: tokens and requests outlive the raw model windows.
CREATE TABLE cost_hourly_models (
  hour              INTEGER NOT NULL,
  node              TEXT    NOT NULL,
  namespace         TEXT    NOT NULL,
  pod               TEXT    NOT NULL,
  model             TEXT    NOT NULL,
  server            TEXT    NOT NULL,
  requests_ok       REAL    NOT NULL,
  requests_failed   REAL    NOT NULL,
  prompt_tokens     REAL    NOT NULL,
  generated_tokens  REAL    NOT NULL,
  PRIMARY KEY (hour, node, namespace, pod, model)
) WITHOUT ROWID;

-- GPU waste per node and hour: free capacity per unit (namespace = pod = ''), and held-but-idle capacity per unit
-- and holder (its share of the unit's cost).
CREATE TABLE cost_hourly_gpu_waste (
  hour         INTEGER NOT NULL,
  node         TEXT    NOT NULL,
  kind         TEXT    NOT NULL CHECK (kind IN ('free', 'held-idle')),
  gpu_id       TEXT    NOT NULL,
  namespace    TEXT    NOT NULL,
  pod          TEXT    NOT NULL,
  unit_kind    TEXT    NOT NULL,
  uuid         TEXT    NOT NULL,
  model        TEXT,
  mig_profile  TEXT,
  gpu_hours    REAL    NOT NULL,
  cost         REAL    NOT NULL,
  -- held-idle only: the unit's activity, weighted by GPU-hours over the hour
  activity     REAL,
  PRIMARY KEY (hour, node, kind, gpu_id, namespace, pod)
) WITHOUT ROWID;

-- What the roll-ups were computed with (a fingerprint of the pricing), so a pricing change recomputes them.
CREATE TABLE cost_rollup_state (
  key    TEXT PRIMARY KEY,
  value  TEXT NOT NULL
) WITHOUT ROWID;

-- Windows stored before this migration: their hours have no roll-up yet.
INSERT OR IGNORE INTO cost_dirty_hours (hour, node)
  SELECT DISTINCT ${HOUR_OF('start')}, node FROM node_windows;
`,
};
