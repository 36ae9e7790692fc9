import type pg from 'pg';
import type { SimClock } from '../util/clock.js';
import { rfc3339 } from '../util/time.js';
import { OPEN_STATUSES } from './refresh.js';

export interface WorkflowFilters {
  status: string | null;
  assigned_account_id: string | null;
  assigned_role: string | null;
  priority: string | null;
  trace_id: string | null;
  only_open: boolean;
  only_overdue: boolean;
  limit: number;
}

type ItemRow = Record<string, unknown> & {
  workflow_id: string;
  status: string;
  sla_due_at: string | null;
  metadata_json: string;
};

function decode(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return {};
  }
}

/** A workflow item as DecisionGraph renders it (`<wf>`). */
export function workflowJson(r: ItemRow, now: string): Record<string, unknown> {
  const open = OPEN_STATUSES.includes(r.status);
  return {
    workflow_id: r.workflow_id,
    tenant_id: r.tenant_id,
    trace_id: r.trace_id,
    workflow_kind: r.workflow_kind,
    workflow_name: r.workflow_name,
    subject: { subject_type: r.subject_type, subject_id: r.subject_id },
    status: r.status,
    priority: r.priority,
    title: r.title,
    policy_id: r.policy_id,
    policy_version: r.policy_version,
    requested_by_actor: { actor_id: r.requested_by_actor_id, actor_type: r.requested_by_actor_type },
    assigned_account_id: r.assigned_account_id,
    assigned_role: r.assigned_role,
    requested_at: r.requested_at,
    sla_due_at: r.sla_due_at,
    updated_at: r.updated_at,
    resolved_at: r.resolved_at,
    last_action_type: r.last_action_type,
    last_action_at: r.last_action_at,
    current_decision: r.current_decision,
    current_reason: r.current_reason,
    approval_event_id: r.approval_event_id,
    created_from_event_id: r.created_from_event_id,
    last_source_log_seq: r.last_source_log_seq,
    metadata: decode(r.metadata_json),
    overdue: open && r.sla_due_at !== null && r.sla_due_at < now,
  };
}

export async function listWorkflows(pool: pg.Pool, clock: SimClock, tenantId: string, f: WorkflowFilters) {
  const now = rfc3339(clock.now());
  const items = await pool.query<ItemRow>(
    `SELECT * FROM dg_workflow_items
      WHERE tenant_id = $1 AND ($2::text IS NULL OR status = $2)
        AND ($3::text IS NULL OR assigned_account_id = $3) AND ($4::text IS NULL OR assigned_role = $4)
        AND ($5::text IS NULL OR priority = $5) AND ($6::text IS NULL OR trace_id = $6)
        AND (NOT $7 OR status = ANY($9::text[]))
        AND (NOT $8 OR (status = ANY($9::text[]) AND sla_due_at < $10))
      ORDER BY requested_at DESC, workflow_id LIMIT $11`,
    [
      tenantId,
      f.status,
      f.assigned_account_id,
      f.assigned_role,
      f.priority,
      f.trace_id,
      f.only_open,
      f.only_overdue,
      OPEN_STATUSES,
      now,
      f.limit,
    ],
  );
  const counts = await pool.query<Record<string, number>>(
    `SELECT COUNT(*)::bigint AS total_count,
            COUNT(*) FILTER (WHERE status = ANY($2::text[]))::bigint AS open_count,
            COUNT(*) FILTER (WHERE status = ANY($2::text[]) AND sla_due_at < $3)::bigint AS overdue_count,
            COUNT(*) FILTER (WHERE status = 'requested')::bigint AS requested_count,
            COUNT(*) FILTER (WHERE status = 'changes_requested')::bigint AS changes_requested_count,
            COUNT(*) FILTER (WHERE status = 'approved')::bigint AS approved_count,
            COUNT(*) FILTER (WHERE status = 'rejected')::bigint AS rejected_count,
            COUNT(*) FILTER (WHERE status = 'overridden')::bigint AS overridden_count,
            COUNT(*) FILTER (WHERE status = 'escalated')::bigint AS escalated_count,
            (SELECT COUNT(*) FROM dg_workflow_notifications WHERE tenant_id = $1)::bigint AS notification_count
       FROM dg_workflow_items WHERE tenant_id = $1`,
    [tenantId, OPEN_STATUSES, now],
  );
  return {
    filters: f,
    items: items.rows.map((r) => workflowJson(r, now)),
    summary: { tenant_id: tenantId, ...counts.rows[0] },
  };
}

export async function getWorkflow(pool: pg.Pool, clock: SimClock, tenantId: string, workflowId: string) {
  const now = rfc3339(clock.now());
  const item = await pool.query<ItemRow>('SELECT * FROM dg_workflow_items WHERE tenant_id = $1 AND workflow_id = $2', [
    tenantId,
    workflowId,
  ]);
  const row = item.rows[0];
  if (!row) return null;
  const [actions, notifications] = await Promise.all([
    pool.query(
      `SELECT action_id, action_type, actor_account_id, actor_id, actor_type, created_at, note, payload_json,
              resulting_status, source_event_id, trace_id, workflow_id
         FROM dg_workflow_actions WHERE tenant_id = $1 AND workflow_id = $2 ORDER BY created_at, action_id`,
      [tenantId, workflowId],
    ),
    pool.query(
      `SELECT notification_id, category, channel, status, message, dedupe_key, created_at, workflow_id
         FROM dg_workflow_notifications WHERE tenant_id = $1 AND workflow_id = $2 ORDER BY created_at`,
      [tenantId, workflowId],
    ),
  ]);
  return {
    workflow: workflowJson(row, now),
    actions: actions.rows.map((a) => ({
      action_id: a.action_id,
      action_type: a.action_type,
      actor: { account_id: a.actor_account_id, actor_id: a.actor_id, actor_type: a.actor_type },
      created_at: a.created_at,
      note: a.note,
      payload: decode(a.payload_json),
      resulting_status: a.resulting_status,
      source_event_id: a.source_event_id,
      trace_id: a.trace_id,
      workflow_id: a.workflow_id,
    })),
    notifications: notifications.rows,
  };
}
