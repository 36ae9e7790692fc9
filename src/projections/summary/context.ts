import type { RunEvent, RunEventOf, RunEventType } from '../../runbook/events.js';
import type { Scenario, Step } from '../../runbook/scenario-schema.js';
import { foldRun, type RunState } from '../../runbook/state.js';
import { msBetween } from '../../runbook/time-format.js';
import { sortedBy } from './format.js';

/** Scenario definitions to look the run's scenario up in: one, a list, or a map by name. */
export type ScenarioCatalog = Scenario | readonly Scenario[] | ReadonlyMap<string, Scenario>;

/** What every part of the summary reads: the log in order, its fold, and the scenario it ran. */
export interface SummaryContext {
  readonly events: readonly RunEvent[];
  readonly state: RunState;
  readonly scenario: Scenario | undefined;
  readonly finished: boolean;
  readonly startedAt: string;
  step(stepId: string): Step | undefined;
  title(stepId: string): string;
  offset(at: string): number | null;
  /** The events of one type, in log order. */
  ofType<T extends RunEventType>(type: T): RunEventOf<T>[];
  /** The step's own events (not the run's pause, resume or abort in it), in log order. */
  forStep(stepId: string): RunEvent[];
}

function findScenario(catalog: ScenarioCatalog, name: string): Scenario | undefined {
  if (catalog instanceof Map) return catalog.get(name);
  if (Array.isArray(catalog)) return (catalog as readonly Scenario[]).find((s) => s.name === name);
  const one = catalog as Scenario;
  return one.name === name ? one : undefined;
}

export function createContext(events: readonly RunEvent[], catalog: ScenarioCatalog): SummaryContext {
  // The journal and the live log hand events over in order; sorting makes a shuffled copy fold the same way.
  const ordered = sortedBy(events, (e) => e.seq);
  const state = foldRun(ordered);
  const scenario = findScenario(catalog, state.scenario);
  const steps = new Map((scenario?.steps ?? []).map((s) => [s.id, s]));
  const byStep = new Map<string, RunEvent[]>();
  for (const e of ordered) {
    // Run-level events (pause, resume, abort) name the step they happened in; they are not the step's own.
    const id = 'stepId' in e && !e.type.startsWith('run_') ? e.stepId : undefined;
    if (id === undefined) continue;
    const list = byStep.get(id) ?? [];
    list.push(e);
    byStep.set(id, list);
  }
  return {
    events: ordered,
    state,
    scenario,
    finished: state.outcome !== null,
    startedAt: state.startedAt,
    step: (id) => steps.get(id),
    title: (id) => steps.get(id)?.title ?? id,
    offset: (at) => msBetween(state.startedAt, at),
    ofType: <T extends RunEventType>(type: T) => ordered.filter((e): e is RunEventOf<T> => e.type === type),
    forStep: (id) => byStep.get(id) ?? [],
  };
}
