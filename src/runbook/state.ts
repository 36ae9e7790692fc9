import { RunLogInvalidError, RunLogOutOfOrderError } from './errors.js';
import type {
  Actor,
  DecisionItem,
  DecisionOption,
  Evidence,
  GateResult,
  HostActionMode,
  RunEvent,
  RunEventOf,
  RunOutcome,
  RunParams,
  StepError,
} from './events.js';
import type { Json, JsonObject } from './json.js';

export type RunStatus = 'running' | 'waiting_decision' | 'waiting_approval' | 'waiting_manual' | 'paused' | 'finished';

export type StepStatus =
  | 'pending'
  | 'running'
  | 'waiting'
  | 'passed'
  | 'failed'
  | 'skipped'
  | 'awaiting_decision'
  | 'awaiting_approval'
  | 'approved'
  | 'awaiting_manual';

export type SkipCause = RunEventOf<'step_skipped'>['cause'];

export interface StepState {
  readonly stepId: string;
  readonly status: StepStatus;
  /** Executions so far (an approval's re-checks count too); 0 before the first. */
  readonly attempt: number;
  /** Unsatisfied checks in the current attempt. */
  readonly poll: number;
  /** The latest checks in a row of the current wait that got a 5xx or a malformed answer. */
  readonly badAnswers: number;
  readonly firstStartedAt: string | null;
  /** Start of the current attempt. */
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly deadlineAt: string | null;
  readonly nextCheckAt: string | null;
  /** A failed step runs its next attempt at this time (its retry policy, or a person's Retry). */
  readonly nextAttemptAt: string | null;
  readonly outputs: JsonObject;
  /** Evidence of the latest outcome. */
  readonly evidence: readonly Evidence[];
  readonly progress: Json | undefined;
  readonly error: StepError | null;
  readonly transient: boolean;
  readonly skip: StepSkip | null;
  /** Re-probes before repeating a side effect, and what they found. */
  readonly rechecks: number;
  readonly alreadyDone: boolean;
  /** Host actions: how the action was configured when the current attempt started; `null` when not recorded. */
  readonly actionMode: HostActionMode | null;
  /** The current attempt was found started and never finished (the worker running it stopped). */
  readonly interrupted: boolean;
  /** Waiting for the effect of the interrupted attempt to show before deciding whether to run it again. */
  readonly rechecking: boolean;
  /** The current attempt was sent and got no answer (not a stopped worker): its outcome is unknown. */
  readonly noAnswer: boolean;
  /**
   * The attempt whose Idempotency-Key the current one sends: an earlier attempt that got no answer, so that a
   * receiver that did act answers the repeat from memory. `null`: its own.
   */
  readonly keyAttempt: number | null;
  /** Why the step waits before starting (its start could not be journaled), and since when; cleared by its start. */
  readonly held: { readonly reason: string; readonly since: string } | null;
  /** Approval steps: the current request round and its fingerprint. */
  readonly round: number;
  readonly fingerprint: string | null;
  readonly approvedBy: Actor | null;
}

export interface StepSkip {
  readonly by: Actor | null;
  readonly reason: string;
  readonly cause: SkipCause;
  /** The second person who confirmed skipping a safety check or the checklist, and why. */
  readonly confirmedBy?: Actor;
  readonly confirmReason?: string;
}

/** A request to skip a safety check, waiting for a second person. */
export interface SkipRequest {
  readonly stepId: string;
  readonly by: Actor;
  readonly reason: string;
  readonly at: string;
  readonly seq: number;
}

export interface DecisionRecord {
  readonly stepId: string;
  readonly item?: DecisionItem;
  readonly optionId: string;
  /** The option as it was offered. */
  readonly option?: DecisionOption;
  readonly by: Actor;
  readonly reason?: string;
  /** What a person typed for an option that asks for a value. */
  readonly value?: string;
  readonly at: string;
  readonly seq: number;
}

/** A choice taken back because the approval bound to it was rejected: the decision was asked again. */
export interface RejectedDecision {
  readonly record: DecisionRecord;
  readonly approvalStepId: string;
  readonly round: number;
  readonly by: Actor;
  readonly at: string;
}

export interface PendingDecision {
  readonly stepId: string;
  readonly item?: DecisionItem;
  readonly prompt: string;
  readonly options: readonly DecisionOption[];
  readonly evidence: readonly Evidence[];
  readonly requestedAt: string;
}

