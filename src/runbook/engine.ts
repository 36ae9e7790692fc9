import type { AccessPolicy } from './access.js';
import { describeCondition, evaluateCondition } from './conditions.js';
import { RunLogInvalidError } from './errors.js';
import type {
  Actor,
  DecisionItem,
  DecisionOption,
  Evidence,
  GateResult,
  HostActionMode,
  RunEvent,
  RunEventBody,
  RunOutcome,
} from './events.js';
import { INTERRUPTION_OPTIONS, interruptionAnswer, interruptionQuestion, markedDone } from './interruptions.js';
import { approvalExpiryJobIdFor, jobIdFor } from './job-ids.js';
import { isJsonObject, type JsonObject, toJson } from './json.js';
import { ENGINE_SOURCE, evidence } from './judges/evidence.js';
import { decisionChoice } from './params.js';
import { approvalRequest, nextDecisionRequest } from './requests.js';
import { skippedFailures, unmetSafetyCheck } from './safety-checks.js';
import { stepIndex } from './scenario-lookup.js';
import { isExecutorStep, type Scenario, type Step } from './scenario-schema.js';
import { type RunState, reduce, type StepState, stepState } from './state.js';
import { formatDuration, msBetween } from './time-format.js';

/** @defaultValue 60 min */
export const DEFAULT_APPROVAL_TIMEOUT_MS = 3_600_000;

export interface EngineOptions {
  /** Who may approve; shown in approval requests. @defaultValue anyone, with the two-person rule */
  readonly access?: AccessPolicy;
  /**
   * An approval nobody gave for this long expires: the request is closed and the run pauses, from where Retry
   * asks again and Abort ends the run. @defaultValue {@link DEFAULT_APPROVAL_TIMEOUT_MS} (60 min)
   */
  readonly approvalTimeoutMs?: number;
  /**
   * How each host action is configured in this deployment, by action name (`restore_backup`…). Recorded when an
   * attempt starts, so that after an interruption the engine knows whether sending it again is safe.
   * @defaultValue none recorded: an interrupted host action without a re-check is put to a person
   */
  readonly hostActionModes?: Readonly<Partial<Record<string, HostActionMode>>>;
}

export type PauseOption = 'retry' | 'skip' | 'abort';

/** What the job layer does next. Waiting for a person holds no job: the command handler continues the run. */
export type EngineCommand =
  /** Enqueue the step's job with this id, delayed until `at` (a retry backoff) or now. */
  | {
      readonly type: 'run_step';
      readonly stepId: string;
      readonly attempt: number;
      readonly jobId: string;
      readonly at: string;
      readonly delayMs: number;
      /** `approval_recheck`: the job re-measures what an approver saw before the guarded step may run. */
      readonly purpose: 'step' | 'approval_recheck';
    }
  /** Enqueue a delayed poll of a step that is not yet satisfied. */
  | {
      readonly type: 'check_again';
      readonly stepId: string;
      readonly attempt: number;
      readonly poll: number;
      readonly jobId: string;
      readonly at: string;
      readonly delayMs: number;
    }
  | {
      readonly type: 'await_decision';
      readonly stepId: string;
      readonly item?: DecisionItem;
      readonly prompt: string;
      readonly options: readonly DecisionOption[];
    }
  /**
   * Nothing runs until a person approves; enqueue the delayed expiry check `expiryJobId` for `expiresAt` (after
   * `expiryDelayMs`), which calls {@link expireApproval}.
   */
  | {
      readonly type: 'await_approval';
      readonly stepId: string;
      readonly round: number;
      readonly guards: string;
      readonly fingerprint: string;
      readonly approvers: readonly string[] | null;
      readonly excluded: readonly string[];
      readonly expiresAt: string;
      readonly expiryJobId: string;
      readonly expiryDelayMs: number;
    }
  | { readonly type: 'await_manual'; readonly stepId: string; readonly instructions: string }
  | {
      readonly type: 'paused';
      readonly stepId: string | undefined;
      readonly reason: string;
      readonly options: readonly PauseOption[];
      /** Retrying this step repeats a destructive action: it needs an approver (and a second person). */
      readonly retryNeedsApprover: boolean;
      /** Set when the run was started on a scenario version this bot cannot continue; only Abort is offered. */
      readonly scenarioChanged?: { readonly runVersion: number; readonly loadedVersion: number };
    }
  | { readonly type: 'finished'; readonly outcome: RunOutcome; readonly switchTo: string | undefined };

