import {
  foldRun,
  type RunEvent,
  type RunEventOf,
  type RunState,
  type RunView,
  type Scenario,
  type Step,
  viewRun,
} from '../../runbook/index.js';

/**
 * What the thread needs beyond the folded state: the requests as they were asked (the state forgets a decision's
 * prompt once it is answered), every approval round, manual confirmations, pauses and how they ended, and the
 * first event of each step, which fixes the step's place in the thread.
 */
export interface ThreadModel {
  readonly state: RunState;
  readonly view: RunView;
  readonly scenario: Scenario;
  /** Step id → sequence number of the first event about it. */
  readonly firstSeq: ReadonlyMap<string, number>;
  /** Step id → every `decision_requested`, in order. */
  readonly decisionRequests: ReadonlyMap<string, readonly RunEventOf<'decision_requested'>[]>;
  readonly approvalRequests: ReadonlyMap<string, readonly RunEventOf<'approval_requested'>[]>;
  /** Step id → every `approval_expired` (rounds nobody approved in time). */
  readonly approvalExpiries: ReadonlyMap<string, readonly RunEventOf<'approval_expired'>[]>;
  /** Step id → every `approval_rejected`. */
  readonly approvalRejections: ReadonlyMap<string, readonly RunEventOf<'approval_rejected'>[]>;
  readonly manualRequests: ReadonlyMap<string, readonly RunEventOf<'manual_action_requested'>[]>;
  readonly manualDone: ReadonlyMap<string, readonly RunEventOf<'manual_action_done'>[]>;
  readonly pauses: readonly RunEventOf<'run_paused'>[];
  readonly resumes: readonly RunEventOf<'run_resumed'>[];
  readonly aborted: RunEventOf<'run_aborted'> | undefined;
  readonly finished: RunEventOf<'run_finished'> | undefined;
  /** The latest `run_paused` while the run is paused. */
  readonly openPause: RunEventOf<'run_paused'> | undefined;
  /** The access config's operators, called when a run started from the terminal waits; `null`: anyone. */
  readonly operators: readonly string[] | null;
  /** The exact action a step would run now, from the deployment's config; absent: not shown. */
  readonly actionPlan: ActionPlanOf | undefined;
}

/** What a step will do: a sentence and the exact argv or request, secrets redacted (the executors build it). */
export type ActionPlanOf = (
  state: RunState,
  step: Step,
) => { readonly summary: string; readonly exact?: string } | undefined;

/** What the thread is given beyond the log. */
export interface ThreadModelOptions {
  readonly operators?: readonly string[] | null;
  readonly actionPlan?: ActionPlanOf;
}

function push<T>(map: Map<string, T[]>, key: string, item: T): void {
  const list = map.get(key);
  if (list) list.push(item);
  else map.set(key, [item]);
}

/** Folds the log and indexes what the messages show. `events` must be the run's whole log, in order. */
export function buildThreadModel(
  events: readonly RunEvent[],
  scenario: Scenario,
  options: ThreadModelOptions = {},
): ThreadModel {
  const state = foldRun(events);
  const firstSeq = new Map<string, number>();
  const decisionRequests = new Map<string, RunEventOf<'decision_requested'>[]>();
  const approvalRequests = new Map<string, RunEventOf<'approval_requested'>[]>();
  const approvalExpiries = new Map<string, RunEventOf<'approval_expired'>[]>();
  const approvalRejections = new Map<string, RunEventOf<'approval_rejected'>[]>();
  const manualRequests = new Map<string, RunEventOf<'manual_action_requested'>[]>();
  const manualDone = new Map<string, RunEventOf<'manual_action_done'>[]>();
  const pauses: RunEventOf<'run_paused'>[] = [];
  const resumes: RunEventOf<'run_resumed'>[] = [];
  let aborted: RunEventOf<'run_aborted'> | undefined;
  let finished: RunEventOf<'run_finished'> | undefined;
  for (const event of events) {
    if ('stepId' in event && typeof event.stepId === 'string' && !firstSeq.has(event.stepId)) {
      // A pause or abort names the step it happened in, but does not start that step's message.
      if (event.type !== 'run_paused' && event.type !== 'run_aborted' && event.type !== 'run_resumed') {
        firstSeq.set(event.stepId, event.seq);
      }
    }
    switch (event.type) {
      case 'decision_requested':
        push(decisionRequests, event.stepId, event);
        break;
      case 'approval_requested':
        push(approvalRequests, event.stepId, event);
        break;
      case 'approval_expired':
        push(approvalExpiries, event.stepId, event);
        break;
      case 'approval_rejected':
        push(approvalRejections, event.stepId, event);
        break;
      case 'manual_action_requested':
        push(manualRequests, event.stepId, event);
        break;
      case 'manual_action_done':
        push(manualDone, event.stepId, event);
        break;
      case 'run_paused':
        pauses.push(event);
        break;
      case 'run_resumed':
        resumes.push(event);
        break;
      case 'run_aborted':
        aborted = event;
        break;
      case 'run_finished':
        finished = event;
        break;
      default:
        break;
    }
  }
  const lastPause = pauses.at(-1);
  return {
    state,
    view: viewRun(state, scenario),
    scenario,
    firstSeq,
    decisionRequests,
    approvalRequests,
    approvalExpiries,
    approvalRejections,
    manualRequests,
    manualDone,
    pauses,
    resumes,
    aborted,
    finished,
    openPause: state.pause !== null ? lastPause : undefined,
    operators: options.operators ?? null,
    actionPlan: options.actionPlan,
  };
}

/** 1-based place of a step in its scenario. */
export function stepNumber(model: ThreadModel, stepId: string): number {
  return model.scenario.steps.findIndex((s) => s.id === stepId) + 1;
}

/** How the pause that began at `pauseSeq` ended: a resume, the run's end, or not yet. */
export function pauseEnd(
  model: ThreadModel,
  pauseSeq: number,
): { kind: 'resumed'; event: RunEventOf<'run_resumed'> } | { kind: 'ended'; at: string } | undefined {
  const resumed = model.resumes.find((r) => r.seq > pauseSeq);
  const nextPause = model.pauses.find((p) => p.seq > pauseSeq);
  if (resumed && (!nextPause || resumed.seq < nextPause.seq)) return { kind: 'resumed', event: resumed };
  if (model.finished && (!nextPause || model.finished.seq < nextPause.seq)) {
    return { kind: 'ended', at: model.finished.at };
  }
  return undefined;
}

/** The approval expiry a pause followed, if the run paused because nobody approved in time. */
export function expiryBefore(
  model: ThreadModel,
  pause: RunEventOf<'run_paused'>,
): RunEventOf<'approval_expired'> | undefined {
  if (pause.stepId === undefined) return undefined;
  return model.approvalExpiries.get(pause.stepId)?.find((e) => e.seq === pause.seq - 1);
}
