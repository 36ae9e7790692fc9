import { readFile } from 'node:fs/promises';
import type pg from 'pg';
import { canonicalJson, sha256Hex } from './canonical-json.js';

/** Runs `schema.sql` (every statement in it is idempotent). */
export async function applySchema(pool: pg.Pool): Promise<void> {
  const sql = await readFile(new URL('./schema.sql', import.meta.url), 'utf8');
  await pool.query(sql);
}

export interface SeedOptions {
  /**
   * Tenants whose traces are interleaved in one `log_seq` order. Trace ids are unique across tenants: see
   * {@link seedTraceId}. @defaultValue `['default']`
   */
  tenants?: string[];
  /** Traces generated per tenant (ignored when `totalEvents` is set). @defaultValue 300 */
  tracesPerTenant?: number;
  /** Generate traces over all tenants until exactly this many events were written. @defaultValue undefined */
  totalEvents?: number;
  /** Seed of the pseudo-random generator: the same options give byte-identical rows. @defaultValue 42 */
  seed?: number;
  /** RFC3339 time of the first event. @defaultValue `'2026-01-05T08:00:00Z'` */
  startAt?: string;
  /**
   * Load with `session_replication_role = replica` (set locally in the seeding transaction only), which skips
   * DecisionGraph's insert trigger. Safe because the generator itself only emits what the trigger allows
   * (TraceStarted at trace_seq 0, consecutive trace_seq per trace, nothing after TraceFinished). Needs a
   * superuser. `log_seq` still comes from the column default, so the sequence stays in step without `setval`.
   * @defaultValue true when `totalEvents` ≥ 100 000, else false
   */
  bypassInsertTrigger?: boolean;
  /** Rows per multi-row INSERT. @defaultValue 5000 */
  batchSize?: number;
}

export interface SeedResult {
  tenants: string[];
  /** Events this call wrote. */
  eventCount: number;
  /** Highest `log_seq` in the table after seeding. */
  tailLogSeq: number;
  /** A finished trace of the first tenant (always finished unless `totalEvents` cuts it short). */
  knownTraceId: string;
  /** A trace of the first tenant with an ExceptionRequested event still awaiting approval. */
  knownWorkflowTraceId: string | null;
}

