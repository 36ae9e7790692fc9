import type { DecisionOption, Evidence, HostActionMode, RunEventBody } from './events.js';
import { ENGINE_SOURCE, evidence } from './judges/evidence.js';
import { hostActionOf } from './measurements.js';
import { type ExecutorStep, isExecutorStep, type Scenario } from './scenario-schema.js';
import type { DecisionRecord, RunState, StepState } from './state.js';

// An attempt found started and never finished: the worker running it stopped (killed, or its lock lost) somewhere
// between recording the start and recording the outcome. Whatever the action does may or may not have happened.

/** The options of the question asked about an interrupted action. */
export const INTERRUPTION_OPTIONS = { done: 'done', runAgain: 'run_again', abort: 'abort' } as const;

const DEFAULT_CHECK = "the host: the action's own log, and whether its effect is there";

/** Steps whose interruption is recorded and handled with care: actions that change something. */
export function hasSideEffects(step: ExecutorStep): boolean {
  return step.kind === 'action' && step.risk !== 'read_only' && step.executor !== 'manual';
}

/**
 * What is done about an interrupted attempt. A probe of the effect decides when the step has one. Otherwise a
 * webhook that is not destructive is sent again under the same Idempotency-Key (the receiver answers a repeat from
 * memory), a manual action is shown again (the bot did nothing yet), a DecisionGraph request is repeated (the
 * runbook marks those safe to repeat). A command, a destructive webhook (it may have run, and a receiver that
 * ignores the key would run it twice) or an action whose configuration was not recorded: a person decides.
 */
export function interruptionHandling(step: ExecutorStep, mode: HostActionMode | null): 'recheck' | 'repeat' | 'ask' {
  if (step.recheck !== undefined) return 'recheck';
  if (hostActionOf(step.executor) === undefined) return 'repeat';
  if (mode === 'manual') return 'repeat';
  return mode === 'http' && step.risk !== 'destructive' ? 'repeat' : 'ask';
}

function whyAsked(mode: HostActionMode | null): string {
  if (mode === 'command') return 'It ran as a command on the host';
  if (mode === 'http') return 'It is a destructive webhook, never sent again without people choosing it';
  return 'How it was configured is not recorded';
}

/** A destructive action, or one that waits for an approval: never sent again without people choosing it. */
export function needsPeopleToRepeat(scenario: Scenario, step: ExecutorStep): boolean {
  return step.risk === 'destructive' || scenario.steps.some((s) => s.kind === 'approval' && s.guards === step.id);
}

/**
 * What is done about an attempt that was sent and got no answer (reset, closed, timed out). A probe that can tell
 * decides first. Otherwise a destructive action is put to people, and any other is sent again under the same
 * Idempotency-Key (a receiver that did act answers from memory).
 */
export function noAnswerHandling(scenario: Scenario, step: ExecutorStep): 'recheck' | 'repeat' | 'ask' {
  if (step.recheck?.waitMs !== undefined) return 'recheck';
  return needsPeopleToRepeat(scenario, step) ? 'ask' : 'repeat';
}

/** One sentence for the run log about an attempt that got no answer, and what happens about it. */
export function noAnswerDetail(
  scenario: Scenario,
  step: ExecutorStep,
  st: StepState,
  attempt: number,
  why: string,
): string {
  const head = `attempt ${attempt} of "${st.stepId}" was sent at ${st.startedAt ?? 'an unknown time'}; no answer came back (${why}).`;
  const byPeople = needsPeopleToRepeat(scenario, step);
  switch (noAnswerHandling(scenario, step)) {
    case 'recheck':
      return `${head} Whether it took effect is checked first; ${byPeople ? 'it is not sent again unless people choose so' : 'if not, it is sent again under the same Idempotency-Key'}.`;
    case 'ask':
      return `${head} It is destructive: it is not sent again on its own, a person decides.`;
    case 'repeat':
      return `${head} It is sent again under the same Idempotency-Key, so a receiver that acted answers from memory.`;
  }
}

/** What a person should look at before saying whether an interrupted attempt of `step` finished. */
export function whatToCheck(step: ExecutorStep): string {
  return step.interruptedCheck ?? DEFAULT_CHECK;
}

const ITEM_ID = /^a([1-9][0-9]*)$/;

/**
 * The attempt a decision is about when it is the question about an interrupted action (an item `a<attempt>` on an
 * action step: decision steps never ask about interruptions); `undefined` for any other decision.
 */
