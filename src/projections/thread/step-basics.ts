import { type Step, type StepState, stepState } from '../../runbook/index.js';
import { mrkdwnText } from '../../slack/blocks/limits.js';
import type { MessageDraft } from './draft.js';
import { clock, esc, who } from './format.js';
import { stepNumber, type ThreadModel } from './model.js';

// What every kind of step message shares: its key, its title, its status emoji, the one line of a skipped step.
/** Key of a step's message. Step ids are `[a-z0-9_]`, at most 63 characters, so keys stay within the outbox's 100. */
export function stepKey(stepId: string): string {
  return `step-${stepId}`;
}

export function stepTitle(model: ThreadModel, step: Step): string {
  return `${stepNumber(model, step.id)}/${model.scenario.steps.length} · ${esc(step.title, 150)}`;
}

const STATUS_EMOJI: Readonly<Record<StepState['status'], string>> = {
  pending: ':white_circle:',
  running: ':arrows_counterclockwise:',
  waiting: ':hourglass_flowing_sand:',
  passed: ':white_check_mark:',
  failed: ':x:',
  skipped: ':fast_forward:',
  awaiting_decision: ':question:',
  awaiting_approval: ':lock:',
  approved: ':unlock:',
  awaiting_manual: ':raising_hand:',
};

export function statusEmoji(status: StepState['status']): string {
  return STATUS_EMOJI[status];
}

export function skipLine(s: StepState): string {
  if (!s.skip) return 'Skipped';
  const by = s.skip.by ? ` by ${who(s.skip.by)}` : '';
  const confirmed = s.skip.confirmedBy
    ? `; confirmed by ${who(s.skip.confirmedBy)}: ${esc(s.skip.confirmReason ?? '', 300)}`
    : '';
  return `Skipped${by} at ${clock(s.finishedAt)}: ${esc(s.skip.reason, 500)}${confirmed}`;
}

/** A step the run skipped without running it: one line, so conditional steps do not crowd the thread. */
export function renderSkipped(model: ThreadModel, step: Step, anchor: number): MessageDraft {
  const s = stepState(model.state, step.id);
  const line = `${statusEmoji('skipped')} ${stepTitle(model, step)} · ${skipLine(s)}`;
  return {
    key: stepKey(step.id),
    anchor,
    text: `Step ${stepNumber(model, step.id)}: ${esc(step.title, 150)} skipped`,
    blocks: [{ type: 'context', block_id: `skip-${step.id}`, elements: [mrkdwnText(line)] }],
  };
}
