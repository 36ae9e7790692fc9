import type { Actor } from './events.js';
import { findStep } from './scenario-lookup.js';
import { isExecutorStep, type Scenario, type Step } from './scenario-schema.js';
import { type RunState, type StepState, stepState } from './state.js';

// No destructive step runs past a failed safety check (`safetyCheckFor`), and skipping one needs a second person; so
// does skipping the checklist gate, which skips every check at once (docs/operations.md, the table of checks).

/**
 * Whether skipping `step` after it failed needs a second person: a safety check, the approval whose skip would
 * skip one (its guarded step is skipped with it), or the checklist gate.
 */
export function skipNeedsSecondPerson(scenario: Scenario, step: Step): boolean {
  if (step.kind === 'gate') return true;
  if (isExecutorStep(step)) return (step.safetyCheckFor ?? []).length > 0;
  if (step.kind === 'approval') {
    const guarded = findStep(scenario, step.guards);
    return guarded !== undefined && skipNeedsSecondPerson(scenario, guarded);
  }
  return false;
}

/** An operator's skip that lacks the second person a safety check needs (a log written before the rule). */
function skippedAlone(state: RunState, scenario: Scenario, step: Step, s: StepState): boolean {
  if (s.skip?.cause === 'operator') return s.skip.confirmedBy === undefined;
  if (s.skip?.cause !== 'guard') return false;
  // Skipped because its approval was: the approval's skip is the one that needed the second person.
  const approval = scenario.steps.find((a) => a.kind === 'approval' && a.guards === step.id);
  return approval !== undefined && skippedAlone(state, scenario, approval, stepState(state, approval.id));
}

/**
 * Why the destructive step `stepId` must not run now: a safety check of it failed, or was skipped by one person
 * alone. `undefined` when every safety check of it passed, was confirmed skipped, or was never meant to run.
 */
export function unmetSafetyCheck(state: RunState, scenario: Scenario, stepId: string): string | undefined {
  for (const check of scenario.steps) {
    if (!isExecutorStep(check) || !(check.safetyCheckFor ?? []).includes(stepId)) continue;
    const s = stepState(state, check.id);
    if (s.status === 'failed') return `its safety check "${check.title}" failed`;
    if (s.status === 'skipped' && skippedAlone(state, scenario, check, s)) {
      return `its safety check "${check.title}" was skipped without a second person confirming it`;
    }
  }
  return undefined;
}

/** A failed step the run went past because people skipped it: what makes a recovery one with exceptions. */
export interface SkippedFailure {
  readonly stepId: string;
  readonly title: string;
  readonly by: Actor | null;
  readonly reason: string;
  readonly confirmedBy?: Actor;
  readonly confirmReason?: string;
}

/** Every step people skipped after it failed, in scenario order. */
export function skippedFailures(state: RunState, scenario: Scenario): SkippedFailure[] {
  const out: SkippedFailure[] = [];
  for (const step of scenario.steps) {
    const skip = stepState(state, step.id).skip;
    if (skip?.cause !== 'operator') continue;
    out.push({
      stepId: step.id,
      title: step.title,
      by: skip.by,
      reason: skip.reason,
      ...(skip.confirmedBy ? { confirmedBy: skip.confirmedBy } : {}),
      ...(skip.confirmReason !== undefined ? { confirmReason: skip.confirmReason } : {}),
    });
  }
  return out;
}
