import { interruptedAttemptOf } from '../../runbook/interruptions.js';
import type { SummaryContext } from './context.js';
import type { InterruptionSummary } from './types.js';

/**
 * The attempts of one step found interrupted, each with what became of it: what its re-check found, or who
 * answered the question put to people, with what and why.
 */
export function interruptionsOf(ctx: SummaryContext, stepId: string): InterruptionSummary[] {
  const events = ctx.forStep(stepId);
  const out: InterruptionSummary[] = [];
  events.forEach((e, i) => {
    if (e.type !== 'step_interrupted') return;
    // What followed, up to the next attempt.
    const next = events.findIndex((x, j) => j > i && x.type === 'step_started');
    const after = events.slice(i + 1, next < 0 ? undefined : next);
    const recheck = after.find((x) => x.type === 'step_rechecked');
    const record = ctx.state.decisions.find(
      (d) => d.stepId === stepId && d.item !== undefined && interruptedAttemptOf(ctx.scenario, d) === e.attempt,
    );
    out.push({
      stepId,
      attempt: e.attempt,
      at: e.at,
      ...(e.actionMode !== undefined ? { actionMode: e.actionMode } : {}),
      handling: e.next,
      ...(recheck?.type === 'step_rechecked' ? { alreadyDone: recheck.alreadyDone } : {}),
      ...(record
        ? {
            answer: {
              optionId: record.optionId,
              optionLabel: record.option?.label ?? record.optionId,
              by: record.by,
              at: record.at,
              ...(record.reason !== undefined ? { reason: record.reason } : {}),
            },
          }
        : {}),
    });
  });
  return out;
}
