import { interruptedAttemptOf, whatToCheck } from '../../runbook/interruptions.js';
import { isExecutorStep, type Step } from '../../runbook/scenario-schema.js';
import { stepState } from '../../runbook/state.js';
import { formatDuration, formatOffset } from '../../runbook/time-format.js';
import type { SummaryContext } from './context.js';
import { actorShort } from './format.js';
import type { FinalHealth, FollowUp, HostActionSummary, StepSummary } from './types.js';

// What is left to do after the run, in a fixed order: what was kept for investigation and what was lost, what
// the deployment would not allow, what is still stopped, what nobody confirmed, and why the run did not recover.

function executorSteps(ctx: SummaryContext, executor: string): Step[] {
  return (ctx.scenario?.steps ?? []).filter((s) => isExecutorStep(s) && s.executor === executor);
}

function passedAt(ctx: SummaryContext, stepId: string): string | null {
  const s = stepState(ctx.state, stepId);
  return s.status === 'passed' ? s.finishedAt : null;
}

function anyPassedAfter(ctx: SummaryContext, executors: readonly string[], after: string): boolean {
  return executors.some((x) =>
    executorSteps(ctx, x).some((s) => {
      const at = passedAt(ctx, s.id);
      return at !== null && at >= after;
    }),
  );
}

