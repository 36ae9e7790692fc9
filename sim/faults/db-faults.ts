import {
  type InjectedFault,
  injectBrokenOrdering,
  injectCursorAhead,
  injectHashDrift,
  injectOpenFailures,
  injectOrphanRun,
} from '../db/faults.js';
import { rfc3339 } from '../util/time.js';
import type { FaultHost, FaultSwitch } from './fault-host.js';

/** Payload of one event rewritten under an unchanged hash; clearing copies the row back from the start backup. */
export const hashDrift: FaultSwitch = {
  inject: (h: FaultHost, tenantId: string) => injectHashDrift(h.pool, { tenantId, count: 1 }),
  async clear(h: FaultHost, injected: unknown) {
    await h.backups.restoreEvents(h.initialBackupId, (injected as InjectedFault).logSeqs);
  },
};

/** A middle event of one trace deleted (a trace_seq gap); clearing puts it back from the start backup. */
export const brokenOrdering: FaultSwitch = {
  inject: (h: FaultHost, tenantId: string) => injectBrokenOrdering(h.pool, { tenantId }),
  async clear(h: FaultHost, injected: unknown) {
    const deleted = (injected as InjectedFault).detail?.deleted as { logSeq: number } | undefined;
    if (deleted) await h.backups.restoreEvents(h.initialBackupId, [deleted.logSeq]);
  },
};

/** Cursors moved past the tail (health looks clean); clearing puts the previous cursor values back. */
export const cursorAhead: FaultSwitch = {
  async inject(h: FaultHost, tenantId: string) {
    const before = await h.pool.query<{ projection_name: string; last_log_seq: number }>(
      'SELECT projection_name, last_log_seq FROM dg_projection_cursors WHERE tenant_id = $1',
      [tenantId],
    );
    await injectCursorAhead(h.pool, { tenantId, clock: h.clock });
    return before.rows;
  },
  async clear(h: FaultHost, injected: unknown, tenantId: string) {
    for (const row of injected as { projection_name: string; last_log_seq: number }[]) {
      await h.pool.query(
        'UPDATE dg_projection_cursors SET last_log_seq = $3, updated_at = $4 WHERE tenant_id = $1 AND projection_name = $2',
        [tenantId, row.projection_name, row.last_log_seq, rfc3339(h.clock.now())],
      );
    }
  },
};

/** Open failure rows as a live worker writes them; clearing resolves exactly those rows. */
export const openFailures: FaultSwitch = {
  inject: (h: FaultHost, tenantId: string) => injectOpenFailures(h.pool, { tenantId, count: 2, clock: h.clock }),
  async clear(h: FaultHost, injected: unknown) {
    const ids = ((injected as InjectedFault).detail?.failureIds as string[] | undefined) ?? [];
    await h.pool.query(
      `UPDATE dg_projection_failures SET status = 'resolved', resolved_at = $2 WHERE id = ANY($1::uuid[])`,
      [ids, rfc3339(h.clock.now())],
    );
  },
};

/** A run row left `running` that no coordinator owns; clearing marks it cancelled, as an operator would by SQL. */
export const orphanedRun: FaultSwitch = {
  inject: (h: FaultHost, tenantId: string) => injectOrphanRun(h.pool, { tenantId, clock: h.clock }),
  async clear(h: FaultHost, injected: unknown) {
    const jobId = (injected as InjectedFault).detail?.jobId;
    await h.pool.query(
      `UPDATE dg_projection_runs SET status = 'cancelled', finished_at = $2
        WHERE job_id = $1 AND status IN ('queued', 'running')`,
      [jobId, rfc3339(h.clock.now())],
    );
  },
};
