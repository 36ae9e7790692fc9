import { createPool } from '../../sim/db/database.js';
import type { SimulatorHandle } from '../../sim/index.js';

/**
 * Puts each tenant's projections behind with the simulator's `projections-behind` fault: a few events reach the
 * tenant's log while its projector workers are stopped, so they stay behind until a replay.
 */
export async function putTenantsBehind(sim: SimulatorHandle, tenants: readonly string[]): Promise<void> {
  for (const tenantId of tenants) await sim.inject('projections-behind', { tenantId });
}

/** A finished trace of each tenant: what each tenant's run reads back once its projections are current. */
export async function finishedTraceOf(databaseUrl: string, tenants: readonly string[]): Promise<Map<string, string>> {
  const pool = createPool(databaseUrl, 1);
  try {
    const { rows } = await pool.query<{ tenant_id: string; trace_id: string }>(
      `SELECT DISTINCT ON (tenant_id) tenant_id, trace_id FROM dg_event_log
        WHERE tenant_id = ANY($1) AND event_type = 'TraceFinished' ORDER BY tenant_id, log_seq`,
      [tenants],
    );
    return new Map(rows.map((r) => [r.tenant_id, r.trace_id]));
  } finally {
    await pool.end();
  }
}
