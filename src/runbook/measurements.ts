// What executors hand the judges. Bodies keep DecisionGraph's field names (contract §3), so a validated response
// passes unchanged; types are structural, listing only what judges read, so the executors' richer types fit.

// ---- DecisionGraph HTTP calls ----

/** What one HTTP call did; the DecisionGraph client's `DgCallEvidence` fits this shape. */
export interface CallEvidence {
  readonly method: string;
  /** Path and query actually requested, without origin. */
  readonly path: string;
  /** HTTP status, or `null` when no response arrived. */
  readonly status: number | null;
  readonly requestId: string | null;
  readonly latencyMs: number;
}

/** Why a call did not succeed; the client's `DgApiCallError` fits this shape. */
export interface CallFailure {
  /** An `ErrorCode`, e.g. `DG_ERR_API_UNREACHABLE`. */
  readonly code: string;
  readonly message: string;
  /** Repeating the same call later can succeed without anyone changing anything. */
  readonly transient: boolean;
  /** DecisionGraph's own `error.code`, e.g. `projection_out_of_date`. */
  readonly dgCode?: string | null;
  readonly dgMessage?: string | null;
  readonly details?: Readonly<Record<string, unknown>>;
}

/** The outcome of one call, never thrown; the client's `DgCallResult<T>` fits this shape. */
export type CallResult<T> =
  | { readonly ok: true; readonly data: T; readonly evidence: CallEvidence }
  | { readonly ok: false; readonly error: CallFailure; readonly evidence: CallEvidence };

export interface ProjectionStatusBody {
  readonly projection_name: string;
  readonly last_log_seq: number;
  readonly pending_events: number;
  readonly is_stale: boolean;
  readonly open_failures: number;
  readonly updated_at?: string | null;
  readonly digest?: string | null;
}

export interface OpenRunBody {
  readonly job_id: string;
  readonly projection_name: string;
  readonly mode: string;
  readonly status: string;
  readonly requested_at?: string;
  readonly started_at?: string | null;
  readonly processed_events?: number;
  readonly last_log_seq?: number;
  readonly tenant_id?: string;
}

/** `data` of `GET /api/v1/projections/health`, and `projection_health` of healthz when available. */
export interface ProjectionHealthBody {
  readonly tenant_id: string;
  readonly event_log_last_seq: number;
  readonly projections: readonly ProjectionStatusBody[];
  readonly open_runs: readonly OpenRunBody[];
  readonly full_digest?: string | null;
}

/** `GET /api/healthz` (raw object, no envelope). */
export interface HealthzBody {
  readonly projection_health: ProjectionHealthBody | { readonly status: 'unavailable'; readonly reason: string };
  readonly projector: { readonly active_replay_jobs: number };
  readonly store: { readonly 'repo_started?': boolean };
}

export interface TraceBody {
  readonly events: readonly unknown[];
  readonly summary: { readonly trace_id: string; readonly event_count: number; readonly last_log_seq: number };
}

export interface GraphContextBody {
  readonly nodes: readonly unknown[];
  readonly edges: readonly unknown[];
  readonly truncated: boolean;
}

export interface WorkflowListBody {
  readonly items: readonly unknown[];
  readonly summary: {
    readonly total_count: number;
    readonly open_count: number;
    readonly overdue_count: number;
    readonly escalated_count?: number;
  };
}

export interface WorkflowDetailBody {
  readonly workflow: { readonly workflow_id: string; readonly status: string; readonly overdue?: boolean };
}

export interface ReplayRunBody {
  readonly job_id: string;
  readonly projection_name: string;
  readonly mode: string;
  readonly status: string;
  readonly processed_events: number;
  readonly last_log_seq: number;
  readonly error_code: string | null;
  readonly error_message: string | null;
  readonly requested_at?: string;
  readonly started_at?: string | null;
  readonly finished_at?: string | null;
}

