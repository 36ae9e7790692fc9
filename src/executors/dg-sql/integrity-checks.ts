import { performance } from 'node:perf_hooks';
import type pg from 'pg';
import { type CheckEvidence, type CheckName, evidence, validCap } from './evidence.js';
import { type ReadOnlySession, withReadOnly } from './read-only.js';

/*
 * DecisionGraph's integrity rules (contract §5.4) as one query each. These are the reference: the chunked scan
 * in `integrity-scan.ts` must find exactly the same rows, and does on large logs with bounded memory.
 * All `log_seq`-like bigints are cast to float8 so they arrive as numbers (exact below 2^53).
 */

export interface CheckOptions {
  /** Only this tenant. @defaultValue all tenants */
  tenantId?: string;
  /** Rows kept in the evidence. @defaultValue 20 */
  cap?: number;
  /** Statement timeout, ms. @defaultValue 15000 */
  timeoutMs?: number;
}

export interface HashDriftRow {
  tenantId: string;
  traceId: string;
  logSeq: number;
  eventId: string;
  payloadHash: string;
  recomputed: string;
}

export interface ContinuityRow {
  tenantId: string;
  traceId: string;
  eventCount: number;
  minTraceSeq: number;
  maxTraceSeq: number;
}

export interface OrderingRow {
  tenantId: string;
  traceId: string;
  logSeq: number;
  eventId: string;
  traceSeq: number;
  previousTraceSeq: number;
}

export interface TraceStartRow {
  tenantId: string;
  traceId: string;
  logSeq: number;
  eventId: string;
  traceSeq: number;
  eventType: string;
}

export interface AfterFinishRow {
  tenantId: string;
  traceId: string;
  logSeq: number;
  eventId: string;
  eventType: string;
  /** The trace's first TraceFinished. */
  finishedLogSeq: number;
}

export interface CursorAheadRow {
  tenantId: string;
  projectionName: string;
  lastLogSeq: number;
  tailLogSeq: number;
}

export interface OpenFailureGroup {
  tenantId: string;
  projectionName: string;
  errorCode: string;
  eventId: string;
  logSeq: number;
  count: number;
  recoverable: boolean;
  firstRecordedAt: string;
  lastRecordedAt: string;
}

export interface OpenRunRow {
  jobId: string;
  tenantId: string;
  projectionName: string;
  mode: string;
  status: string;
  requestedAt: string;
  startedAt: string | null;
  processedEvents: number;
  lastLogSeq: number;
  /** No live coordinator job can own it (the caller reported 0 active replay jobs). */
  orphaned: boolean;
  /** Queued or running for longer than `stuckAfterMs`. */
  stuck: boolean;
}

export type OpenFailuresEvidence = CheckEvidence<OpenFailureGroup> & { readonly openRows: number };

export type OpenRunsEvidence = CheckEvidence<OpenRunRow> & {
  /** Queued or running rows, offending or not. */
  readonly openRuns: number;
  /** What the caller said the live coordinator holds; `null` when unknown. */
  readonly activeReplayJobs: number | null;
  /** Open rows beyond the live jobs: at least this many are orphans, even when which ones is unknown. */
  readonly unaccounted: number | null;
};

/** Shared tenant filter: `$1` is the tenant or NULL. */
const TENANT = '($1::text IS NULL OR tenant_id = $1)';