export interface PendingApproval {
  readonly stepId: string;
  readonly round: number;
  readonly guards: string;
  readonly prompt: string;
  readonly approvers: readonly string[] | null;
  readonly excluded: readonly string[];
  readonly fingerprint: string;
  readonly evidence: readonly Evidence[];
  readonly requestedAt: string;
  /** Set once approved; the approval stays open until the re-check confirms the fingerprint. */
  readonly grantedBy: Actor | null;
}

export interface ApprovalRecord {
  readonly stepId: string;
  readonly round: number;
  readonly by: Actor;
  readonly fingerprint: string;
  readonly at: string;
  readonly voided: { readonly reason: string; readonly currentFingerprint: string; readonly at: string } | null;
}

export interface PendingManual {
  readonly stepId: string;
  readonly attempt: number;
  readonly instructions: string;
  readonly requestedAt: string;
}

export interface RunState {
  readonly runId: string;
  readonly scenario: string;
  readonly scenarioVersion: number;
  readonly tenantId: string;
  readonly startedBy: Actor;
  readonly params: RunParams;
  readonly channelId: string | undefined;
  readonly startedAt: string;
  readonly lastSeq: number;
  readonly updatedAt: string;
  readonly status: RunStatus;
  /** Steps the run has touched; untouched steps are pending (see {@link stepState}). */
  readonly steps: Readonly<Record<string, StepState>>;
  readonly currentStepId: string | null;
  readonly pendingDecision: PendingDecision | null;
  readonly pendingApproval: PendingApproval | null;
  readonly pendingManual: PendingManual | null;
  readonly pause: {
    readonly stepId: string | undefined;
    readonly reason: string;
    readonly at: string;
    readonly options: readonly ('retry' | 'skip' | 'abort')[];
  } | null;
  readonly decisions: readonly DecisionRecord[];
  /** Choices whose approval was rejected; no longer in `decisions`, so later steps never act on them. */
  readonly rejectedDecisions: readonly RejectedDecision[];
  readonly approvals: readonly ApprovalRecord[];
  /** Replay runs the run's steps started, from every attempt (step outputs `startedReplayJobIds`). */
  readonly startedReplayJobIds: readonly string[];
  readonly abort: { readonly by: Actor; readonly reason: string; readonly at: string } | null;
  /** Cleared when the pause ends: a Retry, the confirming Skip, the run's end. */
  readonly skipRequest: SkipRequest | null;
  readonly outcome: {
    readonly outcome: RunOutcome;
    readonly at: string;
    readonly gate: GateResult | undefined;
    readonly switchTo: string | undefined;
    readonly reason: string | undefined;
  } | null;
}

export function initialStepState(stepId: string): StepState {
  return {
    stepId,
    status: 'pending',
    attempt: 0,
    poll: 0,
    badAnswers: 0,
    firstStartedAt: null,
    startedAt: null,
    finishedAt: null,
    deadlineAt: null,
    nextCheckAt: null,
    nextAttemptAt: null,
    outputs: {},
    evidence: [],
    progress: undefined,
    error: null,
    transient: false,
    skip: null,
    rechecks: 0,
    alreadyDone: false,
    actionMode: null,
    interrupted: false,
    rechecking: false,
    noAnswer: false,
    keyAttempt: null,
    held: null,
    round: 0,
    fingerprint: null,
    approvedBy: null,
  };
}

/** The state of a step, `pending` when the run has not touched it yet. */
export function stepState(state: RunState, stepId: string): StepState {
  return state.steps[stepId] ?? initialStepState(stepId);
}

/**
 * Applies one event. Pure: returns a new state and never changes `state`. Refuses (with a typed error) an event
 * that is out of sequence or cannot belong to this run; everything else is recorded as it happened, because the
 * log is the truth and the fold must be able to replay any log the engine ever wrote.
 */
/** The approval a person is asked for, as an `approval_requested` event states it. */
export function pendingApprovalOf(event: RunEventOf<'approval_requested'>): PendingApproval {
  return {
    stepId: event.stepId,
    round: event.round,
    guards: event.guards,
    prompt: event.prompt,
    approvers: event.approvers,
    excluded: event.excluded,
    fingerprint: event.fingerprint,
    evidence: event.evidence,
    requestedAt: event.at,
    grantedBy: null,
  };
}