/** `dg.healthz`: one `GET /api/healthz`. */
export type HealthzMeasurement = CallResult<HealthzBody>;
/** healthz `projector`: live projection workers and replay jobs of the node, every tenant together. */
export interface ProjectorBody {
  readonly active_workers: number;
  readonly active_replay_jobs: number;
}

/**
 * `dg.projection_health`: one authenticated `GET /api/v1/projections/health` for the run's tenant; with
 * `params.projector`, `GET /api/healthz` alongside for what is running on the node.
 */
export type ProjectionHealthMeasurement = CallResult<ProjectionHealthBody> & {
  readonly projector?: CallResult<ProjectorBody>;
};
/** `dg.trace_read`: `GET /api/v1/traces/:trace_id` with `params.traceId`. */
export type TraceReadMeasurement = CallResult<TraceBody>;
/** `dg.graph_read`: `GET /api/v1/graph/context?node_type=&node_id=` with `params.nodeType`, `params.nodeId`. */
export type GraphReadMeasurement = CallResult<GraphContextBody>;
/** `dg.workflow_inbox`: `GET /api/v1/workflows` (a GET that writes: DecisionGraph refreshes workflow tables). */
export type WorkflowInboxMeasurement = CallResult<WorkflowListBody>;
/** `dg.workflow_read`: `GET /api/v1/workflows/:workflow_id` with `params.workflowId`. */
export type WorkflowReadMeasurement = CallResult<WorkflowDetailBody>;

/**
 * `dg.replay_start`: `POST /api/v1/admin/replays` with `params.mode`, `params.projection`, `params.reason`. On a
 * 409 "already running" the executor reads projection health once more and passes its `open_runs`, so the judge
 * can attach to the run that holds the scope instead of starting a second one.
 */
export interface ReplayStartMeasurement {
  readonly request: { readonly mode: string; readonly projection: string; readonly reason: string };
  readonly result: CallResult<{ readonly run: ReplayRunBody }>;
  readonly openRuns?: readonly OpenRunBody[];
  /** Set when the request was sent and no answer came back: the search for the run it may have created. */
  readonly lookup?: ReplayLookup;
}

/**
 * The search for the run a replay request without an answer may have created: the open runs of the same
 * projection and mode, each read back for the request key the bot put in its metadata (contract §3.8).
 */
export interface ReplayLookup {
  /** `metadata.dg_recovery_request` of the request. */
  readonly requestKey: string;
  /** The run whose metadata carries the key, when one was found. */
  readonly found: ReplayRunBody | null;
  /** Job ids read back. */
  readonly checked: readonly string[];
  /** Why the search could not finish (projection health or a run could not be read). */
  readonly error?: string;
}

/**
 * `dg.replay_poll`: `GET /api/v1/admin/replays/:job_id` with `params.jobId`, then projection health, because a
 * failed rebuild shows 0 open failures and only the run row tells (contract §4.3).
 */
export interface ReplayPollMeasurement {
  readonly run: CallResult<{ readonly run: ReplayRunBody }>;
  readonly health?: CallResult<ProjectionHealthBody>;
}

/**
 * `dg.replay_inventory`: healthz (for `projector.active_replay_jobs`, node-wide), the tenant's projection health
 * (for `open_runs`), and every tenant's open `dg_projection_runs` rows by SQL, so that live jobs can be told from
 * orphans per tenant (contract §4.4).
 */
export interface ReplayInventoryMeasurement {
  readonly healthz: CallResult<HealthzBody>;
  readonly projectionHealth: CallResult<ProjectionHealthBody>;
  /** Queued or running rows of all tenants, newest first; `error` when the query could not run. */
  readonly sql?: { readonly openRuns: readonly OpenRunBody[] } | { readonly error: SqlFailure };
  /** `active_replay_jobs` read again after the SQL snapshot: a job admitted in between counts as live. */
  readonly activeAfter?: number;
}

// ---- DecisionGraph Postgres (read-only role) ----

