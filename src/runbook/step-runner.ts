import { assertScenarioOf, decideNext, type EngineCommand, type EngineOptions, EventBatch } from './engine.js';
import type { Evidence, EvidenceSource, HostActionMode, RunEvent, RunEventBody } from './events.js';
import {
  hasSideEffects,
  interruptionDetail,
  interruptionHandling,
  interruptionQuestion,
  needsPeopleToRepeat,
  noAnswerDetail,
  noAnswerHandling,
} from './interruptions.js';
import { idempotencyKeyFor } from './job-ids.js';
import { canonicalJson, type Json, type JsonObject } from './json.js';
import { ENGINE_SOURCE, evidence } from './judges/evidence.js';
import { type JudgeContext, type JudgeName, runJudge, type Verdict } from './judges/index.js';
import { hostActionOf, type JobExecutorName, type Measurement } from './measurements.js';
import { resolveParams } from './params.js';
import { pollDelayMs } from './poll-schedule.js';
import { approvalFacts, approvalFingerprint, approvalRequest, latestMeasurement } from './requests.js';
import { acknowledgedRunIds, findStep, judgeFor, ownReplayJobIds } from './scenario-lookup.js';
import {
  type ApprovalStep,
  type ExecutorStep,
  isExecutorStep,
  type Retry,
  type Risk,
  type Scenario,
  type Step,
} from './scenario-schema.js';
import type { RunState, StepState } from './state.js';
import { stepState } from './state.js';
import { formatDuration } from './time-format.js';
import { readFailedWaitCheck } from './wait-checks.js';

/** @defaultValue 30 s per executor call */
export const DEFAULT_TIMEOUT_MS = 30_000;

/** One executor call for the job layer to make. Holds no secret: job data may carry it. */
export interface ExecutorCall {
  readonly runId: string;
  /** Sent as `x-tenant-id`; the tenant under recovery. */
  readonly tenantId: string;
  readonly executor: JobExecutorName;
  /** How the engine will read the measurement; informational for the job layer. */
  readonly judge: JudgeName;
  /**
   * Resolved parameters (trace id, replay mode and reason, artifact, release…). A few are for the judge only
   * (e.g. `referenceCount` of a parity comparison); executors ignore what they do not use.
   */
  readonly params: JsonObject;
  /** Give up on the call after this long and report a timeout. */
  readonly timeoutMs: number;
  /** Same for a redelivered job of the same attempt: host actions and requests pass it on to be recognised. */
  readonly idempotencyKey: string;
  readonly risk: Risk;
  /**
   * Host actions: how the deployment configures the action, as recorded in the attempt's `step_started` (from
   * {@link EngineOptions.hostActionModes}). Informational: the job layer runs what its recovery config says.
   */
  readonly actionMode?: HostActionMode;
}

/** The job the engine asked for, as the job layer received it. */
export interface StepJob {
  readonly jobId: string;
}

export type BeginStep =
  /** The run no longer wants this job (it moved on, or another delivery already did it): drop it. */
  | { readonly kind: 'stale'; readonly reason: string; readonly expected: EngineCommand }
  /** Append `events`, make `call`, then {@link recordOutcome} with phase `execute`. */
  | {
      readonly kind: 'execute';
      readonly stepId: string;
      readonly attempt: number;
      readonly events: RunEvent[];
      readonly call: ExecutorCall;
      /**
       * An interrupted attempt of this call is simply made again (a probe, a gate, a read, the re-measurement of
       * an approval): nothing depends on `events` being appended before the call, so they may go in one append
       * with the outcome.
       */
      readonly repeatable: boolean;
    }
  /**
   * A side effect may already have happened (a redelivered job, a retried attempt): append `events`, make
   * `recheck` and record it with phase `recheck`; only if that says it is not done, make `call` and record it.
   */
  | {
      readonly kind: 'recheck';
      readonly stepId: string;
      readonly attempt: number;
      readonly events: RunEvent[];
      readonly recheck: ExecutorCall;
      readonly call: ExecutorCall;
    }
  /**
   * An interrupted action the bot cannot probe and must not repeat on its own (a command that may have half run):
   * append `events` (the interruption and a question for people), call nothing, and let the engine go on.
   */
  | { readonly kind: 'ask'; readonly stepId: string; readonly attempt: number; readonly events: RunEvent[] };

