import { DgError } from '../../errors.js';
import type { ReplayLookup, ReplayRunBody } from '../../runbook/measurements.js';
import { ApiConnectionResetError, ApiTimeoutError, type DgApiCallError } from '../dg-http/index.js';
import { withReadOnly } from '../dg-sql/index.js';
import type { ExecutorContext } from './context.js';

/** Open runs read back at most, newest first: a tenant rarely has more than one or two of one kind. */
const MAX_CHECKED = 5;

/**
 * The request left and the connection was reset or a response timeout ran out: DecisionGraph may have admitted
 * it. A refused or unreachable connection, or a connect timeout, sent nothing.
 */
export function answerLost(error: DgApiCallError): boolean {
  if (error instanceof ApiConnectionResetError) return true;
  return error instanceof ApiTimeoutError && (error.phase === 'headers' || error.phase === 'body');
}

function runBody(run: ReplayRunBody): ReplayRunBody {
  const { job_id, projection_name, mode, status, processed_events, last_log_seq, error_code, error_message } = run;
  return { job_id, projection_name, mode, status, processed_events, last_log_seq, error_code, error_message };
}

interface RunRequest {
  readonly mode: string;
  readonly projection: string;
}

/**
 * Looks for the run a replay request without an answer created: the tenant's open runs of the same projection
 * and mode (projection health), newest first, each read back for `metadata.dg_recovery_request === requestKey`;
 * then, for a run that has already finished, `dg_projection_runs` through the read-only probe role.
 */
export async function findRequestedRun(
  ctx: ExecutorContext,
  request: RunRequest,
  requestKey: string,
): Promise<ReplayLookup> {
  const open = await findOpenRun(ctx, request, requestKey);
  if (open.found !== null) return open;
  try {
    const found = await findRecordedRun(ctx, request, requestKey);
    return found === null ? open : { ...open, found, checked: [...open.checked, found.job_id] };
  } catch (err) {
    const why = err instanceof DgError ? `${err.code}: ${err.message}` : String(err);
    return { ...open, error: [open.error, `dg_projection_runs could not be read (${why})`].filter(Boolean).join('; ') };
  }
}

interface RunRow {
  job_id: string;
  projection_name: string;
  mode: string;
  status: string;
  processed_events: number;
  last_log_seq: number;
  error_code: string | null;
  error_message: string | null;
}

/** The newest recorded run whose metadata carries the key; its metadata is canonical JSON, so a substring tells. */
async function findRecordedRun(ctx: ExecutorContext, request: RunRequest, requestKey: string) {
  const needle = `"dg_recovery_request":${JSON.stringify(requestKey)}`;
  return withReadOnly(ctx.sql, { sqlName: 'dg_sql.replay_lookup.connect', timeoutMs: 5_000 }, async (s) => {
    const { rows } = await s.query<RunRow>(
      'dg_sql.replay_lookup',
      `SELECT job_id, projection_name, mode, status, processed_events::float8 AS processed_events,
          last_log_seq::float8 AS last_log_seq, error_code, error_message
        FROM dg_projection_runs
        WHERE tenant_id = $1 AND projection_name = $2 AND mode = $3 AND strpos(metadata_json, $4) > 0
        ORDER BY requested_at DESC LIMIT 1`,
      [ctx.tenantId, request.projection, request.mode, needle],
    );
    return rows[0] ?? null;
  });
}

async function findOpenRun(ctx: ExecutorContext, request: RunRequest, requestKey: string): Promise<ReplayLookup> {
  const health = await ctx.dg.projectionHealth({ signal: ctx.signal });
  if (!health.ok) return { requestKey, found: null, checked: [], error: health.error.message };
  const candidates = health.data.open_runs
    .filter((r) => r.projection_name === request.projection && r.mode === request.mode)
    .reverse()
    .slice(0, MAX_CHECKED);
  const checked: string[] = [];
  for (const candidate of candidates) {
    checked.push(candidate.job_id);
    const read = await ctx.dg.getReplay(candidate.job_id, { signal: ctx.signal });
    if (!read.ok) return { requestKey, found: null, checked, error: read.error.message };
    if (read.data.metadata?.dg_recovery_request === requestKey)
      return { requestKey, found: runBody(read.data), checked };
  }
  return { requestKey, found: null, checked };
}
