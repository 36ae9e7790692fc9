import { ApiError } from '../http/api-error.js';
import { boolParam, intParam, optionalParam } from '../http/params.js';
import type { ApiRequest, Reply } from '../http/router.js';
import type { SimContext } from '../runtime/context.js';
import { getWorkflow, listWorkflows } from '../workflows/query.js';
import { refreshWorkflows } from '../workflows/refresh.js';
import { readTrace } from './traces.js';

/** `GET /api/v1/workflows`: refreshes (writes) first, then lists the inbox. */
export async function getWorkflows(req: ApiRequest, ctx: SimContext): Promise<Reply> {
  const q = req.query;
  const filters = {
    status: optionalParam(q, 'status'),
    assigned_account_id: optionalParam(q, 'assigned_account_id'),
    assigned_role: optionalParam(q, 'assigned_role'),
    priority: optionalParam(q, 'priority'),
    trace_id: optionalParam(q, 'trace_id'),
    only_open: boolParam(q, 'only_open', true),
    only_overdue: boolParam(q, 'only_overdue', false),
    limit: Math.min(intParam(q, 'limit', { min: 1, max: Number.MAX_SAFE_INTEGER, fallback: 12 }), 50),
  };
  const tenantId = req.principal.tenantId;
  await refreshWorkflows(ctx.pool, ctx.clock, tenantId, ctx.host.writesStopped);
  return { status: 200, data: await listWorkflows(ctx.pool, ctx.clock, tenantId, filters) };
}

/** `GET /api/v1/workflows/:workflow_id`: refreshes first; the review context is null when the trace read fails. */
export async function getWorkflowById(req: ApiRequest, ctx: SimContext): Promise<Reply> {
  const workflowId = req.params.workflow_id as string;
  const tenantId = req.principal.tenantId;
  await refreshWorkflows(ctx.pool, ctx.clock, tenantId, ctx.host.writesStopped);
  const found = await getWorkflow(ctx.pool, ctx.clock, tenantId, workflowId);
  if (!found) throw new ApiError('not_found', `Workflow not found: ${workflowId}`);
  const traceId = String(found.workflow.trace_id);
  let reviewContext: Record<string, unknown> | null = null;
  try {
    const trace = await readTrace(ctx, tenantId, traceId);
    reviewContext = { trace_id: traceId, summary: trace.summary, event_count: trace.events.length };
  } catch {
    reviewContext = null;
  }
  return {
    status: 200,
    data: {
      ...found,
      review_context: reviewContext,
      trace_reference: { tenant_id: tenantId, trace_id: traceId, summary_available: reviewContext !== null },
    },
  };
}