export function reduce(state: RunState | undefined, event: RunEvent): RunState {
  if (state === undefined) {
    if (event.type !== 'run_started') {
      throw new RunLogInvalidError(event.runId, event.seq, `a run log must begin with run_started, not ${event.type}`);
    }
    if (event.seq !== 1) throw new RunLogOutOfOrderError(event.runId, 1, event.seq);
    return started(event);
  }
  if (event.runId !== state.runId) {
    throw new RunLogInvalidError(state.runId, event.seq, `event belongs to run ${event.runId}`);
  }
  if (event.seq !== state.lastSeq + 1) throw new RunLogOutOfOrderError(state.runId, state.lastSeq + 1, event.seq);
  if (state.outcome !== null) throw new RunLogInvalidError(state.runId, event.seq, 'the run has already finished');
  const next = apply(state, event);
  return withStatus({ ...next, lastSeq: event.seq, updatedAt: event.at });
}

/** The state after `events`, which must continue `state`'s log. */
export function foldOnto(state: RunState, events: Iterable<RunEvent>): RunState {
  let next = state;
  for (const event of events) next = reduce(next, event);
  return next;
}

/** Folds a whole log; `events` must start with `run_started` and be contiguous. */
export function foldRun(events: Iterable<RunEvent>): RunState {
  let state: RunState | undefined;
  for (const event of events) state = reduce(state, event);
  if (state === undefined) throw new RunLogInvalidError(undefined, undefined, 'the run log is empty');
  return state;
}

function started(event: RunEventOf<'run_started'>): RunState {
  return {
    runId: event.runId,
    scenario: event.scenario,
    scenarioVersion: event.scenarioVersion,
    tenantId: event.tenantId,
    startedBy: event.startedBy,
    params: event.params,
    channelId: event.channelId,
    startedAt: event.at,
    lastSeq: 1,
    updatedAt: event.at,
    status: 'running',
    steps: {},
    currentStepId: null,
    pendingDecision: null,
    pendingApproval: null,
    pendingManual: null,
    pause: null,
    decisions: [],
    rejectedDecisions: [],
    approvals: [],
    startedReplayJobIds: [],
    abort: null,
    skipRequest: null,
    outcome: null,
  };
}

function withStatus(state: RunState): RunState {
  let status: RunStatus = 'running';
  if (state.outcome !== null) status = 'finished';
  else if (state.pause !== null) status = 'paused';
  else if (state.pendingDecision !== null) status = 'waiting_decision';
  else if (state.pendingApproval !== null && state.pendingApproval.grantedBy === null) status = 'waiting_approval';
  else if (state.pendingManual !== null) status = 'waiting_manual';
  return status === state.status ? state : { ...state, status };
}

/** A replay a step started stays the run's own after the step's next attempt replaces its outputs. */
function withStartedReplays(state: RunState, outputs: JsonObject | undefined): RunState {
  const ids = outputs?.startedReplayJobIds;
  if (!Array.isArray(ids)) return state;
  const added = ids.filter((id): id is string => typeof id === 'string' && !state.startedReplayJobIds.includes(id));
  return added.length === 0 ? state : { ...state, startedReplayJobIds: [...state.startedReplayJobIds, ...added] };
}

function setStep(state: RunState, stepId: string, patch: Partial<StepState>, current = true): RunState {
  const step = { ...stepState(state, stepId), ...patch };
  return {
    ...state,
    steps: { ...state.steps, [stepId]: step },
    currentStepId: current ? stepId : state.currentStepId,
  };
}

function clearPendingFor(state: RunState, stepId: string): RunState {
  return {
    ...state,
    pendingDecision: state.pendingDecision?.stepId === stepId ? null : state.pendingDecision,
    pendingApproval: state.pendingApproval?.stepId === stepId ? null : state.pendingApproval,
    pendingManual: state.pendingManual?.stepId === stepId ? null : state.pendingManual,
  };
}

/** Takes the bound choice back and returns the steps from the decision up to the approval to pending. */
function reopenDecision(state: RunState, event: RunEventOf<'approval_rejected'>): RunState {
  const reopens = event.reopens;
  if (reopens === undefined) return state;
  let at = -1;
  for (let i = state.decisions.length - 1; i >= 0 && at < 0; i--) {
    if (state.decisions[i]?.stepId === reopens.decision) at = i;
  }
  const record = state.decisions[at];
  const steps = { ...state.steps };
  for (const id of reopens.steps) {
    if (id !== event.stepId) steps[id] = initialStepState(id);
  }
  return {
    ...state,
    steps,
    currentStepId: reopens.decision,
    decisions: state.decisions.filter((_, i) => i !== at),
    rejectedDecisions:
      record === undefined
        ? state.rejectedDecisions
        : [
            ...state.rejectedDecisions,
            { record, approvalStepId: event.stepId, round: event.round, by: event.by, at: event.at },
          ],
  };
}