/** What an executor call produced: a measurement, or a failure it could not turn into one. */
export type StepOutcome =
  | { readonly kind: 'measured'; readonly measurement: Measurement }
  | {
      readonly kind: 'error';
      readonly error: { readonly code: string; readonly message: string; readonly transient: boolean };
      readonly source?: EvidenceSource;
    };

export interface StepReport {
  readonly jobId: string;
  readonly phase: 'recheck' | 'execute';
  readonly outcome: StepOutcome;
}

export interface RecordResult {
  /** Append these in one batch (empty when stale). */
  readonly events: RunEvent[];
  /** The run had moved on; nothing was recorded. */
  readonly stale: boolean;
  /** Phase `recheck` only: the effect is already there, so the action must not run. */
  readonly alreadyDone?: boolean;
  /**
   * Phase `recheck` only: the action must not run in this delivery either. The effect of an interrupted attempt
   * may still be on its way (the re-check is read again later), or it did not show in time and the action runs
   * again as a new attempt.
   */
  readonly deferred?: boolean;
}

function currentJob(
  state: RunState,
  scenario: Scenario,
  job: StepJob,
  now: Date,
  options: EngineOptions,
):
  | { ok: true; command: Extract<EngineCommand, { type: 'run_step' | 'check_again' }> }
  | { ok: false; command: EngineCommand } {
  const next = decideNext(state, scenario, now, options);
  const command = next.command;
  if (next.events.length === 0 && (command.type === 'run_step' || command.type === 'check_again')) {
    if (command.jobId === job.jobId) return { ok: true, command };
  }
  return { ok: false, command };
}

function describe(command: EngineCommand): string {
  switch (command.type) {
    case 'run_step':
    case 'check_again':
      return `job ${command.jobId}`;
    case 'finished':
      return `nothing: the run finished (${command.outcome})`;
    default:
      return `no job: it is ${command.type.replace('_', ' ')}${'stepId' in command && command.stepId ? ` (${command.stepId})` : ''}`;
  }
}

function callFor(
  state: RunState,
  step: ExecutorStep,
  attempt: number,
  source?: { executor: JobExecutorName; judge?: JudgeName; params?: ExecutorStep['params'] },
): ExecutorCall {
  const executor = source?.executor ?? (step.executor as JobExecutorName);
  const judge = judgeFor(step, source) as JudgeName;
  const st = stepState(state, step.id);
  const mode = source ? null : st.actionMode;
  return {
    runId: state.runId,
    tenantId: state.tenantId,
    executor,
    judge,
    params: resolveParams(source ? source.params : step.params, state),
    timeoutMs: step.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    idempotencyKey: idempotencyKeyFor(state.runId, step.id, st.keyAttempt ?? attempt),
    risk: source ? 'read_only' : step.risk,
    ...(mode !== null ? { actionMode: mode } : {}),
  };
}

/** How the deployment configures the step's host action, when the job layer said. */
function actionModeOf(step: Step, options: EngineOptions): HostActionMode | undefined {
  if (!isExecutorStep(step)) return undefined;
  const action = hostActionOf(step.executor);
  return action === undefined ? undefined : options.hostActionModes?.[action];
}

/** The step an approval re-measures: its fingerprint source. */
function approvalSource(scenario: Scenario, step: ApprovalStep): ExecutorStep | undefined {
  const id = step.fingerprintOf.step;
  const source = id === undefined ? undefined : findStep(scenario, id);
  return source !== undefined && isExecutorStep(source) && source.executor !== 'manual' ? source : undefined;
}

function deadlineFor(step: Step, now: Date): string | undefined {
  if (!isExecutorStep(step) || step.poll === undefined || step.deadlineMs === undefined) return undefined;
  return new Date(now.getTime() + step.deadlineMs).toISOString();
}

/**
 * Called by a step job before it touches the world: checks the job is still the one the run wants and says what
 * to call. Appending `events` first (one compare-and-append) is what makes a redelivery visible: the next delivery
 * of the same attempt sees it started and re-probes a side effect instead of repeating it.
 */