export const SQL = {
  payloadHashDrift: `SELECT tenant_id AS "tenantId", trace_id AS "traceId", log_seq::float8 AS "logSeq",
      event_id AS "eventId", payload_hash AS "payloadHash",
      'sha256:' || encode(sha256(convert_to(payload_json, 'UTF8')), 'hex') AS recomputed
    FROM dg_event_log
    WHERE ${TENANT}
      AND payload_hash IS DISTINCT FROM 'sha256:' || encode(sha256(convert_to(payload_json, 'UTF8')), 'hex')
    ORDER BY log_seq`,
  traceSeqContinuity: `SELECT tenant_id AS "tenantId", trace_id AS "traceId", COUNT(*)::float8 AS "eventCount",
      MIN(trace_seq) AS "minTraceSeq", MAX(trace_seq) AS "maxTraceSeq"
    FROM dg_event_log WHERE ${TENANT}
    GROUP BY tenant_id, trace_id HAVING MIN(trace_seq) <> 0 OR MAX(trace_seq) <> COUNT(*) - 1
    ORDER BY tenant_id, trace_id`,
  traceSeqOrdering: `SELECT "tenantId", "traceId", "logSeq", "eventId", "traceSeq", "previousTraceSeq" FROM (
      SELECT tenant_id AS "tenantId", trace_id AS "traceId", log_seq::float8 AS "logSeq", event_id AS "eventId",
        trace_seq AS "traceSeq", LAG(trace_seq) OVER (PARTITION BY tenant_id, trace_id ORDER BY log_seq) AS "previousTraceSeq"
      FROM dg_event_log WHERE ${TENANT}) s
    WHERE "previousTraceSeq" IS NOT NULL AND "traceSeq" <> "previousTraceSeq" + 1
    ORDER BY "logSeq"`,
  traceStartMismatch: `SELECT tenant_id AS "tenantId", trace_id AS "traceId", log_seq::float8 AS "logSeq",
      event_id AS "eventId", trace_seq AS "traceSeq", event_type AS "eventType"
    FROM dg_event_log WHERE ${TENANT} AND (trace_seq = 0) <> (event_type = 'TraceStarted')
    ORDER BY log_seq`,
  // One row per offending event (the contract's join yields one per pair when a trace finished twice).
  eventAfterFinish: `SELECT e.tenant_id AS "tenantId", e.trace_id AS "traceId", e.log_seq::float8 AS "logSeq",
      e.event_id AS "eventId", e.event_type AS "eventType", f.first_finished::float8 AS "finishedLogSeq"
    FROM dg_event_log e
    JOIN (SELECT tenant_id, trace_id, MIN(log_seq) AS first_finished FROM dg_event_log
          WHERE event_type = 'TraceFinished' AND ${TENANT} GROUP BY tenant_id, trace_id) f
      ON f.tenant_id = e.tenant_id AND f.trace_id = e.trace_id AND e.log_seq > f.first_finished
    ORDER BY e.log_seq`,
  cursorAheadOfTail: `SELECT c.tenant_id AS "tenantId", c.projection_name AS "projectionName",
      c.last_log_seq::float8 AS "lastLogSeq", COALESCE(t.tail, 0)::float8 AS "tailLogSeq"
    FROM dg_projection_cursors c
    LEFT JOIN LATERAL (SELECT MAX(e.log_seq) AS tail FROM dg_event_log e WHERE e.tenant_id = c.tenant_id) t ON true
    WHERE ($1::text IS NULL OR c.tenant_id = $1) AND c.last_log_seq > COALESCE(t.tail, 0)
    ORDER BY c.tenant_id, c.projection_name`,
  openFailures: `SELECT tenant_id AS "tenantId", projection_name AS "projectionName", error_code AS "errorCode",
      event_id AS "eventId", log_seq::float8 AS "logSeq", COUNT(*)::float8 AS count,
      BOOL_OR(recoverable) AS recoverable, MIN(recorded_at) AS "firstRecordedAt", MAX(recorded_at) AS "lastRecordedAt"
    FROM dg_projection_failures WHERE ${TENANT} AND status = 'open'
    GROUP BY tenant_id, projection_name, error_code, event_id, log_seq
    ORDER BY tenant_id, log_seq, projection_name, error_code, event_id`,
  // Timestamps are RFC3339 text: compared as strings, as DecisionGraph itself does.
  openRuns: `SELECT job_id AS "jobId", tenant_id AS "tenantId", projection_name AS "projectionName", mode, status,
      requested_at AS "requestedAt", started_at AS "startedAt", processed_events::float8 AS "processedEvents",
      last_log_seq::float8 AS "lastLogSeq", $2::bool AS orphaned,
      COALESCE(started_at, requested_at) < $3::text AS stuck
    FROM dg_projection_runs WHERE ${TENANT} AND status IN ('queued', 'running')`,
  parity: `SELECT tenant_id AS "tenantId", COUNT(*)::float8 AS "eventCount", MAX(log_seq)::float8 AS "tailLogSeq"
    FROM dg_event_log WHERE ${TENANT} GROUP BY tenant_id ORDER BY tenant_id`,
} as const;

/**
 * Runs `sql` and keeps the first `cap` rows plus the total, in one statement (`COUNT(*) OVER ()` over the
 * result keeps the query's order).
 */
