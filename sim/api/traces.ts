import { ApiError } from '../http/api-error.js';
import type { ApiRequest, Reply } from '../http/router.js';
import { brokenRelease, type SimContext } from '../runtime/context.js';
import { EVENT_COLUMNS, type EventRow, toApiEvent } from '../store/event-row.js';
import { requireCurrent } from './freshness.js';

const SUMMARY_COLUMNS =
  'trace_id, workflow, title, primary_entity_type, primary_entity_system, primary_entity_id, started_at, ' +
  'finished_at, outcome, event_count, last_log_seq';

// The broken release queries a column its own migration was supposed to add; Postgres refuses the query, and the
// read fails the way a real schema/code mismatch does.
const BROKEN_SUMMARY_COLUMNS = `${SUMMARY_COLUMNS}, primary_entity_ref`;

export async function readTrace(ctx: SimContext, tenantId: string, traceId: string) {
  await requireCurrent(ctx.pool, tenantId, 'trace_summary');
  const columns = brokenRelease(ctx.host) ? BROKEN_SUMMARY_COLUMNS : SUMMARY_COLUMNS;
  const summary = await ctx.pool.query(
    `SELECT ${columns} FROM dg_trace_summary WHERE tenant_id = $1 AND trace_id = $2`,
    [tenantId, traceId],
  );
  if (summary.rows.length === 0) throw new ApiError('not_found', `Trace not found: ${traceId}`);
  const events = await ctx.pool.query<EventRow>(
    `SELECT ${EVENT_COLUMNS} FROM dg_event_log WHERE tenant_id = $1 AND trace_id = $2 ORDER BY trace_seq`,
    [tenantId, traceId],
  );
  return { events: events.rows.map(toApiEvent), summary: summary.rows[0] };
}

/** `GET /api/v1/traces/:trace_id`. */
export async function getTrace(req: ApiRequest, ctx: SimContext): Promise<Reply> {
  const traceId = req.params.trace_id as string;
  return { status: 200, data: await readTrace(ctx, req.principal.tenantId, traceId) };
}
