import { z } from 'zod';

// Objects are loose: DecisionGraph may add keys, and key order means nothing. Required keys stay required; a field
// is nullable only where the contract shows or implies null (no row yet, not finished, optional column).

const count = z.int().nonnegative();
const logSeq = z.int().nonnegative();
const jsonObject = z.record(z.string(), z.unknown());

export const PROJECTION_NAMES = ['context_graph', 'trace_summary', 'precedent_index'] as const;
export type ProjectionName = (typeof PROJECTION_NAMES)[number];
/** What a replay may target; `all` runs the three projections in contract order. */
export type ReplayProjection = ProjectionName | 'all';
export type ReplayMode = 'catch_up' | 'rebuild';
export const REPLAY_STATUSES = ['queued', 'running', 'completed', 'failed', 'cancelled'] as const;

// ---- envelopes (§1) ----

function buildSuccessEnvelope<T extends z.ZodType>(data: T) {
  return z.looseObject({ data, request_id: z.string() });
}

type SuccessEnvelope<T extends z.ZodType> = ReturnType<typeof buildSuccessEnvelope<T>>;

const successEnvelopes = new WeakMap<z.ZodType, unknown>();

/**
 * `{"data": <payload>, "request_id": "<id>"}` around every /api/v1 success. Built once per payload schema: zod
 * compiles a schema on its first parse, so a fresh envelope per call paid that compilation on every call.
 */
export function successEnvelope<T extends z.ZodType>(data: T): SuccessEnvelope<T> {
  let envelope = successEnvelopes.get(data) as SuccessEnvelope<T> | undefined;
  if (envelope === undefined) {
    envelope = buildSuccessEnvelope(data);
    successEnvelopes.set(data, envelope);
  }
  return envelope;
}

export const ErrorEnvelopeSchema = z.looseObject({
  error: z.looseObject({ code: z.string().min(1), details: jsonObject, message: z.string() }),
  request_id: z.string(),
});
export type ErrorEnvelope = z.infer<typeof ErrorEnvelopeSchema>;

/** Phoenix's own error body (unknown route, 406, crash): it bypasses the envelope. */
export const FrameworkErrorSchema = z.looseObject({ errors: z.looseObject({ detail: z.string() }) });

// ---- projection health (§3.2) ----

export const ProjectionStatusSchema = z.looseObject({
  projection_name: z.string(),
  last_log_seq: logSeq,
  pending_events: count,
  is_stale: z.boolean(),
  updated_at: z.string().nullable(),
  digest: z.string().nullable(),
  open_failures: count,
});
export type ProjectionStatus = z.infer<typeof ProjectionStatusSchema>;

export const OpenRunSchema = z.looseObject({
  job_id: z.string(),
  projection_name: z.string(),
  mode: z.enum(['catch_up', 'rebuild']),
  status: z.enum(REPLAY_STATUSES),
  requested_at: z.string(),
  started_at: z.string().nullable(),
  processed_events: count,
  last_log_seq: logSeq,
  until_log_seq: logSeq.nullable(),
});
export type OpenRun = z.infer<typeof OpenRunSchema>;

export const ProjectionHealthSchema = z.looseObject({
  tenant_id: z.string(),
  event_log_last_seq: logSeq,
  projections: z.array(ProjectionStatusSchema),
  open_runs: z.array(OpenRunSchema),
  full_digest: z.string().nullable(),
});
export type ProjectionHealth = z.infer<typeof ProjectionHealthSchema>;

// ---- healthz (§3.1), raw object without envelope ----

export const ProjectionHealthUnavailableSchema = z.looseObject({
  status: z.literal('unavailable'),
  reason: z.string(),
});
export type ProjectionHealthUnavailable = z.infer<typeof ProjectionHealthUnavailableSchema>;

export const HealthzSchema = z.looseObject({
  // Only the newest server version reports `auth`.
  auth: z
    .looseObject({
      bootstrap_source: z.string(),
      configured_accounts: count,
      operator_console_account_id: z.string().nullable(),
    })
    .optional(),
  deployment_env: z.string(),
  // Informational only; its absence says nothing about health.
  observability: z.looseObject({}).optional(),
  projection_health: z.union([ProjectionHealthSchema, ProjectionHealthUnavailableSchema]),
  projector: z.looseObject({
    active_replay_jobs: count,
    active_workers: count,
    partition_count: count,
    projections: z.array(z.string()),
  }),
  store: z.looseObject({
    database: z.string(),
    hostname: z.string(),
    pool_size: count,
    projection_names: z.array(z.string()),
    'repo_started?': z.boolean(),
  }),
});
export type Healthz = z.infer<typeof HealthzSchema>;