export function followUps(
  ctx: SummaryContext,
  steps: readonly StepSummary[],
  hostActions: readonly HostActionSummary[],
  health: FinalHealth,
): FollowUp[] {
  const out: FollowUp[] = [];
  const when = (at: string | null) => formatOffset(ctx.offset(at ?? ''));

  for (const h of hostActions) {
    if (h.action !== 'preserve_database' || (h.outcome !== 'done' && h.outcome !== 'already done')) continue;
    out.push({
      id: 'preserved_database',
      text: [
        `Broken database preserved for investigation (${h.means}${h.by ? ` by ${actorShort(h.by)}` : ''}, ${when(h.at)})`,
        ...(h.detail ? [': ', { code: h.detail }] : []),
        ...(h.note ? [`; note: ${h.note}`] : []),
        '. Keep it until the damage is understood; never repair the event log in place.',
      ],
    });
  }

  for (const def of executorSteps(ctx, 'sql.parity')) {
    const s = stepState(ctx.state, def.id);
    const missing = s.outputs.eventsNotRestored;
    if (s.status !== 'passed' || typeof missing !== 'number' || missing <= 0) continue;
    out.push({
      id: 'events_not_restored',
      text: [
        `${missing} event(s) appended after the backup was taken are not in the restored log; only the preserved ` +
          'database still holds them.',
      ],
    });
  }

  const refusedRebuild = ctx.events.some((e) => e.type === 'step_failed' && e.error.code === 'rebuild_forbidden');
  if (refusedRebuild) {
    const instead = ctx.state.decisions.find((d) => {
      const def = ctx.step(d.stepId);
      return def?.when !== undefined && 'error' in def.when && def.when.error.includes('rebuild_forbidden');
    });
    out.push({
      id: 'rebuild_disabled',
      text: [
        'Rebuild disabled in this deployment (DecisionGraph answered 403; admin_controls allow_rebuild is off): ' +
          'rebuild not run' +
          (instead
            ? `; "${instead.option?.label ?? instead.optionId}" was chosen instead by ${actorShort(instead.by)}`
            : '') +
          '.',
      ],
    });
  }

  for (const def of executorSteps(ctx, 'host.stop_writes')) {
    const at = passedAt(ctx, def.id);
    if (at === null) continue;
    const resume = (ctx.scenario?.steps ?? []).find((s) => s.id === 'resume_writes');
    const resumed =
      resume !== undefined
        ? stepState(ctx.state, resume.id).status === 'passed'
        : ctx.state.outcome?.outcome === 'recovered';
    if (resumed) continue;
    out.push({
      id: 'writes_stopped',
      text: [`Writes were stopped at ${when(at)} and nobody confirmed letting writers back in: check the writers.`],
    });
  }

  for (const def of executorSteps(ctx, 'host.stop_runtime')) {
    const at = passedAt(ctx, def.id);
    if (at === null || anyPassedAfter(ctx, ['host.start_runtime', 'host.restart_runtime'], at)) continue;
    out.push({
      id: 'runtime_stopped',
      text: [`The runtime was stopped at ${when(at)} and not started again by the run: DecisionGraph is down.`],
    });
  }

  for (const def of executorSteps(ctx, 'host.switch_release')) {
    if (passedAt(ctx, def.id) === null) continue;
    const h = hostActions.find((x) => x.stepId === def.id);
    out.push({
      id: 'release_rolled_back',
      text: [
        'DecisionGraph was switched back to the previous release',
        ...(h?.chosen ? [' (', { code: h.chosen }, ')'] : []),
        ': the failed release needs a fix before the next upgrade attempt.',
      ],
    });
  }

  for (const d of ctx.state.decisions) {
    const def = ctx.step(d.stepId);
    if (def?.kind === 'decision' && def.forEach?.acknowledgesRuns && d.optionId === 'ignore') {
      out.push({
        id: 'orphans_ignored',
        text: [
          'Replay run ',
          { code: d.item?.id ?? '?' },
          ` was left as it is (decided by ${actorShort(d.by)}): DecisionGraph keeps showing it as running; it is ` +
            'not cancellable and blocks nothing.',
        ],
      });
    }
  }

  if (ctx.state.outcome?.outcome !== 'recovered') {
    for (const d of ctx.state.decisions) {
      if (d.optionId !== 'wait' && d.optionId !== 'no_replay') continue;
      out.push({
        id: 'no_replay',
        text: [
          `No replay was run ("${d.option?.label ?? d.optionId}", ${actorShort(d.by)}${d.reason ? `: ${d.reason}` : ''}): ` +
            'projections catch up only when a write or a replay starts the workers; check pending_events again.',
        ],
      });
    }
  }

  const asked = new Map<string, { stepId: string; at: string }>();
  for (const e of ctx.events) {
    if (e.type === 'manual_action_requested') asked.set(e.stepId, { stepId: e.stepId, at: e.at });
    if (
      'stepId' in e &&
      e.stepId !== undefined &&
      (e.type === 'manual_action_done' ||
        e.type === 'step_passed' ||
        e.type === 'step_failed' ||
        e.type === 'step_skipped')
    ) {
      asked.delete(e.stepId);
    }
  }
  for (const a of asked.values()) {
    out.push({
      id: 'unconfirmed_action',
      text: [
        `"${ctx.title(a.stepId)}" was asked of a person at ${when(a.at)} and never marked done: check whether it ` +
          'happened.',
      ],
    });
  }

  const pendingDecision = lastPending(ctx, 'decision');
  if (pendingDecision !== null) {
    const def = ctx.step(pendingDecision.stepId);
    const attempt = interruptedAttemptOf(ctx.scenario, pendingDecision);
    out.push({
      id: 'decision_pending',
      text:
        attempt !== undefined && def !== undefined && isExecutorStep(def)
          ? [
              `Nobody said whether "${def.title}" (attempt ${attempt}, interrupted when the bot stopped, asked at ` +
                `${when(pendingDecision.at)}) had finished: check ${whatToCheck(def)}.`,
            ]
          : [
              `The decision "${ctx.title(pendingDecision.stepId)}" asked at ${when(pendingDecision.at)} was ` +
                `${ctx.finished ? 'never answered' : 'not answered yet'}.`,
            ],
    });
  }
  const pendingApproval = lastPending(ctx, 'approval');
  if (pendingApproval !== null) {
    const expired = pendingApproval.expiredAfterMs;
    out.push({
      id: 'approval_pending',
      text: [
        `The approval "${ctx.title(pendingApproval.stepId)}" asked at ${when(pendingApproval.at)} was ` +
          (expired !== undefined
            ? `never given: nobody approved within ${formatDuration(expired)}.`
            : `${ctx.finished ? 'never given' : 'not given yet'}.`),
      ],
    });
  }

  const gateId = health.stepId;
  for (const s of steps) {
    // A skipped checklist is told by its failing conditions below and by the final health.
    if (s.outcome !== 'skipped' || s.skip?.cause !== 'operator' || s.id === gateId) continue;
    out.push({
      id: 'step_skipped',
      text: [
        `"${s.title}" was skipped by ${actorShort(s.skip.by)}`,
        ...(s.error
          ? [' after it failed (', { code: s.error.code }, `${s.error.message ? ` ${s.error.message}` : ''})`]
          : []),
        `: ${s.skip.reason}`,
        ...(s.skip.confirmedBy
          ? [`; confirmed by ${actorShort(s.skip.confirmedBy)}: ${s.skip.confirmReason ?? ''}`]
          : []),
      ],
    });
  }
  for (const s of steps) {
    if (s.outcome !== 'failed' || s.id === gateId) continue;
    // Failures the scenario routes on (a refused rebuild) are handled by a later step, not left over.
    const def = ctx.step(s.id);
    if (def && isExecutorStep(def) && (def.continueOnFailure ?? []).includes(s.error?.code ?? '')) continue;
    out.push({
      id: 'step_failed',
      text: [`"${s.title}" failed: `, { code: s.error?.code ?? 'unknown' }, ` ${s.error?.message ?? ''}`.trimEnd()],
    });
  }
  if (health.otherTenants.length > 0) {
    out.push({
      id: 'other_tenants',
      text: [
        `Other tenants still had projections behind or failing at the last checklist reading (${health.otherTenants.join(', ')}): ` +
          'run ',
        { code: 'projections tenant=<id>' },
        ' for each.',
      ],
    });
  }
  if (health.passed === false) {
    for (const f of health.failing) {
      out.push({ id: 'checklist_failing', text: ['Checklist not met: ', { code: f.condition }, ` ${f.detail}`] });
    }
  }

  const outcome = ctx.state.outcome;
  if (outcome?.outcome === 'aborted') {
    const abort = ctx.state.abort;
    const notRun = steps.filter((s) => s.outcome === 'not_reached').length;
    out.push({
      id: 'aborted',
      text: [
        `Aborted${abort ? ` by ${actorShort(abort.by)}` : ''}` +
          `${(abort?.reason ?? outcome.reason) ? `: ${abort?.reason ?? outcome.reason}` : ''}. ` +
          `${notRun} step(s) did not run; DecisionGraph may still need recovery.`,
      ],
    });
  }
  if (outcome?.outcome === 'switched' && outcome.switchTo) {
    out.push({
      id: 'switched',
      text: [
        `The run ended by switching to the ${outcome.switchTo} scenario: make sure a `,
        { code: outcome.switchTo },
        ' run was started.',
      ],
    });
  }
  return out;
}