export interface EngineOutput {
  /** Append these first, in order, in one batch (they may be empty). */
  readonly events: RunEvent[];
  /** Then do this; `state` is what the events fold into. */
  readonly command: EngineCommand;
  readonly state: RunState;
}

/** Builds events on top of a state, folding each so the next decision sees it. */
export class EventBatch {
  readonly events: RunEvent[] = [];
  readonly at: string;

  constructor(
    public state: RunState,
    now: Date,
  ) {
    this.at = now.toISOString();
  }

  emit(body: RunEventBody): RunEvent {
    const event = { ...body, runId: this.state.runId, seq: this.state.lastSeq + 1, at: this.at } as RunEvent;
    this.state = reduce(this.state, event);
    this.events.push(event);
    return event;
  }
}

/**
 * Why a run cannot go on under the scenario data loaded now: it was started on another version of it (the bot was
 * upgraded or rolled back mid-run) that the data does not declare compatible. `undefined` when it can.
 */
export function scenarioChange(
  state: RunState,
  scenario: Scenario,
): { readonly runVersion: number; readonly loadedVersion: number; readonly message: string } | undefined {
  if (state.scenarioVersion === scenario.version || (scenario.compatibleWith ?? []).includes(state.scenarioVersion)) {
    return undefined;
  }
  return {
    runVersion: state.scenarioVersion,
    loadedVersion: scenario.version,
    message:
      `run ${state.runId} was started on version ${state.scenarioVersion} of the ${scenario.name} scenario, and ` +
      `this bot has version ${scenario.version}, whose steps may differ: the run cannot continue safely. Abort it ` +
      'and start a new run, which re-measures from the start.',
  };
}

export function assertScenarioOf(state: RunState, scenario: Scenario): void {
  if (state.scenario !== scenario.name) {
    throw new RunLogInvalidError(
      state.runId,
      state.lastSeq,
      `the run is a ${state.scenario} run, not ${scenario.name}`,
    );
  }
}

function delay(at: string, now: Date): number {
  return msBetween(now, at) ?? 0;
}

/** A step is behind the run once it passed, was skipped, or failed with a code its data lets the run go past. */
export function isSettled(step: Step, s: StepState): boolean {
  if (s.status === 'passed' || s.status === 'skipped') return true;
  if (s.status !== 'failed' || s.nextAttemptAt !== null || !isExecutorStep(step)) return false;
  return (step.continueOnFailure ?? []).includes(s.error?.code ?? '');
}

/**
 * The end of a run that a failure leaves nowhere to go (`endRunOn`): `failed`, with the step's error and what
 * people must do next as the reason, instead of a pause that Retry cannot get out of.
 */
function stoppingFailure(state: RunState, scenario: Scenario): RunEventBody | undefined {
  for (const step of scenario.steps) {
    if (!isExecutorStep(step) || step.endRunOn === undefined) continue;
    const s = stepState(state, step.id);
    if (s.status !== 'failed' || s.nextAttemptAt !== null) continue;
    const rule = step.endRunOn.find(
      (r) => r.error.includes(s.error?.code ?? '') && (r.when === undefined || evaluateCondition(r.when, state)),
    );
    if (rule === undefined) continue;
    const reason = `${step.title}: ${s.error?.message ?? 'failed'}. Needs manual action: ${rule.next}`;
    return { ...finishBody(state, scenario), outcome: 'failed', reason: reason.slice(0, 2000) };
  }
  return undefined;
}