export function beginStep(
  state: RunState,
  scenario: Scenario,
  job: StepJob,
  now: Date,
  options: EngineOptions = {},
): BeginStep {
  assertScenarioOf(state, scenario);
  const current = currentJob(state, scenario, job, now, options);
  if (!current.ok) {
    return { kind: 'stale', reason: `the run expects ${describe(current.command)}`, expected: current.command };
  }
  const { command } = current;
  const step = findStep(scenario, command.stepId) as Step;
  const st = stepState(state, step.id);
  const attempt = command.attempt;
  const fresh = !(st.status === 'running' && st.attempt === attempt) && command.type === 'run_step';
  const batch = new EventBatch(state, now);
  if (fresh) {
    const deadlineAt = deadlineFor(step, now);
    const actionMode = actionModeOf(step, options);
    batch.emit({
      type: 'step_started',
      stepId: step.id,
      attempt,
      ...(deadlineAt ? { deadlineAt } : {}),
      ...(actionMode ? { actionMode } : {}),
    });
  }
  if (step.kind === 'approval') {
    const source = approvalSource(scenario, step) as ExecutorStep;
    const call = callFor(state, source, attempt, {
      executor: source.executor as JobExecutorName,
      ...(source.judge ? { judge: source.judge } : {}),
      ...(source.params ? { params: source.params } : {}),
    });
    return {
      kind: 'execute',
      stepId: step.id,
      attempt,
      events: batch.events,
      call: { ...call, idempotencyKey: idempotencyKeyFor(state.runId, step.id, attempt) },
      repeatable: !hasSideEffects(source),
    };
  }
  if (!isExecutorStep(step)) {
    return { kind: 'stale', reason: `${step.id} runs no executor`, expected: command };
  }
  // From the state with this attempt's start in it: the call carries the action mode just recorded.
  const call = callFor(batch.state, step, attempt);
  const recheckFor = () => callFor(batch.state, step, attempt, step.recheck);
  if (step.recheck !== undefined && st.rechecking && command.type === 'check_again') {
    // Reading again whether the interrupted attempt's effect has shown by now.
    return { kind: 'recheck', stepId: step.id, attempt, events: batch.events, recheck: recheckFor(), call };
  }
  const interrupted = !fresh && command.type === 'run_step';
  if (interrupted && hasSideEffects(step)) {
    const next = interruptionHandling(step, st.actionMode);
    if (!st.interrupted) {
      batch.emit({
        type: 'step_interrupted',
        stepId: step.id,
        attempt,
        ...(st.actionMode !== null ? { actionMode: st.actionMode } : {}),
        next,
        detail: interruptionDetail(step, st, attempt).slice(0, 1000),
      });
    }
    if (next === 'ask') {
      batch.emit(interruptionQuestion(step, stepState(batch.state, step.id), attempt));
      return { kind: 'ask', stepId: step.id, attempt, events: batch.events };
    }
  }
  if (step.recheck !== undefined && command.type === 'run_step' && (!fresh || attempt > 1)) {
    return { kind: 'recheck', stepId: step.id, attempt, events: batch.events, recheck: recheckFor(), call };
  }
  const repeatable = !hasSideEffects(step) && step.executor !== 'manual';
  return { kind: 'execute', stepId: step.id, attempt, events: batch.events, call, repeatable };
}

export function retryPolicy(step: Step): Retry {
  if ('retry' in step && step.retry !== undefined) return step.retry;
  if (step.kind === 'approval' || step.kind !== 'action' || step.risk === 'read_only') {
    return { attempts: 3, backoffMs: 2_000, factor: 2 };
  }
  if (step.idempotent === true || step.recheck !== undefined) return { attempts: 2, backoffMs: 5_000, factor: 2 };
  return { attempts: 1, backoffMs: 1_000, factor: 1 };
}

function judgeContext(
  state: RunState,
  scenario: Scenario,
  step: ExecutorStep,
  st: StepState,
  executor: string,
  params: JsonObject,
  now: Date,
): JudgeContext {
  return {
    now,
    executor,
    params,
    expected: (step.expected ?? {}) as JsonObject,
    progress: st.status === 'waiting' ? st.progress : undefined,
    poll: st.poll,
    ownReplayJobIds: ownReplayJobIds(state, scenario),
    acknowledgedRunIds: acknowledgedRunIds(state, scenario),
    workflowExpected: typeof state.params.workflowId === 'string' && state.params.workflowId !== '',
    runStartedAt: state.startedAt,
    ...preservedByRun(state, scenario),
    restoredArtifacts: restoredByRun(state, scenario),
  };
}

