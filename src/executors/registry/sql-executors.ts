import { performance } from 'node:perf_hooks';
import type {
  IntegrityCheckName,
  SqlCursorAheadMeasurement,
  SqlFailure,
  SqlIntegrityMeasurement,
  SqlParityMeasurement,
  SqlProjectionFailuresMeasurement,
  SqlReachMeasurement,
} from '../../runbook/measurements.js';
import {
  type CheckEvidence,
  checkCursorAheadOfTail,
  checkOpenFailures,
  type IntegrityChecks,
  probeConnectivity,
  runIntegrityScan,
  SQL,
  takeParitySnapshot,
} from '../dg-sql/index.js';
import { isDgSqlError, sampleOf, sqlFailureOf } from './adapters.js';
import type { ExecutorContext } from './context.js';
import { ParamReader, type StepParams } from './params.js';
import { throwIfUnsafeRole } from './role-guard.js';

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

function elapsedSince(started: number): number {
  return Math.round((performance.now() - started) * 10) / 10;
}

/**
 * Runs a probe; when Postgres cannot be queried (unreachable, timed out, query refused) the failure becomes the
 * measurement's `error`, so the judge fails the step instead of reading an empty result as a clean one. Anything
 * else (a refused role, a cancelled job, a bug) is thrown.
 */
async function measured<T>(probe: () => Promise<T>, failed: (error: SqlFailure, latencyMs: number) => T): Promise<T> {
  const started = performance.now();
  try {
    return await probe();
  } catch (err) {
    throwIfUnsafeRole(err);
    if (!isDgSqlError(err)) throw err;
    return failed(sqlFailureOf(err), elapsedSince(started));
  }
}

/**
 * `SELECT 1` with the read-only role. A refused or timed-out connection is a measurement, not an error; a role
 * that can write is refused (thrown).
 */
export async function sqlReach(_params: StepParams, ctx: ExecutorContext): Promise<SqlReachMeasurement> {
  const started = performance.now();
  try {
    const c = await probeConnectivity(ctx.sql);
    return { reachable: true, latencyMs: c.durationMs, serverVersion: c.serverVersion };
  } catch (err) {
    throwIfUnsafeRole(err);
    if (!isDgSqlError(err)) throw err;
    return { reachable: false, latencyMs: elapsedSince(started), error: sqlFailureOf(err) };
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
 * The integrity checks of contract §5.4 in one read-only snapshot. When Postgres cannot be queried the checks are
 * empty and `error` says why; the judges fail on it, so an empty list never reads as a clean log.
 */
export async function sqlIntegrity(params: StepParams, ctx: ExecutorContext): Promise<SqlIntegrityMeasurement> {
  const tenantId = scopeTenant('sql.integrity', params, ctx);
  return measured(
    async () => {
      const scan = await runIntegrityScan(ctx.sql, {
        ...(tenantId !== undefined ? { tenantId } : {}),
        cap: INTEGRITY_SAMPLE,
        ...(ctx.signal ? { signal: ctx.signal } : {}),
      });
      return integrityOf(scan.checks);
    },
    (error) => ({ checks: [], error }),
  );
}

function integrityOf(checks: IntegrityChecks): SqlIntegrityMeasurement {
  return {
    checks: INTEGRITY_SOURCES.map(([name, key, sql]) => {
      const check = checks[key] as CheckEvidence<object>;
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
  return measured(
    async () => {
      const snapshot = await takeParitySnapshot(ctx.sql, tenantId !== undefined ? { tenantId } : {});
      return {
        eventCount: snapshot.tenants.reduce((n, t) => n + t.eventCount, 0),
        maxLogSeq: snapshot.tenants.reduce((max, t) => Math.max(max, t.tailLogSeq), 0),
        tenantCount: snapshot.tenants.length,
        sql: SQL.parity,
        latencyMs: snapshot.durationMs,
      };
    },
    (error, latencyMs) => ({ eventCount: 0, maxLogSeq: 0, tenantCount: 0, sql: SQL.parity, latencyMs, error }),
  );
}

/** The run tenant's open `dg_projection_failures` rows, grouped by projection, error code and event. */
export async function sqlProjectionFailures(
  _params: StepParams,
  ctx: ExecutorContext,
): Promise<SqlProjectionFailuresMeasurement> {
  return measured(
    async () => {
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
    },
    (error, latencyMs) => ({ rows: [], sql: SQL.openFailures, latencyMs, error }),
  );
}

/** The run tenant's projection cursors past its event-log tail (contract §5.4). */
export async function sqlCursorAhead(_params: StepParams, ctx: ExecutorContext): Promise<SqlCursorAheadMeasurement> {
  return measured(
    async () => {
      const found = await checkCursorAheadOfTail(ctx.sql, { tenantId: ctx.tenantId, cap: FAILURE_GROUPS });
      return {
        rows: found.rows.map((r) => ({
          tenant_id: r.tenantId,
          projection_name: r.projectionName,
          last_log_seq: r.lastLogSeq,
          tail: r.tailLogSeq,
        })),
        sql: SQL.cursorAheadOfTail,
        latencyMs: found.durationMs,
      };
    },
    (error, latencyMs) => ({ rows: [], sql: SQL.cursorAheadOfTail, latencyMs, error }),
  );
}