export interface SqlFailure {
  /** `DG_ERR_SQL_UNREACHABLE`, `DG_ERR_SQL_TIMEOUT` or `DG_ERR_SQL_QUERY_FAILED`. */
  readonly code: string;
  readonly message: string;
  readonly transient: boolean;
}

/** `sql.reach`: connect and `SELECT 1` with the read-only role. Unreachable is a measurement, not an error. */
export interface SqlReachMeasurement {
  readonly reachable: boolean;
  readonly latencyMs: number;
  readonly error?: SqlFailure;
  readonly serverVersion?: string;
}

export const INTEGRITY_CHECKS = [
  'payload_hash_drift',
  'trace_seq_range',
  'trace_seq_step',
  'trace_started_mismatch',
  'events_after_finish',
  'cursor_ahead',
] as const;
export type IntegrityCheckName = (typeof INTEGRITY_CHECKS)[number];

/**
 * `sql.integrity`: the checks of contract §5.4, one query each. When Postgres could not be queried, `error` says
 * why and `checks` is empty: nothing is known, and the judges fail the step rather than read a clean log.
 */
export interface SqlIntegrityMeasurement {
  /** Every one of {@link INTEGRITY_CHECKS}; a judge fails a list that lacks one. */
  readonly checks: ReadonlyArray<{
    readonly name: IntegrityCheckName;
    readonly rowCount: number;
    /** A few offending rows (ids and sequence numbers only, never payloads). */
    readonly sample: readonly Readonly<Record<string, unknown>>[];
    readonly sql: string;
    readonly latencyMs: number;
  }>;
  /** The scan did not complete (unreachable, timed out, query refused). */
  readonly error?: SqlFailure;
}

/**
 * `sql.parity`: `COUNT(*)` and `MAX(log_seq)` of `dg_event_log` (the restore-drill parity of contract §5.4). With
 * `error` the counts are 0 and mean nothing.
 */
export interface SqlParityMeasurement {
  readonly eventCount: number;
  readonly maxLogSeq: number;
  readonly tenantCount: number;
  readonly sql: string;
  readonly latencyMs: number;
  /** The query did not complete (unreachable, timed out, query refused). */
  readonly error?: SqlFailure;
}

/**
 * `sql.projection_failures`: open `dg_projection_failures` rows of the tenant, grouped (contract §5.4). With
 * `error` the rows are empty and mean nothing.
 */
export interface SqlProjectionFailuresMeasurement {
  readonly rows: ReadonlyArray<{
    readonly projection_name: string;
    readonly error_code: string;
    readonly event_id: string | null;
    readonly log_seq: number | string | null;
    readonly count: number | string;
    readonly recoverable?: boolean | null;
  }>;
  readonly sql: string;
  readonly latencyMs: number;
  /** The query did not complete (unreachable, timed out, query refused). */
  readonly error?: SqlFailure;
}

// ---- host actions ----

/** Why the host-action layer says an action did not succeed, with its `ErrorCode`. */
export interface HostFailure {
  /** e.g. `DG_ERR_HOST_ACTION_FAILED`, `DG_ERR_HOST_ACTION_BAD_OUTPUT`. */
  readonly code: string;
  readonly message: string;
}

/**
 * `host.*`: what a configured host action did. `manual` means the bot must not act: it shows `instructions` and
 * waits for a person to click Done. Output tails and URLs carry no secrets (the executor scrubs them). `failure`
 * is the host-action layer's own verdict; it also catches what an exit code or status cannot show, such as a
 * `list_backups` whose output does not parse.
 */
export type HostActionMeasurement =
  | { readonly mode: 'manual'; readonly instructions: string }
  | {
      readonly mode: 'command';
      readonly argv: readonly string[];
      readonly exitCode: number | null;
      readonly signal: string | null;
      readonly timedOut: boolean;
      readonly durationMs: number;
      readonly outputTail: string;
      readonly failure?: HostFailure;
    }
  | {
      readonly mode: 'http';
      readonly method: string;
      readonly url: string;
      readonly status: number | null;
      readonly timedOut: boolean;
      readonly durationMs: number;
      readonly bodyTail?: string;
      /** Why no answer arrived (refused, unknown host), or why the answer was not a success. */
      readonly error?: string;
      readonly failure?: HostFailure;
    };