function cursorStep(state: RunState, scenario: Scenario): Step | undefined {
  return scenario.steps.find((step) => !isSettled(step, stepState(state, step.id)));
}

interface SkipReason {
  readonly reason: string;
  readonly cause: 'condition' | 'decision' | 'guard';
  readonly by: Actor | null;
}

function skipReason(state: RunState, scenario: Scenario, step: Step): SkipReason | undefined {
  const at = stepIndex(scenario, step.id);
  for (const d of state.decisions) {
    const effect = d.option?.effect ?? '';
    if (!effect.startsWith('skip_to:')) continue;
    const from = stepIndex(scenario, d.stepId);
    const to = stepIndex(scenario, effect.slice('skip_to:'.length));
    if (from < at && at < to) {
      return {
        reason: `skipped: "${d.option?.label ?? d.optionId}" was chosen by ${d.by.name ?? d.by.id}`,
        cause: 'decision',
        by: null,
      };
    }
  }
  const guard = scenario.steps[at - 1];
  if (guard?.kind === 'approval' && guard.guards === step.id && stepState(state, guard.id).status === 'skipped') {
    return { reason: `skipped because its approval step ${guard.id} was skipped`, cause: 'guard', by: null };
  }
  if (step.when !== undefined && !evaluateCondition(step.when, state)) {
    return { reason: `condition not met: ${describeCondition(step.when)}`, cause: 'condition', by: null };
  }
  return undefined;
}

/**
 * `recovered` only when every checklist gate passed and no failed step was skipped on the way (that is
 * `recovered_with_exceptions`); the last gate's findings go with the outcome.
 */
function finishBody(state: RunState, scenario: Scenario): Extract<RunEventBody, { type: 'run_finished' }> {
  const gates = scenario.steps.filter((s) => s.kind === 'gate');
  const passed = gates.length > 0 && gates.every((g) => stepState(state, g.id).status === 'passed');
  const last = gates[gates.length - 1];
  let gate: GateResult | undefined;
  if (last !== undefined) {
    const s = stepState(state, last.id);
    const failing = Array.isArray(s.outputs.failing) ? s.outputs.failing.filter(isJsonObject) : [];
    gate = {
      stepId: last.id,
      passed: s.status === 'passed',
      failing: failing.map((f) => ({
        condition: String(f.condition ?? ''),
        detail: String(f.detail ?? ''),
        measured: f.measured ?? null,
        expected: f.expected ?? null,
      })),
      ...(s.status === 'skipped' ? { skipped: true } : {}),
    };
  }
  const exceptions = passed ? skippedFailures(state, scenario) : [];
  const reason = !passed
    ? 'the recovery checklist did not pass'
    : exceptions.length > 0
      ? `the recovery checklist passed, but failed steps were skipped: ${exceptions
          .map((e) => `${e.title} (by ${who(e.by)}${e.confirmedBy ? `, confirmed by ${who(e.confirmedBy)}` : ''})`)
          .join('; ')}`.slice(0, 2000)
      : undefined;
  return {
    type: 'run_finished',
    outcome: !passed ? 'failed' : exceptions.length > 0 ? 'recovered_with_exceptions' : 'recovered',
    ...(gate ? { gate } : {}),
    ...(reason !== undefined ? { reason } : {}),
  };
}

function who(actor: Actor | null): string {
  return actor === null ? 'the bot' : (actor.name ?? actor.id);
}

/**
 * A destructive step, or the approval that asks for it, past a safety check that failed or that one person skipped
 * alone: the run stops there and can only be aborted.
 */
function safetyStop(state: RunState, scenario: Scenario, step: Step): RunEventBody | undefined {
  const target =
    step.kind === 'approval' ? step.guards : isExecutorStep(step) && step.risk === 'destructive' ? step.id : undefined;
  if (target === undefined) return undefined;
  const why = unmetSafetyCheck(state, scenario, target);
  if (why === undefined) return undefined;
  const title = scenario.steps[stepIndex(scenario, target)]?.title ?? target;
  return {
    type: 'run_paused',
    stepId: step.id,
    reason: `${title} does not run: ${why}. Abort ends the run; a new run measures again from the start.`,
    options: ['abort'],
  };
}

