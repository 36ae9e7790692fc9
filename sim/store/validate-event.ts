import { ApiError } from '../http/api-error.js';
import { normalizeRfc3339 } from '../util/time.js';

export const EVENT_TYPES = [
  'TraceStarted',
  'InputObserved',
  'EntityObserved',
  'PolicyEvaluated',
  'ExceptionRequested',
  'ApprovalRecorded',
  'WorkflowReviewRequested',
  'PrecedentCited',
  'ActionProposed',
  'ActionCommitted',
  'TraceFinished',
] as const;

const ACTOR_TYPES = ['agent', 'person', 'role', 'system'];

/** A validated append request. */
export interface NewEvent {
  tenantId: string;
  eventId: string;
  eventType: string;
  traceId: string;
  traceSeq: number;
  occurredAt: string;
  actorId: string;
  actorType: string;
  producerId: string;
  sourceSystem: string;
  sourceSubsystem: string | null;
  idempotencyKey: string;
  correlationId: string | null;
  causationEventId: string | null;
  schemaVersion: number;
  payload: Record<string, unknown>;
  tags: string[];
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** True when the JSON text holds a number token with a fraction or exponent (JSON.parse would hide `1.0`). */
export function hasFloatToken(json: string): boolean {
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const c = json[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '.' || c === 'e' || c === 'E') {
      const prev = json[i - 1];
      if (prev !== undefined && prev >= '0' && prev <= '9') return true;
    }
  }
  return false;
}

// Secret-like strings DecisionGraph's validation refuses to store (private keys, cloud keys, bearer tokens,
// `password=` style assignments).
const SECRET_PATTERNS = [
  /-----BEGIN [A-Z ]*PRIVATE KEY-----/,
  /\bAKIA[0-9A-Z]{16}\b/,
  /\b(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{10,}/,
  /\bxox[abpr]-[0-9A-Za-z-]{10,}/,
  /\bBearer\s+[A-Za-z0-9._~+/-]{16,}/,
  /\b(?:password|passwd|secret|api[_-]?key|access[_-]?token)\s*[:=]\s*\S+/i,
];

function findSecret(value: unknown, path: string): string | null {
  if (typeof value === 'string') return SECRET_PATTERNS.some((p) => p.test(value)) ? path : null;
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) {
      const hit = findSecret(v, `${path}[${i}]`);
      if (hit) return hit;
    }
    return null;
  }
  if (isObject(value)) {
    for (const [k, v] of Object.entries(value)) {
      const hit = findSecret(v, `${path}.${k}`);
      if (hit) return hit;
    }
  }
  return null;
}

/** Validates `POST /api/v1/events` the way DecisionGraph's envelope schema and PII policy do. */
export function validateEvent(body: unknown, rawBody: string, tenantId: string): NewEvent {
  if (!isObject(body)) throw new ApiError('invalid_argument', 'event must be a JSON object');
  const problems: string[] = [];
  const str = (v: unknown, name: string, max?: number): string => {
    if (typeof v !== 'string' || v.trim() === '') {
      problems.push(`${name} is required`);
      return '';
    }
    if (max !== undefined && Buffer.byteLength(v) > max) problems.push(`${name} must be at most ${max} bytes`);
    return v;
  };
  const optStr = (v: unknown, name: string): string | null => {
    if (v === undefined || v === null) return null;
    if (typeof v !== 'string') problems.push(`${name} must be a string`);
    return typeof v === 'string' ? v : null;
  };
  const actor = isObject(body.actor) ? body.actor : {};
  if (!isObject(body.actor)) problems.push('actor is required');
  const source = isObject(body.source) ? body.source : {};
  if (!isObject(body.source)) problems.push('source is required');
  const eventType = str(body.event_type, 'event_type');
  if (eventType && !(EVENT_TYPES as readonly string[]).includes(eventType)) {
    problems.push(`event_type ${eventType} is not supported`);
  }
  const actorType = str(actor.actor_type, 'actor.actor_type');
  if (actorType && !ACTOR_TYPES.includes(actorType))
    problems.push('actor.actor_type must be agent, person, role or system');
  const occurredRaw = str(body.occurred_at, 'occurred_at');
  const occurredAt = occurredRaw ? normalizeRfc3339(occurredRaw) : null;
  if (occurredRaw && !occurredAt) problems.push('occurred_at must be an RFC3339 timestamp');
  if (!Number.isInteger(body.trace_seq) || (body.trace_seq as number) < 0) {
    problems.push('trace_seq must be a non-negative integer');
  }
  if (body.schema_version !== undefined && body.schema_version !== 1) problems.push('schema_version must be 1');
  if (!isObject(body.payload)) problems.push('payload must be an object');
  if (body.tags !== undefined && !(Array.isArray(body.tags) && body.tags.every((t) => typeof t === 'string'))) {
    problems.push('tags must be a list of strings');
  }
  const event: NewEvent = {
    tenantId,
    eventId: str(body.event_id, 'event_id', 200),
    eventType,
    traceId: str(body.trace_id, 'trace_id', 200),
    traceSeq: Number(body.trace_seq),
    occurredAt: occurredAt ?? '',
    actorId: str(actor.actor_id, 'actor.actor_id'),
    actorType,
    producerId: str(source.producer_id, 'source.producer_id'),
    sourceSystem: str(source.system, 'source.system'),
    sourceSubsystem: optStr(source.subsystem, 'source.subsystem'),
    idempotencyKey: str(body.idempotency_key, 'idempotency_key', 200),
    correlationId: optStr(body.correlation_id, 'correlation_id'),
    causationEventId: optStr(body.causation_event_id, 'causation_event_id'),
    schemaVersion: 1,
    payload: isObject(body.payload) ? body.payload : {},
    tags: Array.isArray(body.tags) ? (body.tags as string[]) : [],
  };
  if (problems.length === 0 && hasFloatToken(rawBody)) {
    problems.push('floats are not allowed in events; send decimals as strings');
  }
  if (problems.length > 0) {
    throw new ApiError('schema_violation', `Event failed schema validation: ${problems[0]}`, { errors: problems });
  }
  const secretAt = findSecret(event.payload, 'payload');
  if (secretAt) {
    throw new ApiError('pii_policy_violation', `Event contains a secret-like value at ${secretAt}`, { path: secretAt });
  }
  return event;
}
