import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { canonicalJson } from '../db/canonical-json.js';
import { inTransaction } from '../db/database.js';
import type { SimClock } from '../util/clock.js';
import { rfc3339 } from '../util/time.js';

/** Hours an exception request may stay open before its SLA is due. */
const SLA_HOURS = 24;
/** Open items due within this many hours get a deadline-risk notification. */
const RISK_HOURS = 4;
export const OPEN_STATUSES = ['requested', 'in_review', 'changes_requested', 'escalated'];

interface FoldEvent {
  log_seq: number;
  trace_id: string;
  event_id: string;
  event_type: string;
  occurred_at: string;
  actor_id: string;
  actor_type: string;
  payload_json: string;
  tags_json: string;
}

function parse(text: string): Record<string, unknown> {
  try {
    const v = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? v : {};
  } catch {
    return {};
  }
}

function s(v: unknown): string | null {
  return typeof v === 'string' && v !== '' ? v : null;
}

function addHours(rfc: string, hours: number): string {
  const t = Date.parse(rfc);
  return Number.isNaN(t) ? rfc : new Date(t + hours * 3_600_000).toISOString().replace('.000Z', 'Z');
}

export function workflowIdFor(traceId: string, subjectType: string, subjectId: string): string {
  return `${traceId}:${subjectType}:${subjectId}`;
}

/**
 * DecisionGraph's writing refresh that runs before every workflow call: fold new ExceptionRequested /
 * ApprovalRecorded / WorkflowReviewRequested events into the workflow tables, advance `dg_workflow_runtime`,
 * add deadline-risk notifications and auto-escalate overdue open items.
 */
export async function refreshWorkflows(
  pool: pg.Pool,
  clock: SimClock,
  tenantId: string,
  readOnly: boolean,
): Promise<void> {
  await inTransaction(
    pool,
    async (client) => {
      await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`${tenantId}:workflow_runtime`]);
      const runtime = await client.query<{ last_log_seq: number }>(
        'SELECT last_log_seq FROM dg_workflow_runtime WHERE tenant_id = $1',
        [tenantId],
      );
      const since = runtime.rows[0]?.last_log_seq ?? 0;
      const tail = await client.query<{ tail: number }>(
        'SELECT COALESCE(MAX(log_seq), 0)::bigint AS tail FROM dg_event_log WHERE tenant_id = $1',
        [tenantId],
      );
      const upTo = tail.rows[0]?.tail ?? 0;
      const events = await client.query<FoldEvent>(
        `SELECT log_seq, trace_id, event_id, event_type, occurred_at, actor_id, actor_type, payload_json, tags_json
           FROM dg_event_log
          WHERE tenant_id = $1 AND log_seq > $2 AND log_seq <= $3
            AND event_type IN ('ExceptionRequested', 'ApprovalRecorded', 'WorkflowReviewRequested')
          ORDER BY log_seq`,
        [tenantId, since, upTo],
      );
      const now = rfc3339(clock.now());
      for (const ev of events.rows) await fold(client, tenantId, ev, now);
      await sweep(client, tenantId, now);
      await client.query(
        `INSERT INTO dg_workflow_runtime (tenant_id, last_log_seq, updated_at) VALUES ($1, $2, $3)
         ON CONFLICT (tenant_id) DO UPDATE SET last_log_seq = GREATEST(dg_workflow_runtime.last_log_seq,
           EXCLUDED.last_log_seq), updated_at = EXCLUDED.updated_at`,
        [tenantId, upTo, now],
      );
    },
    { readOnly },
  );
}

async function traceContext(client: pg.PoolClient, tenantId: string, traceId: string) {
  const r = await client.query<{ payload_json: string }>(
    `SELECT payload_json FROM dg_event_log WHERE tenant_id = $1 AND trace_id = $2 AND event_type = 'TraceStarted'`,
    [tenantId, traceId],
  );
  const p = parse(r.rows[0]?.payload_json ?? '{}');
  return { title: s(p.title), workflow: s(p.workflow) };
}

async function insertAction(
  client: pg.PoolClient,
  a: {
    actionId: string;
    tenantId: string;
    workflowId: string;
    traceId: string;
    actionType: string;
    actorAccountId: string | null;
    actorId: string | null;
    actorType: string | null;
    note: string | null;
    payload: Record<string, unknown>;
    resultingStatus: string;
    sourceEventId: string | null;
    createdAt: string;
  },
) {
  await client.query(
    `INSERT INTO dg_workflow_actions (action_id, tenant_id, workflow_id, trace_id, action_type, actor_account_id,
       actor_id, actor_type, note, payload_json, resulting_status, source_event_id, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT DO NOTHING`,
    [
      a.actionId,
      a.tenantId,
      a.workflowId,
      a.traceId,
      a.actionType,
      a.actorAccountId,
      a.actorId,
      a.actorType,
      a.note,
      canonicalJson(a.payload),
      a.resultingStatus,
      a.sourceEventId,
      a.createdAt,
    ],
  );
}

