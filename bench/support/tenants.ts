import { createPool } from '../../sim/db/database.js';
import { applySchema, seedHistory } from '../../sim/db/seed.js';
import { appendEvent } from '../../sim/store/append.js';
import type { NewEvent } from '../../sim/store/validate-event.js';
import { createTempDatabase, type TempDatabase } from '../../test/helpers/pg.js';

/**
 * A DecisionGraph database with a small history for each tenant, every trace id unique across tenants.
 *
 * The seed names traces `trace-0001`, `trace-0002`, ... in every tenant, and workflow ids are derived from trace
 * ids while `dg_workflow_items.workflow_id` is unique across tenants, so a simulator seeded with many tenants
 * fails on its first workflow refresh. Here every tenant but the first gets its name put in front of its trace
 * ids before the simulator sees the log (the first keeps the known trace `trace-0001`).
 */
export async function seedTenantDatabase(tenants: readonly string[], tracesPerTenant: number): Promise<TempDatabase> {
  const db = await createTempDatabase('dgbench_tenants');
  const pool = createPool(db.url, 2);
  try {
    await applySchema(pool);
    await seedHistory(pool, { tenants: [...tenants], tracesPerTenant });
    await pool.query(`UPDATE dg_event_log SET trace_id = tenant_id || '-' || trace_id WHERE tenant_id <> $1`, [
      tenants[0],
    ]);
  } catch (err) {
    await pool.end();
    await db.drop();
    throw err;
  }
  await pool.end();
  return db;
}

/**
 * Puts every given tenant in the state the simulator's `projections-behind` fault puts its one tenant in: a few
 * events written straight to the log (as DecisionGraph's append does) while no projector worker runs, so each
 * tenant's projections are behind and stay there until a replay. The fault switch itself acts on one tenant only.
 */
export async function putTenantsBehind(databaseUrl: string, tenants: readonly string[]): Promise<void> {
  const pool = createPool(databaseUrl, 4);
  try {
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    for (const tenantId of tenants) {
      const traceId = `trace-late-${Math.random().toString(16).slice(2, 8)}`;
      const kinds: [string, Record<string, unknown>][] = [
        ['TraceStarted', { title: 'Written while the projector was stopped', workflow: 'refund_approval' }],
        ['InputObserved', { input_id: `in-${traceId}`, channel: 'email', summary: 'late input' }],
        ['PolicyEvaluated', { policy_id: 'refund-limit', policy_version: '3', result: 'pass', rule_hits: 1 }],
      ];
      for (const [traceSeq, [eventType, payload]] of kinds.entries()) {
        const event: NewEvent = {
          tenantId,
          eventId: `${tenantId}.${traceId}.${traceSeq}`,
          eventType,
          traceId,
          traceSeq,
          occurredAt: now,
          actorId: 'bench-writer',
          actorType: 'agent',
          producerId: 'bench-writer',
          sourceSystem: 'bench',
          sourceSubsystem: 'late-writes',
          idempotencyKey: `${traceId}:${traceSeq}`,
          correlationId: null,
          causationEventId: null,
          schemaVersion: 1,
          payload,
          tags: [],
        };
        await appendEvent(pool, event, false);
      }
    }
  } finally {
    await pool.end();
  }
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
