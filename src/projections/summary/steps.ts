import { isExecutorStep } from '../../runbook/scenario-schema.js';
import { type StepState, stepState } from '../../runbook/state.js';
import { msBetween } from '../../runbook/time-format.js';
import type { SummaryContext } from './context.js';
import { interruptionsOf } from './interruptions.js';
import type { StepOutcome, StepSummary } from './types.js';

function outcomeOf(s: StepState, finished: boolean): StepOutcome {
  switch (s.status) {
    case 'passed':
    case 'skipped':
      return s.status;
    case 'failed':
      // A failure with a retry still scheduled is not the step's last word while the run goes on.
      return !finished && s.nextAttemptAt !== null ? 'in_progress' : 'failed';
    case 'pending':
      if (s.firstStartedAt === null) return 'not_reached';
      return finished ? 'interrupted' : 'in_progress';
    default:
      return finished ? 'interrupted' : 'in_progress';
  }
}

/** Every step of the scenario in order, then any step the log names that the scenario does not know. */
export function stepSummaries(ctx: SummaryContext): StepSummary[] {
  const ids = (ctx.scenario?.steps ?? []).map((s) => s.id);
  for (const e of ctx.events) {
    if ('stepId' in e && e.stepId !== undefined && !ids.includes(e.stepId)) ids.push(e.stepId);
  }
  return ids.map((id, i) => {
    const def = ctx.step(id);
    const s = stepState(ctx.state, id);
    const events = ctx.forStep(id);
    const outcome = outcomeOf(s, ctx.finished);
    const settled = outcome === 'passed' || outcome === 'failed' || outcome === 'skipped';
    const finishedAt = settled ? s.finishedAt : null;
    const summary: StepSummary = {
      index: i + 1,
      id,
      title: ctx.title(id),
      kind: def?.kind ?? 'unknown',
      risk: def?.risk ?? 'unknown',
      ...(def && isExecutorStep(def) ? { executor: def.executor } : {}),
      outcome,
      attempts: s.attempt,
      checks: events.filter((e) => e.type === 'step_waiting').length,
      failures: events.filter((e) => e.type === 'step_failed').length,
      startedAt: s.firstStartedAt,
      finishedAt,
      durationMs: msBetween(s.firstStartedAt, finishedAt),
      alreadyDone: s.status === 'passed' && s.alreadyDone,
      ...(s.error && outcome !== 'passed' ? { error: s.error } : {}),
      ...(s.skip && outcome === 'skipped' ? { skip: s.skip } : {}),
      evidence: s.evidence,
      interruptions: interruptionsOf(ctx, id),
    };
    return summary;
  });
}