async function fold(client: pg.PoolClient, tenantId: string, ev: FoldEvent, now: string): Promise<void> {
  const p = parse(ev.payload_json);
  if (ev.event_type === 'ApprovalRecorded') {
    const exceptionId = s(p.exception_id);
    if (!exceptionId) return;
    const workflowId = workflowIdFor(ev.trace_id, 'exception', exceptionId);
    const decision = String(p.decision ?? '').startsWith('reject') ? 'rejected' : 'approved';
    const updated = await client.query(
      `UPDATE dg_workflow_items SET status = $3, resolved_at = $4, current_decision = $5, current_reason = $6,
         approval_event_id = $7, last_action_type = 'approval_recorded', last_action_at = $4,
         last_source_log_seq = $8, updated_at = $9
       WHERE tenant_id = $1 AND workflow_id = $2`,
      [tenantId, workflowId, decision, ev.occurred_at, p.decision ?? decision, s(p.note), ev.event_id, ev.log_seq, now],
    );
    if (!updated.rowCount) return;
    await insertAction(client, {
      actionId: `wfa:event:${ev.event_id}`,
      tenantId,
      workflowId,
      traceId: ev.trace_id,
      actionType: 'approval_recorded',
      actorAccountId: null,
      actorId: ev.actor_id,
      actorType: ev.actor_type,
      note: s(p.note),
      payload: p,
      resultingStatus: decision,
      sourceEventId: ev.event_id,
      createdAt: ev.occurred_at,
    });
    return;
  }
  const review = ev.event_type === 'WorkflowReviewRequested';
  const subjectType = review ? 'trace_review' : 'exception';
  const subjectId = review ? (s(p.template_id) ?? 'review') : (s(p.exception_id) ?? ev.event_id);
  const workflowId = workflowIdFor(ev.trace_id, subjectType, subjectId);
  const trace = await traceContext(client, tenantId, ev.trace_id);
  const tags = parse(`{"t":${ev.tags_json}}`).t;
  const priority = Array.isArray(tags) && tags.includes('priority:high') ? 'high' : 'normal';
  const status = review ? 'in_review' : 'requested';
  const inserted = await client.query(
    `INSERT INTO dg_workflow_items (workflow_id, tenant_id, trace_id, workflow_kind, workflow_name, subject_type,
       subject_id, status, priority, title, policy_id, policy_version, requested_by_actor_id, requested_by_actor_type,
       assigned_account_id, assigned_role, requested_at, sla_due_at, updated_at, resolved_at, last_action_type,
       last_action_at, current_decision, current_reason, approval_event_id, created_from_event_id,
       last_source_log_seq, metadata_json)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, NULL, $15, $16, $17, $18, NULL, $19, $16,
       NULL, $20, NULL, $21, $22, $23)
     ON CONFLICT (tenant_id, trace_id, subject_type, subject_id) DO NOTHING`,
    [
      workflowId,
      tenantId,
      ev.trace_id,
      review ? 'studio_review' : 'exception_approval',
      trace.workflow ?? (review ? 'workflow_review' : 'exception_review'),
      subjectType,
      subjectId,
      status,
      priority,
      trace.title ? `${review ? 'Review' : 'Exception'}: ${trace.title}` : null,
      s(p.policy_id),
      s(p.policy_version),
      ev.actor_id,
      ev.actor_type,
      review ? 'reviewer' : 'approver',
      ev.occurred_at,
      addHours(ev.occurred_at, SLA_HOURS),
      now,
      review ? 'review_requested' : 'requested',
      s(p.reason),
      ev.event_id,
      ev.log_seq,
      canonicalJson({ source_event_type: ev.event_type, ...(s(p.amount) ? { amount: p.amount } : {}) }),
    ],
  );
  if (!inserted.rowCount) return;
  await insertAction(client, {
    actionId: `wfa:event:${ev.event_id}`,
    tenantId,
    workflowId,
    traceId: ev.trace_id,
    actionType: review ? 'review_requested' : 'requested',
    actorAccountId: null,
    actorId: ev.actor_id,
    actorType: ev.actor_type,
    note: s(p.reason),
    payload: p,
    resultingStatus: status,
    sourceEventId: ev.event_id,
    createdAt: ev.occurred_at,
  });
}

/** Overdue open items are escalated; items close to their deadline get one deadline-risk notification. */
async function sweep(client: pg.PoolClient, tenantId: string, now: string): Promise<void> {
  const risky = addHours(now, RISK_HOURS);
  const open = await client.query<{ workflow_id: string; trace_id: string; status: string; sla_due_at: string }>(
    `SELECT workflow_id, trace_id, status, sla_due_at FROM dg_workflow_items
      WHERE tenant_id = $1 AND status = ANY($2::text[]) AND sla_due_at IS NOT NULL AND sla_due_at < $3`,
    [tenantId, OPEN_STATUSES, risky],
  );
  for (const item of open.rows) {
    const overdue = item.sla_due_at < now;
    if (overdue && item.status !== 'escalated') {
      await client.query(
        `UPDATE dg_workflow_items SET status = 'escalated', last_action_type = 'auto_escalated', last_action_at = $3,
           updated_at = $3 WHERE tenant_id = $1 AND workflow_id = $2`,
        [tenantId, item.workflow_id, now],
      );
      await insertAction(client, {
        actionId: `wfa:${randomUUID()}`,
        tenantId,
        workflowId: item.workflow_id,
        traceId: item.trace_id,
        actionType: 'auto_escalated',
        actorAccountId: null,
        actorId: 'decisiongraph',
        actorType: 'system',
        note: 'SLA deadline passed',
        payload: { sla_due_at: item.sla_due_at },
        resultingStatus: 'escalated',
        sourceEventId: null,
        createdAt: now,
      });
    }
    const category = overdue ? 'sla_breached' : 'deadline_risk';
    await client.query(
      `INSERT INTO dg_workflow_notifications (notification_id, tenant_id, workflow_id, category, channel, status,
         message, dedupe_key, created_at)
       VALUES ($1, $2, $3, $4, 'inbox', 'pending', $5, $6, $7) ON CONFLICT (tenant_id, dedupe_key) DO NOTHING`,
      [
        `wfn:${randomUUID()}`,
        tenantId,
        item.workflow_id,
        category,
        overdue ? `Workflow ${item.workflow_id} passed its SLA` : `Workflow ${item.workflow_id} is close to its SLA`,
        `${category}:${item.workflow_id}`,
        now,
      ],
    );
  }
}