/** The backups this run restored (a listing after them offers another one). */
function restoredByRun(state: RunState, scenario: Scenario): string[] {
  const restored: string[] = [];
  for (const step of scenario.steps) {
    if (!isExecutorStep(step) || step.executor !== 'host.restore_backup') continue;
    const artifact = resolveParams(step.params, state).artifact;
    if (stepState(state, step.id).status === 'passed' && typeof artifact === 'string') restored.push(artifact);
  }
  return restored;
}

/**
 * This run's own copy of the database: the id or path its preserve step reported, else (nothing reported) when
 * that step began, artifacts from then on being taken for the copy.
 */
function preservedByRun(state: RunState, scenario: Scenario): Pick<JudgeContext, 'preservedCopy' | 'preservedSince'> {
  for (const step of scenario.steps) {
    if (!isExecutorStep(step) || step.executor !== 'host.preserve_database') continue;
    const st = stepState(state, step.id);
    const { preservedId: id, preservedPath: path } = st.outputs;
    if (st.status === 'passed' && (typeof id === 'string' || typeof path === 'string')) {
      return {
        preservedCopy: { ...(typeof id === 'string' ? { id } : {}), ...(typeof path === 'string' ? { path } : {}) },
      };
    }
    if (st.firstStartedAt !== null) return { preservedSince: st.firstStartedAt };
  }
  return {};
}

/** A host action cut off by the step's own deadline: the request may have left, so its outcome is unknown. */
const HOST_ACTION_ABORTED = 'DG_ERR_HOST_ACTION_ABORTED';

function errorVerdict(outcome: Extract<StepOutcome, { kind: 'error' }>): Verdict {
  return {
    result: 'failed',
    error: { code: outcome.error.code.slice(0, 100), message: outcome.error.message.slice(0, 2000) },
    transient: outcome.error.transient,
    ...(outcome.error.code === HOST_ACTION_ABORTED ? { outcomeUnknown: true as const } : {}),
    evidence: [
      evidence('executor error', outcome.error.code, outcome.source ?? ENGINE_SOURCE, {
        detail: outcome.error.message,
      }),
    ],
  };
}

function judge(name: JudgeName, outcome: StepOutcome, ctx: JudgeContext): Verdict {
  if (outcome.kind === 'error') return errorVerdict(outcome);
  try {
    return runJudge(name, outcome.measurement, ctx);
  } catch (err) {
    // A measurement of the wrong shape is a bug in the job layer; record it rather than lose the step.
    return {
      result: 'failed',
      error: {
        code: 'judge_error',
        message: `the ${ctx.executor} measurement could not be judged: ${err instanceof Error ? err.message : String(err)}`,
      },
      transient: false,
      evidence: [],
    };
  }
}

/** A poll that is not satisfied: check again with backoff, or end at the deadline. */
function notYet(
  step: ExecutorStep,
  st: StepState,
  attempt: number,
  outputs: JsonObject,
  progress: Json | undefined,
  items: Evidence[],
  now: Date,
  badAnswers = 0,
): RunEventBody {
  if (step.poll === undefined || step.deadlineMs === undefined) {
    return {
      type: 'step_failed',
      stepId: step.id,
      attempt,
      error: { code: 'not_satisfied', message: 'not satisfied' },
      transient: false,
      outputs,
      evidence: items,
    };
  }
  const deadlineAt =
    st.deadlineAt ?? new Date(Date.parse(st.startedAt ?? now.toISOString()) + step.deadlineMs).toISOString();
  if (now.getTime() >= Date.parse(deadlineAt)) {
    const note = evidence('deadline', now.toISOString(), ENGINE_SOURCE, {
      expected: `satisfied before ${deadlineAt}`,
      ok: false,
      detail: `still not satisfied after ${formatDuration(step.deadlineMs)}`,
    });
    if (step.onDeadline === 'pass') {
      return { type: 'step_passed', stepId: step.id, attempt, outputs, evidence: [...items, note] };
    }
    return {
      type: 'step_failed',
      stepId: step.id,
      attempt,
      error: { code: 'deadline_exceeded', message: `still not satisfied after ${formatDuration(step.deadlineMs)}` },
      transient: false,
      outputs,
      evidence: [...items, note],
    };
  }
  const poll = st.poll + 1;
  const wait = pollDelayMs(step.poll, poll);
  const next = Math.min(now.getTime() + wait, Date.parse(deadlineAt));
  return {
    type: 'step_waiting',
    stepId: step.id,
    attempt,
    poll,
    nextCheckAt: new Date(next).toISOString(),
    deadlineAt,
    ...(badAnswers > 0 ? { badAnswers } : {}),
    outputs,
    ...(progress !== undefined ? { progress } : {}),
    evidence: items,
  };
}

