-- DecisionGraph's own tables, as its migrations 20260307000100..0600 create them (contract §5).
-- Every timestamp is TEXT (RFC3339 UTC), compared as strings, as in the real server.

CREATE TABLE IF NOT EXISTS dg_event_log (
  log_seq            BIGSERIAL PRIMARY KEY,
  tenant_id          TEXT NOT NULL DEFAULT 'default',
  trace_id           TEXT NOT NULL,
  event_id           TEXT NOT NULL,
  trace_seq          INTEGER NOT NULL CHECK (trace_seq >= 0),
  event_type         TEXT NOT NULL CHECK (event_type IN (
                       'TraceStarted', 'InputObserved', 'EntityObserved', 'PolicyEvaluated', 'ExceptionRequested',
                       'ApprovalRecorded', 'WorkflowReviewRequested', 'PrecedentCited', 'ActionProposed',
                       'ActionCommitted', 'TraceFinished')),
  occurred_at        TEXT NOT NULL,
  recorded_at        TEXT NOT NULL,
  producer_id        TEXT NOT NULL,
  source_system      TEXT NOT NULL,
  source_subsystem   TEXT NULL,
  actor_type         TEXT NOT NULL,
  actor_id           TEXT NOT NULL,
  correlation_id     TEXT NULL,
  causation_event_id TEXT NULL,
  idempotency_key    TEXT NOT NULL,
  schema_version     INTEGER NOT NULL DEFAULT 1 CHECK (schema_version > 0),
  payload_json       TEXT NOT NULL,
  payload_hash       TEXT NOT NULL,
  tags_json          TEXT NOT NULL DEFAULT '[]',
  CONSTRAINT dg_event_log_event_id_unique UNIQUE (event_id),
  CONSTRAINT dg_event_log_trace_seq_unique UNIQUE (tenant_id, trace_id, trace_seq),
  CONSTRAINT dg_event_log_idempotency_unique UNIQUE (tenant_id, producer_id, idempotency_key)
);
CREATE INDEX IF NOT EXISTS dg_event_log_tenant_trace_seq_idx ON dg_event_log (tenant_id, trace_id, log_seq);
CREATE INDEX IF NOT EXISTS dg_event_log_tenant_type_seq_idx ON dg_event_log (tenant_id, event_type, log_seq);
CREATE INDEX IF NOT EXISTS dg_event_log_tenant_trace_type_idx ON dg_event_log (tenant_id, trace_id, event_type);

CREATE OR REPLACE FUNCTION dg_validate_event_log_insert() RETURNS trigger AS $$
DECLARE
  expected INTEGER;
  finished BOOLEAN;
BEGIN
  IF NEW.event_type = 'TraceStarted' AND NEW.trace_seq <> 0 THEN
    RAISE EXCEPTION 'trace_started_requires_zero' USING ERRCODE = '23514';
  END IF;
  SELECT COALESCE(MAX(trace_seq) + 1, 0), COALESCE(BOOL_OR(event_type = 'TraceFinished'), false)
    INTO expected, finished
    FROM dg_event_log WHERE tenant_id = NEW.tenant_id AND trace_id = NEW.trace_id;
  IF expected = 0 AND NEW.event_type <> 'TraceStarted' THEN
    RAISE EXCEPTION 'first_event_must_be_trace_started' USING ERRCODE = '23514';
  END IF;
  IF finished THEN
    RAISE EXCEPTION 'trace_finished_lock' USING ERRCODE = '23514';
  END IF;
  IF NEW.trace_seq <> expected THEN
    RAISE EXCEPTION 'trace_seq_expected:%', expected USING ERRCODE = '23514';
  END IF;
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS dg_event_log_validate_insert ON dg_event_log;
CREATE TRIGGER dg_event_log_validate_insert BEFORE INSERT ON dg_event_log
  FOR EACH ROW EXECUTE FUNCTION dg_validate_event_log_insert();

CREATE TABLE IF NOT EXISTS dg_projection_cursors (
  tenant_id       TEXT NOT NULL DEFAULT 'default',
  projection_name TEXT NOT NULL,
  last_log_seq    BIGINT NOT NULL DEFAULT 0,
  updated_at      TEXT NOT NULL,
  CONSTRAINT dg_projection_cursors_unique UNIQUE (tenant_id, projection_name)
);