interface Pending {
  readonly stepId: string;
  readonly at: string;
  readonly item?: { readonly id: string };
  /** An approval that expired: the approval timeout then in force. */
  readonly expiredAfterMs?: number;
}

function withExpiry(p: Pending, timeoutMs: number): Pending {
  return { ...p, expiredAfterMs: timeoutMs };
}

/** The decision or approval still asked when the log ends (the fold clears it at `run_finished`). */
function lastPending(ctx: SummaryContext, kind: 'decision' | 'approval'): Pending | null {
  const requested = kind === 'decision' ? 'decision_requested' : 'approval_requested';
  let pending: Pending | null = null;
  for (const e of ctx.events) {
    if (e.type === requested) {
      pending = { stepId: e.stepId, at: e.at, ...(e.type === 'decision_requested' && e.item ? { item: e.item } : {}) };
    } else if (pending !== null && 'stepId' in e && e.stepId === pending.stepId) {
      if (e.type === 'approval_expired') pending = withExpiry(pending, e.timeoutMs);
      const answered =
        kind === 'decision'
          ? e.type === 'decision_made' || e.type === 'step_skipped'
          : e.type === 'approval_granted' || e.type === 'approval_voided' || e.type === 'step_skipped';
      if (answered) pending = null;
    }
  }
  return pending;
}
