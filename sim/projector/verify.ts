import type pg from 'pg';
import { canonicalJson, sha256Hex } from '../db/canonical-json.js';
import type { EventRow } from '../store/event-row.js';
import { ProjectionError } from './names.js';

export interface VerifiedEvent {
  row: EventRow;
  payload: Record<string, unknown>;
}

function at(row: EventRow) {
  return { log_seq: row.log_seq, trace_id: row.trace_id, event_id: row.event_id };
}

/** Semantic hash check: decode, re-canonicalise, hash, compare (a re-serialised but equal payload passes). */
function verifyPayload(row: EventRow): Record<string, unknown> {
  let decoded: unknown;
  let canonical: string;
  try {
    decoded = JSON.parse(row.payload_json);
    canonical = canonicalJson(decoded);
  } catch (err) {
    throw new ProjectionError(
      'schema_violation',
      `Payload of event ${row.event_id} cannot be decoded: ${(err as Error).message}`,
      at(row),
    );
  }
  const recomputed = sha256Hex(canonical);
  if (recomputed !== row.payload_hash) {
    throw new ProjectionError(
      'conflict',
      `Payload hash mismatch for event ${row.event_id}: expected ${recomputed}, got ${row.payload_hash}`,
      at(row),
    );
  }
  return typeof decoded === 'object' && decoded !== null && !Array.isArray(decoded)
    ? (decoded as Record<string, unknown>)
    : {};
}

/**
 * Re-verifies a batch before it is applied: every payload hash, and per trace that `trace_seq` rises by exactly
 * one in `log_seq` order from the trace's last event before the batch, starting with TraceStarted at 0 and
 * ending at TraceFinished.
 */
export async function verifyBatch(client: pg.PoolClient, tenantId: string, rows: EventRow[]): Promise<VerifiedEvent[]> {
  const first = rows[0];
  if (!first) return [];
  const traceIds = [...new Set(rows.map((r) => r.trace_id))];
  const before = await client.query<{ trace_id: string; trace_seq: number; event_type: string }>(
    `SELECT DISTINCT ON (trace_id) trace_id, trace_seq, event_type FROM dg_event_log
      WHERE tenant_id = $1 AND trace_id = ANY($2::text[]) AND log_seq < $3
      ORDER BY trace_id, log_seq DESC`,
    [tenantId, traceIds, first.log_seq],
  );
  const last = new Map(before.rows.map((r) => [r.trace_id, { seq: r.trace_seq, type: r.event_type }]));
  return rows.map((row) => {
    const payload = verifyPayload(row);
    const prev = last.get(row.trace_id);
    const expected = prev ? prev.seq + 1 : 0;
    if (prev?.type === 'TraceFinished') {
      throw new ProjectionError('conflict', `Trace '${row.trace_id}' is already finished`, at(row));
    }
    if (row.trace_seq !== expected) {
      throw new ProjectionError(
        'event_sequence_invalid',
        `trace_seq gap in trace ${row.trace_id}: expected ${expected}, got ${row.trace_seq}`,
        at(row),
      );
    }
    if ((row.trace_seq === 0) !== (row.event_type === 'TraceStarted')) {
      throw new ProjectionError(
        'event_sequence_invalid',
        row.event_type === 'TraceStarted'
          ? 'TraceStarted must have trace_seq=0'
          : `First event must be TraceStarted, got ${row.event_type}`,
        at(row),
      );
    }
    last.set(row.trace_id, { seq: row.trace_seq, type: row.event_type });
    return { row, payload };
  });
}