export function interruptedAttemptOf(
  scenario: Scenario | undefined,
  question: { readonly stepId: string; readonly item?: { readonly id: string } },
): number | undefined {
  const step = scenario?.steps.find((s) => s.id === question.stepId);
  if (step === undefined || !isExecutorStep(step)) return undefined;
  const match = ITEM_ID.exec(question.item?.id ?? '');
  return match ? Number(match[1]) : undefined;
}

function started(st: StepState, attempt: number): string {
  return `attempt ${attempt} of "${st.stepId}" started at ${st.startedAt ?? 'an unknown time'} and never finished`;
}

/** One sentence for the run log: what was found and what happens about it. */
export function interruptionDetail(step: ExecutorStep, st: StepState, attempt: number): string {
  const head = `${started(st, attempt)}: the bot stopped while it ran.`;
  switch (interruptionHandling(step, st.actionMode)) {
    case 'recheck':
      return `${head} Whether it took effect is checked before anything is repeated.`;
    case 'repeat':
      if (st.actionMode === 'http') {
        return `${head} The webhook is sent again under the same Idempotency-Key, so the receiver can answer a repeat from memory.`;
      }
      if (st.actionMode === 'manual') return `${head} It is done by a person: the instructions are shown again.`;
      return `${head} It is sent again: the runbook marks it safe to repeat.`;
    case 'ask':
      return `${head} ${whyAsked(st.actionMode)}: the bot cannot tell whether it finished, so a person decides.`;
  }
}

function itemId(attempt: number): string {
  return `a${attempt}`;
}

/** The question put to people about an interrupted action; no option is recommended, a person must look. */
export function interruptionQuestion(
  step: ExecutorStep,
  st: StepState,
  attempt: number,
  measured: readonly Evidence[] = [],
): RunEventBody {
  const action = hostActionOf(step.executor) ?? step.executor;
  const again = st.noAnswer
    ? 'Sends it again under the same Idempotency-Key (a receiver that got it answers from memory)'
    : 'Runs the action again as a new attempt';
  const options: DecisionOption[] = [
    {
      id: INTERRUPTION_OPTIONS.done,
      label: 'It finished: mark it done',
      detail: 'Say what you checked; the run goes on with the next step',
      needsReason: true,
      effect: 'continue',
    },
    {
      id: INTERRUPTION_OPTIONS.runAgain,
      label: 'Run it again',
      detail:
        step.risk === 'destructive'
          ? `${again}: a destructive action, so an approver other than the starter must choose this`
          : again,
      effect: 'continue',
    },
    { id: INTERRUPTION_OPTIONS.abort, label: 'Abort the run', effect: 'abort' },
  ];
  return {
    type: 'decision_requested',
    stepId: step.id,
    item: { id: itemId(attempt), label: `attempt ${attempt}, ${st.noAnswer ? 'sent; no answer' : 'interrupted'}` },
    prompt: (
      (st.noAnswer
        ? `${step.title} (${action}, attempt ${attempt}) was sent at ${st.startedAt ?? '?'} and no answer came back; `
        : `The bot stopped while running ${step.title} (${action}, attempt ${attempt}, started ${st.startedAt ?? '?'}); `) +
      `it is unknown whether it finished. Check ${whatToCheck(step)}, then choose: it ` +
      'finished (mark it done), run it again, or abort the run.'
    ).slice(0, 2000),
    options,
    evidence: [
      ...measured,
      evidence(st.noAnswer ? 'attempt with no answer' : 'interrupted attempt', `attempt ${attempt}`, ENGINE_SOURCE, {
        expected: 'an outcome recorded',
        ok: false,
        detail: st.noAnswer ? 'the request was sent; no answer came back' : interruptionDetail(step, st, attempt),
      }),
    ],
  };
}

/** The answer to the question about the current attempt's interruption, once given. */
export function interruptionAnswer(state: RunState, stepId: string, attempt: number): DecisionRecord | undefined {
  const id = itemId(attempt);
  return [...state.decisions].reverse().find((d) => d.stepId === stepId && d.item?.id === id);
}

/** `step_passed` for an attempt a person reported finished. */
export function markedDone(step: ExecutorStep, st: StepState, answer: DecisionRecord): RunEventBody {
  const by = answer.by.name ?? answer.by.id;
  return {
    type: 'step_passed',
    stepId: step.id,
    attempt: st.attempt,
    outputs: {
      markedDone: true,
      markedDoneBy: answer.by.id,
      ...(answer.reason !== undefined ? { note: answer.reason } : {}),
    },
    evidence: [
      evidence('interrupted attempt', 'reported finished', ENGINE_SOURCE, {
        expected: 'finished',
        ok: true,
        detail: `by ${by}${answer.reason ? `: ${answer.reason}` : ''}`,
      }),
    ],
  };
}