/** Small deterministic generator (mulberry32); only integers leave it, so no float reaches a payload. */
class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  private next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  /** Integer in [0, n). */
  int(n: number): number {
    return this.next() % n;
  }
  /** Integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  chance(percent: number): boolean {
    return this.int(100) < percent;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }
}

interface WorkflowKind {
  workflow: string;
  titles: readonly string[];
  entityType: string;
  entitySystem: string;
  producer: string;
  system: string;
  subsystem: string;
  policies: readonly (readonly [string, string])[];
  actions: readonly string[];
  tags: readonly string[];
}

const WORKFLOWS: readonly WorkflowKind[] = [
  {
    workflow: 'refund_approval',
    titles: ['Refund request', 'Partial refund', 'Chargeback review'],
    entityType: 'order',
    entitySystem: 'shop',
    producer: 'refund-agent',
    system: 'support-desk',
    subsystem: 'refunds',
    policies: [
      ['refund-limit', '3'],
      ['fraud-screen', '7'],
    ],
    actions: ['issue_refund', 'deny_refund'],
    tags: ['finance', 'customer'],
  },
  {
    workflow: 'credit_limit_change',
    titles: ['Credit limit increase', 'Temporary credit extension'],
    entityType: 'account',
    entitySystem: 'crm',
    producer: 'credit-agent',
    system: 'billing',
    subsystem: 'credit',
    policies: [
      ['credit-exposure', '2'],
      ['kyc-freshness', '1'],
    ],
    actions: ['raise_limit', 'schedule_review'],
    tags: ['finance', 'risk'],
  },
  {
    workflow: 'vendor_onboarding',
    titles: ['New vendor onboarding', 'Vendor bank detail change'],
    entityType: 'vendor',
    entitySystem: 'erp',
    producer: 'procurement-agent',
    system: 'erp',
    subsystem: 'vendors',
    policies: [
      ['sanctions-screen', '4'],
      ['vendor-risk', '2'],
    ],
    actions: ['activate_vendor', 'hold_payments'],
    tags: ['procurement'],
  },
  {
    workflow: 'discount_exception',
    titles: ['Discount above ceiling', 'Multi-year pricing exception'],
    entityType: 'opportunity',
    entitySystem: 'crm',
    producer: 'deal-desk-agent',
    system: 'crm',
    subsystem: 'deal-desk',
    policies: [['discount-ceiling', '5']],
    actions: ['apply_discount', 'escalate_to_cfo'],
    tags: ['sales'],
  },
  {
    workflow: 'access_request',
    titles: ['Production access request', 'Admin role grant'],
    entityType: 'user',
    entitySystem: 'iam',
    producer: 'access-agent',
    system: 'iam',
    subsystem: 'grants',
    policies: [
      ['segregation-of-duties', '3'],
      ['least-privilege', '1'],
    ],
    actions: ['grant_role', 'grant_temporary_access'],
    tags: ['security'],
  },
];

// Non-ASCII names on purpose: payload hashes are taken over UTF-8 bytes.
const CUSTOMERS = [
  'Acme Corp',
  'Müller GmbH',
  'Café Lumière',
  'Søren & Co',
  'Zoë Chen',
  'Nakamura 商事',
  'Globex',
  'Initech',
  'Łukasz Nowak',
  'Ângela Prates',
];
const PEOPLE = ['alice', 'bob', 'carol', 'dmitri', 'eun-ji', 'farah', 'gustavo'];
const ROLES = ['finance-approver', 'risk-officer', 'security-lead', 'sales-director'];
const CURRENCIES = ['EUR', 'USD', 'GBP', 'CHF'];

interface PlannedEvent {
  eventType: string;
  payload: Record<string, unknown>;
  actorType: 'agent' | 'person' | 'role' | 'system';
  actorId: string;
  causedByPrevious: boolean;
}

interface ActiveTrace {
  tenant: string;
  traceId: string;
  correlationId: string | null;
  kind: WorkflowKind;
  tags: string;
  events: PlannedEvent[];
  next: number;
  previousEventId: string | null;
}

interface TenantState {
  name: string;
  started: number;
  quota: number;
  /** Recently finished traces, for PrecedentCited; bounded so memory stays flat. */
  finished: string[];
}

const FINISHED_MEMORY = 32;
const CONCURRENT_TRACES = 12;

function money(rng: Rng): string {
  return `${rng.range(20, 25_000)}.${String(rng.int(100)).padStart(2, '0')}`;
}