/** The copy of the broken database `preserve_database` reported making (its id, its path, or both). */
export interface PreservedCopy {
  readonly id?: string;
  readonly path?: string;
}

/** `host.preserve_database`: the action's outcome plus the copy it named, when its output did. */
export type PreserveMeasurement = HostActionMeasurement & { readonly preserved?: PreservedCopy };

/** One line of `list_backups` output. */
export interface BackupArtifact {
  readonly id: string;
  readonly path: string;
  /** ISO 8601. */
  readonly created_at: string;
  readonly size_bytes: number;
  readonly label: string;
  /** The last event-log position the backup holds, when the listing reports it. */
  readonly last_log_seq?: number;
}

/**
 * `host.list_backups`: the action's outcome plus the artifacts it printed: absent when manual or when the output
 * could not be read (then `failure` says why), possibly empty when the listing found nothing.
 */
export type ListBackupsMeasurement = HostActionMeasurement & { readonly artifacts?: readonly BackupArtifact[] };

// ---- smoke checks and the checklist gate ----

export interface SmokeCheck {
  /** e.g. `healthz`, `projection_health`, `replay_admission`, `trace_read`, `workflow_list`. */
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
  readonly source: {
    readonly kind: 'http' | 'sql' | 'host';
    readonly method?: string;
    readonly path?: string;
    readonly status?: number | null;
    readonly requestId?: string | null;
    readonly latencyMs?: number;
  };
  /** The replay run the check started (`replay_admission` admitted). */
  readonly jobId?: string;
}

/** `smoke.checks`: the install smoke tests (contract §6 API_RUNTIME, §7). */
export interface SmokeMeasurement {
  readonly checks: readonly SmokeCheck[];
}

/** A row of the cursor-ahead check; bigint columns may arrive as strings. */
export interface CursorAheadRow {
  readonly tenant_id: string;
  readonly projection_name: string;
  readonly last_log_seq: number | string;
  readonly tail: number | string;
}

/** `sql.cursor_ahead`: the tenant's projection cursors past its event-log tail (contract §5.4). */
export interface SqlCursorAheadMeasurement {
  readonly rows: readonly CursorAheadRow[];
  readonly sql: string;
  readonly latencyMs: number;
  /** The query did not complete (unreachable, timed out, query refused). */
  readonly error?: SqlFailure;
}

/**
 * The runtime's recent behaviour and every tenant's projections, as the checklist reads them by SQL: failure rows
 * recorded since the run started (a terminal failure adds one on every append), replay runs failed since then, and
 * each tenant's lowest cursor against its tail.
 */
export interface RuntimeBehaviour {
  readonly since: string;
  readonly repeatedFailures: ReadonlyArray<{
    readonly projection: string;
    readonly errorCode: string;
    readonly eventId: string | null;
    readonly rows: number;
    readonly maxRetryCount: number;
    readonly stillOpen: boolean;
  }>;
  readonly failedRuns: ReadonlyArray<{
    readonly jobId: string;
    readonly projection: string;
    readonly mode: string;
    readonly errorCode: string | null;
  }>;
  readonly tenants: ReadonlyArray<{
    readonly tenantId: string;
    readonly tail: number;
    readonly lowestCursor: number;
    readonly openFailures: number;
  }>;
}

/**
 * `gate.checklist`: everything the recovery checklist (contract §4.1, §6) needs, measured in one go: healthz, the
 * tenant's projection health, the SQL checks, the known trace, and the known workflow when `params.workflowId`
 * is set.
 */
