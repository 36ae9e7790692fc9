import type { Evidence, StepError } from './events.js';
import type { JsonObject } from './json.js';
import type { Risk, Scenario, StepKind } from './scenario-schema.js';
import type { ApprovalRecord, DecisionRecord, RunState, StepState, StepStatus } from './state.js';
import { stepState } from './state.js';

export interface StepView {
  readonly id: string;
  readonly title: string;
  readonly kind: StepKind;
  readonly risk: Risk;
  readonly why: string | undefined;
  readonly status: StepStatus;
  readonly attempt: number;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly outputs: JsonObject;
  readonly evidence: readonly Evidence[];
  readonly error: StepError | null;
  readonly skip: StepState['skip'];
  readonly alreadyDone: boolean;
}

/** A run as people see it: every step of the scenario in order, with what happened to it so far. */
export interface RunView {
  readonly runId: string;
  readonly scenario: string;
  readonly title: string;
  readonly status: RunState['status'];
  readonly steps: readonly StepView[];
  readonly current: StepView | undefined;
  /** Steps passed or skipped. */
  readonly settled: number;
  readonly total: number;
  readonly decisions: readonly DecisionRecord[];
  readonly approvals: readonly ApprovalRecord[];
  readonly outcome: RunState['outcome'];
}

/** The shared projection behind the Slack thread, the terminal view and the summary. */
export function viewRun(state: RunState, scenario: Scenario): RunView {
  const steps = scenario.steps.map((step): StepView => {
    const s = stepState(state, step.id);
    return {
      id: step.id,
      title: step.title,
      kind: step.kind,
      risk: step.risk,
      why: step.why,
      status: s.status,
      attempt: s.attempt,
      startedAt: s.startedAt,
      finishedAt: s.finishedAt,
      outputs: s.outputs,
      evidence: s.evidence,
      error: s.error,
      skip: s.skip,
      alreadyDone: s.alreadyDone,
    };
  });
  return {
    runId: state.runId,
    scenario: scenario.name,
    title: scenario.title,
    status: state.status,
    steps,
    current: steps.find((s) => s.id === state.currentStepId),
    settled: steps.filter((s) => s.status === 'passed' || s.status === 'skipped').length,
    total: steps.length,
    decisions: state.decisions,
    approvals: state.approvals,
    outcome: state.outcome,
  };
}
