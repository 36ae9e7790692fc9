import { canonicalJson } from '../db/canonical-json.js';
import { ApiError, FrameworkError } from '../http/api-error.js';
import { requirePermission } from '../http/auth.js';
import type { ApiRequest, Reply } from '../http/router.js';
import type { ReplayMode } from '../projector/coordinator.js';
import { isProjectionName } from '../projector/names.js';
import { getRun } from '../projector/runs.js';
import { rebuildAllowed, type SimContext } from '../runtime/context.js';

const PERMISSION: Record<ReplayMode, string> = { catch_up: 'projection_replay', rebuild: 'projection_rebuild' };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function logSeqParam(body: Record<string, unknown>, key: string): number | null {
  const v = body[key];
  if (v === undefined || v === null) return null;
  if (!Number.isInteger(v) || (v as number) < 0) {
    throw new ApiError('invalid_argument', `${key} must be a non-negative integer`);
  }
  return v as number;
}

/** `POST /api/v1/admin/replays`, with DecisionGraph's check order. */
export async function createReplay(req: ApiRequest, ctx: SimContext): Promise<Reply> {
  const body = isObject(req.body) ? req.body : {};
  const mode = body.mode ?? 'catch_up';
  if (mode !== 'catch_up' && mode !== 'rebuild')
    throw new ApiError('invalid_argument', 'mode must be catch_up or rebuild');
  const projection = body.projection;
  if (projection === undefined || projection === null || projection === '') {
    throw new ApiError('invalid_argument', 'projection is required');
  }
  const metadata = body.metadata;
  const reason = body.reason ?? (isObject(metadata) ? metadata.reason : undefined);
  if (typeof reason !== 'string' || reason.trim() === '') {
    throw new ApiError('invalid_argument', 'reason is required for replay and rebuild admin actions');
  }
  const { account, tenantId } = req.principal;
  requirePermission(account, PERMISSION[mode]);
  if (mode === 'rebuild' && !rebuildAllowed(ctx.host)) {
    throw new ApiError('forbidden', 'Projection rebuilds are disabled in this deployment');
  }
  if (metadata !== undefined && metadata !== null && !isObject(metadata)) {
    throw new ApiError('invalid_argument', 'metadata must be an object');
  }
  const sinceLogSeq = logSeqParam(body, 'since_log_seq') ?? 0;
  const untilLogSeq = logSeqParam(body, 'until_log_seq');
  const projectionName = String(projection);
  ctx.node.coordinator.assertFree(tenantId, projectionName);
  // DecisionGraph fails inside the coordinator process here, which the framework renders without the envelope.
  const target = projectionName === 'all' || isProjectionName(projectionName) ? projectionName : null;
  if (target === null) throw new FrameworkError(500, 'Internal Server Error');
  const merged: Record<string, unknown> = { ...(isObject(metadata) ? metadata : {}) };
  const putIfAbsent = (k: string, v: unknown) => {
    if (!(k in merged)) merged[k] = v;
  };
  putIfAbsent('reason', reason);
  putIfAbsent('request_id', req.requestId);
  putIfAbsent('requested_by_account_id', account.accountId);
  putIfAbsent('requested_by_roles', [...account.roles]);
  let metadataJson: string;
  try {
    metadataJson = canonicalJson(merged);
  } catch {
    throw new FrameworkError(500, 'Internal Server Error');
  }
  const run = await ctx.node.coordinator.admit({
    tenantId,
    projection: target,
    mode,
    sinceLogSeq,
    untilLogSeq,
    metadataJson,
  });
  return { status: 202, data: { run } };
}

/** `GET /api/v1/admin/replays/:job_id`: the row, even for orphans; another tenant's job does not exist. */
export async function getReplay(req: ApiRequest, ctx: SimContext): Promise<Reply> {
  const jobId = req.params.job_id as string;
  const run = await getRun(ctx.pool, jobId);
  if (!run || run.tenant_id !== req.principal.tenantId)
    throw new ApiError('not_found', `Replay job not found: ${jobId}`);
  requirePermission(req.principal.account, PERMISSION[run.mode as ReplayMode] ?? 'projection_replay');
  return { status: 200, data: { run } };
}

/** `POST /api/v1/admin/replays/:job_id/cancel`: only jobs this node lifetime still runs can be cancelled. */
export async function cancelReplay(req: ApiRequest, ctx: SimContext): Promise<Reply> {
  const jobId = req.params.job_id as string;
  const owned = ctx.node.coordinator.owned(jobId, req.principal.tenantId);
  if (!owned) throw new ApiError('not_found', `Replay job not found: ${jobId}`);
  requirePermission(req.principal.account, PERMISSION[owned.mode]);
  const run = await ctx.node.coordinator.cancel(jobId);
  if (!run) throw new ApiError('not_found', `Replay job not found: ${jobId}`);
  return { status: 200, data: { run } };
}