CREATE TABLE IF NOT EXISTS dg_projection_digests (
  tenant_id       TEXT NOT NULL DEFAULT 'default',
  projection_name TEXT NOT NULL CHECK (projection_name IN
                    ('context_graph', 'trace_summary', 'precedent_index', 'full_projection')),
  digest_value    TEXT NOT NULL,
  last_log_seq    BIGINT NOT NULL DEFAULT 0,
  updated_at      TEXT NOT NULL,
  CONSTRAINT dg_projection_digests_unique UNIQUE (tenant_id, projection_name)
);

CREATE TABLE IF NOT EXISTS dg_projection_failures (
  id              UUID PRIMARY KEY,
  tenant_id       TEXT NOT NULL DEFAULT 'default',
  projection_name TEXT NOT NULL,
  log_seq         BIGINT NOT NULL,
  trace_id        TEXT NOT NULL,
  event_id        TEXT NOT NULL,
  error_code      TEXT NOT NULL,
  error_message   TEXT NOT NULL,
  recoverable     BOOLEAN NOT NULL DEFAULT false,
  retry_count     INTEGER NOT NULL DEFAULT 0,
  status          TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
  metadata_json   TEXT NOT NULL DEFAULT '{}',
  recorded_at     TEXT NOT NULL,
  resolved_at     TEXT NULL
);
CREATE INDEX IF NOT EXISTS dg_projection_failures_tenant_status_idx
  ON dg_projection_failures (tenant_id, projection_name, status);

CREATE TABLE IF NOT EXISTS dg_projection_runs (
  job_id           TEXT PRIMARY KEY,
  tenant_id        TEXT NOT NULL DEFAULT 'default',
  projection_name  TEXT NOT NULL,
  mode             TEXT NOT NULL,
  status           TEXT NOT NULL,
  requested_at     TEXT NOT NULL,
  started_at       TEXT NULL,
  finished_at      TEXT NULL,
  since_log_seq    BIGINT NOT NULL DEFAULT 0,
  until_log_seq    BIGINT NULL,
  processed_events BIGINT NOT NULL DEFAULT 0,
  last_log_seq     BIGINT NOT NULL DEFAULT 0,
  error_code       TEXT NULL,
  error_message    TEXT NULL,
  metadata_json    TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS dg_projection_runs_tenant_projection_idx ON dg_projection_runs (tenant_id, projection_name);
CREATE INDEX IF NOT EXISTS dg_projection_runs_status_requested_idx ON dg_projection_runs (status, requested_at);

-- Derived, per tenant, rebuildable.
CREATE TABLE IF NOT EXISTS dg_cg_nodes (
  tenant_id     TEXT NOT NULL DEFAULT 'default',
  node_id       TEXT NOT NULL,
  node_type     TEXT NOT NULL,
  trace_id      TEXT NOT NULL,
  log_seq       BIGINT NOT NULL,
  created_at    TEXT NOT NULL,
  metadata_json TEXT NOT NULL DEFAULT '{}',
  PRIMARY KEY (tenant_id, node_id)
);

CREATE TABLE IF NOT EXISTS dg_cg_edges (
  tenant_id     TEXT NOT NULL DEFAULT 'default',
  edge_id       TEXT NOT NULL,
  edge_type     TEXT NOT NULL,
  from_node_id  TEXT NOT NULL,
  to_node_id    TEXT NOT NULL,
  trace_id      TEXT NOT NULL,
  log_seq       BIGINT NOT NULL,
  created_at    TEXT NOT NULL,
  metadata_json TEXT NOT NULL DEFAULT '{}',
  PRIMARY KEY (tenant_id, edge_id)
);
CREATE INDEX IF NOT EXISTS dg_cg_edges_from_idx ON dg_cg_edges (tenant_id, from_node_id, log_seq);
CREATE INDEX IF NOT EXISTS dg_cg_edges_to_idx ON dg_cg_edges (tenant_id, to_node_id, log_seq);

CREATE TABLE IF NOT EXISTS dg_trace_summary (
  tenant_id             TEXT NOT NULL DEFAULT 'default',
  trace_id              TEXT NOT NULL,
  workflow              TEXT NULL,
  title                 TEXT NULL,
  primary_entity_type   TEXT NULL,
  primary_entity_system TEXT NULL,
  primary_entity_id     TEXT NULL,
  started_at            TEXT NULL,
  finished_at           TEXT NULL,
  outcome               TEXT NULL,
  event_count           INTEGER NOT NULL DEFAULT 0,
  last_log_seq          BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant_id, trace_id)
);

