import { stepState } from '../../runbook/index.js';
import type { ThreadModel } from './model.js';
import { isHiddenSkip } from './step-message.js';

// Counts of the steps in words, the same in the header and in the result, and the steps the run skipped without
// running them, which have no message of their own.

/** `13 passed, 3 skipped`, with the failed steps and, once the run ended, the steps it never reached. */
export function stepCountsText(model: ThreadModel): string {
  const statuses = model.scenario.steps.map((step) => stepState(model.state, step.id).status);
  const count = (status: string) => statuses.filter((s) => s === status).length;
  const notReached = model.state.outcome === null ? 0 : statuses.filter((s) => s === 'pending').length;
  return [
    `${count('passed')} passed`,
    `${count('skipped')} skipped`,
    count('failed') > 0 ? `${count('failed')} failed` : '',
    notReached > 0 ? `${notReached} not reached` : '',
  ]
    .filter((part) => part !== '')
    .join(', ');
}

/** `3, 4, 9–12`: consecutive numbers as a range. */
function ranges(numbers: readonly number[]): string {
  const out: string[] = [];
  let start = numbers[0];
  for (let i = 0; i < numbers.length; i++) {
    const n = numbers[i] as number;
    const next = numbers[i + 1];
    if (next === n + 1) continue;
    out.push(start === n ? `${n}` : `${start}–${n}`);
    start = next;
  }
  return out.join(', ');
}

/** The steps skipped without running (their conditions did not hold), by number; `undefined` when none. */
export function skippedStepsText(model: ThreadModel): string | undefined {
  const numbers = model.scenario.steps
    .map((step, i) => (isHiddenSkip(stepState(model.state, step.id)) ? i + 1 : 0))
    .filter((n) => n > 0);
  if (numbers.length === 0) return undefined;
  return `Not needed, skipped without running: ${numbers.length === 1 ? 'step' : 'steps'} ${ranges(numbers)}`;
}