export function isProjectionHealthUnavailable(
  value: ProjectionHealth | ProjectionHealthUnavailable,
): value is ProjectionHealthUnavailable {
  return (value as { status?: unknown }).status === 'unavailable';
}

// ---- traces (§3.3) ----

export const ActorSchema = z.looseObject({ actor_id: z.string(), actor_type: z.string() });

export const StoredEventSchema = z.looseObject({
  actor: ActorSchema,
  causation_event_id: z.string().nullable(),
  correlation_id: z.string().nullable(),
  event_id: z.string(),
  event_type: z.string(),
  idempotency_key: z.string(),
  log_seq: logSeq,
  occurred_at: z.string(),
  payload: jsonObject,
  payload_hash: z.string(),
  recorded_at: z.string(),
  schema_version: z.int().positive(),
  source: z.looseObject({
    producer_id: z.string(),
    subsystem: z.string().nullable().optional(),
    system: z.string(),
  }),
  tags: z.array(z.string()),
  tenant_id: z.string(),
  trace_id: z.string(),
  trace_seq: z.int().nonnegative(),
});
export type StoredEvent = z.infer<typeof StoredEventSchema>;

export const TraceSummarySchema = z.looseObject({
  trace_id: z.string(),
  workflow: z.string().nullable(),
  title: z.string().nullable(),
  primary_entity_type: z.string().nullable(),
  primary_entity_system: z.string().nullable(),
  primary_entity_id: z.string().nullable(),
  started_at: z.string().nullable(),
  finished_at: z.string().nullable(),
  outcome: z.string().nullable(),
  event_count: count,
  last_log_seq: logSeq,
});
export type TraceSummary = z.infer<typeof TraceSummarySchema>;

export const TraceSchema = z.looseObject({
  events: z.array(StoredEventSchema),
  summary: TraceSummarySchema,
});
export type Trace = z.infer<typeof TraceSchema>;

// ---- graph (§3.4) ----

export const GraphNodeSchema = z.looseObject({
  node_id: z.string(),
  node_type: z.string(),
  trace_id: z.string(),
  log_seq: logSeq,
  created_at: z.string(),
  attrs: jsonObject,
});

export const GraphEdgeSchema = z.looseObject({
  edge_id: z.string(),
  edge_type: z.string(),
  from_node_id: z.string(),
  to_node_id: z.string(),
  trace_id: z.string(),
  log_seq: logSeq,
  created_at: z.string(),
  attrs: jsonObject,
});

export const GraphContextSchema = z.looseObject({
  center: z.looseObject({ node_type: z.string(), node_id: z.string() }),
  nodes: z.array(GraphNodeSchema),
  edges: z.array(GraphEdgeSchema),
  truncated: z.boolean(),
});
export type GraphContext = z.infer<typeof GraphContextSchema>;

// ---- workflows (§3.7) ----

export const WorkflowSchema = z.looseObject({
  workflow_id: z.string(),
  tenant_id: z.string(),
  trace_id: z.string(),
  workflow_kind: z.string(),
  workflow_name: z.string().nullable(),
  subject: z.looseObject({ subject_type: z.string(), subject_id: z.string() }),
  status: z.string(),
  priority: z.string().nullable(),
  title: z.string().nullable(),
  policy_id: z.string().nullable(),
  policy_version: z.union([z.string(), z.int()]).nullable(),
  requested_by_actor: ActorSchema.nullable(),
  assigned_account_id: z.string().nullable(),
  assigned_role: z.string().nullable(),
  requested_at: z.string(),
  sla_due_at: z.string().nullable(),
  updated_at: z.string(),
  resolved_at: z.string().nullable(),
  last_action_type: z.string().nullable(),
  last_action_at: z.string().nullable(),
  current_decision: z.string().nullable(),
  current_reason: z.string().nullable(),
  approval_event_id: z.string().nullable(),
  created_from_event_id: z.string().nullable(),
  last_source_log_seq: logSeq,
  metadata: jsonObject,
  overdue: z.boolean(),
});
export type Workflow = z.infer<typeof WorkflowSchema>;

