import type pg from 'pg';
import { canonicalJson, payloadHash } from '../db/canonical-json.js';
import { inTransaction } from '../db/database.js';
import { ApiError } from '../http/api-error.js';
import type { SimClock } from '../util/clock.js';
import { rfc3339 } from '../util/time.js';
import { EVENT_COLUMNS, type EventRow } from './event-row.js';
import type { NewEvent } from './validate-event.js';

export interface AppendResult {
  row: EventRow;
  /** True when an idempotent retry returned the original event. */
  replayed: boolean;
}

function mismatches(existing: EventRow, e: NewEvent, hash: string): string[] {
  const pairs: [string, unknown, unknown][] = [
    ['event_id', existing.event_id, e.eventId],
    ['event_type', existing.event_type, e.eventType],
    ['trace_id', existing.trace_id, e.traceId],
    ['trace_seq', existing.trace_seq, e.traceSeq],
    ['payload_hash', existing.payload_hash, hash],
    ['actor_id', existing.actor_id, e.actorId],
    ['actor_type', existing.actor_type, e.actorType],
    ['source_system', existing.source_system, e.sourceSystem],
    ['occurred_at', existing.occurred_at, e.occurredAt],
  ];
  return pairs.filter(([, a, b]) => a !== b).map(([k]) => k);
}

/** Maps a Postgres error of the insert to DecisionGraph's answer; unmapped ones are storage errors (503). */
function mapInsertError(err: unknown, e: NewEvent): unknown {
  const pgErr = err as { code?: string; constraint?: string; message?: string };
  // A lost connection is not a Postgres error: it surfaces as internal_error, like any other exception.
  if (typeof pgErr.code !== 'string' || !/^[0-9A-Z]{5}$/.test(pgErr.code)) return err;
  if (pgErr.code === '23505') {
    if (pgErr.constraint === 'dg_event_log_event_id_unique') {
      return new ApiError('conflict', `event_id '${e.eventId}' already exists`, { constraint: pgErr.constraint });
    }
    return new ApiError('conflict', `unique constraint ${pgErr.constraint} violated`, { constraint: pgErr.constraint });
  }
  if (pgErr.code === '23514' && pgErr.message) {
    const m = pgErr.message;
    if (m === 'trace_finished_lock')
      return new ApiError('conflict', `Trace '${e.traceId}' is already finished`, { trace_id: e.traceId });
    if (m === 'trace_started_requires_zero')
      return new ApiError('event_sequence_invalid', 'TraceStarted must have trace_seq=0');
    if (m === 'first_event_must_be_trace_started') {
      return new ApiError('event_sequence_invalid', `First event must be TraceStarted, got ${e.eventType}`);
    }
    const expected = /^trace_seq_expected:(\d+)$/.exec(m);
    if (expected) {
      return new ApiError('event_sequence_invalid', `Expected trace_seq ${expected[1]}, got ${e.traceSeq}`, {
        expected_trace_seq: Number(expected[1]),
      });
    }
  }
  return new ApiError('storage', pgErr.message ?? 'storage error', {
    postgres: { code: pgErr.code ?? null, message: pgErr.message ?? null },
  });
}

/**
 * DecisionGraph's append: under the trace's advisory lock, an idempotent retry returns the original event, a
 * reused event_id or an out-of-order trace_seq is refused, and the row is written with the canonical payload.
 * `readOnly` opens the transaction READ ONLY, so with writes stopped Postgres itself refuses the insert.
 */
export async function appendEvent(
  pool: pg.Pool,
  clock: SimClock,
  e: NewEvent,
  readOnly: boolean,
): Promise<AppendResult> {
  const payloadJson = canonicalJson(e.payload);
  const hash = payloadHash(e.payload);
  return inTransaction(
    pool,
    async (client) => {
      await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`${e.tenantId}:${e.traceId}`]);
      const idem = await client.query<EventRow>(
        `SELECT ${EVENT_COLUMNS} FROM dg_event_log WHERE tenant_id = $1 AND producer_id = $2 AND idempotency_key = $3`,
        [e.tenantId, e.producerId, e.idempotencyKey],
      );
      const original = idem.rows[0];
      if (original) {
        const diff = mismatches(original, e, hash);
        if (diff.length === 0) return { row: original, replayed: true };
        throw new ApiError(
          'idempotency_conflict',
          `Idempotency key '${e.idempotencyKey}' was used for a different event`,
          {
            mismatches: diff,
          },
        );
      }
      const dup = await client.query('SELECT 1 FROM dg_event_log WHERE event_id = $1', [e.eventId]);
      if (dup.rowCount) {
        throw new ApiError('conflict', `event_id '${e.eventId}' already exists`, {
          constraint: 'dg_event_log_event_id_unique',
        });
      }
      const state = await client.query<{ expected: number; finished: boolean }>(
        `SELECT COALESCE(MAX(trace_seq) + 1, 0)::int AS expected, COALESCE(BOOL_OR(event_type = 'TraceFinished'), false)
            AS finished FROM dg_event_log WHERE tenant_id = $1 AND trace_id = $2`,
        [e.tenantId, e.traceId],
      );
      const { expected, finished } = state.rows[0] ?? { expected: 0, finished: false };
      if (finished) throw new ApiError('conflict', `Trace '${e.traceId}' is already finished`, { trace_id: e.traceId });
      if (e.eventType === 'TraceStarted' && e.traceSeq !== 0) {
        throw new ApiError('event_sequence_invalid', 'TraceStarted must have trace_seq=0');
      }
      if (expected === 0 && e.eventType !== 'TraceStarted') {
        throw new ApiError('event_sequence_invalid', `First event must be TraceStarted, got ${e.eventType}`);
      }
      if (e.traceSeq !== expected) {
        throw new ApiError('event_sequence_invalid', `Expected trace_seq ${expected}, got ${e.traceSeq}`, {
          expected_trace_seq: expected,
        });
      }
      try {
        const inserted = await client.query<EventRow>(
          `INSERT INTO dg_event_log (tenant_id, trace_id, event_id, trace_seq, event_type, occurred_at, recorded_at,
             producer_id, source_system, source_subsystem, actor_type, actor_id, correlation_id, causation_event_id,
             idempotency_key, schema_version, payload_json, payload_hash, tags_json)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)
           RETURNING ${EVENT_COLUMNS}`,
          [
            e.tenantId,
            e.traceId,
            e.eventId,
            e.traceSeq,
            e.eventType,
            e.occurredAt,
            rfc3339(clock.now()),
            e.producerId,
            e.sourceSystem,
            e.sourceSubsystem,
            e.actorType,
            e.actorId,
            e.correlationId,
            e.causationEventId,
            e.idempotencyKey,
            e.schemaVersion,
            payloadJson,
            hash,
            canonicalJson(e.tags),
          ],
        );
        return { row: inserted.rows[0] as EventRow, replayed: false };
      } catch (err) {
        throw mapInsertError(err, e);
      }
    },
    { readOnly },
  );
}
