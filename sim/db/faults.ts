import { randomInt, randomUUID } from 'node:crypto';
import type pg from 'pg';
import { REAL_CLOCK, type SimClock } from '../util/clock.js';
import { rfc3339 } from '../util/time.js';
import { canonicalJson, sha256Hex } from './canonical-json.js';

/**
 * What an injector changed, so a test can assert that a probe finds exactly this. `logSeqs`/`eventIds` name the
 * rows a probe is expected to flag (which is not always the row that was touched: see each injector).
 */
export interface InjectedFault {
  kind: string;
  tenantId: string;
  logSeqs: number[];
  traceIds: string[];
  eventIds: string[];
  detail?: Record<string, unknown>;
}

const PROJECTIONS = ['context_graph', 'trace_summary', 'precedent_index'] as const;

interface EventRef {
  log_seq: number;
  trace_id: string;
  event_id: string;
  trace_seq: number;
  event_type: string;
  payload_json: string;
  payload_hash: string;
  recorded_at: string;
}

const EVENT_COLUMNS =
  'log_seq::float8 AS log_seq, trace_id, event_id, trace_seq, event_type, payload_json, payload_hash, recorded_at';

/** Injectors that write a timestamp read it from `clock`. */
interface Timed {
  /** @defaultValue the real clock */
  clock?: SimClock;
}

function nowText(opts: Timed): string {
  return rfc3339((opts.clock ?? REAL_CLOCK).now());
}

async function inTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/** `count` events of the tenant spread evenly over its history (deterministic for the same rows). */
async function spreadEvents(client: pg.PoolClient, tenantId: string, count: number): Promise<EventRef[]> {
  const total = await client.query<{ n: number }>('SELECT COUNT(*)::int AS n FROM dg_event_log WHERE tenant_id = $1', [
    tenantId,
  ]);
  const n = total.rows[0]?.n ?? 0;
  if (n === 0) throw new Error(`tenant ${tenantId} has no events`);
  const positions = [
    ...new Set(Array.from({ length: count }, (_, i) => Math.floor(((2 * i + 1) * n) / (2 * count)) + 1)),
  ];
  const rows = await client.query<EventRef>(
    `SELECT ${EVENT_COLUMNS} FROM (
       SELECT *, ROW_NUMBER() OVER (ORDER BY log_seq) AS rn FROM dg_event_log WHERE tenant_id = $1) s
     WHERE rn = ANY($2::int8[]) ORDER BY log_seq`,
    [tenantId, positions],
  );
  return rows.rows;
}

async function eventsAt(client: pg.PoolClient, tenantId: string, logSeqs: number[]): Promise<EventRef[]> {
  const rows = await client.query<EventRef>(
    `SELECT ${EVENT_COLUMNS} FROM dg_event_log WHERE tenant_id = $1 AND log_seq = ANY($2::int8[]) ORDER BY log_seq`,
    [tenantId, logSeqs],
  );
  if (rows.rows.length !== new Set(logSeqs).size) throw new Error('some log_seqs are not events of this tenant');
  return rows.rows;
}

/**
 * A trace of the tenant with at least `minEvents` events (and, if asked, finished), the one whose first event is
 * nearest the middle of the tenant's history, so it sits away from the edges of a chunked scan.
 */
