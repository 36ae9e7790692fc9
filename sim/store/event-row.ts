/** A `dg_event_log` row as the simulator reads it (BIGINT columns as numbers). */
export interface EventRow {
  log_seq: number;
  tenant_id: string;
  trace_id: string;
  event_id: string;
  trace_seq: number;
  event_type: string;
  occurred_at: string;
  recorded_at: string;
  producer_id: string;
  source_system: string;
  source_subsystem: string | null;
  actor_type: string;
  actor_id: string;
  correlation_id: string | null;
  causation_event_id: string | null;
  idempotency_key: string;
  schema_version: number;
  payload_json: string;
  payload_hash: string;
  tags_json: string;
}

export const EVENT_COLUMNS =
  'log_seq, tenant_id, trace_id, event_id, trace_seq, event_type, occurred_at, recorded_at, producer_id, ' +
  'source_system, source_subsystem, actor_type, actor_id, correlation_id, causation_event_id, idempotency_key, ' +
  'schema_version, payload_json, payload_hash, tags_json';

function decode(text: string, fallback: unknown): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return fallback;
  }
}

/** The stored event as DecisionGraph renders it (§3.3). */
export function toApiEvent(row: EventRow): Record<string, unknown> {
  return {
    actor: { actor_id: row.actor_id, actor_type: row.actor_type },
    causation_event_id: row.causation_event_id,
    correlation_id: row.correlation_id,
    event_id: row.event_id,
    event_type: row.event_type,
    idempotency_key: row.idempotency_key,
    log_seq: row.log_seq,
    occurred_at: row.occurred_at,
    payload: decode(row.payload_json, {}),
    payload_hash: row.payload_hash,
    recorded_at: row.recorded_at,
    schema_version: row.schema_version,
    source: { producer_id: row.producer_id, subsystem: row.source_subsystem, system: row.source_system },
    tags: decode(row.tags_json, []),
    tenant_id: row.tenant_id,
    trace_id: row.trace_id,
    trace_seq: row.trace_seq,
  };
}