export interface ChecklistMeasurement {
  readonly healthz: CallResult<HealthzBody>;
  readonly projectionHealth: CallResult<ProjectionHealthBody>;
  /** Absent (or with `error`) when DecisionGraph's Postgres could not be queried; those checks stay unchecked. */
  readonly sql?: {
    readonly cursorAhead?: readonly CursorAheadRow[];
    /** `dg_projection_runs` rows with status queued or running. */
    readonly openRuns?: readonly OpenRunBody[];
    /** Read when the gate has `params.since` (the run's start). */
    readonly runtime?: RuntimeBehaviour;
    readonly error?: SqlFailure;
  };
  readonly trace: CallResult<TraceBody>;
  readonly workflow?: CallResult<WorkflowDetailBody>;
  /** The event-log integrity scan of every tenant, when `params.integrity` (a scenario that restores a backup). */
  readonly integrity?: SqlIntegrityMeasurement;
}

// ---- the executor catalogue ----

/** Every executor the scenarios name, with the measurement it must produce. */
export interface ExecutorMeasurements {
  'dg.healthz': HealthzMeasurement;
  'dg.projection_health': ProjectionHealthMeasurement;
  'dg.trace_read': TraceReadMeasurement;
  'dg.graph_read': GraphReadMeasurement;
  'dg.workflow_inbox': WorkflowInboxMeasurement;
  'dg.workflow_read': WorkflowReadMeasurement;
  'dg.replay_start': ReplayStartMeasurement;
  'dg.replay_poll': ReplayPollMeasurement;
  'dg.replay_inventory': ReplayInventoryMeasurement;
  'sql.reach': SqlReachMeasurement;
  'sql.integrity': SqlIntegrityMeasurement;
  'sql.parity': SqlParityMeasurement;
  'sql.projection_failures': SqlProjectionFailuresMeasurement;
  'sql.cursor_ahead': SqlCursorAheadMeasurement;
  'host.restart_runtime': HostActionMeasurement;
  'host.stop_runtime': HostActionMeasurement;
  'host.start_runtime': HostActionMeasurement;
  'host.restore_postgres': HostActionMeasurement;
  'host.stop_writes': HostActionMeasurement;
  'host.preserve_database': PreserveMeasurement;
  'host.list_backups': ListBackupsMeasurement;
  'host.restore_backup': HostActionMeasurement;
  'host.switch_release': HostActionMeasurement;
  'smoke.checks': SmokeMeasurement;
  'gate.checklist': ChecklistMeasurement;
}

export type JobExecutorName = keyof ExecutorMeasurements;

/**
 * `manual` is the engine's own executor: the step's instructions are shown and a person clicks Done. No job runs
 * for it, so it has no measurement.
 */
export type ExecutorName = JobExecutorName | 'manual';

/** The executors that run a host action (manual unless the recovery config sets a command or a webhook). */
export const HOST_ACTION_EXECUTORS = [
  'host.restart_runtime',
  'host.stop_runtime',
  'host.start_runtime',
  'host.restore_postgres',
  'host.stop_writes',
  'host.preserve_database',
  'host.list_backups',
  'host.restore_backup',
  'host.switch_release',
] as const satisfies readonly JobExecutorName[];

export const EXECUTOR_NAMES = [
  'dg.healthz',
  'dg.projection_health',
  'dg.trace_read',
  'dg.graph_read',
  'dg.workflow_inbox',
  'dg.workflow_read',
  'dg.replay_start',
  'dg.replay_poll',
  'dg.replay_inventory',
  'sql.reach',
  'sql.integrity',
  'sql.parity',
  'sql.projection_failures',
  'sql.cursor_ahead',
  ...HOST_ACTION_EXECUTORS,
  'smoke.checks',
  'gate.checklist',
  'manual',
] as const satisfies readonly ExecutorName[];

/** The measurement of any executor; the job layer passes the one its call produced. */
export type Measurement = ExecutorMeasurements[JobExecutorName];

/** The host action a `host.*` executor stands for, as named in the recovery config (`restart_runtime`…). */
export function hostActionOf(executor: string): string | undefined {
  return executor.startsWith('host.') ? executor.slice('host.'.length) : undefined;
}
