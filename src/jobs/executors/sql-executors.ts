import { performance } from 'node:perf_hooks';
import {
  type CheckEvidence,
  checkOpenFailures,
  type IntegrityChecks,
  probeConnectivity,
  runIntegrityScan,
  SQL,
  takeParitySnapshot,
} from '../../executors/dg-sql/index.js';
import type {
  IntegrityCheckName,
  SqlIntegrityMeasurement,
  SqlParityMeasurement,
  SqlProjectionFailuresMeasurement,
  SqlReachMeasurement,
} from '../../runbook/measurements.js';
import { isDgSqlError, sampleOf, sqlFailureOf } from './adapters.js';
import type { ExecutorContext } from './context.js';
import { ParamReader, type StepParams } from './params.js';

/** Offending rows kept per integrity check. */
const INTEGRITY_SAMPLE = 10;
/** Open-failure groups kept. */
const FAILURE_GROUPS = 50;

/**
 * `scope: 'all'` (the default) covers every tenant: a database is restored as a whole, so damage anywhere in the
 * event log counts, as in the contract's checks; `'tenant'` only the run's tenant.
 */
function scopeTenant(executor: string, params: StepParams, ctx: ExecutorContext): string | undefined {
  return new ParamReader(executor, params).oneOf('scope', ['all', 'tenant'], 'all') === 'tenant'
    ? ctx.tenantId
    : undefined;
}

/** `SELECT 1` with the read-only role. A refused or timed-out connection is a measurement, not an error. */
export async function sqlReach(_params: StepParams, ctx: ExecutorContext): Promise<SqlReachMeasurement> {
  const started = performance.now();
  try {
    const c = await probeConnectivity(ctx.sql);
    return { reachable: true, latencyMs: c.durationMs, serverVersion: c.serverVersion };
  } catch (err) {
    if (!isDgSqlError(err)) throw err;
    return {
      reachable: false,
      latencyMs: Math.round((performance.now() - started) * 10) / 10,
      error: sqlFailureOf(err),
    };
  }
}

// The event-log checks run as one chunked scan (bounded memory on large logs); each is reported with the
// single-query form of contract §5.4 it is equivalent to, which says what it means better than the chunk query.
const CHUNKED = '-- run as the chunked scan dg_sql.integrity_scan.chunk.v1, equivalent to:\n';

const INTEGRITY_SOURCES: ReadonlyArray<readonly [IntegrityCheckName, keyof IntegrityChecks, string]> = [
  ['payload_hash_drift', 'payloadHashDrift', CHUNKED + SQL.payloadHashDrift],
  ['trace_seq_range', 'traceSeqContinuity', CHUNKED + SQL.traceSeqContinuity],
  ['trace_seq_step', 'traceSeqOrdering', CHUNKED + SQL.traceSeqOrdering],
  ['trace_started_mismatch', 'traceStartMismatch', CHUNKED + SQL.traceStartMismatch],
  ['events_after_finish', 'eventAfterFinish', CHUNKED + SQL.eventAfterFinish],
  ['cursor_ahead', 'cursorAheadOfTail', SQL.cursorAheadOfTail],
];

/**
 * The integrity checks of contract §5.4 in one read-only snapshot. Postgres being unreachable is thrown as the
 * probe's own error (see `executorFailureOf`): this measurement has no place for it, and an empty list of checks
 * must never read as a clean log.
 */
export async function sqlIntegrity(params: StepParams, ctx: ExecutorContext): Promise<SqlIntegrityMeasurement> {
  const tenantId = scopeTenant('sql.integrity', params, ctx);
  const scan = await runIntegrityScan(ctx.sql, {
    ...(tenantId !== undefined ? { tenantId } : {}),
    cap: INTEGRITY_SAMPLE,
    ...(ctx.signal ? { signal: ctx.signal } : {}),
  });
  return {
    checks: INTEGRITY_SOURCES.map(([name, key, sql]) => {
      const check = scan.checks[key] as CheckEvidence<object>;
      return {
        name,
        rowCount: check.totalCount,
        sample: sampleOf(check, INTEGRITY_SAMPLE),
        sql,
        latencyMs: check.durationMs,
      };
    }),
  };
}

/** Event count, tail and tenants of `dg_event_log`, for the restore parity of contract §5.4. */
export async function sqlParity(params: StepParams, ctx: ExecutorContext): Promise<SqlParityMeasurement> {
  const tenantId = scopeTenant('sql.parity', params, ctx);
  const snapshot = await takeParitySnapshot(ctx.sql, tenantId !== undefined ? { tenantId } : {});
  return {
    eventCount: snapshot.tenants.reduce((n, t) => n + t.eventCount, 0),
    maxLogSeq: snapshot.tenants.reduce((max, t) => Math.max(max, t.tailLogSeq), 0),
    tenantCount: snapshot.tenants.length,
    sql: SQL.parity,
    latencyMs: snapshot.durationMs,
  };
}

/** The run tenant's open `dg_projection_failures` rows, grouped by projection, error code and event. */
export async function sqlProjectionFailures(
  _params: StepParams,
  ctx: ExecutorContext,
): Promise<SqlProjectionFailuresMeasurement> {
  const found = await checkOpenFailures(ctx.sql, { tenantId: ctx.tenantId, cap: FAILURE_GROUPS });
  return {
    rows: found.rows.map((r) => ({
      projection_name: r.projectionName,
      error_code: r.errorCode,
      event_id: r.eventId,
      log_seq: r.logSeq,
      count: r.count,
      recoverable: r.recoverable,
    })),
    sql: SQL.openFailures,
    latencyMs: found.durationMs,
  };
}