async function capped<Row extends pg.QueryResultRow>(
  s: ReadOnlySession,
  check: CheckName,
  sqlName: string,
  sql: string,
  params: unknown[],
  cap: number,
): Promise<CheckEvidence<Row>> {
  const started = performance.now();
  const text = `WITH q AS (${sql}) SELECT q.*, COUNT(*) OVER ()::float8 AS "__total" FROM q LIMIT $${params.length + 1}`;
  const result = await s.query<Row & { __total: number }>(sqlName, text, [...params, Math.max(cap, 1)]);
  const total = result.rows[0]?.__total ?? 0;
  const rows = result.rows.slice(0, cap).map(({ __total: _, ...row }) => row as unknown as Row);
  return evidence(check, sqlName, performance.now() - started, rows, total);
}

export function hashDriftIn(s: ReadOnlySession, opts: CheckOptions = {}) {
  return capped<HashDriftRow>(
    s,
    'payload_hash_drift',
    'dg_sql.payload_hash_drift.v1',
    SQL.payloadHashDrift,
    [opts.tenantId ?? null],
    validCap(opts.cap),
  );
}
export function continuityIn(s: ReadOnlySession, opts: CheckOptions = {}) {
  return capped<ContinuityRow>(
    s,
    'trace_seq_continuity',
    'dg_sql.trace_seq_continuity.v1',
    SQL.traceSeqContinuity,
    [opts.tenantId ?? null],
    validCap(opts.cap),
  );
}
export function orderingIn(s: ReadOnlySession, opts: CheckOptions = {}) {
  return capped<OrderingRow>(
    s,
    'trace_seq_ordering',
    'dg_sql.trace_seq_ordering.v1',
    SQL.traceSeqOrdering,
    [opts.tenantId ?? null],
    validCap(opts.cap),
  );
}
export function traceStartIn(s: ReadOnlySession, opts: CheckOptions = {}) {
  return capped<TraceStartRow>(
    s,
    'trace_start_mismatch',
    'dg_sql.trace_start_mismatch.v1',
    SQL.traceStartMismatch,
    [opts.tenantId ?? null],
    validCap(opts.cap),
  );
}
export function afterFinishIn(s: ReadOnlySession, opts: CheckOptions = {}) {
  return capped<AfterFinishRow>(
    s,
    'event_after_finish',
    'dg_sql.event_after_finish.v1',
    SQL.eventAfterFinish,
    [opts.tenantId ?? null],
    validCap(opts.cap),
  );
}
export function cursorAheadIn(s: ReadOnlySession, opts: CheckOptions = {}) {
  return capped<CursorAheadRow>(
    s,
    'cursor_ahead_of_tail',
    'dg_sql.cursor_ahead_of_tail.v1',
    SQL.cursorAheadOfTail,
    [opts.tenantId ?? null],
    validCap(opts.cap),
  );
}

export async function openFailuresIn(s: ReadOnlySession, opts: CheckOptions = {}): Promise<OpenFailuresEvidence> {
  const sqlName = 'dg_sql.open_failures.v1';
  const cap = validCap(opts.cap);
  const started = performance.now();
  const result = await s.query<OpenFailureGroup & { __total: number; __rows: number }>(
    sqlName,
    `WITH q AS (${SQL.openFailures})
     SELECT q.*, COUNT(*) OVER ()::float8 AS "__total", SUM(q.count) OVER ()::float8 AS "__rows" FROM q LIMIT $2`,
    [opts.tenantId ?? null, Math.max(cap, 1)],
  );
  const first = result.rows[0];
  const rows = result.rows.slice(0, cap).map(({ __total: _t, __rows: _r, ...row }) => row as OpenFailureGroup);
  return {
    ...evidence('open_failures', sqlName, performance.now() - started, rows, first?.__total ?? 0),
    openRows: first?.__rows ?? 0,
  };
}

export interface OpenRunsOptions extends CheckOptions {
  /**
   * `projector.active_replay_jobs` from healthz (all tenants). With 0, every queued/running row is an orphan:
   * the coordinator starts empty after a restart and never reconciles its table. @defaultValue null (unknown)
   */
  activeReplayJobs?: number | null;
  /** A run queued or running longer than this is stuck. @defaultValue 1800000 (30 min) */
  stuckAfterMs?: number;
  /** Clock for the stuck threshold. @defaultValue now */
  now?: Date;
}

/** RFC3339 text without fraction, comparable as a string with DecisionGraph's timestamps. */
function thresholdText(at: number): string {
  return `${new Date(at).toISOString().slice(0, 19)}Z`;
}