function decisionOutcome(state: RunState, step: Step): { outputs: JsonObject; evidence: Evidence[] } {
  const records = state.decisions.filter((d) => d.stepId === step.id);
  const items = records.map((d) =>
    evidence(d.item ? `decision on ${d.item.label}` : 'decision', d.option?.label ?? d.optionId, ENGINE_SOURCE, {
      detail: `by ${d.by.name ?? d.by.id}${d.value !== undefined ? `, value ${d.value}` : ''}${d.reason ? `: ${d.reason}` : ''}`,
    }),
  );
  const single = records[records.length - 1];
  if (step.kind === 'decision' && step.forEach === undefined && single !== undefined) {
    return {
      outputs: {
        optionId: single.optionId,
        choice: toJson(decisionChoice(state, step.id)),
        by: single.by.id,
      },
      evidence: items,
    };
  }
  return {
    outputs: {
      decisions: Object.fromEntries(records.map((d) => [d.item?.id ?? '', d.optionId])),
      count: records.length,
    },
    evidence: items,
  };
}

/** After a decision step is complete: abort or switch scenario when an option says so. */
function applyDecisionEffect(batch: EventBatch, step: Step): void {
  const records = batch.state.decisions.filter((d) => d.stepId === step.id);
  for (const d of records) {
    const effect = d.option?.effect ?? 'continue';
    const label = d.option?.label ?? d.optionId;
    const reason = `${label}${d.reason ? `: ${d.reason}` : ''}`.slice(0, 500);
    if (effect === 'abort') {
      batch.emit({ type: 'run_aborted', by: d.by, reason, stepId: step.id });
      batch.emit({ type: 'run_finished', outcome: 'aborted', reason });
      return;
    }
    if (effect.startsWith('end:switched:')) {
      batch.emit({ type: 'run_finished', outcome: 'switched', switchTo: effect.slice('end:switched:'.length), reason });
      return;
    }
  }
}

/** A question with no option that applies cannot be asked: the step fails and the run pauses instead. */
function askable(request: RunEventBody, step: Step): RunEventBody {
  if (request.type !== 'decision_requested' || request.options.length > 0) return request;
  return {
    type: 'step_failed',
    stepId: step.id,
    attempt: 0,
    error: { code: 'no_options', message: 'no option of this decision applies to the run' },
    transient: false,
    evidence: [],
  };
}

function runStep(
  state: RunState,
  step: Step,
  attempt: number,
  at: string,
  now: Date,
): Extract<EngineCommand, { type: 'run_step' }> {
  return {
    type: 'run_step',
    stepId: step.id,
    attempt,
    jobId: jobIdFor(state.runId, step.id, attempt, 0),
    at,
    delayMs: delay(at, now),
    purpose: step.kind === 'approval' ? 'approval_recheck' : 'step',
  };
}

/**
 * What happens next, from the state alone. Pure and deterministic: the same state, scenario and time give the
 * same events and the same job ids, so a repeated call (a retried job, a second click) enqueues nothing new.
 * Bookkeeping the engine can do without the world (skipping a step whose condition fails, asking a decision or
 * an approval, pausing on a failure, finishing) comes back as events to append before acting on the command.
 */