function planTrace(
  rng: Rng,
  tenant: TenantState,
  traceId: string,
  kind: WorkflowKind,
  force: 'finished' | 'workflow' | null,
): PlannedEvent[] {
  const agent = kind.producer;
  const entityId = `${kind.entityType}-${rng.range(1000, 99_999)}`;
  const customer = rng.pick(CUSTOMERS);
  const events: PlannedEvent[] = [];
  const push = (
    eventType: string,
    payload: Record<string, unknown>,
    actorType: PlannedEvent['actorType'],
    actorId: string,
    causedByPrevious = false,
  ) => events.push({ eventType, payload, actorType, actorId, causedByPrevious });

  push(
    'TraceStarted',
    {
      title: `${rng.pick(kind.titles)} for ${customer}`,
      workflow: kind.workflow,
      primary_entity: { type: kind.entityType, system: kind.entitySystem, id: entityId },
    },
    'agent',
    agent,
  );
  const observations = rng.range(1, 3);
  for (let i = 0; i < observations; i++) {
    if (rng.chance(50)) {
      push(
        'InputObserved',
        {
          input_id: `in-${traceId}-${i}`,
          channel: rng.pick(['email', 'form', 'api', 'chat']),
          summary: `${customer} asks about ${kind.entityType} ${entityId}`,
          amount: money(rng),
          currency: rng.pick(CURRENCIES),
        },
        'agent',
        agent,
      );
    } else {
      push(
        'EntityObserved',
        {
          entity: { type: kind.entityType, system: kind.entitySystem, id: entityId },
          attributes: { owner: rng.pick(PEOPLE), tier: rng.pick(['gold', 'silver', 'bronze']), open_items: rng.int(9) },
        },
        'system',
        kind.system,
      );
    }
  }
  const policyCount = rng.chance(25) && kind.policies.length > 1 ? 2 : 1;
  let exceptionPolicy: readonly [string, string] | null = null;
  for (let i = 0; i < policyCount; i++) {
    const policy = kind.policies[i] as readonly [string, string];
    const roll = rng.int(100);
    let result = roll < 60 ? 'pass' : roll < 75 ? 'fail' : 'exception_required';
    if (force === 'workflow' && i === 0) result = 'exception_required';
    if (result !== 'pass' && exceptionPolicy === null) exceptionPolicy = policy;
    push(
      'PolicyEvaluated',
      { policy_id: policy[0], policy_version: policy[1], result, rule_hits: rng.int(6) },
      'agent',
      agent,
    );
  }
  let awaitingApproval = false;
  if (exceptionPolicy !== null && (force === 'workflow' || rng.chance(55))) {
    const exceptionId = `exc-${traceId}`;
    push(
      'ExceptionRequested',
      {
        exception_id: exceptionId,
        policy_id: exceptionPolicy[0],
        policy_version: exceptionPolicy[1],
        reason: `${customer} is a long-standing customer; ${kind.workflow.replace(/_/g, ' ')} needs an exception`,
        requested_by: rng.pick(PEOPLE),
        amount: money(rng),
      },
      'person',
      rng.pick(PEOPLE),
    );
    if (force !== 'workflow' && rng.chance(70)) {
      push(
        'ApprovalRecorded',
        {
          exception_id: exceptionId,
          decision: rng.chance(80) ? 'approved' : 'rejected',
          approver_role: rng.pick(ROLES),
          note: 'reviewed against policy and history',
        },
        'person',
        rng.pick(PEOPLE),
        true,
      );
    } else {
      awaitingApproval = true;
    }
  }
  if (force === 'workflow') return events;
  const precedent = tenant.finished.length > 0 && rng.chance(35) ? rng.pick(tenant.finished) : null;
  if (precedent !== null) {
    push(
      'PrecedentCited',
      { precedent_trace_id: precedent, relevance: rng.pick(['same_policy', 'same_entity', 'similar_amount']) },
      'agent',
      agent,
    );
  }
  if (!awaitingApproval && rng.chance(75)) {
    const actionId = `act-${traceId}`;
    push(
      'ActionProposed',
      {
        action_id: actionId,
        action_type: rng.pick(kind.actions),
        target: { type: kind.entityType, system: kind.entitySystem, id: entityId },
      },
      'agent',
      agent,
    );
    if (rng.chance(85)) {
      push(
        'ActionCommitted',
        { action_id: actionId, status: 'succeeded', external_ref: `${kind.system}-${rng.range(100_000, 999_999)}` },
        'system',
        kind.system,
        true,
      );
    }
  }
  if (force === 'finished' || (!awaitingApproval && rng.chance(88))) {
    push(
      'TraceFinished',
      {
        outcome: rng.pick(['completed', 'approved', 'rejected', 'escalated', 'abandoned']),
        summary: `closed by ${agent}`,
      },
      'agent',
      agent,
    );
  }
  return events;
}

function snake(eventType: string): string {
  return eventType.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();
}

/** RFC3339 UTC with the fraction trimmed of trailing zeros, as DecisionGraph stores it. */
function rfc3339(epochMs: number, micros: number): string {
  const base = new Date(epochMs).toISOString().slice(0, 19);
  const fraction = String((epochMs % 1000) * 1000 + micros)
    .padStart(6, '0')
    .replace(/0+$/, '');
  return fraction === '' ? `${base}Z` : `${base}.${fraction}Z`;
}