export async function openRunsIn(s: ReadOnlySession, opts: OpenRunsOptions = {}): Promise<OpenRunsEvidence> {
  const sqlName = 'dg_sql.stuck_or_orphaned_runs.v1';
  const cap = validCap(opts.cap);
  const active = opts.activeReplayJobs ?? null;
  if (active !== null && (!Number.isInteger(active) || active < 0)) {
    throw new RangeError('activeReplayJobs must be a non-negative integer');
  }
  const threshold = thresholdText((opts.now ?? new Date()).getTime() - (opts.stuckAfterMs ?? 30 * 60_000));
  const started = performance.now();
  const result = await s.query<OpenRunRow & { __open: number; __total: number }>(
    sqlName,
    `WITH q AS (${SQL.openRuns})
     SELECT * FROM (
       SELECT q.*, COUNT(*) OVER ()::float8 AS "__open",
              (COUNT(*) FILTER (WHERE q.orphaned OR q.stuck) OVER ())::float8 AS "__total"
       FROM q) a
     WHERE orphaned OR stuck ORDER BY "requestedAt", "jobId" LIMIT $4`,
    [opts.tenantId ?? null, active === 0, threshold, Math.max(cap, 1)],
  );
  // When nothing offends, the filtered query returns no row to carry the open count.
  let openRuns = result.rows[0]?.__open;
  if (openRuns === undefined) {
    const count = await s.query<{ n: number }>(
      `${sqlName}.count`,
      `SELECT COUNT(*)::float8 AS n FROM dg_projection_runs WHERE ${TENANT} AND status IN ('queued', 'running')`,
      [opts.tenantId ?? null],
    );
    openRuns = count.rows[0]?.n ?? 0;
  }
  const rows = result.rows.slice(0, cap).map(({ __open: _o, __total: _t, ...row }) => row as OpenRunRow);
  return {
    ...evidence('stuck_or_orphaned_runs', sqlName, performance.now() - started, rows, result.rows[0]?.__total ?? 0),
    openRuns,
    activeReplayJobs: active,
    unaccounted: active === null ? null : Math.max(openRuns - active, 0),
  };
}

async function single<T>(pool: pg.Pool, opts: CheckOptions, fn: (s: ReadOnlySession) => Promise<T>): Promise<T> {
  return withReadOnly(pool, { timeoutMs: opts.timeoutMs }, fn);
}

/** Events whose stored `payload_json` bytes no longer hash to `payload_hash` (byte-level, contract §5.4). */
export const checkPayloadHashDrift = (pool: pg.Pool, opts: CheckOptions = {}) =>
  single(pool, opts, (s) => hashDriftIn(s, opts));
/** Traces whose `trace_seq` values are not exactly 0..n-1. */
export const checkTraceSeqContinuity = (pool: pg.Pool, opts: CheckOptions = {}) =>
  single(pool, opts, (s) => continuityIn(s, opts));
/** Events whose `trace_seq` is not the previous event's (in `log_seq` order) plus one. */
export const checkTraceSeqOrdering = (pool: pg.Pool, opts: CheckOptions = {}) =>
  single(pool, opts, (s) => orderingIn(s, opts));
/** Events breaking "trace_seq 0 ⇔ TraceStarted". */
export const checkTraceStartMismatch = (pool: pg.Pool, opts: CheckOptions = {}) =>
  single(pool, opts, (s) => traceStartIn(s, opts));
/** Events recorded after their trace's TraceFinished. */
export const checkEventsAfterFinish = (pool: pg.Pool, opts: CheckOptions = {}) =>
  single(pool, opts, (s) => afterFinishIn(s, opts));
/** Projection cursors past the tenant's last event (projection health would look clean). */
export const checkCursorAheadOfTail = (pool: pg.Pool, opts: CheckOptions = {}) =>
  single(pool, opts, (s) => cursorAheadIn(s, opts));
/** Open projection failures grouped by tenant, projection, error code and event. */
export const checkOpenFailures = (pool: pg.Pool, opts: CheckOptions = {}) =>
  single(pool, opts, (s) => openFailuresIn(s, opts));
/** Queued/running replay runs that are orphaned (no live job) or stuck (too old). */
export const checkOpenRuns = (pool: pg.Pool, opts: OpenRunsOptions = {}) =>
  single(pool, opts, (s) => openRunsIn(s, opts));
