import type pg from 'pg';
import { inTransaction } from '../db/database.js';
import { EVENT_COLUMNS, type EventRow } from '../store/event-row.js';
import type { SimClock } from '../util/clock.js';
import { rfc3339 } from '../util/time.js';
import { applyBatch } from './apply.js';
import { refreshDigests } from './digests.js';
import type { ProjectionName } from './names.js';
import { verifyBatch } from './verify.js';

/** `projection_batch_size`: events per transaction. */
export const BATCH_SIZE = 250;

export class RunStopped extends Error {
  constructor() {
    super('run stopped');
    this.name = 'RunStopped';
  }
}

export interface CatchUpOptions {
  /** Stamps the cursor, digest and resolved-failure rows. */
  clock: SimClock;
  tenantId: string;
  projection: ProjectionName;
  /** Highest log_seq to project (`until_log_seq`); null = the tail. */
  untilLogSeq?: number | null;
  /** @defaultValue 250 */
  batchSize?: number;
  /** Checked between batches; an aborted signal ends the run with `RunStopped`. */
  signal?: AbortSignal;
  /** Awaited before each batch (drills slow replays down to watch them). */
  beforeBatch?: () => Promise<void>;
  /** Open every transaction READ ONLY, so Postgres itself refuses the writes (stop-writes). */
  readOnly?: () => boolean;
  /** Called after each committed batch. */
  onBatch?: (progress: { processed: number; lastLogSeq: number }) => Promise<void> | void;
  /** Recompute digests after every batch (DecisionGraph) or only after the last one (bulk boot). @defaultValue true */
  digestsEachBatch?: boolean;
}

export interface CatchUpResult {
  processed: number;
  lastLogSeq: number;
}

export function advisoryKey(tenantId: string, projection: string): string {
  return `${tenantId}:${projection}`;
}

export async function readCursor(client: pg.ClientBase, tenantId: string, projection: string): Promise<number> {
  const r = await client.query<{ last_log_seq: number }>(
    'SELECT last_log_seq FROM dg_projection_cursors WHERE tenant_id = $1 AND projection_name = $2',
    [tenantId, projection],
  );
  return r.rows[0]?.last_log_seq ?? 0;
}

export async function writeCursor(
  client: pg.ClientBase,
  clock: SimClock,
  tenantId: string,
  projection: string,
  seq: number,
) {
  await client.query(
    `INSERT INTO dg_projection_cursors (tenant_id, projection_name, last_log_seq, updated_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (tenant_id, projection_name) DO UPDATE SET last_log_seq = EXCLUDED.last_log_seq,
       updated_at = EXCLUDED.updated_at`,
    [tenantId, projection, seq, rfc3339(clock.now())],
  );
}

/**
 * DecisionGraph's catch_up: from the durable cursor, in log_seq order, one transaction per batch under the
 * projection's advisory lock; each batch is re-verified, applied, moves the cursor, resolves open failures up to
 * its end and refreshes the tenant's digests. A failing batch rolls back and leaves the cursor where it was.
 */
export async function catchUp(pool: pg.Pool, opts: CatchUpOptions): Promise<CatchUpResult> {
  const batchSize = opts.batchSize ?? BATCH_SIZE;
  const until = opts.untilLogSeq ?? null;
  let processed = 0;
  let lastLogSeq = 0;
  let applied = false;
  for (;;) {
    if (opts.signal?.aborted) throw new RunStopped();
    if (opts.beforeBatch) await opts.beforeBatch();
    if (opts.signal?.aborted) throw new RunStopped();
    const batch = await inTransaction(
      pool,
      async (client) => {
        await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [
          advisoryKey(opts.tenantId, opts.projection),
        ]);
        const cursor = await readCursor(client, opts.tenantId, opts.projection);
        const rows = await client.query<EventRow>(
          `SELECT ${EVENT_COLUMNS} FROM dg_event_log WHERE tenant_id = $1 AND log_seq > $2
             AND ($3::bigint IS NULL OR log_seq <= $3) ORDER BY log_seq LIMIT $4`,
          [opts.tenantId, cursor, until, batchSize],
        );
        const last = rows.rows.at(-1);
        if (!last) {
          if (applied && opts.digestsEachBatch === false) await refreshDigests(client, opts.clock, opts.tenantId);
          return { count: 0, end: cursor };
        }
        const verified = await verifyBatch(client, opts.tenantId, rows.rows);
        await applyBatch(client, opts.projection, opts.tenantId, verified);
        await writeCursor(client, opts.clock, opts.tenantId, opts.projection, last.log_seq);
        await client.query(
          `UPDATE dg_projection_failures SET status = 'resolved', resolved_at = $4
            WHERE tenant_id = $1 AND projection_name = $2 AND status = 'open' AND log_seq <= $3`,
          [opts.tenantId, opts.projection, last.log_seq, rfc3339(opts.clock.now())],
        );
        if (opts.digestsEachBatch !== false) await refreshDigests(client, opts.clock, opts.tenantId);
        return { count: rows.rows.length, end: last.log_seq };
      },
      { readOnly: opts.readOnly?.() ?? false },
    );
    lastLogSeq = batch.end;
    if (batch.count === 0) return { processed, lastLogSeq };
    applied = true;
    processed += batch.count;
    await opts.onBatch?.({ processed, lastLogSeq });
  }
}