const COLUMNS = [
  ['tenant_id', 'text'],
  ['trace_id', 'text'],
  ['event_id', 'text'],
  ['trace_seq', 'int'],
  ['event_type', 'text'],
  ['occurred_at', 'text'],
  ['recorded_at', 'text'],
  ['producer_id', 'text'],
  ['source_system', 'text'],
  ['source_subsystem', 'text'],
  ['actor_type', 'text'],
  ['actor_id', 'text'],
  ['correlation_id', 'text'],
  ['causation_event_id', 'text'],
  ['idempotency_key', 'text'],
  ['schema_version', 'int'],
  ['payload_json', 'text'],
  ['payload_hash', 'text'],
  ['tags_json', 'text'],
] as const;

// ORDER BY ord keeps the generated order, so log_seq (the column default) follows it.
const INSERT_SQL = `INSERT INTO dg_event_log (${COLUMNS.map(([c]) => c).join(', ')})
SELECT ${COLUMNS.map(([c]) => `t.${c}`).join(', ')}
FROM unnest(${COLUMNS.map(([, type], i) => `$${i + 1}::${type}[]`).join(', ')})
  WITH ORDINALITY AS t(${COLUMNS.map(([c]) => c).join(', ')}, ord)
ORDER BY t.ord`;

type Batch = (string | number | null)[][];

function emptyBatch(): Batch {
  return COLUMNS.map(() => []);
}

/** The tenant whose trace names carry no prefix: the known trace ids (`trace-0001`, ...) are its. */
export const UNPREFIXED_TENANT = 'default';

/**
 * `trace-0001`, `trace-0002`, ... in tenant `default`; `<tenant>-trace-0001`, ... in every other tenant.
 * DecisionGraph derives workflow ids from trace ids (`<trace_id>:<subject_type>:<subject_id>`) and keys
 * `dg_workflow_items` on the workflow id alone, so the same trace id in two tenants cannot both get a workflow.
 */
export function seedTraceId(tenant: string, n: number): string {
  const name = `trace-${String(n).padStart(4, '0')}`;
  return tenant === UNPREFIXED_TENANT ? name : `${tenant}-${name}`;
}

/**
 * Writes a realistic, deterministic history into `dg_event_log` only (projections are the projector's job):
 * several tenants interleaved in `log_seq`, 3–12 events per trace, most traces finished, some with exceptions
 * and approvals. Rows are generated and inserted in batches, so memory stays flat at any size; the next batch
 * is generated while the server inserts the previous one.
 */
