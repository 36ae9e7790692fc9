import { ApiError } from '../http/api-error.js';
import { intParam, optionalParam } from '../http/params.js';
import type { ApiRequest, Reply } from '../http/router.js';
import type { SimContext } from '../runtime/context.js';
import { requireCurrent } from './freshness.js';

/** `GET /api/v1/precedents`: finished traces with their policy, newest first. */
export async function listPrecedents(req: ApiRequest, ctx: SimContext): Promise<Reply> {
  const q = req.query;
  const entityType = optionalParam(q, 'entity_type');
  const entityId = optionalParam(q, 'entity_id');
  const policyId = optionalParam(q, 'policy_id');
  const policyVersion = optionalParam(q, 'policy_version');
  const outcome = optionalParam(q, 'outcome');
  const limit = intParam(q, 'limit', { min: 1, max: 10_000, fallback: 100 });
  if (policyVersion !== null && policyId === null) {
    throw new ApiError('invalid_argument', 'policy_version requires policy_id');
  }
  if (entityId !== null && entityType === null)
    throw new ApiError('invalid_argument', 'entity_id requires entity_type');
  const tenantId = req.principal.tenantId;
  await requireCurrent(ctx.pool, tenantId, 'precedent_index');
  const r = await ctx.pool.query(
    `SELECT s.trace_id, s.workflow, s.title, s.outcome, p.policy_id, p.policy_version, s.finished_at
       FROM dg_trace_summary s
       JOIN LATERAL (
         SELECT policy_id, policy_version FROM dg_precedent_index i
          WHERE i.tenant_id = s.tenant_id AND i.trace_id = s.trace_id
            AND ($4::text IS NULL OR i.policy_id = $4) AND ($5::text IS NULL OR i.policy_version = $5)
          ORDER BY log_seq DESC LIMIT 1) p ON true
      WHERE s.tenant_id = $1 AND s.finished_at IS NOT NULL
        AND ($2::text IS NULL OR s.primary_entity_type = $2) AND ($3::text IS NULL OR s.primary_entity_id = $3)
        AND ($6::text IS NULL OR s.outcome = $6)
      ORDER BY s.last_log_seq DESC, s.trace_id ASC LIMIT $7`,
    [tenantId, entityType, entityId, policyId, policyVersion, outcome, limit],
  );
  return { status: 200, data: { precedents: r.rows } };
}
