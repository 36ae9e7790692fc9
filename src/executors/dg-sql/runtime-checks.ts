import type { ReadOnlySession } from './read-only.js';

/*
 * What the recovery checklist's "no retry storm" and "every tenant" items can be measured by in DecisionGraph's
 * tables (contract §4.2, §4.4, §5.2): failure rows recorded again and again, replay runs failing, and each
 * tenant's projections against its own tail. Read-only, parameters bound.
 */

/** One failure recorded since a time, grouped: a terminal failure adds a row on every later append (no dedupe). */
export interface RepeatedFailureRow {
  projectionName: string;
  errorCode: string;
  eventId: string | null;
  rows: number;
  maxRetryCount: number;
  stillOpen: boolean;
}

export interface FailedRunRow {
  jobId: string;
  projectionName: string;
  mode: string;
  errorCode: string | null;
  finishedAt: string | null;
}

/** A tenant's lowest projection cursor (a missing row counts as 0) against its tail, and its open failure rows. */
export interface TenantLagRow {
  tenantId: string;
  tail: number;
  lowestCursor: number;
  openFailures: number;
}

/** Row caps: enough to tell a storm and to name the tenants, never a dump of the tables. */
const GROUPS = 20;
const TENANTS = 100;

export const RUNTIME_SQL = {
  // $2 is RFC3339 text: compared as a string, as DecisionGraph compares its timestamps.
  repeatedFailures: `SELECT projection_name AS "projectionName", error_code AS "errorCode", event_id AS "eventId",
      COUNT(*)::float8 AS rows, COALESCE(MAX(retry_count), 0)::float8 AS "maxRetryCount",
      BOOL_OR(status = 'open') AS "stillOpen"
    FROM dg_projection_failures WHERE tenant_id = $1 AND recorded_at >= $2
    GROUP BY projection_name, error_code, event_id ORDER BY rows DESC, 1, 2, 3 LIMIT ${GROUPS}`,
  failedRuns: `SELECT job_id AS "jobId", projection_name AS "projectionName", mode, error_code AS "errorCode",
      finished_at AS "finishedAt"
    FROM dg_projection_runs WHERE tenant_id = $1 AND status = 'failed' AND COALESCE(finished_at, requested_at) >= $2
    ORDER BY COALESCE(finished_at, requested_at) DESC, job_id LIMIT ${GROUPS}`,
  tenantLag: `WITH t AS (SELECT tenant_id, MAX(log_seq) AS tail FROM dg_event_log GROUP BY tenant_id),
      p AS (SELECT unnest(ARRAY['context_graph', 'trace_summary', 'precedent_index']) AS projection_name)
    SELECT t.tenant_id AS "tenantId", t.tail::float8 AS tail, MIN(COALESCE(c.last_log_seq, 0))::float8 AS "lowestCursor",
      (SELECT COUNT(*) FROM dg_projection_failures f WHERE f.tenant_id = t.tenant_id AND f.status = 'open')::float8
        AS "openFailures"
    FROM t CROSS JOIN p
    LEFT JOIN dg_projection_cursors c ON c.tenant_id = t.tenant_id AND c.projection_name = p.projection_name
    GROUP BY t.tenant_id, t.tail ORDER BY t.tenant_id LIMIT ${TENANTS}`,
} as const;

/** Failure rows and failed replay runs of `tenantId` since `since`, and every tenant's lag, in one snapshot. */
export async function runtimeBehaviourIn(s: ReadOnlySession, tenantId: string, since: string) {
  const failures = await s.query<RepeatedFailureRow>('dg_sql.repeated_failures.v1', RUNTIME_SQL.repeatedFailures, [
    tenantId,
    since,
  ]);
  const runs = await s.query<FailedRunRow>('dg_sql.failed_runs.v1', RUNTIME_SQL.failedRuns, [tenantId, since]);
  const tenants = await s.query<TenantLagRow>('dg_sql.tenant_lag.v1', RUNTIME_SQL.tenantLag);
  return { repeatedFailures: failures.rows, failedRuns: runs.rows, tenants: tenants.rows };
}