function failure(
  step: Step,
  attempt: number,
  verdict: Extract<Verdict, { result: 'failed' }>,
  now: Date,
  title: string,
): RunEventBody {
  const policy = retryPolicy(step);
  const retry = verdict.transient && attempt < policy.attempts;
  const retryAt = retry
    ? new Date(now.getTime() + policy.backoffMs * policy.factor ** (attempt - 1)).toISOString()
    : undefined;
  return {
    type: 'step_failed',
    stepId: step.id,
    attempt,
    error: { code: verdict.error.code, message: verdict.error.message || `${title} failed` },
    transient: verdict.transient,
    ...(retryAt ? { retryAt } : {}),
    ...(verdict.outputs ? { outputs: verdict.outputs } : {}),
    evidence: verdict.evidence,
  };
}

function stepEvents(step: ExecutorStep, st: StepState, attempt: number, verdict: Verdict, now: Date): RunEventBody[] {
  switch (verdict.result) {
    case 'passed':
      return [{ type: 'step_passed', stepId: step.id, attempt, outputs: verdict.outputs, evidence: verdict.evidence }];
    case 'manual':
      return [
        {
          type: 'manual_action_requested',
          stepId: step.id,
          attempt,
          instructions: (verdict.instructions || step.instructions || step.title).slice(0, 4000),
          evidence: verdict.evidence,
        },
      ];
    case 'waiting':
      return [notYet(step, st, attempt, verdict.outputs, verdict.progress, verdict.evidence, now)];
    case 'failed': {
      // Inside a poll a check without a reading is one more unsatisfied check, within bounds (see wait-checks.ts).
      const check =
        step.kind === 'wait_until' ? readFailedWaitCheck(verdict, st.badAnswers) : ({ kind: 'fail' } as const);
      const outputs = verdict.outputs ?? st.outputs;
      if (check.kind === 'unsatisfied') {
        return [notYet(step, st, attempt, outputs, st.progress, verdict.evidence, now, check.badAnswers)];
      }
      if (check.kind === 'give_up') {
        const { error, evidence: items } = check;
        return [{ type: 'step_failed', stepId: step.id, attempt, error, transient: false, outputs, evidence: items }];
      }
      return [failure(step, attempt, verdict, now, step.title)];
    }
  }
}

const RECHECK_POLL = { initialMs: 2_000, maxMs: 15_000, factor: 2 };

/**
 * The re-check of an interrupted attempt found no effect yet. Until `waitMs` after the attempt started (a node
 * that got the restart may still be booting) it is read again later; after that the attempt counts as not done
 * and the action runs again as a new attempt, unless this was the first reading (then it runs in this delivery,
 * as any re-check that finds nothing). `undefined` for that last case.
 */
function awaitEffect(
  step: ExecutorStep,
  st: StepState,
  attempt: number,
  items: Evidence[],
  now: Date,
  byPeople: boolean,
): RunEventBody[] | undefined {
  // A webhook a crash cut off may never have left: sent at once under the same key, the receiver answers from
  // memory if it acted, so nobody waits out the boot deadline for a request that never arrived.
  if (!st.rechecking && !st.noAnswer && st.actionMode === 'http' && !byPeople) return undefined;
  const recheck = step.recheck as NonNullable<ExecutorStep['recheck']>;
  const waitMs = recheck.waitMs as number;
  const until = Date.parse(st.startedAt ?? now.toISOString()) + waitMs;
  const deadlineAt = new Date(until).toISOString();
  if (now.getTime() < until) {
    const poll = st.rechecking ? st.poll + 1 : 1;
    const p = recheck.poll ?? RECHECK_POLL;
    const wait = pollDelayMs(p, poll);
    const note = evidence('interrupted attempt', 'effect not visible yet', ENGINE_SOURCE, {
      expected: `visible before ${deadlineAt}`,
      detail: `attempt ${attempt} started at ${st.startedAt}; its effect may take up to ${formatDuration(waitMs)} to show, so it is not run again before then`,
    });
    return [
      {
        type: 'step_waiting',
        stepId: step.id,
        attempt,
        poll,
        nextCheckAt: new Date(Math.min(now.getTime() + wait, until)).toISOString(),
        deadlineAt,
        recheck: true,
        outputs: {},
        evidence: [...items, note],
      },
    ];
  }
  if (!st.rechecking) return undefined;
  if (byPeople) {
    // A destructive action whose effect did not show is not sent again on its own: people say what happened.
    return [
      { type: 'step_rechecked', stepId: step.id, attempt, alreadyDone: false, evidence: items },
      interruptionQuestion(step, st, attempt, items),
    ];
  }
  const message = `the interrupted attempt ${attempt} did not take effect within ${formatDuration(waitMs)} of its start: it runs again`;
  return [
    { type: 'step_rechecked', stepId: step.id, attempt, alreadyDone: false, evidence: items },
    {
      type: 'step_failed',
      stepId: step.id,
      attempt,
      error: { code: 'not_done_after_interruption', message },
      transient: true,
      retryAt: now.toISOString(),
      evidence: [
        ...items,
        evidence('interrupted attempt', 'no effect', ENGINE_SOURCE, {
          expected: `visible before ${deadlineAt}`,
          ok: false,
          detail: message,
        }),
      ],
    },
  ];
}