export function decideNext(state: RunState, scenario: Scenario, now: Date, options: EngineOptions = {}): EngineOutput {
  assertScenarioOf(state, scenario);
  const batch = new EventBatch(state, now);
  const done = (command: EngineCommand): EngineOutput => ({ events: batch.events, command, state: batch.state });
  const limit = scenario.steps.length * 4 + 16;
  for (let i = 0; i < limit; i++) {
    const s = batch.state;
    if (s.outcome !== null) return done({ type: 'finished', outcome: s.outcome.outcome, switchTo: s.outcome.switchTo });
    if (s.abort !== null) {
      batch.emit({ type: 'run_finished', outcome: 'aborted', reason: s.abort.reason });
      continue;
    }
    const changed = scenarioChange(s, scenario);
    if (changed !== undefined) {
      // Step ids, their order and their outputs may mean something else now: nothing is run, asked or skipped.
      if (s.pause === null || s.pause.options.some((o) => o !== 'abort') || s.pause.reason !== changed.message) {
        batch.emit({ type: 'run_paused', reason: changed.message, options: ['abort'] });
        continue;
      }
      return done({
        type: 'paused',
        stepId: undefined,
        reason: changed.message,
        options: ['abort'],
        retryNeedsApprover: false,
        scenarioChanged: { runVersion: changed.runVersion, loadedVersion: changed.loadedVersion },
      });
    }
    if (s.pause !== null) {
      const paused = s.pause.stepId !== undefined ? scenario.steps[stepIndex(scenario, s.pause.stepId)] : undefined;
      return done({
        type: 'paused',
        stepId: s.pause.stepId,
        reason: s.pause.reason,
        options: s.pause.options,
        retryNeedsApprover: paused !== undefined && isExecutorStep(paused) && paused.risk === 'destructive',
      });
    }
    if (s.pendingDecision !== null) {
      const p = s.pendingDecision;
      return done({
        type: 'await_decision',
        stepId: p.stepId,
        ...(p.item ? { item: p.item } : {}),
        prompt: p.prompt,
        options: p.options,
      });
    }
    if (s.pendingApproval !== null && s.pendingApproval.grantedBy === null) {
      const p = s.pendingApproval;
      const expiresAt = approvalExpiresAt(p.requestedAt, options);
      return done({
        type: 'await_approval',
        stepId: p.stepId,
        round: p.round,
        guards: p.guards,
        fingerprint: p.fingerprint,
        approvers: p.approvers,
        excluded: p.excluded,
        expiresAt,
        expiryJobId: approvalExpiryJobIdFor(s.runId, p.stepId, p.round),
        expiryDelayMs: delay(expiresAt, now),
      });
    }
    if (s.pendingManual !== null) {
      return done({ type: 'await_manual', stepId: s.pendingManual.stepId, instructions: s.pendingManual.instructions });
    }
    const stop = stoppingFailure(s, scenario);
    if (stop !== undefined) {
      batch.emit(stop);
      continue;
    }
    const step = cursorStep(s, scenario);
    if (step === undefined) {
      batch.emit(finishBody(s, scenario));
      continue;
    }
    const st = stepState(s, step.id);
    switch (st.status) {
      case 'pending': {
        const skip = skipReason(s, scenario, step);
        const unsafe = skip === undefined ? safetyStop(s, scenario, step) : undefined;
        if (skip !== undefined) {
          batch.emit({ type: 'step_skipped', stepId: step.id, by: skip.by, reason: skip.reason, cause: skip.cause });
        } else if (unsafe !== undefined) {
          batch.emit(unsafe);
        } else if (step.kind === 'decision') {
          const request = nextDecisionRequest(s, step);
          if (request !== null) batch.emit(askable(request, step));
          else batch.emit({ type: 'step_passed', stepId: step.id, attempt: 0, ...decisionOutcome(s, step) });
        } else if (step.kind === 'approval') {
          batch.emit(approvalRequest(s, scenario, step, st.round + 1, options.access));
        } else if (step.executor === 'manual') {
          batch.emit({ type: 'step_started', stepId: step.id, attempt: 1 });
          batch.emit({
            type: 'manual_action_requested',
            stepId: step.id,
            attempt: 1,
            instructions: step.instructions ?? step.title,
            evidence: [],
          });
        } else {
          return done(runStep(s, step, 1, batch.at, now));
        }
        continue;
      }
      case 'running':
        if (isExecutorStep(step) && step.executor === 'manual') {
          batch.emit({
            type: 'manual_action_requested',
            stepId: step.id,
            attempt: st.attempt,
            instructions: step.instructions ?? step.title,
            evidence: [],
          });
          continue;
        }
        return done(runStep(s, step, st.attempt, batch.at, now));
      case 'waiting': {
        const at = st.nextCheckAt ?? batch.at;
        return done({
          type: 'check_again',
          stepId: step.id,
          attempt: st.attempt,
          poll: st.poll,
          jobId: jobIdFor(s.runId, step.id, st.attempt, st.poll),
          at,
          delayMs: delay(at, now),
        });
      }
      case 'failed':
        if (st.nextAttemptAt !== null && step.kind === 'decision') {
          const request = nextDecisionRequest(s, step);
          if (request !== null) batch.emit(askable(request, step));
          else batch.emit({ type: 'step_passed', stepId: step.id, attempt: 0, ...decisionOutcome(s, step) });
          continue;
        }
        if (st.nextAttemptAt !== null) return done(runStep(s, step, st.attempt + 1, st.nextAttemptAt, now));
        batch.emit({
          type: 'run_paused',
          stepId: step.id,
          reason: `${step.title}: ${st.error?.message ?? 'failed'}`.slice(0, 2000),
          options: ['retry', 'skip', 'abort'],
        });
        continue;
      case 'awaiting_decision': {
        if (isExecutorStep(step)) {
          // The question about an interrupted attempt has been answered.
          const answer = interruptionAnswer(s, step.id, st.attempt);
          if (answer?.optionId === INTERRUPTION_OPTIONS.runAgain) {
            return done(runStep(s, step, st.attempt + 1, batch.at, now));
          }
          if (answer === undefined) {
            batch.emit(interruptionQuestion(step, st, st.attempt));
          } else if (answer.optionId === INTERRUPTION_OPTIONS.done) {
            batch.emit(markedDone(step, st, answer));
          } else {
            const reason = `${answer.option?.label ?? answer.optionId}${answer.reason ? `: ${answer.reason}` : ''}`;
            batch.emit({ type: 'run_aborted', by: answer.by, reason: reason.slice(0, 500), stepId: step.id });
            batch.emit({ type: 'run_finished', outcome: 'aborted', reason: reason.slice(0, 500) });
          }
          continue;
        }
        if (step.kind !== 'decision') throw new RunLogInvalidError(s.runId, s.lastSeq, `${step.id} is not a decision`);
        const request = nextDecisionRequest(s, step);
        if (request !== null) {
          batch.emit(askable(request, step));
        } else {
          batch.emit({ type: 'step_passed', stepId: step.id, attempt: 0, ...decisionOutcome(s, step) });
          applyDecisionEffect(batch, step);
        }
        continue;
      }
      case 'awaiting_approval':
        if (step.kind !== 'approval') throw new RunLogInvalidError(s.runId, s.lastSeq, `${step.id} is not an approval`);
        batch.emit(approvalRequest(s, scenario, step, st.round + 1, options.access));
        continue;
      case 'approved':
        if (step.kind === 'approval' && step.fingerprintOf.step === undefined) {
          batch.emit({
            type: 'step_passed',
            stepId: step.id,
            attempt: st.attempt,
            outputs: { approvedBy: st.approvedBy?.id ?? null, fingerprint: st.fingerprint, round: st.round },
            evidence: [
              evidence('approval', st.approvedBy?.name ?? st.approvedBy?.id ?? null, ENGINE_SOURCE, {
                detail: 'bound to decisions only: nothing to re-measure',
              }),
            ],
          });
          continue;
        }
        return done(runStep(s, step, st.attempt + 1, batch.at, now));
      case 'awaiting_manual':
        batch.emit({
          type: 'manual_action_requested',
          stepId: step.id,
          attempt: Math.max(1, st.attempt),
          instructions: isExecutorStep(step) ? (step.instructions ?? step.title) : step.title,
          evidence: st.evidence as Evidence[],
        });
        continue;
      case 'passed':
      case 'skipped':
        throw new RunLogInvalidError(s.runId, s.lastSeq, `settled step ${step.id} chosen as current`);
    }
  }
  throw new RunLogInvalidError(state.runId, state.lastSeq, 'the engine made no progress (scenario data loops)');
}

