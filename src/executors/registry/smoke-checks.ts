import { ErrorCode } from '../../errors.js';
import { isCurrent } from '../../runbook/judges/projections.js';
import type { SmokeCheck, SmokeMeasurement } from '../../runbook/measurements.js';
import type { DgCallEvidence, DgCallResult } from '../dg-http/index.js';
import type { ExecutorContext } from './context.js';
import { ParamReader, type StepParams } from './params.js';

function source(e: DgCallEvidence): SmokeCheck['source'] {
  return {
    kind: 'http',
    method: e.method,
    path: e.path,
    status: e.status,
    requestId: e.requestId,
    latencyMs: e.latencyMs,
  };
}

function callCheck<T>(name: string, result: DgCallResult<T>, passed: (data: T) => string): SmokeCheck {
  if (!result.ok) return { name, ok: false, detail: result.error.message, source: source(result.evidence) };
  return { name, ok: true, detail: passed(result.data), source: source(result.evidence) };
}

async function replayAdmission(ctx: ExecutorContext): Promise<SmokeCheck> {
  const r = await ctx.dg.startReplay(
    {
      mode: 'catch_up',
      projection: 'trace_summary',
      reason: `dg-recovery run ${ctx.runId}: smoke test`,
      metadata: { dg_recovery_run_id: ctx.runId },
    },
    { signal: ctx.signal },
  );
  if (r.ok) {
    return {
      name: 'replay_admission',
      ok: true,
      detail: `admitted as ${r.data.job_id}`,
      source: source(r.evidence),
      jobId: r.data.job_id,
    };
  }
  const busy = r.error.code === ErrorCode.ApiConflict;
  return {
    name: 'replay_admission',
    ok: busy,
    detail: busy
      ? `a trace_summary replay is already running: ${r.error.dgMessage ?? r.error.message}`
      : r.error.message,
    source: source(r.evidence),
  };
}

/**
 * The install smoke tests of contract §6/§7, each recorded: healthz 200, the repo started, projection health 200
 * and current, replay admission (a catch_up of trace_summary, as DecisionGraph's own smoke test requests; a 409
 * because one already runs shows admission works too), the known trace reads, and the known workflow reads when
 * there is one. `replayAdmission: false` leaves out the one write. `traceId` and `workflowId` default to the
 * deployment's known ones.
 */
export async function smokeChecks(params: StepParams, ctx: ExecutorContext): Promise<SmokeMeasurement> {
  const p = new ParamReader('smoke.checks', params);
  const traceId = p.string('traceId', ctx.known.traceId, 500);
  const workflowId = p.optionalString('workflowId', 500) ?? ctx.known.workflowId;
  const admission = p.optionalBoolean('replayAdmission') ?? true;
  const opts = { signal: ctx.signal };
  const checks: SmokeCheck[] = [];
  // The reads are independent: made at once, reported in the order of the smoke test. The one write, replay
  // admission, follows them so the projection-health reading is not of the smoke replay.
  const [hz, ph, traceRead, workflowRead] = await Promise.all([
    ctx.dg.healthz(opts),
    ctx.dg.projectionHealth(opts),
    ctx.dg.getTrace(traceId, opts),
    workflowId !== undefined ? ctx.dg.getWorkflow(workflowId, opts) : undefined,
  ]);
  checks.push(callCheck('healthz', hz, () => 'healthz answered 200'));
  if (hz.ok) {
    const started = hz.data.store['repo_started?'] === true;
    checks.push({
      name: 'repo_started',
      ok: started,
      detail: started ? 'store repo_started? is true' : 'store repo_started? is false: the repository did not start',
      source: source(hz.evidence),
    });
  } else {
    checks.push({
      name: 'repo_started',
      ok: false,
      detail: 'not known: healthz did not answer',
      source: source(hz.evidence),
    });
  }

  checks.push(callCheck('projection_health', ph, (d) => `tenant ${d.tenant_id} at log_seq ${d.event_log_last_seq}`));
  if (ph.ok) {
    const current = isCurrent(ph.data);
    const behind = ph.data.projections.filter((x) => x.pending_events > 0 || x.is_stale);
    checks.push({
      name: 'projections_current',
      ok: current,
      detail: current
        ? 'every projection at the event tail'
        : `behind: ${behind.map((x) => `${x.projection_name} ${x.pending_events} pending`).join(', ')}`,
      source: source(ph.evidence),
    });
  } else {
    checks.push({
      name: 'projections_current',
      ok: false,
      detail: 'not known: projection health did not answer 200',
      source: source(ph.evidence),
    });
  }

  if (admission) checks.push(await replayAdmission(ctx));
  checks.push(callCheck('trace_read', traceRead, (d) => `${d.summary.event_count} events read`));
  if (workflowRead !== undefined) {
    checks.push(callCheck('workflow_read', workflowRead, (d) => `status ${d.workflow.status}`));
  }
  return { checks };
}