function changedKeys(before: JsonObject, after: JsonObject): string[] {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...keys].filter((k) => canonicalJson(before[k]) !== canonicalJson(after[k])).sort();
}

function approvalEvents(
  state: RunState,
  scenario: Scenario,
  step: ApprovalStep,
  st: StepState,
  attempt: number,
  verdict: Verdict,
  options: EngineOptions,
  now: Date,
): RunEventBody[] {
  const pending = state.pendingApproval;
  const seen = pending?.fingerprint ?? st.fingerprint ?? '';
  const by = pending?.grantedBy ?? st.approvedBy;
  if (verdict.result === 'failed') return [failure(step, attempt, verdict, now, step.title)];
  const measured = verdict.result === 'manual' ? undefined : verdict.outputs;
  const current = approvalFingerprint(state, step, measured);
  if (verdict.result === 'manual' || current === seen) {
    return [
      {
        type: 'step_passed',
        stepId: step.id,
        attempt,
        outputs: {
          approvedBy: by?.id ?? null,
          fingerprint: seen,
          round: pending?.round ?? st.round,
          ...(measured !== undefined ? { measured } : {}),
        },
        evidence: [
          ...verdict.evidence,
          evidence('re-checked before the guarded step', current, ENGINE_SOURCE, {
            expected: seen,
            ok: true,
            detail:
              verdict.result === 'manual'
                ? 'the measurement is manual and cannot be re-read; the approval stands'
                : `unchanged since ${by?.name ?? by?.id ?? 'the approver'} approved`,
          }),
        ],
      },
    ];
  }
  const round = pending?.round ?? st.round;
  const before = approvalFacts(state, step, latestMeasurement(state, scenario, step)?.outputs);
  const after = approvalFacts(state, step, measured);
  const changed = changedKeys((before.outputs ?? {}) as JsonObject, (after.outputs ?? {}) as JsonObject);
  const reason =
    `what ${by?.name ?? by?.id ?? 'the approver'} approved has changed` +
    (changed.length > 0 ? ` (${changed.join(', ')})` : '') +
    '; approval is asked again with the new measurement';
  return [
    {
      type: 'approval_voided',
      stepId: step.id,
      round,
      reason,
      seenFingerprint: seen,
      currentFingerprint: current,
      evidence: verdict.evidence,
    },
    approvalRequest(state, scenario, step, round + 1, options.access, {
      outputs: measured ?? {},
      evidence: verdict.evidence,
    }),
  ];
}

/**
 * Turns what an executor call produced into run events: judged against the step's expectations, with retries
 * for transient failures, polls with backoff until the deadline, and, for an approval's re-check, the approval
 * confirmed or voided and asked again. Returns no events when the job is stale (the run moved on).
 */