export const WorkflowListSchema = z.looseObject({
  filters: jsonObject,
  items: z.array(WorkflowSchema),
  summary: z.looseObject({
    tenant_id: z.string(),
    total_count: count,
    open_count: count,
    overdue_count: count,
    requested_count: count,
    changes_requested_count: count,
    approved_count: count,
    rejected_count: count,
    overridden_count: count,
    escalated_count: count,
    notification_count: count,
  }),
});
export type WorkflowList = z.infer<typeof WorkflowListSchema>;

export const WorkflowActionSchema = z.looseObject({
  action_id: z.string(),
  action_type: z.string(),
  actor: z.looseObject({ account_id: z.string().nullable().optional(), actor_id: z.string(), actor_type: z.string() }),
  created_at: z.string(),
  note: z.string().nullable(),
  payload: jsonObject,
  resulting_status: z.string().nullable(),
  source_event_id: z.string().nullable(),
  trace_id: z.string(),
  workflow_id: z.string(),
});

export const WorkflowNotificationSchema = z.looseObject({
  notification_id: z.string(),
  category: z.string(),
  channel: z.string(),
  status: z.string(),
  message: z.string(),
});

export const WorkflowDetailSchema = z.looseObject({
  workflow: WorkflowSchema,
  actions: z.array(WorkflowActionSchema),
  notifications: z.array(WorkflowNotificationSchema),
  // null when the trace read behind it fails, e.g. while projections are stale.
  review_context: jsonObject.nullable(),
  trace_reference: jsonObject.nullable(),
});
export type WorkflowDetail = z.infer<typeof WorkflowDetailSchema>;

// ---- replay runs (§3.8, §3.9) ----

/**
 * `metadata_json` is a string of canonical JSON. The raw string is kept; `metadata` is its parse when that is a
 * JSON object, else `null` (a malformed string is the server's business, not a reason to drop the run).
 */
export const ReplayRunSchema = z
  .looseObject({
    job_id: z.string().min(1),
    tenant_id: z.string(),
    projection_name: z.string(),
    mode: z.enum(['catch_up', 'rebuild']),
    status: z.enum(REPLAY_STATUSES),
    requested_at: z.string(),
    started_at: z.string().nullable(),
    finished_at: z.string().nullable(),
    since_log_seq: logSeq,
    until_log_seq: logSeq.nullable(),
    processed_events: count,
    last_log_seq: logSeq,
    error_code: z.string().nullable(),
    error_message: z.string().nullable(),
    metadata_json: z.string(),
  })
  .transform((run) => ({ ...run, metadata: parseJsonObject(run.metadata_json) }));
export type ReplayRun = z.output<typeof ReplayRunSchema>;

export const ReplayRunEnvelopeDataSchema = z.looseObject({ run: ReplayRunSchema });

function parseJsonObject(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

// ---- issue formatting ----

export interface SchemaIssue {
  path: string;
  message: string;
}

/**
 * Flattens zod issues into field paths like `data.projections[1].pending_events`. For a union, the branch with
 * the fewest issues is the one the server meant, so its issues are reported rather than "invalid input".
 */
export function describeIssues(
  issues: readonly z.core.$ZodIssue[],
  prefix: readonly PropertyKey[] = [],
): SchemaIssue[] {
  const out: SchemaIssue[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      const best = issue.errors.reduce((a, b) => (b.length < a.length ? b : a));
      if (best.length > 0) {
        out.push(...describeIssues(best, path));
        continue;
      }
    }
    out.push({ path: formatPath(path), message: issue.message });
  }
  return out;
}

export function formatPath(path: readonly PropertyKey[]): string {
  let text = '';
  for (const key of path) {
    if (typeof key === 'number') text += `[${key}]`;
    else if (typeof key === 'string' && /^[A-Za-z_$][\w$]*$/.test(key)) text += text ? `.${key}` : key;
    else text += `[${JSON.stringify(String(key))}]`;
  }
  return text || '(body)';
}