export async function seedHistory(pool: pg.Pool, opts: SeedOptions = {}): Promise<SeedResult> {
  const tenantNames = opts.tenants && opts.tenants.length > 0 ? [...opts.tenants] : ['default'];
  const total = opts.totalEvents;
  const perTenant = opts.tracesPerTenant ?? 300;
  const rng = new Rng(opts.seed ?? 42);
  const batchSize = opts.batchSize ?? 5000;
  const bypass = opts.bypassInsertTrigger ?? (total !== undefined && total >= 100_000);
  let clockMs = Date.parse(opts.startAt ?? '2026-01-05T08:00:00Z');
  if (Number.isNaN(clockMs)) throw new RangeError('startAt must be an RFC3339 time');

  const tenants: TenantState[] = tenantNames.map((name) => ({ name, started: 0, quota: perTenant, finished: [] }));
  const first = tenants[0] as TenantState;
  const active: ActiveTrace[] = [];
  let planned = 0;
  let written = 0;
  let knownWorkflow = false;

  const canStart = (): TenantState | null => {
    if (total !== undefined) {
      if (planned >= total) return null;
      // The first tenant's first two traces are the known trace and the known workflow trace.
      return first.started < 2 ? first : rng.pick(tenants);
    }
    const open = tenants.filter((t) => t.started < t.quota);
    if (open.length === 0) return null;
    return first.started < 2 && first.started < first.quota ? first : rng.pick(open);
  };

  const startTrace = (tenant: TenantState): void => {
    tenant.started += 1;
    const traceId = seedTraceId(tenant.name, tenant.started);
    const kind = rng.pick(WORKFLOWS);
    const force =
      tenant === first ? (tenant.started === 1 ? 'finished' : tenant.started === 2 ? 'workflow' : null) : null;
    let events = planTrace(rng, tenant, traceId, kind, force);
    if (total !== undefined && planned + events.length > total) events = events.slice(0, total - planned);
    if (force === 'workflow' && events.some((e) => e.eventType === 'ExceptionRequested')) knownWorkflow = true;
    planned += events.length;
    const tags = kind.tags.slice(0, rng.range(0, kind.tags.length));
    if (rng.chance(15)) tags.push('priority:high');
    active.push({
      tenant: tenant.name,
      traceId,
      correlationId: rng.chance(40) ? `corr-${tenant.name}-${traceId}` : null,
      kind,
      tags: canonicalJson(tags),
      events,
      next: 0,
      previousEventId: null,
    });
  };

  const fillActive = () => {
    while (active.length < CONCURRENT_TRACES) {
      const tenant = canStart();
      if (tenant === null) return;
      startTrace(tenant);
    }
  };

  const client = await pool.connect();
  let pending: Promise<unknown> | null = null;
  try {
    await client.query('BEGIN');
    if (bypass) await client.query('SET LOCAL session_replication_role = replica');
    let batch = emptyBatch();
    let rows = 0;
    fillActive();
    while (active.length > 0) {
      const index = rng.int(active.length);
      const trace = active[index] as ActiveTrace;
      const event = trace.events[trace.next] as PlannedEvent;
      const traceSeq = trace.next;
      trace.next += 1;
      clockMs += rng.range(1, 40) * 1000 + rng.int(1000);
      const recordedAt = rfc3339(clockMs, rng.int(1000));
      const occurredAt = rfc3339(clockMs - rng.range(1, 5) * 1000 - (clockMs % 1000), 0);
      const name = snake(event.eventType);
      const eventId = `${trace.tenant}.${trace.traceId}.${traceSeq}.${name}`;
      const payloadJson = canonicalJson(event.payload);
      const values = [
        trace.tenant,
        trace.traceId,
        eventId,
        traceSeq,
        event.eventType,
        occurredAt,
        recordedAt,
        trace.kind.producer,
        trace.kind.system,
        event.actorType === 'system' ? null : trace.kind.subsystem,
        event.actorType,
        event.actorId,
        trace.correlationId,
        event.causedByPrevious ? trace.previousEventId : null,
        `${trace.traceId}:${name}:${traceSeq}`,
        1,
        payloadJson,
        sha256Hex(payloadJson),
        trace.tags,
      ];
      for (let c = 0; c < values.length; c++) (batch[c] as (string | number | null)[]).push(values[c] as string);
      trace.previousEventId = eventId;
      rows += 1;

      if (trace.next >= trace.events.length) {
        if (event.eventType === 'TraceFinished') {
          const tenant = tenants.find((t) => t.name === trace.tenant) as TenantState;
          tenant.finished.push(trace.traceId);
          if (tenant.finished.length > FINISHED_MEMORY) tenant.finished.shift();
        }
        active[index] = active[active.length - 1] as ActiveTrace;
        active.pop();
        fillActive();
      }

      if (rows >= batchSize || active.length === 0) {
        if (pending) await pending;
        pending = client.query(INSERT_SQL, batch);
        written += rows;
        batch = emptyBatch();
        rows = 0;
      }
    }
    if (pending) await pending;
    pending = null;
    await client.query('COMMIT');
  } catch (err) {
    if (pending) await pending.catch(() => undefined);
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }

  const tail = await pool.query<{ tail: string | null }>('SELECT MAX(log_seq) AS tail FROM dg_event_log');
  return {
    tenants: tenantNames,
    eventCount: written,
    tailLogSeq: Number(tail.rows[0]?.tail ?? 0),
    knownTraceId: seedTraceId(first.name, 1),
    knownWorkflowTraceId: knownWorkflow ? seedTraceId(first.name, 2) : null,
  };
}
