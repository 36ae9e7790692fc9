import type {
  ChecklistMeasurement,
  CursorAheadRow,
  OpenRunBody,
  RuntimeBehaviour,
} from '../../runbook/measurements.js';
import { cursorAheadIn, type OpenRunRow, runtimeBehaviourIn, SQL, withReadOnly } from '../dg-sql/index.js';
import { isDgSqlError, sqlFailureOf } from './adapters.js';
import type { ExecutorContext } from './context.js';
import { dgHealthz, dgProjectionHealth, dgTraceRead, dgWorkflowRead } from './dg-executors.js';
import { ParamReader, type StepParams } from './params.js';
import { throwIfUnsafeRole } from './role-guard.js';
import { sqlIntegrity } from './sql-executors.js';

/** Rows kept of either SQL check; far more than a healthy deployment ever shows. */
const SQL_CAP = 50;

/** A run older than this counts as stuck in the probe's row; the gate itself judges every open run. */
const STUCK_AFTER_MS = 30 * 60_000;

type ChecklistSql = NonNullable<ChecklistMeasurement['sql']>;

/** A `dg_projection_runs` row as projection health's `open_runs` shows it, with its tenant. */
export function openRunBody(r: OpenRunRow): OpenRunBody {
  return {
    job_id: r.jobId,
    tenant_id: r.tenantId,
    projection_name: r.projectionName,
    mode: r.mode,
    status: r.status,
    requested_at: r.requestedAt,
    started_at: r.startedAt,
    processed_events: r.processedEvents,
    last_log_seq: r.lastLogSeq,
  };
}

/**
 * The SQL facts of the checklist for the run's tenant, in one read-only snapshot: cursors ahead of the tail,
 * and every replay run still queued or running (orphans included, which projection health alone cannot tell
 * from live ones). The tenant's only: those are the runs a person can decide about in this run.
 */
async function checklistSql(ctx: ExecutorContext, since: string | undefined): Promise<ChecklistSql> {
  // RFC3339 without fraction, comparable as text with DecisionGraph's timestamps.
  const threshold = `${new Date(ctx.clock().getTime() - STUCK_AFTER_MS).toISOString().slice(0, 19)}Z`;
  try {
    return await withReadOnly(ctx.sql, { sqlName: 'dg_sql.checklist.connect' }, async (s) => {
      const ahead = await cursorAheadIn(s, { tenantId: ctx.tenantId, cap: SQL_CAP });
      const open = await s.query<OpenRunRow>(
        'dg_sql.checklist.open_runs.v1',
        `WITH q AS (${SQL.openRuns}) SELECT * FROM q ORDER BY "requestedAt", "jobId" LIMIT ${SQL_CAP}`,
        [ctx.tenantId, false, threshold],
      );
      const cursorAhead: CursorAheadRow[] = ahead.rows.map((r) => ({
        tenant_id: r.tenantId,
        projection_name: r.projectionName,
        last_log_seq: r.lastLogSeq,
        tail: r.tailLogSeq,
      }));
      const runtime = since !== undefined ? await runtimeSince(s, ctx.tenantId, since) : undefined;
      return { cursorAhead, openRuns: open.rows.map(openRunBody), ...(runtime ? { runtime } : {}) };
    });
  } catch (err) {
    throwIfUnsafeRole(err);
    if (!isDgSqlError(err)) throw err;
    return { error: sqlFailureOf(err) };
  }
}

async function runtimeSince(
  s: Parameters<typeof runtimeBehaviourIn>[0],
  tenantId: string,
  since: string,
): Promise<RuntimeBehaviour> {
  const found = await runtimeBehaviourIn(s, tenantId, since);
  return {
    since,
    repeatedFailures: found.repeatedFailures.map((r) => ({
      projection: r.projectionName,
      errorCode: r.errorCode,
      eventId: r.eventId,
      rows: r.rows,
      maxRetryCount: r.maxRetryCount,
      stillOpen: r.stillOpen,
    })),
    failedRuns: found.failedRuns.map((r) => ({
      jobId: r.jobId,
      projection: r.projectionName,
      mode: r.mode,
      errorCode: r.errorCode,
    })),
    tenants: found.tenants,
  };
}

/**
 * Everything the recovery checklist needs, measured at once: healthz, the tenant's projection health, the SQL
 * facts, the known trace (`traceId`, default the deployment's) and the run's known workflow (`workflowId`, read
 * only when given). The reads run in parallel; reading the workflow makes DecisionGraph refresh its workflow
 * tables.
 */
export async function gateChecklist(params: StepParams, ctx: ExecutorContext): Promise<ChecklistMeasurement> {
  const p = new ParamReader('gate.checklist', params);
  const traceId = p.string('traceId', ctx.known.traceId, 500);
  // Only the run's own workflow: the judge expects one exactly when the run has it, and reading one writes.
  const workflowId = p.optionalString('workflowId', 500);
  // The run's start: failure rows and failed replays since then tell a retry storm from the incident itself.
  const since = p.optionalString('since', 40);
  // After a restore the log itself is re-checked: a backup can hold the same damage.
  const integrity = p.optionalBoolean('integrity') === true;
  const [healthz, projectionHealth, sql, trace, workflow, scan] = await Promise.all([
    dgHealthz({}, ctx),
    dgProjectionHealth({}, ctx),
    checklistSql(ctx, since),
    dgTraceRead({ traceId }, ctx),
    workflowId !== undefined ? dgWorkflowRead({ workflowId }, ctx) : Promise.resolve(undefined),
    integrity ? sqlIntegrity({ scope: 'all' }, ctx) : Promise.resolve(undefined),
  ]);
  return {
    healthz,
    projectionHealth,
    sql,
    trace,
    ...(workflow !== undefined ? { workflow } : {}),
    ...(scan !== undefined ? { integrity: scan } : {}),
  };
}
