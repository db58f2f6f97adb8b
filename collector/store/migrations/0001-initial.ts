// The first schema: received batches (for deduplication), nodes, and per-window node, GPU, container and model records.
import type { Migration } from './index.ts';

export const m0001Initial: Migration = {
  version: 1,
  name: 'initial',
  sql: `
CREATE TABLE batches (
  agent_id    TEXT    NOT NULL,
  sequence    INTEGER NOT NULL,
  received_at INTEGER NOT NULL,
  windows     INTEGER NOT NULL,
  PRIMARY KEY (agent_id, sequence)
) WITHOUT ROWID;

CREATE TABLE nodes (
  name          TEXT PRIMARY KEY,
  agent_id      TEXT    NOT NULL,
  first_seen    INTEGER NOT NULL,
  last_seen     INTEGER NOT NULL,
  cpu_cores     REAL    NOT NULL,
  memory_bytes  REAL    NOT NULL,
  gpus          REAL,
  labels        TEXT    NOT NULL DEFAULT '{}',
  simulated     INTEGER NOT NULL DEFAULT 0,
  -- set when the node's agent stopped reporting for longer than collector.nodeGoneAfter; cleared when it returns
  gone_at       INTEGER
);

CREATE TABLE node_windows (
  node          TEXT    NOT NULL,
  start         INTEGER NOT NULL,
  end           INTEGER NOT NULL,
  cpu_avg       REAL,
  cpu_max       REAL,
  memory_avg    REAL,
  memory_max    REAL,
  load1         REAL,
  cpu_cores     REAL    NOT NULL,
  memory_bytes  REAL    NOT NULL,
  PRIMARY KEY (node, start)
) WITHOUT ROWID;
CREATE INDEX node_windows_by_start ON node_windows (start);

CREATE TABLE gpu_windows (
  node             TEXT    NOT NULL,
  start            INTEGER NOT NULL,
  end              INTEGER NOT NULL,
  gpu_id           TEXT    NOT NULL,
  uuid             TEXT    NOT NULL,
  gpu_index        INTEGER,
  model            TEXT,
  mig_profile      TEXT,
  mig_instance_id  INTEGER,
  activity_avg     REAL,
  activity_max     REAL,
  sm_activity_avg  REAL,
  tensor_activity_avg REAL,
  memory_used_max  REAL,
  memory_total     REAL,
  power_avg        REAL,
  energy_joules    REAL,
  temperature_max  REAL,
  sm_clock_avg     REAL,
  last_xid         INTEGER,
  holders          TEXT NOT NULL DEFAULT '[]',
  PRIMARY KEY (node, start, gpu_id)
) WITHOUT ROWID;
CREATE INDEX gpu_windows_by_start ON gpu_windows (start);

CREATE TABLE container_windows (
  node          TEXT    NOT NULL,
  start         INTEGER NOT NULL,
  end           INTEGER NOT NULL,
  namespace     TEXT    NOT NULL,
  pod           TEXT    NOT NULL,
  container     TEXT    NOT NULL,
  cpu_avg       REAL,
  cpu_max       REAL,
  cpu_p95       REAL,
  memory_avg    REAL,
  memory_max    REAL,
  request_cpu   REAL,
  request_memory REAL,
  request_gpus  REAL,
  gpu_resource  TEXT,
  limit_cpu     REAL,
  limit_memory  REAL,
  pod_uid       TEXT,
  qos_class     TEXT,
  workload_kind TEXT,
  workload_name TEXT,
  ml_job_kind   TEXT,
  ml_job_name   TEXT,
  served_model  TEXT,
  restarts      REAL,
  oom_killed    INTEGER,
  labels        TEXT,
  PRIMARY KEY (node, start, namespace, pod, container)
) WITHOUT ROWID;
CREATE INDEX container_windows_by_start ON container_windows (start);

CREATE TABLE model_windows (
  node              TEXT    NOT NULL,
  start             INTEGER NOT NULL,
  end               INTEGER NOT NULL,
  namespace         TEXT    NOT NULL,
  pod               TEXT    NOT NULL,
  model             TEXT    NOT NULL,
  server            TEXT    NOT NULL,
  requests_ok       REAL    NOT NULL,
  requests_failed   REAL    NOT NULL,
  prompt_tokens     REAL    NOT NULL,
  generated_tokens  REAL    NOT NULL,
  latency_sum       REAL    NOT NULL,
  latency_count     REAL    NOT NULL,
  queue_max         REAL,
  kv_cache_max      REAL,
  PRIMARY KEY (node, start, namespace, pod, model)
) WITHOUT ROWID;
CREATE INDEX model_windows_by_start ON model_windows (start);
`,
};