async function pickTrace(
  client: pg.PoolClient,
  tenantId: string,
  opts: { traceId?: string; minEvents: number; finished?: boolean },
): Promise<{ traceId: string; events: EventRef[] }> {
  let traceId = opts.traceId;
  if (traceId === undefined) {
    const found = await client.query<{ trace_id: string }>(
      `WITH t AS (
         SELECT trace_id, MIN(log_seq) AS first_seq, COUNT(*) AS n, BOOL_OR(event_type = 'TraceFinished') AS finished
         FROM dg_event_log WHERE tenant_id = $1 GROUP BY trace_id),
       mid AS (SELECT (MIN(log_seq) + MAX(log_seq)) / 2 AS m FROM dg_event_log WHERE tenant_id = $1)
       SELECT trace_id FROM t, mid WHERE n >= $2 AND ($3::bool IS NULL OR finished = $3)
       ORDER BY ABS(first_seq - mid.m), trace_id LIMIT 1`,
      [tenantId, opts.minEvents, opts.finished ?? null],
    );
    traceId = found.rows[0]?.trace_id;
    if (traceId === undefined) throw new Error(`tenant ${tenantId} has no trace with ${opts.minEvents}+ events`);
  }
  const events = await client.query<EventRef>(
    `SELECT ${EVENT_COLUMNS} FROM dg_event_log WHERE tenant_id = $1 AND trace_id = $2 ORDER BY log_seq`,
    [tenantId, traceId],
  );
  if (events.rows.length < opts.minEvents) throw new Error(`trace ${traceId} has fewer than ${opts.minEvents} events`);
  return { traceId, events: events.rows };
}

function tamper(payloadJson: string): string {
  const payload = JSON.parse(payloadJson) as Record<string, unknown>;
  if (typeof payload.amount === 'string') payload.amount = '999999.00';
  else payload.note = 'edited after the fact';
  return canonicalJson(payload);
}

function reserialize(payloadJson: string): string {
  const pretty = JSON.stringify(JSON.parse(payloadJson), null, 2);
  return pretty === payloadJson ? `${payloadJson} ` : pretty;
}

/**
 * Rewrites `payload_json` of `count` events, leaving `payload_hash` as it was. `tamper` changes a value (the
 * projector's semantic check also fails); `reserialize` keeps the meaning but not the canonical bytes (only the
 * byte-level SQL check sees it). Targets are spread evenly over the tenant's history unless `logSeqs` is given.
 * Flagged rows: exactly the rewritten events.
 */
export async function injectHashDrift(
  pool: pg.Pool,
  opts: { tenantId?: string; count?: number; variant?: 'tamper' | 'reserialize'; logSeqs?: number[] } = {},
): Promise<InjectedFault> {
  const tenantId = opts.tenantId ?? 'default';
  const variant = opts.variant ?? 'tamper';
  return inTransaction(pool, async (client) => {
    const targets = opts.logSeqs
      ? await eventsAt(client, tenantId, opts.logSeqs)
      : await spreadEvents(client, tenantId, opts.count ?? 1);
    for (const event of targets) {
      const rewritten = variant === 'tamper' ? tamper(event.payload_json) : reserialize(event.payload_json);
      await client.query('UPDATE dg_event_log SET payload_json = $2 WHERE log_seq = $1', [event.log_seq, rewritten]);
    }
    return {
      kind: 'hash-drift',
      tenantId,
      logSeqs: targets.map((e) => e.log_seq),
      traceIds: [...new Set(targets.map((e) => e.trace_id))],
      eventIds: targets.map((e) => e.event_id),
      detail: { variant, storedHashes: targets.map((e) => e.payload_hash) },
    };
  });
}

/**
 * Deletes a middle event of one trace, leaving a `trace_seq` gap. Flagged row: the event right after the gap
 * (its `trace_seq` is the previous one + 2); the continuity check flags the trace. `detail.deleted` names the
 * removed event.
 */
export async function injectBrokenOrdering(
  pool: pg.Pool,
  opts: { tenantId?: string; traceId?: string } = {},
): Promise<InjectedFault> {
  const tenantId = opts.tenantId ?? 'default';
  return inTransaction(pool, async (client) => {
    const { traceId, events } = await pickTrace(client, tenantId, { traceId: opts.traceId, minEvents: 4 });
    const victimIndex = Math.floor(events.length / 2);
    const victim = events[victimIndex] as EventRef;
    const after = events[victimIndex + 1] as EventRef;
    await client.query('DELETE FROM dg_event_log WHERE log_seq = $1', [victim.log_seq]);
    return {
      kind: 'broken-ordering',
      tenantId,
      logSeqs: [after.log_seq],
      traceIds: [traceId],
      eventIds: [after.event_id],
      detail: {
        deleted: { logSeq: victim.log_seq, eventId: victim.event_id, traceSeq: victim.trace_seq },
        eventCountAfter: events.length - 1,
        maxTraceSeq: (events.at(-1) as EventRef).trace_seq,
      },
    };
  });
}