function approvalExpiresAt(requestedAt: string, options: EngineOptions): string {
  return new Date(Date.parse(requestedAt) + (options.approvalTimeoutMs ?? DEFAULT_APPROVAL_TIMEOUT_MS)).toISOString();
}

function approversText(approvers: readonly string[] | null, excluded: readonly string[]): string {
  if (approvers === null) {
    return `nobody approved (anyone${excluded.length > 0 ? ` but ${excluded.join(', ')}` : ''} could have)`;
  }
  if (approvers.length === 0) return 'nobody approved (no approver is configured)';
  return `nobody of ${approvers.join(', ')} approved`;
}

/** The approval round an expiry check was scheduled for. */
export interface ApprovalRound {
  readonly stepId: string;
  readonly round: number;
}

export type ExpiryResult =
  /** Append `events` (the expiry and the pause), then let the engine go on: it reports the pause. */
  | { readonly kind: 'expired'; readonly events: RunEvent[]; readonly state: RunState }
  /** The approval is still open but its time has not come (a check that fired early): check again at `expiresAt`. */
  | { readonly kind: 'not_due'; readonly expiresAt: string }
  /** Nothing to expire: it was approved, asked again, the run paused, finished or moved on. */
  | { readonly kind: 'stale'; readonly reason: string };

