import type pg from 'pg';
import { PROJECTIONS } from './names.js';

export interface ProjectionHealthOptions {
  /**
   * A broken release reads the trace_summary cursor from a table its migration left empty, so health shows that
   * projection fully behind (the `failed-upgrade` regression).
   */
  brokenRelease?: boolean;
}

export async function tenantTail(db: pg.Pool | pg.ClientBase, tenantId: string): Promise<number> {
  const r = await db.query<{ tail: number }>(
    'SELECT COALESCE(MAX(log_seq), 0)::bigint AS tail FROM dg_event_log WHERE tenant_id = $1',
    [tenantId],
  );
  return r.rows[0]?.tail ?? 0;
}

export async function projectionCursor(db: pg.Pool | pg.ClientBase, tenantId: string, projection: string) {
  const r = await db.query<{ last_log_seq: number }>(
    'SELECT last_log_seq FROM dg_projection_cursors WHERE tenant_id = $1 AND projection_name = $2',
    [tenantId, projection],
  );
  return r.rows[0]?.last_log_seq ?? 0;
}

/** `GET /api/v1/projections/health` data (§3.2); also healthz's `projection_health` for tenant default. */
export async function projectionHealth(
  pool: pg.Pool,
  tenantId: string,
  opts: ProjectionHealthOptions = {},
): Promise<Record<string, unknown>> {
  const [tail, cursors, digests, failures, runs] = await Promise.all([
    tenantTail(pool, tenantId),
    pool.query<{ projection_name: string; last_log_seq: number }>(
      'SELECT projection_name, last_log_seq FROM dg_projection_cursors WHERE tenant_id = $1',
      [tenantId],
    ),
    pool.query<{ projection_name: string; digest_value: string; updated_at: string }>(
      'SELECT projection_name, digest_value, updated_at FROM dg_projection_digests WHERE tenant_id = $1',
      [tenantId],
    ),
    pool.query<{ projection_name: string; n: number }>(
      `SELECT projection_name, COUNT(*)::bigint AS n FROM dg_projection_failures
        WHERE tenant_id = $1 AND status = 'open' GROUP BY projection_name`,
      [tenantId],
    ),
    pool.query(
      `SELECT job_id, projection_name, mode, status, requested_at, started_at, processed_events, last_log_seq,
              until_log_seq
         FROM dg_projection_runs WHERE tenant_id = $1 AND status IN ('queued', 'running')
        ORDER BY requested_at, job_id`,
      [tenantId],
    ),
  ]);
  const projections = PROJECTIONS.map((name) => {
    let cursor = cursors.rows.find((r) => r.projection_name === name)?.last_log_seq ?? 0;
    if (opts.brokenRelease && name === 'trace_summary') cursor = 0;
    const digest = digests.rows.find((r) => r.projection_name === name);
    return {
      projection_name: name,
      last_log_seq: cursor,
      pending_events: Math.max(tail - cursor, 0),
      is_stale: cursor < tail,
      updated_at: digest?.updated_at ?? null,
      digest: digest?.digest_value ?? null,
      open_failures: failures.rows.find((r) => r.projection_name === name)?.n ?? 0,
    };
  });
  return {
    tenant_id: tenantId,
    event_log_last_seq: tail,
    projections,
    open_runs: runs.rows,
    full_digest: digests.rows.find((r) => r.projection_name === 'full_projection')?.digest_value ?? null,
  };
}