/**
 * Breaks "trace_seq 0 ⇔ TraceStarted" by changing one event's type (payload and hash untouched):
 * `first-not-started` turns a TraceStarted into InputObserved, `started-later` turns a later event into
 * TraceStarted. Flagged row: the changed event.
 */
export async function injectMisplacedTraceStart(
  pool: pg.Pool,
  opts: { tenantId?: string; traceId?: string; variant?: 'first-not-started' | 'started-later' } = {},
): Promise<InjectedFault> {
  const tenantId = opts.tenantId ?? 'default';
  const variant = opts.variant ?? 'first-not-started';
  return inTransaction(pool, async (client) => {
    const { traceId, events } = await pickTrace(client, tenantId, { traceId: opts.traceId, minEvents: 3 });
    const target = (variant === 'first-not-started' ? events[0] : events[1]) as EventRef;
    const newType = variant === 'first-not-started' ? 'InputObserved' : 'TraceStarted';
    await client.query('UPDATE dg_event_log SET event_type = $2 WHERE log_seq = $1', [target.log_seq, newType]);
    return {
      kind: 'misplaced-trace-start',
      tenantId,
      logSeqs: [target.log_seq],
      traceIds: [traceId],
      eventIds: [target.event_id],
      detail: { variant, from: target.event_type, to: newType, traceSeq: target.trace_seq },
    };
  });
}

/**
 * Appends an ActionCommitted event (next `trace_seq`, valid hash) to a finished trace. DecisionGraph's trigger
 * forbids this, so the insert runs with `session_replication_role = replica`, set locally (needs a superuser).
 * Flagged row: the appended event, which is also the new tail of the log.
 */
export async function injectEventAfterFinish(
  pool: pg.Pool,
  opts: Timed & { tenantId?: string; traceId?: string } = {},
): Promise<InjectedFault> {
  const tenantId = opts.tenantId ?? 'default';
  return inTransaction(pool, async (client) => {
    const { traceId, events } = await pickTrace(client, tenantId, {
      traceId: opts.traceId,
      minEvents: 3,
      finished: true,
    });
    const last = events.at(-1) as EventRef;
    if (last.event_type !== 'TraceFinished') throw new Error(`trace ${traceId} is not finished`);
    const traceSeq = last.trace_seq + 1;
    const payload = { action_id: `act-late-${traceId}`, status: 'succeeded', external_ref: 'late-write' };
    const payloadJson = canonicalJson(payload);
    const eventId = `${tenantId}.${traceId}.${traceSeq}.action_committed`;
    const now = nowText(opts);
    await client.query('SET LOCAL session_replication_role = replica');
    const inserted = await client.query<{ log_seq: number }>(
      `INSERT INTO dg_event_log (tenant_id, trace_id, event_id, trace_seq, event_type, occurred_at, recorded_at,
         producer_id, source_system, actor_type, actor_id, idempotency_key, payload_json, payload_hash)
       VALUES ($1, $2, $3, $4, 'ActionCommitted', $5, $5, 'late-writer', 'erp', 'system', 'erp', $6, $7, $8)
       RETURNING log_seq::float8 AS log_seq`,
      [tenantId, traceId, eventId, traceSeq, now, `${traceId}:late:${traceSeq}`, payloadJson, sha256Hex(payloadJson)],
    );
    await client.query('SET LOCAL session_replication_role = origin');
    const logSeq = inserted.rows[0]?.log_seq as number;
    return {
      kind: 'event-after-finish',
      tenantId,
      logSeqs: [logSeq],
      traceIds: [traceId],
      eventIds: [eventId],
      detail: { finishedLogSeq: last.log_seq, traceSeq },
    };
  });
}

