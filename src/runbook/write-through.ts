import { EventBatch } from './engine.js';
import type { RunEvent } from './events.js';
import { hasSideEffects } from './interruptions.js';
import { isExecutorStep, type Scenario } from './scenario-schema.js';
import type { RunState } from './state.js';

// Side effects' starts and outcomes reach the journal before the run goes on (write-through), so losing Redis leads
// only to a re-probe of the action, never to a blind repeat. The rest of the log is written behind.

const SIDE_EFFECT_RECORDS: ReadonlySet<RunEvent['type']> = new Set([
  'step_started',
  'step_interrupted',
  'step_rechecked',
  'step_passed',
  'step_failed',
]);

/** The step is an action that changes something (see `hasSideEffects`). */
export function actsOnWorld(scenario: Scenario, stepId: string): boolean {
  const step = scenario.steps.find((s) => s.id === stepId);
  return step !== undefined && isExecutorStep(step) && hasSideEffects(step);
}

/** Whether the journal must hold `event` before the run goes on. */
export function isWriteThrough(event: RunEvent, scenario: Scenario): boolean {
  return SIDE_EFFECT_RECORDS.has(event.type) && 'stepId' in event && actsOnWorld(scenario, event.stepId as string);
}

/** The event saying that a step waits before it starts because its start cannot be journaled. */
export function holdStep(state: RunState, stepId: string, attempt: number, reason: string, now: Date): RunEvent[] {
  const batch = new EventBatch(state, now);
  batch.emit({ type: 'step_held', stepId, attempt, reason: reason.slice(0, 1000) });
  return batch.events;
}