export function recordOutcome(
  state: RunState,
  scenario: Scenario,
  report: StepReport,
  now: Date,
  options: EngineOptions = {},
): RecordResult {
  assertScenarioOf(state, scenario);
  const current = currentJob(state, scenario, report, now, options);
  const st0 = current.ok ? stepState(state, current.command.stepId) : undefined;
  if (!current.ok || st0 === undefined || (st0.status !== 'running' && st0.status !== 'waiting')) {
    return { events: [], stale: true };
  }
  const step = findStep(scenario, current.command.stepId) as Step;
  const st = st0;
  const attempt = current.command.attempt;
  const batch = new EventBatch(state, now);

  if (step.kind === 'approval') {
    const source = approvalSource(scenario, step) as ExecutorStep;
    const name = judgeFor(source) as JudgeName;
    const params = resolveParams(source.params, state);
    const verdict = judge(
      name,
      report.outcome,
      judgeContext(state, scenario, source, st, source.executor, params, now),
    );
    for (const body of approvalEvents(state, scenario, step, st, attempt, verdict, options, now)) batch.emit(body);
    return { events: batch.events, stale: false };
  }
  if (!isExecutorStep(step)) return { events: [], stale: true };

  if (report.phase === 'recheck') {
    if (step.recheck === undefined) return { events: [], stale: true };
    const name = judgeFor(step, step.recheck) as JudgeName;
    const params = resolveParams(step.recheck.params, state);
    const verdict = judge(
      name,
      report.outcome,
      judgeContext(state, scenario, step, st, step.recheck.executor, params, now),
    );
    const done = verdict.result === 'passed';
    if (!done && st.interrupted && step.recheck.waitMs !== undefined) {
      const waited = awaitEffect(step, st, attempt, verdict.evidence, now, needsPeopleToRepeat(scenario, step));
      if (waited !== undefined) {
        for (const body of waited) batch.emit(body);
        return { events: batch.events, stale: false, alreadyDone: false, deferred: true };
      }
    }
    batch.emit({ type: 'step_rechecked', stepId: step.id, attempt, alreadyDone: done, evidence: verdict.evidence });
    if (done) {
      batch.emit({
        type: 'step_passed',
        stepId: step.id,
        attempt,
        outputs: { ...verdict.outputs, alreadyDone: true },
        evidence: [
          ...verdict.evidence,
          evidence('not repeated', 'already done', ENGINE_SOURCE, {
            detail:
              'the effect of an interrupted or failed attempt is already visible, so the action was not run again',
          }),
        ],
      });
    }
    return { events: batch.events, stale: false, alreadyDone: done };
  }

  const name = judgeFor(step) as JudgeName;
  const params = resolveParams(step.params, state);
  const verdict = judge(name, report.outcome, judgeContext(state, scenario, step, st, step.executor, params, now));
  if (verdict.result === 'failed' && verdict.outcomeUnknown === true && hasSideEffects(step)) {
    recordNoAnswer(batch, scenario, step, attempt, verdict, now);
  } else {
    for (const body of stepEvents(step, st, attempt, verdict, now)) batch.emit(body);
  }
  return { events: batch.events, stale: false };
}

/**
 * An action sent that got no answer may have happened. It is re-probed when the step can tell, put to people when
 * it is destructive, and otherwise sent again under the same Idempotency-Key (the next attempt inherits it).
 */
function recordNoAnswer(
  batch: EventBatch,
  scenario: Scenario,
  step: ExecutorStep,
  attempt: number,
  verdict: Extract<Verdict, { result: 'failed' }>,
  now: Date,
): void {
  const before = stepState(batch.state, step.id);
  const next = noAnswerHandling(scenario, step);
  batch.emit({
    type: 'step_interrupted',
    stepId: step.id,
    attempt,
    ...(before.actionMode !== null ? { actionMode: before.actionMode } : {}),
    next,
    noAnswer: true,
    detail: noAnswerDetail(scenario, step, before, attempt, verdict.error.message).slice(0, 1000),
  });
  const st = stepState(batch.state, step.id);
  if (next === 'ask') {
    batch.emit(interruptionQuestion(step, st, attempt, verdict.evidence));
  } else if (next === 'repeat') {
    batch.emit(failure(step, attempt, { ...verdict, transient: true }, now, step.title));
  } else {
    // Read the effect first, from now on until the re-check's wait after the attempt started has passed.
    const recheck = step.recheck as NonNullable<ExecutorStep['recheck']>;
    const until = Date.parse(st.startedAt ?? now.toISOString()) + (recheck.waitMs ?? 0);
    const first = (recheck.poll ?? RECHECK_POLL).initialMs;
    batch.emit({
      type: 'step_waiting',
      stepId: step.id,
      attempt,
      poll: 1,
      nextCheckAt: new Date(Math.max(now.getTime(), Math.min(now.getTime() + first, until))).toISOString(),
      deadlineAt: new Date(until).toISOString(),
      recheck: true,
      outputs: {},
      evidence: verdict.evidence,
    });
  }
}
