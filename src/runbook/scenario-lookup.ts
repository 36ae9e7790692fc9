import type { JsonObject } from './json.js';
import type { JudgeName } from './judges/index.js';
import { DEFAULT_JUDGE } from './judges/index.js';
import { isExecutorStep, judgeOf, type Scenario, type Step } from './scenario-schema.js';
import type { RunState } from './state.js';
import { stepState } from './state.js';

const indexes = new WeakMap<Scenario, ReadonlyMap<string, number>>();

function indexOf(scenario: Scenario): ReadonlyMap<string, number> {
  let index = indexes.get(scenario);
  if (index === undefined) {
    index = new Map(scenario.steps.map((s, i) => [s.id, i]));
    indexes.set(scenario, index);
  }
  return index;
}

export function stepIndex(scenario: Scenario, stepId: string): number {
  return indexOf(scenario).get(stepId) ?? -1;
}

export function findStep(scenario: Scenario, stepId: string): Step | undefined {
  const i = indexOf(scenario).get(stepId);
  return i === undefined ? undefined : scenario.steps[i];
}

/**
 * Replay job ids this run started (or attached to): `dg.replay_start` steps, and the replays other steps started
 * (the smoke check's replay admission). Expected in `open_runs`; the gate waits for them.
 */
export function ownReplayJobIds(state: RunState, scenario: Scenario): string[] {
  const ids: string[] = [...state.startedReplayJobIds];
  for (const step of scenario.steps) {
    if (!isExecutorStep(step) || step.executor !== 'dg.replay_start') continue;
    const s = stepState(state, step.id);
    const jobId = s.outputs.jobId;
    if (s.status === 'passed' && typeof jobId === 'string' && !ids.includes(jobId)) ids.push(jobId);
  }
  return ids;
}

/** Orphaned runs a person has decided about (per-item decisions on steps that acknowledge runs). */
export function acknowledgedRunIds(state: RunState, scenario: Scenario): string[] {
  const steps = new Set(
    scenario.steps.filter((s) => s.kind === 'decision' && s.forEach?.acknowledgesRuns === true).map((s) => s.id),
  );
  return [...new Set(state.decisions.filter((d) => steps.has(d.stepId) && d.item).map((d) => d.item?.id as string))];
}

export function judgeFor(step: Step, override?: { executor: string; judge?: JudgeName }): JudgeName | undefined {
  if (override) return override.judge ?? DEFAULT_JUDGE[override.executor as keyof typeof DEFAULT_JUDGE];
  return isExecutorStep(step) ? judgeOf(step) : undefined;
}

/** Picks the named keys of an object (all of it when no names are given). */
export function pick(outputs: JsonObject, keys: readonly string[] | undefined): JsonObject {
  if (keys === undefined) return outputs;
  const out: JsonObject = {};
  for (const k of keys) if (outputs[k] !== undefined) out[k] = outputs[k];
  return out;
}
