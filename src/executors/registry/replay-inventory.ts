import type { ReplayInventoryMeasurement } from '../../runbook/measurements.js';
import { type OpenRunRow, SQL, withReadOnly } from '../dg-sql/index.js';
import { callResultOf, isDgSqlError, same, sqlFailureOf } from './adapters.js';
import { openRunBody } from './checklist.js';
import type { ExecutorContext } from './context.js';
import type { StepParams } from './params.js';
import { throwIfUnsafeRole } from './role-guard.js';

/** Open rows kept; far more than live jobs and orphans a node ever holds. */
const OPEN_RUNS_CAP = 200;
/** The stuck flag of the shared query is not used here; a threshold no row is older than. */
const NEVER = '0000-01-01T00:00:00Z';

async function openRunsOfAllTenants(ctx: ExecutorContext): Promise<NonNullable<ReplayInventoryMeasurement['sql']>> {
  try {
    return await withReadOnly(ctx.sql, { sqlName: 'dg_sql.replay_inventory.connect' }, async (s) => {
      const open = await s.query<OpenRunRow>(
        'dg_sql.replay_inventory.open_runs.v1',
        `WITH q AS (${SQL.openRuns}) SELECT * FROM q ORDER BY "requestedAt" DESC, "jobId" DESC LIMIT $4`,
        [null, false, NEVER, OPEN_RUNS_CAP],
      );
      return { openRuns: open.rows.map(openRunBody) };
    });
  } catch (err) {
    throwIfUnsafeRole(err);
    if (!isDgSqlError(err)) throw err;
    return { error: sqlFailureOf(err) };
  }
}

/**
 * Healthz (for `projector.active_replay_jobs`, node-wide), the tenant's projection health (for `open_runs`), and
 * every tenant's open run rows by SQL, with `active_replay_jobs` read once more afterwards: the judge attributes
 * live jobs to rows, so another tenant's live replay does not hide this tenant's orphans.
 */
export async function dgReplayInventory(
  _params: StepParams,
  ctx: ExecutorContext,
): Promise<ReplayInventoryMeasurement> {
  const healthz = callResultOf(await ctx.dg.healthz({ signal: ctx.signal }), same);
  const projectionHealth = callResultOf(await ctx.dg.projectionHealth({ signal: ctx.signal }), same);
  const sql = await openRunsOfAllTenants(ctx);
  const after = callResultOf(await ctx.dg.healthz({ signal: ctx.signal }), same);
  return {
    healthz,
    projectionHealth,
    sql,
    ...(after.ok ? { activeAfter: after.data.projector.active_replay_jobs } : {}),
  };
}
