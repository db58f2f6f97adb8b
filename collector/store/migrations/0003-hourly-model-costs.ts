// Hourly served-model costs: what /api/v1/models sums over a range instead of re-reading every serving pod's
// allocation rows every hour. Built per hour from the hour's roll-ups (cost_hourly_allocations and
// cost_hourly_models), in the same step as cost_hourly_namespaces (every hour listed in cost_dirty_summaries), so
// it follows new windows, late windows, pricing changes and backfill, and can be rebuilt where raw windows are gone.
import type { Migration } from './index.ts';

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

export const m0003HourlyModelCosts: Migration = {
  version: 3,
  name: 'hourly-model-costs',
  sql: `
-- One row per hour, node, pod and model the pod has model records for there: the records' tokens and requests and
-- the pod's allocation rows on that node-hour × the model's share (SPEC.md §10: by tokens, else requests, else
-- evenly). start and end: the pod's rows' span (NULL when the pod has records but no allocation rows).
CREATE TABLE cost_hourly_model_costs (
  hour              INTEGER NOT NULL,
  node              TEXT    NOT NULL,
  namespace         TEXT    NOT NULL,
  pod               TEXT    NOT NULL,
  model             TEXT    NOT NULL,
  server            TEXT    NOT NULL,
  start             INTEGER,
  end               INTEGER,
  requests_ok       REAL    NOT NULL,
  requests_failed   REAL    NOT NULL,
  prompt_tokens     REAL    NOT NULL,
  generated_tokens  REAL    NOT NULL,
${SUMS},
  PRIMARY KEY (hour, node, namespace, pod, model)
) WITHOUT ROWID;

-- Serving pods' node-hours without a model record of their own: a pod with a served-model identity, or one that has
-- model records in some hour. Which models they go to depends on the range asked for (the models the pod served
-- anywhere in it, else its identity), so their sums are kept whole and shared out by the query.
CREATE TABLE cost_hourly_model_unmatched (
  hour              INTEGER NOT NULL,
  node              TEXT    NOT NULL,
  namespace         TEXT    NOT NULL,
  pod               TEXT    NOT NULL,
  -- the served-model identity every one of the pod's rows there agrees on, else NULL
  served_model      TEXT,
  start             INTEGER NOT NULL,
  end               INTEGER NOT NULL,
${SUMS},
  PRIMARY KEY (hour, node, namespace, pod)
) WITHOUT ROWID;

-- What the models query reads: cost_hourly_model_costs summed per hour, namespace and model (a few dozen rows an
-- hour whatever the cluster's size), with the hour's first model record in (node, pod) order (its server names the
-- model) and the pods' rows' span.
CREATE TABLE cost_hourly_model_sums (
  hour              INTEGER NOT NULL,
  namespace         TEXT    NOT NULL,
  model             TEXT    NOT NULL,
  first_node        TEXT    NOT NULL,
  first_pod         TEXT    NOT NULL,
  server            TEXT    NOT NULL,
  start             INTEGER,
  end               INTEGER,
  requests_ok       REAL    NOT NULL,
  requests_failed   REAL    NOT NULL,
  prompt_tokens     REAL    NOT NULL,
  generated_tokens  REAL    NOT NULL,
${SUMS},
  PRIMARY KEY (hour, namespace, model)
) WITHOUT ROWID;

-- The pods with model records per UTC day, namespace and model: bit i of mask set when the pod had records for the
-- model in hour i of the day. Counting a range's distinct pods reads a row per pod and day, not per pod and hour.
CREATE TABLE cost_daily_model_pods (
  day        INTEGER NOT NULL,
  namespace  TEXT    NOT NULL,
  model      TEXT    NOT NULL,
  pod        TEXT    NOT NULL,
  mask       INTEGER NOT NULL,
  PRIMARY KEY (day, namespace, model, pod)
) WITHOUT ROWID;

-- Which pods ever served a model, and what a pod served in a range.
CREATE INDEX cost_hourly_models_by_pod ON cost_hourly_models (namespace, pod, hour);

-- Hours rolled up before this migration: build their model costs (from the roll-ups, so also where raw windows are
-- past retention).
INSERT OR IGNORE INTO cost_dirty_summaries (hour)
  SELECT hour FROM cost_hourly_nodes UNION SELECT hour FROM cost_hourly_models;
`,
};
