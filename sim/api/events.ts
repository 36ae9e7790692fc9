import type { ApiRequest, Reply } from '../http/router.js';
import type { SimContext } from '../runtime/context.js';
import { appendEvent } from '../store/append.js';
import { toApiEvent } from '../store/event-row.js';
import { validateEvent } from '../store/validate-event.js';

/** `POST /api/v1/events`: the one place that starts (or wakes) the tenant's live projector workers. */
export async function postEvent(req: ApiRequest, ctx: SimContext): Promise<Reply> {
  const tenantId = req.principal.tenantId;
  const event = validateEvent(req.body, req.rawBody, tenantId);
  const result = await appendEvent(ctx.pool, ctx.clock, event, ctx.host.writesStopped);
  const triggered = ctx.node.workers.poke(tenantId);
  return { status: 201, data: { event: toApiEvent(result.row), projection_sync_triggered: triggered } };
}