function apply(state: RunState, event: RunEvent): RunState {
  switch (event.type) {
    case 'run_started':
      throw new RunLogInvalidError(state.runId, event.seq, 'the run has already started');
    case 'step_started': {
      const before = stepState(state, event.stepId);
      return setStep(state, event.stepId, {
        status: 'running',
        attempt: event.attempt,
        poll: 0,
        badAnswers: 0,
        firstStartedAt: stepState(state, event.stepId).firstStartedAt ?? event.at,
        startedAt: event.at,
        finishedAt: null,
        deadlineAt: event.deadlineAt ?? null,
        nextCheckAt: null,
        nextAttemptAt: null,
        outputs: {},
        evidence: [],
        progress: undefined,
        error: null,
        transient: false,
        alreadyDone: false,
        actionMode: event.actionMode ?? null,
        interrupted: false,
        rechecking: false,
        noAnswer: false,
        keyAttempt: before.noAnswer ? (before.keyAttempt ?? before.attempt) : null,
        held: null,
      });
    }
    case 'step_interrupted':
      return setStep(state, event.stepId, { interrupted: true, noAnswer: event.noAnswer === true });
    case 'step_held':
      return setStep(state, event.stepId, { held: { reason: event.reason, since: event.at } });
    case 'step_rechecked': {
      const step = stepState(state, event.stepId);
      return setStep(state, event.stepId, {
        rechecks: step.rechecks + 1,
        alreadyDone: event.alreadyDone,
        rechecking: false,
        evidence: event.evidence,
      });
    }
    case 'step_waiting':
      return setStep(state, event.stepId, {
        status: 'waiting',
        attempt: event.attempt,
        poll: event.poll,
        badAnswers: event.badAnswers ?? 0,
        nextCheckAt: event.nextCheckAt,
        deadlineAt: event.deadlineAt ?? stepState(state, event.stepId).deadlineAt,
        outputs: event.outputs,
        progress: event.progress,
        evidence: event.evidence,
        rechecking: event.recheck === true,
      });
    case 'step_passed':
      return clearPendingFor(
        setStep(withStartedReplays(state, event.outputs), event.stepId, {
          status: 'passed',
          attempt: Math.max(event.attempt, stepState(state, event.stepId).attempt),
          finishedAt: event.at,
          nextCheckAt: null,
          nextAttemptAt: null,
          outputs: event.outputs,
          evidence: event.evidence,
          error: null,
          transient: false,
          rechecking: false,
        }),
        event.stepId,
      );
    case 'step_failed': {
      const failed = setStep(withStartedReplays(state, event.outputs), event.stepId, {
        status: 'failed',
        attempt: Math.max(event.attempt, stepState(state, event.stepId).attempt),
        finishedAt: event.at,
        nextCheckAt: null,
        nextAttemptAt: event.retryAt ?? null,
        outputs: event.outputs ?? stepState(state, event.stepId).outputs,
        evidence: event.evidence,
        error: event.error,
        transient: event.transient,
        rechecking: false,
      });
      // A granted approval survives a failed re-check: Retry measures again without asking again.
      return {
        ...failed,
        pendingDecision: failed.pendingDecision?.stepId === event.stepId ? null : failed.pendingDecision,
        pendingManual: failed.pendingManual?.stepId === event.stepId ? null : failed.pendingManual,
      };
    }
    case 'step_skipped':
      return clearPendingFor(
        setStep(state, event.stepId, {
          status: 'skipped',
          finishedAt: event.at,
          nextCheckAt: null,
          nextAttemptAt: null,
          skip: {
            by: event.by,
            reason: event.reason,
            cause: event.cause,
            ...(event.confirmedBy ? { confirmedBy: event.confirmedBy } : {}),
            ...(event.confirmReason !== undefined ? { confirmReason: event.confirmReason } : {}),
          },
        }),
        event.stepId,
      );
    case 'skip_requested':
      return {
        ...state,
        skipRequest: { stepId: event.stepId, by: event.by, reason: event.reason, at: event.at, seq: event.seq },
      };
    case 'decision_requested':
      return {
        ...setStep(state, event.stepId, {
          status: 'awaiting_decision',
          firstStartedAt: stepState(state, event.stepId).firstStartedAt ?? event.at,
          startedAt: stepState(state, event.stepId).startedAt ?? event.at,
        }),
        pendingDecision: {
          stepId: event.stepId,
          ...(event.item ? { item: event.item } : {}),
          prompt: event.prompt,
          options: event.options,
          evidence: event.evidence,
          requestedAt: event.at,
        },
      };
    case 'decision_made': {
      const pending = state.pendingDecision;
      const matches = pending !== null && pending.stepId === event.stepId && pending.item?.id === event.item?.id;
      const option = matches ? pending.options.find((o) => o.id === event.optionId) : undefined;
      const record: DecisionRecord = {
        stepId: event.stepId,
        ...(event.item ? { item: event.item } : {}),
        optionId: event.optionId,
        ...(option ? { option } : {}),
        by: event.by,
        ...(event.reason !== undefined ? { reason: event.reason } : {}),
        ...(event.value !== undefined ? { value: event.value } : {}),
        at: event.at,
        seq: event.seq,
      };
      return { ...state, decisions: [...state.decisions, record], pendingDecision: matches ? null : pending };
    }
    case 'approval_requested':
      return {
        ...setStep(state, event.stepId, {
          status: 'awaiting_approval',
          round: event.round,
          fingerprint: event.fingerprint,
          approvedBy: null,
          firstStartedAt: stepState(state, event.stepId).firstStartedAt ?? event.at,
          startedAt: stepState(state, event.stepId).startedAt ?? event.at,
        }),
        pendingApproval: pendingApprovalOf(event),
      };
    case 'approval_granted': {
      const pending = state.pendingApproval;
      const record: ApprovalRecord = {
        stepId: event.stepId,
        round: event.round,
        by: event.by,
        fingerprint: event.fingerprint,
        at: event.at,
        voided: null,
      };
      const next = setStep(state, event.stepId, { status: 'approved', approvedBy: event.by });
      return {
        ...next,
        approvals: [...state.approvals, record],
        pendingApproval:
          pending !== null && pending.stepId === event.stepId && pending.round === event.round
            ? { ...pending, grantedBy: event.by }
            : pending,
      };
    }
    case 'approval_voided': {
      const approvals = state.approvals.map((a) =>
        a.stepId === event.stepId && a.round === event.round && a.voided === null
          ? { ...a, voided: { reason: event.reason, currentFingerprint: event.currentFingerprint, at: event.at } }
          : a,
      );
      const next = setStep(state, event.stepId, { status: 'pending', approvedBy: null, evidence: event.evidence });
      return {
        ...next,
        approvals,
        pendingApproval: state.pendingApproval?.stepId === event.stepId ? null : state.pendingApproval,
      };
    }
    case 'approval_expired':
    case 'approval_rejected': {
      const pending = state.pendingApproval;
      const matches = pending !== null && pending.stepId === event.stepId && pending.round === event.round;
      // Back to pending with its round kept: a Retry (or the decision asked again) leads to the next round.
      const next = matches ? setStep(state, event.stepId, { status: 'pending', approvedBy: null }) : state;
      const closed = { ...next, pendingApproval: matches ? null : pending };
      return matches && event.type === 'approval_rejected' && event.reopens ? reopenDecision(closed, event) : closed;
    }
    case 'manual_action_requested':
      return {
        ...setStep(state, event.stepId, {
          status: 'awaiting_manual',
          attempt: Math.max(event.attempt, stepState(state, event.stepId).attempt),
          evidence: event.evidence,
        }),
        pendingManual: {
          stepId: event.stepId,
          attempt: event.attempt,
          instructions: event.instructions,
          requestedAt: event.at,
        },
      };
    case 'manual_action_done':
      return {
        ...setStep(state, event.stepId, { status: 'running' }),
        pendingManual: state.pendingManual?.stepId === event.stepId ? null : state.pendingManual,
      };
    case 'run_paused':
      return {
        ...state,
        pause: { stepId: event.stepId, reason: event.reason, at: event.at, options: event.options },
        skipRequest: null,
      };
    case 'run_resumed': {
      const resumed = { ...state, pause: null, skipRequest: null };
      return event.action === 'retry' ? setStep(resumed, event.stepId, { nextAttemptAt: event.at }) : resumed;
    }
    case 'run_aborted':
      return { ...state, abort: { by: event.by, reason: event.reason, at: event.at } };
    case 'run_finished':
      return {
        ...state,
        pendingDecision: null,
        pendingApproval: null,
        pendingManual: null,
        pause: null,
        skipRequest: null,
        outcome: {
          outcome: event.outcome,
          at: event.at,
          gate: event.gate,
          switchTo: event.switchTo,
          reason: event.reason,
        },
      };
  }
}