async function tenantTail(client: pg.PoolClient, tenantId: string): Promise<{ tail: number; count: number }> {
  const r = await client.query<{ tail: number; count: number }>(
    `SELECT COALESCE(MAX(log_seq), 0)::float8 AS tail, COUNT(*)::int AS count
     FROM dg_event_log WHERE tenant_id = $1`,
    [tenantId],
  );
  return r.rows[0] ?? { tail: 0, count: 0 };
}

/**
 * Sets projection cursors `by` past the tenant's tail, as after restoring an older event log under newer
 * projection tables (health then looks clean). `detail.projections` lists the cursors moved.
 */
export async function injectCursorAhead(
  pool: pg.Pool,
  opts: Timed & { tenantId?: string; by?: number; projections?: readonly string[] } = {},
): Promise<InjectedFault> {
  const tenantId = opts.tenantId ?? 'default';
  const by = opts.by ?? 10;
  if (!Number.isInteger(by) || by < 1) throw new RangeError('by must be a positive integer');
  const projections = opts.projections ?? PROJECTIONS;
  return inTransaction(pool, async (client) => {
    const { tail } = await tenantTail(client, tenantId);
    const cursor = tail + by;
    for (const projection of projections) {
      await client.query(
        `INSERT INTO dg_projection_cursors (tenant_id, projection_name, last_log_seq, updated_at)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (tenant_id, projection_name) DO UPDATE SET last_log_seq = EXCLUDED.last_log_seq,
           updated_at = EXCLUDED.updated_at`,
        [tenantId, projection, cursor, nowText(opts)],
      );
    }
    return {
      kind: 'cursor-ahead',
      tenantId,
      logSeqs: [],
      traceIds: [],
      eventIds: [],
      detail: { tail, cursor, projections: [...projections] },
    };
  });
}

/**
 * Adds `count` open `dg_projection_failures` rows shaped like a live worker writes them after a payload-hash
 * mismatch on one event (one row per projection in turn, so repeated failures of a projection accumulate as the
 * real worker does on each later append). `detail.groups` is what a per-tenant grouping must report.
 */
export async function injectOpenFailures(
  pool: pg.Pool,
  opts: Timed & { tenantId?: string; count?: number; logSeq?: number } = {},
): Promise<InjectedFault> {
  const tenantId = opts.tenantId ?? 'default';
  const count = opts.count ?? 2;
  return inTransaction(pool, async (client) => {
    const [event] = opts.logSeq
      ? await eventsAt(client, tenantId, [opts.logSeq])
      : await spreadEvents(client, tenantId, 1);
    if (!event) throw new Error(`tenant ${tenantId} has no events`);
    const expected = sha256Hex(`${event.payload_json}#`);
    const message = `Payload hash mismatch for event ${event.event_id}: expected ${expected}, got ${event.payload_hash}`;
    const ids: string[] = [];
    const perProjection = new Map<string, number>();
    for (let i = 0; i < count; i++) {
      const projection = PROJECTIONS[i % PROJECTIONS.length] as string;
      const id = randomUUID();
      ids.push(id);
      perProjection.set(projection, (perProjection.get(projection) ?? 0) + 1);
      await client.query(
        `INSERT INTO dg_projection_failures (id, tenant_id, projection_name, log_seq, trace_id, event_id, error_code,
           error_message, recoverable, retry_count, status, metadata_json, recorded_at)
         VALUES ($1, $2, $3, $4, $5, $6, 'conflict', $7, false, 0, 'open', $8, $9)`,
        [
          id,
          tenantId,
          projection,
          event.log_seq,
          event.trace_id,
          event.event_id,
          message,
          canonicalJson({ processed_events: i, recoverable: false }),
          nowText(opts),
        ],
      );
    }
    return {
      kind: 'open-failures',
      tenantId,
      logSeqs: [event.log_seq],
      traceIds: [event.trace_id],
      eventIds: [event.event_id],
      detail: {
        failureIds: ids,
        groups: [...perProjection].map(([projectionName, n]) => ({
          projectionName,
          errorCode: 'conflict',
          eventId: event.event_id,
          logSeq: event.log_seq,
          count: n,
        })),
      },
    };
  });
}