CREATE TABLE IF NOT EXISTS dg_policy_eval_index (
  tenant_id       TEXT NOT NULL DEFAULT 'default',
  source_event_id TEXT NOT NULL,
  log_seq         BIGINT NOT NULL,
  trace_id        TEXT NOT NULL,
  policy_id       TEXT NULL,
  policy_version  TEXT NULL,
  result          TEXT NULL,
  PRIMARY KEY (tenant_id, source_event_id)
);

CREATE TABLE IF NOT EXISTS dg_precedent_index (
  tenant_id             TEXT NOT NULL DEFAULT 'default',
  source_event_id       TEXT NOT NULL,
  log_seq               BIGINT NOT NULL,
  trace_id              TEXT NOT NULL,
  policy_id             TEXT NULL,
  policy_version        TEXT NULL,
  exception_id          TEXT NULL,
  primary_entity_type   TEXT NULL,
  primary_entity_system TEXT NULL,
  primary_entity_id     TEXT NULL,
  PRIMARY KEY (tenant_id, source_event_id)
);

-- Workflow runtime (durable operational state).
CREATE TABLE IF NOT EXISTS dg_workflow_runtime (
  tenant_id    TEXT PRIMARY KEY,
  last_log_seq BIGINT NOT NULL DEFAULT 0,
  updated_at   TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS dg_workflow_items (
  workflow_id           TEXT PRIMARY KEY,
  tenant_id             TEXT NOT NULL DEFAULT 'default',
  trace_id              TEXT NOT NULL,
  workflow_kind         TEXT NOT NULL,
  workflow_name         TEXT NOT NULL,
  subject_type          TEXT NOT NULL,
  subject_id            TEXT NOT NULL,
  status                TEXT NOT NULL,
  priority              TEXT NOT NULL,
  title                 TEXT NULL,
  policy_id             TEXT NULL,
  policy_version        TEXT NULL,
  requested_by_actor_id   TEXT NULL,
  requested_by_actor_type TEXT NULL,
  assigned_account_id   TEXT NULL,
  assigned_role         TEXT NULL,
  requested_at          TEXT NOT NULL,
  sla_due_at            TEXT NULL,
  updated_at            TEXT NOT NULL,
  resolved_at           TEXT NULL,
  last_action_type      TEXT NULL,
  last_action_at        TEXT NULL,
  current_decision      TEXT NULL,
  current_reason        TEXT NULL,
  approval_event_id     TEXT NULL,
  created_from_event_id TEXT NOT NULL,
  last_source_log_seq   BIGINT NOT NULL DEFAULT 0,
  metadata_json         TEXT NOT NULL DEFAULT '{}',
  CONSTRAINT dg_workflow_items_subject_unique UNIQUE (tenant_id, trace_id, subject_type, subject_id)
);

CREATE TABLE IF NOT EXISTS dg_workflow_actions (
  action_id       TEXT PRIMARY KEY,
  tenant_id       TEXT NOT NULL DEFAULT 'default',
  workflow_id     TEXT NOT NULL,
  trace_id        TEXT NOT NULL,
  action_type     TEXT NOT NULL,
  actor_account_id TEXT NULL,
  actor_id        TEXT NULL,
  actor_type      TEXT NULL,
  note            TEXT NULL,
  payload_json    TEXT NOT NULL DEFAULT '{}',
  resulting_status TEXT NULL,
  source_event_id TEXT NULL,
  created_at      TEXT NOT NULL,
  CONSTRAINT dg_workflow_actions_source_event_unique UNIQUE (tenant_id, source_event_id)
);

CREATE TABLE IF NOT EXISTS dg_workflow_notifications (
  notification_id TEXT PRIMARY KEY,
  tenant_id       TEXT NOT NULL DEFAULT 'default',
  workflow_id     TEXT NOT NULL,
  category        TEXT NOT NULL,
  channel         TEXT NOT NULL,
  status          TEXT NOT NULL,
  message         TEXT NOT NULL,
  dedupe_key      TEXT NOT NULL,
  created_at      TEXT NOT NULL,
  CONSTRAINT dg_workflow_notifications_dedupe_unique UNIQUE (tenant_id, dedupe_key)
);