/**
 * The defined outcome of an approval nobody gives: once it has been open for the approval timeout, it expires
 * (`approval_expired`) and the run pauses (`run_paused`, with Retry to ask again and Abort). Pure; the job layer
 * calls it from the delayed check `decideNext` asked for. With `round`, only that round of the approval expires:
 * a check scheduled for an earlier round does nothing.
 */
export function expireApproval(
  state: RunState,
  scenario: Scenario,
  now: Date,
  options: EngineOptions = {},
  round?: ApprovalRound,
): ExpiryResult {
  assertScenarioOf(state, scenario);
  const p = state.pendingApproval;
  if (state.outcome !== null) return { kind: 'stale', reason: 'the run has finished' };
  if (state.pause !== null) return { kind: 'stale', reason: 'the run is paused' };
  if (p === null) return { kind: 'stale', reason: 'no approval is open' };
  if (p.grantedBy !== null) return { kind: 'stale', reason: `${p.stepId} was approved` };
  if (round !== undefined && (round.stepId !== p.stepId || round.round !== p.round)) {
    return { kind: 'stale', reason: `the open approval is ${p.stepId} round ${p.round}` };
  }
  const expiresAt = approvalExpiresAt(p.requestedAt, options);
  if (now.getTime() < Date.parse(expiresAt)) return { kind: 'not_due', expiresAt };
  const timeoutMs = options.approvalTimeoutMs ?? DEFAULT_APPROVAL_TIMEOUT_MS;
  const batch = new EventBatch(state, now);
  batch.emit({
    type: 'approval_expired',
    stepId: p.stepId,
    round: p.round,
    approvers: p.approvers === null ? null : [...p.approvers],
    timeoutMs,
    requestedAt: p.requestedAt,
  });
  const guarded = scenario.steps[stepIndex(scenario, p.guards)];
  batch.emit({
    type: 'run_paused',
    stepId: p.stepId,
    reason: (
      `approval timed out after ${formatDuration(timeoutMs)}; ${approversText(p.approvers, p.excluded)}` +
      `${guarded ? `. ${guarded.title} has not run` : ''}. Retry asks for the approval again; Abort ends the run.`
    ).slice(0, 2000),
    options: ['retry', 'abort'],
  });
  return { kind: 'expired', events: batch.events, state: batch.state };
}