/**
 * Adds a `dg_projection_runs` row in status `running` that no live coordinator job owns, as left behind by a
 * crash or restart during a replay. `detail.jobId` names it.
 */
export async function injectOrphanRun(
  pool: pg.Pool,
  opts: Timed & { tenantId?: string; mode?: 'catch_up' | 'rebuild'; status?: 'queued' | 'running' } = {},
): Promise<InjectedFault> {
  const tenantId = opts.tenantId ?? 'default';
  const mode = opts.mode ?? 'catch_up';
  const status = opts.status ?? 'running';
  return inTransaction(pool, async (client) => {
    const { tail } = await tenantTail(client, tenantId);
    const requestedAt = (opts.clock ?? REAL_CLOCK).now() - 15 * 60_000;
    const startedAt = requestedAt + 1500;
    const metadata = canonicalJson({
      reason: 'catch up after node restart',
      request_id: `req-${randomInt(1_000_000, 9_999_999)}`,
      requested_by_account_id: 'admin-main',
      requested_by_roles: ['admin'],
    });
    for (;;) {
      const jobId = `replay-${randomInt(100_000, 1_000_000)}`;
      const inserted = await client.query(
        `INSERT INTO dg_projection_runs (job_id, tenant_id, projection_name, mode, status, requested_at, started_at,
           processed_events, last_log_seq, metadata_json)
         VALUES ($1, $2, 'all', $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (job_id) DO NOTHING`,
        [
          jobId,
          tenantId,
          mode,
          status,
          rfc3339(requestedAt),
          status === 'running' ? rfc3339(startedAt) : null,
          status === 'running' ? Math.floor(tail / 2) : 0,
          status === 'running' ? Math.floor(tail / 2) : 0,
          metadata,
        ],
      );
      if (inserted.rowCount === 1) {
        return {
          kind: 'orphaned-run',
          tenantId,
          logSeqs: [],
          traceIds: [],
          eventIds: [],
          detail: { jobId, mode, status, projectionName: 'all' },
        };
      }
    }
  });
}

/**
 * Removes the tenant's last `count` events, as a restore from an older backup would. Every trace keeps a prefix
 * of its events, so no ordering check fires; only restore parity (count and tail) differs. `logSeqs`/`eventIds`
 * are the removed events, oldest first; `detail.before`/`detail.after` hold the parity values.
 */
export async function truncateEventLogTail(
  pool: pg.Pool,
  opts: { tenantId?: string; count?: number } = {},
): Promise<InjectedFault> {
  const tenantId = opts.tenantId ?? 'default';
  const count = opts.count ?? 5;
  return inTransaction(pool, async (client) => {
    const before = await tenantTail(client, tenantId);
    const removed = await client.query<{ log_seq: number; trace_id: string; event_id: string }>(
      `DELETE FROM dg_event_log WHERE log_seq IN (
         SELECT log_seq FROM dg_event_log WHERE tenant_id = $1 ORDER BY log_seq DESC LIMIT $2)
       RETURNING log_seq::float8 AS log_seq, trace_id, event_id`,
      [tenantId, count],
    );
    const after = await tenantTail(client, tenantId);
    const rows = [...removed.rows].sort((a, b) => a.log_seq - b.log_seq);
    return {
      kind: 'truncated-tail',
      tenantId,
      logSeqs: rows.map((r) => r.log_seq),
      traceIds: [...new Set(rows.map((r) => r.trace_id))],
      eventIds: rows.map((r) => r.event_id),
      detail: {
        before: { eventCount: before.count, tailLogSeq: before.tail },
        after: { eventCount: after.count, tailLogSeq: after.tail },
      },
    };
  });
}
