import { isSafeText } from '../outside-text.js';
import {
  type AccessPolicy,
  type CommandActor,
  checkPersonText,
  isListed,
  recordedActor,
  type TextProblem,
} from './access.js';
import { assertScenarioOf, EventBatch, scenarioChange } from './engine.js';
import type { Actor, RunEvent, RunEventBody, RunParams } from './events.js';
import { INSTANT_HINT, isInstant } from './instant.js';
import { INTERRUPTION_OPTIONS } from './interruptions.js';
import { isValidRunId } from './job-ids.js';
import { ENGINE_SOURCE, evidence } from './judges/evidence.js';
import { latestDecision } from './params.js';
import { skipNeedsSecondPerson } from './safety-checks.js';
import { findStep } from './scenario-lookup.js';
import { isExecutorStep, type Scenario } from './scenario-schema.js';
import { findScenario, scenarioChoices } from './scenarios/index.js';
import type { DecisionRecord, RunState } from './state.js';
import { stepState } from './state.js';

/** Why a person's command was refused; each comes with a message fit to show them. */
export type RefusalCode =
  | 'invalid_run_id'
  | 'unknown_scenario'
  | 'missing_param'
  | 'invalid_param'
  | 'not_operator'
  | 'not_approver'
  | 'same_person'
  | 'run_finished'
  | 'not_pending'
  | 'already_decided'
  | 'unknown_option'
  | 'reason_required'
  | 'reason_too_long'
  | 'reason_invalid'
  | 'value_required'
  | 'value_invalid'
  | 'stale_fingerprint'
  | 'not_paused'
  | 'not_offered'
  | 'scenario_changed';

export interface Refusal {
  readonly code: RefusalCode;
  readonly message: string;
  /** For `already_decided`: who did. */
  readonly by?: Actor;
}

export type CommandResult =
  | {
      readonly ok: true;
      /** Append these in one batch; empty for a repeat of a command already applied (a double click). */
      readonly events: RunEvent[];
      readonly duplicate: boolean;
    }
  | { readonly ok: false; readonly refusal: Refusal };

function refuse(code: RefusalCode, message: string, by?: Actor): CommandResult {
  return { ok: false, refusal: { code, message, ...(by ? { by } : {}) } };
}

function accepted(state: RunState, now: Date, bodies: RunEventBody[]): CommandResult {
  const batch = new EventBatch(state, now);
  for (const body of bodies) batch.emit(body);
  return { ok: true, events: batch.events, duplicate: false };
}

const DUPLICATE: CommandResult = { ok: true, events: [], duplicate: true };

function who(actor: Actor): string {
  return actor.name ?? actor.id;
}

function textRefusal(problem: TextProblem, what: 'reason' | 'value', max: number): CommandResult {
  if (problem === 'required') return refuse(`${what}_required`, `a ${what} is required`);
  if (problem === 'too_long') {
    return refuse(
      what === 'reason' ? 'reason_too_long' : 'value_invalid',
      `the ${what} is longer than ${max} characters`,
    );
  }
  return refuse(`${what === 'reason' ? 'reason' : 'value'}_invalid`, `the ${what} contains control characters`);
}

function finishedRefusal(state: RunState): CommandResult | undefined {
  if (state.outcome === null) return undefined;
  return refuse('run_finished', `run ${state.runId} has finished (${state.outcome.outcome})`);
}

/** Refuses a person who may not act on the run now (throws when the scenario is not the run's). */
function operatorCheck(
  state: RunState,
  scenario: Scenario,
  actor: CommandActor,
  access: AccessPolicy,
): CommandResult | undefined {
  assertScenarioOf(state, scenario);
  const finished = finishedRefusal(state);
  if (finished) return finished;
  if (!isListed(access.operators, actor)) return refuse('not_operator', `${who(actor)} is not a recovery operator`);
  return changedRefusal(state, scenario);
}

/** The step a paused run stopped at, once the person may act on it; otherwise the refusal. */
function pausedStepOf(
  state: RunState,
  scenario: Scenario,
  actor: CommandActor,
  access: AccessPolicy,
  action: 'retry' | 'skip',
): string | CommandResult {
  const denied = operatorCheck(state, scenario, actor, access);
  if (denied) return denied;
  const stepId = state.pause?.stepId;
  if (state.pause === null || stepId === undefined) return refuse('not_paused', `run ${state.runId} is not paused`);
  if (!state.pause.options.includes(action)) {
    return refuse('not_offered', `${action} is not offered here; you can: ${state.pause.options.join(', ')}`);
  }
  return stepId;
}

/** The rules of an approval: the person is on the approvers list and, under the two-person rule, not the starter. */
function approverRefusal(
  state: RunState,
  by: CommandActor,
  access: AccessPolicy,
  notApprover: string,
  samePerson: string,
): CommandResult | undefined {
  if (!isListed(access.approvers, by)) return refuse('not_approver', notApprover);
  if (access.twoPersonRule && by.id === state.startedBy.id) return refuse('same_person', samePerson);
  return undefined;
}

/** Repeating a destructive action counts as approving it again: an approver, and a second person. */
function destructiveRepeatRefusal(
  state: RunState,
  title: string,
  risk: string,
  by: CommandActor,
  access: AccessPolicy,
  doing: string,
): CommandResult | undefined {
  if (risk !== 'destructive') return undefined;
  return approverRefusal(
    state,
    by,
    access,
    `${doing} ${title} repeats a destructive action: an approver must choose it`,
    `${doing} ${title} needs a second person (two-person rule)`,
  );
}

/** A run started on a scenario version this bot cannot continue takes no command but Abort. */
function changedRefusal(state: RunState, scenario: Scenario): CommandResult | undefined {
  const changed = scenarioChange(state, scenario);
  return changed === undefined ? undefined : refuse('scenario_changed', changed.message);
}

// ---- start ----

const TENANT_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,199}$/;
const PARAM_PATTERNS: Readonly<Record<string, RegExp>> = {
  traceId: /^[A-Za-z0-9][A-Za-z0-9._:@+=~/-]{0,199}$/,
  workflowId: /^[A-Za-z0-9][A-Za-z0-9._:@+=~/-]{0,199}$/,
  previousRelease: /^[A-Za-z0-9._:/@+][A-Za-z0-9._:/@+-]{0,199}$/,
  switchedFrom: /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/,
};
/** Parameters checked by a rule a pattern cannot say, with what to type instead. */
const PARAM_RULES: Readonly<Record<string, { readonly valid: (v: string) => boolean; readonly hint: string }>> = {
  upgradedAt: { valid: isInstant, hint: INSTANT_HINT },
};
/** Any other parameter: one line of at most 500 characters that the outside-text rule accepts as typed. */
const ANY_PARAM = { test: (value: string) => value.length <= 500 && isSafeText(value, 'one') };

export interface StartRunInput {
  /** Chosen by the caller; letters, digits, `-`, `_`, not all digits. */
  readonly runId: string;
  /** A scenario name or alias, as typed. */
  readonly scenario: string;
  readonly tenantId: string;
  readonly startedBy: CommandActor;
  /** `traceId` (defaults come from config, filled in by the caller), `workflowId`, `previousRelease`, … */
  readonly params?: Readonly<Record<string, string | undefined>>;
  readonly channelId?: string;
}

export type StartResult =
  | { readonly ok: true; readonly scenario: Scenario; readonly events: RunEvent[] }
  | { readonly ok: false; readonly refusal: Refusal };

/**
 * Validates a start request and returns the `run_started` event. One active run per slot is the run-log store's
 * business (it holds the slots); this checks the input and the person.
 */
export function startRun(input: StartRunInput, access: AccessPolicy, now: Date): StartResult {
  const fail = (code: RefusalCode, message: string): StartResult => ({ ok: false, refusal: { code, message } });
  if (!isValidRunId(input.runId)) return fail('invalid_run_id', 'the run id must be 1 to 64 letters, digits, - or _');
  const scenario = findScenario(input.scenario);
  if (scenario === undefined) {
    return fail(
      'unknown_scenario',
      `unknown scenario "${input.scenario.slice(0, 50)}"; choose one of: ${scenarioChoices().join('; ')}`,
    );
  }
  if (!isListed(access.operators, input.startedBy)) {
    return fail('not_operator', `${who(input.startedBy)} is not a recovery operator`);
  }
  if (!TENANT_PATTERN.test(input.tenantId)) return fail('invalid_param', 'the tenant id is not valid');
  const params: Record<string, string> = {};
  for (const [key, raw] of Object.entries(input.params ?? {})) {
    const value = raw?.trim();
    if (value === undefined || value === '') continue;
    if (!/^[a-zA-Z][a-zA-Z0-9]{0,40}$/.test(key))
      return fail('invalid_param', `parameter name ${key.slice(0, 40)} is not valid`);
    const rule = PARAM_RULES[key];
    if (rule !== undefined && !rule.valid(value)) {
      return fail('invalid_param', `${key} "${value.slice(0, 60)}" is not valid: give ${rule.hint}`);
    }
    const pattern = PARAM_PATTERNS[key] ?? ANY_PARAM;
    if (rule === undefined && !pattern.test(value)) {
      return fail(
        'invalid_param',
        `${key} "${value.slice(0, 60)}" is not valid (letters, digits and . _ : @ + = ~ / -)`,
      );
    }
    params[key] = value;
  }
  for (const required of scenario.requires) {
    if (params[required] === undefined) return fail('missing_param', `the ${scenario.name} scenario needs ${required}`);
  }
  const event = {
    type: 'run_started',
    runId: input.runId,
    seq: 1,
    at: now.toISOString(),
    scenario: scenario.name,
    scenarioVersion: scenario.version,
    tenantId: input.tenantId,
    startedBy: recordedActor(input.startedBy),
    params: params as RunParams,
    ...(input.channelId ? { channelId: input.channelId } : {}),
  } satisfies RunEvent;
  return { ok: true, scenario, events: [event] };
}

// ---- decisions ----

export interface DecisionInput {
  readonly stepId: string;
  /** For per-item decisions: the item's id. */
  readonly itemId?: string;
  readonly optionId: string;
  readonly by: CommandActor;
  readonly reason?: string;
  /** For options that ask for a typed value. */
  readonly value?: string;
}

/** The same person sending the same choice again (a double click, a resubmitted dialog), nothing changed. */
function isSameDecision(earlier: DecisionRecord, input: DecisionInput): boolean {
  const typed = input.value?.trim() || undefined;
  const reason = input.reason?.trim() || undefined;
  return (
    earlier.by.id === input.by.id &&
    earlier.optionId === input.optionId &&
    earlier.value === typed &&
    (reason === undefined || earlier.reason === reason)
  );
}

/** A person's choice on the pending decision, validated; returns `decision_made` or a refusal. */
export function applyDecision(
  state: RunState,
  scenario: Scenario,
  input: DecisionInput,
  access: AccessPolicy,
  now: Date,
): CommandResult {
  const denied = operatorCheck(state, scenario, input.by, access);
  if (denied) return denied;
  const pending = state.pendingDecision;
  if (pending === null || pending.stepId !== input.stepId || pending.item?.id !== input.itemId) {
    const earlier = state.decisions.find((d) => d.stepId === input.stepId && d.item?.id === input.itemId);
    if (earlier !== undefined) {
      if (isSameDecision(earlier, input)) return DUPLICATE;
      // A correction (another option, or the same one with another value) is refused, never taken as a repeat.
      const chosen = earlier.value ?? earlier.option?.label ?? earlier.optionId;
      return refuse('already_decided', `already decided: ${chosen} by ${who(earlier.by)}`, earlier.by);
    }
    return refuse(
      'not_pending',
      `no decision is waiting on ${input.stepId}${input.itemId ? ` (${input.itemId})` : ''}`,
    );
  }
  const option = pending.options.find((o) => o.id === input.optionId);
  if (option === undefined) {
    return refuse(
      'unknown_option',
      `"${input.optionId.slice(0, 60)}" is not one of: ${pending.options.map((o) => o.id).join(', ')}`,
    );
  }
  const step = findStep(scenario, input.stepId);
  if (step !== undefined && isExecutorStep(step) && option.id === INTERRUPTION_OPTIONS.runAgain) {
    // Running an interrupted destructive action again counts as approving it again, as a Retry does.
    const denied = destructiveRepeatRefusal(state, step.title, step.risk, input.by, access, 'running it again');
    if (denied) return denied;
  }
  const reason = checkPersonText(input.reason, option.needsReason === true);
  if (!reason.ok) return textRefusal(reason.problem, 'reason', 500);
  let value: string | undefined;
  if (option.needsValue !== undefined) {
    const typed = checkPersonText(input.value, true, option.needsValue.maxLength);
    if (!typed.ok) return textRefusal(typed.problem, 'value', option.needsValue.maxLength);
    value = typed.value as string;
    if (!new RegExp(option.needsValue.pattern).test(value)) {
      return refuse('value_invalid', `"${value.slice(0, 60)}" is not a valid ${option.needsValue.label.toLowerCase()}`);
    }
  }
  return accepted(state, now, [
    {
      type: 'decision_made',
      stepId: input.stepId,
      ...(pending.item ? { item: pending.item } : {}),
      optionId: option.id,
      by: recordedActor(input.by),
      ...(reason.value !== undefined ? { reason: reason.value } : {}),
      ...(value !== undefined ? { value } : {}),
    },
  ]);
}

// ---- approvals ----

export interface ApprovalInput {
  readonly stepId: string;
  readonly by: CommandActor;
  /** The fingerprint of the request the approver looked at (from the button), to refuse a stale view. */
  readonly fingerprint?: string;
}

/**
 * Approves the pending approval: the approver must be on the approvers list and, under the two-person rule, not
 * the person who started the run. The guarded step still waits for the re-check of what was approved.
 */
/** What refuses any answer to an approval before its request is looked at: a finished run, a changed scenario. */
function approvalCommandRefusal(state: RunState, scenario: Scenario): CommandResult | undefined {
  assertScenarioOf(state, scenario);
  return finishedRefusal(state) ?? changedRefusal(state, scenario);
}

export function applyApproval(
  state: RunState,
  scenario: Scenario,
  input: ApprovalInput,
  access: AccessPolicy,
  now: Date,
): CommandResult {
  const refused = approvalCommandRefusal(state, scenario);
  if (refused) return refused;
  const pending = state.pendingApproval;
  if (pending === null || pending.stepId !== input.stepId) {
    const granted = [...state.approvals].reverse().find((a) => a.stepId === input.stepId && a.voided === null);
    if (granted !== undefined) {
      if (granted.by.id === input.by.id) return DUPLICATE;
      return refuse('already_decided', `already approved by ${who(granted.by)}`, granted.by);
    }
    return refuse('not_pending', `no approval is waiting on ${input.stepId}`);
  }
  if (pending.grantedBy !== null) {
    if (pending.grantedBy.id === input.by.id) return DUPLICATE;
    return refuse('already_decided', `already approved by ${who(pending.grantedBy)}`, pending.grantedBy);
  }
  if (!isListed(access.approvers, input.by))
    return refuse('not_approver', `${who(input.by)} may not approve destructive steps`);
  if (access.twoPersonRule && input.by.id === state.startedBy.id) {
    return refuse('same_person', `${who(input.by)} started this run; another person must approve (two-person rule)`);
  }
  if (input.fingerprint !== undefined && input.fingerprint !== pending.fingerprint) {
    return refuse('stale_fingerprint', 'the measurement changed since this request was shown; approve the new one');
  }
  return accepted(state, now, [
    {
      type: 'approval_granted',
      stepId: pending.stepId,
      round: pending.round,
      by: recordedActor(input.by),
      fingerprint: pending.fingerprint,
    },
  ]);
}

export interface RejectionInput {
  readonly stepId: string;
  readonly by: CommandActor;
}

/**
 * A No to an open approval: the guarded step does not run. Bound to a decision, the run goes back to it so people
 * can choose another option; otherwise it pauses with Retry (ask again) and Abort.
 * Anyone who may approve may reject, and so may the starter: rejecting never makes things worse.
 */
export function applyRejection(
  state: RunState,
  scenario: Scenario,
  input: RejectionInput,
  access: AccessPolicy,
  now: Date,
): CommandResult {
  const refused = approvalCommandRefusal(state, scenario);
  if (refused) return refused;
  const pending = state.pendingApproval;
  if (pending === null || pending.stepId !== input.stepId) {
    return refuse('not_pending', `no approval is waiting on ${input.stepId}`);
  }
  if (pending.grantedBy !== null) {
    return refuse('already_decided', `already approved by ${who(pending.grantedBy)}`, pending.grantedBy);
  }
  if (!isListed(access.approvers, input.by) && input.by.id !== state.startedBy.id) {
    return refuse('not_approver', `${who(input.by)} may not reject: only the approvers and the starter may`);
  }
  const guarded = scenario.steps.find((s) => s.id === pending.guards);
  const by = recordedActor(input.by);
  const reopens = rejectionReopens(state, scenario, pending.stepId);
  if (reopens !== undefined) {
    return accepted(state, now, [
      { type: 'approval_rejected', stepId: pending.stepId, round: pending.round, by, reopens },
    ]);
  }
  return accepted(state, now, [
    { type: 'approval_rejected', stepId: pending.stepId, round: pending.round, by },
    {
      type: 'run_paused',
      stepId: pending.stepId,
      reason: (
        `rejected by ${who(input.by)}${guarded ? `: ${guarded.title} has not run` : ''}. ` +
        'Retry asks for the approval again; Abort ends the run.'
      ).slice(0, 2000),
      options: ['retry', 'abort'],
    },
  ]);
}

/**
 * The decision a rejected approval goes back to: the latest of the decisions its fingerprint is bound to that was
 * made, asked once (not per item) and comes before it, with the steps from there up to the approval (read-only
 * ones only, so nothing with effects runs twice).
 */
export function rejectionReopens(
  state: RunState,
  scenario: Scenario,
  approvalId: string,
): { decision: string; optionId: string; steps: string[] } | undefined {
  const approvalAt = scenario.steps.findIndex((s) => s.id === approvalId);
  const approval = scenario.steps[approvalAt];
  if (approval?.kind !== 'approval') return undefined;
  for (const id of [...(approval.fingerprintOf.decisions ?? [])].reverse()) {
    const at = scenario.steps.findIndex((s) => s.id === id);
    const step = scenario.steps[at];
    const made = latestDecision(state, id);
    if (step?.kind !== 'decision' || step.forEach !== undefined || at > approvalAt || made === undefined) continue;
    // Going back must never run a step with effects twice: such a step in between keeps the pause.
    if (scenario.steps.slice(at + 1, approvalAt).some((s) => isExecutorStep(s) && s.risk !== 'read_only')) continue;
    return { decision: id, optionId: made.optionId, steps: scenario.steps.slice(at, approvalAt + 1).map((s) => s.id) };
  }
  return undefined;
}

// ---- manual actions ----

export interface ManualResultInput {
  readonly stepId: string;
  readonly by: CommandActor;
  /** `failed`: the person could not do it; the run pauses. */
  readonly outcome: 'done' | 'failed';
  readonly note?: string;
}

export function applyManualResult(
  state: RunState,
  scenario: Scenario,
  input: ManualResultInput,
  access: AccessPolicy,
  now: Date,
): CommandResult {
  const denied = operatorCheck(state, scenario, input.by, access);
  if (denied) return denied;
  const pending = state.pendingManual;
  if (pending === null || pending.stepId !== input.stepId) {
    const step = stepState(state, input.stepId);
    if (step.outputs.manualBy === input.by.id) return DUPLICATE;
    return refuse('not_pending', `no manual action is waiting on ${input.stepId}`);
  }
  const note = checkPersonText(input.note, false);
  if (!note.ok) return textRefusal(note.problem, 'reason', 500);
  const by = recordedActor(input.by);
  const detail = `${who(by)}${note.value ? `: ${note.value}` : ''}`;
  if (input.outcome === 'failed') {
    return accepted(state, now, [
      {
        type: 'step_failed',
        stepId: pending.stepId,
        attempt: pending.attempt,
        error: { code: 'manual_action_failed', message: `reported as not done by ${detail}` },
        transient: false,
        by,
        evidence: [evidence('manual action', 'not done', ENGINE_SOURCE, { expected: 'done', ok: false, detail })],
      },
    ]);
  }
  return accepted(state, now, [
    {
      type: 'manual_action_done',
      stepId: pending.stepId,
      attempt: pending.attempt,
      by,
      ...(note.value !== undefined ? { note: note.value } : {}),
    },
    {
      type: 'step_passed',
      stepId: pending.stepId,
      attempt: pending.attempt,
      outputs: { manual: true, manualBy: by.id, ...(note.value !== undefined ? { note: note.value } : {}) },
      evidence: [evidence('manual action', 'done', ENGINE_SOURCE, { expected: 'done', ok: true, detail })],
    },
  ]);
}

// ---- pause: retry, skip; abort ----

export interface RetryInput {
  readonly by: CommandActor;
}

/**
 * Runs the failed step again. Repeating a destructive action counts as approving it again: the person must be
 * an approver and, under the two-person rule, not the starter.
 */
export function applyRetry(
  state: RunState,
  scenario: Scenario,
  input: RetryInput,
  access: AccessPolicy,
  now: Date,
): CommandResult {
  const stepId = pausedStepOf(state, scenario, input.by, access, 'retry');
  if (typeof stepId !== 'string') return stepId;
  const step = findStep(scenario, stepId);
  if (step !== undefined && isExecutorStep(step)) {
    const denied = destructiveRepeatRefusal(state, step.title, step.risk, input.by, access, 'retrying');
    if (denied) return denied;
  }
  return accepted(state, now, [{ type: 'run_resumed', by: recordedActor(input.by), action: 'retry', stepId }]);
}

export interface SkipInput {
  readonly by: CommandActor;
  readonly reason: string;
}

/**
 * Skips the failed step (a reason is required). Skipping a checklist gate means the run cannot be `recovered`.
 * Skipping a safety check or the gate needs a second person: the first Skip records the request and the run stays
 * paused; a Skip by someone who may approve (not the starter under the two-person rule, never the one who asked)
 * confirms it.
 */
export function applySkip(
  state: RunState,
  scenario: Scenario,
  input: SkipInput,
  access: AccessPolicy,
  now: Date,
): CommandResult {
  const stepId = pausedStepOf(state, scenario, input.by, access, 'skip');
  if (typeof stepId !== 'string') return stepId;
  const reason = checkPersonText(input.reason, true);
  if (!reason.ok) return textRefusal(reason.problem, 'reason', 500);
  const by = recordedActor(input.by);
  const text = reason.value as string;
  const step = findStep(scenario, stepId);
  if (step === undefined || !skipNeedsSecondPerson(scenario, step)) {
    return accepted(state, now, [
      { type: 'run_resumed', by, action: 'skip', stepId, reason: text },
      { type: 'step_skipped', stepId, by, reason: text, cause: 'operator' },
    ]);
  }
  const request = state.skipRequest;
  if (request === null || request.stepId !== stepId) {
    return accepted(state, now, [{ type: 'skip_requested', stepId, by, reason: text }]);
  }
  if (request.by.id === input.by.id) {
    if (request.reason === text) return DUPLICATE;
    return refuse('same_person', `${who(input.by)} asked to skip ${step.title}; a second person must confirm it`);
  }
  const denied = approverRefusal(
    state,
    input.by,
    access,
    `${who(input.by)} may not confirm skipping ${step.title}, a safety check: an approver must`,
    `${who(input.by)} started this run; another person must confirm skipping ${step.title} (two-person rule)`,
  );
  if (denied) return denied;
  return accepted(state, now, [
    { type: 'run_resumed', by, action: 'skip', stepId, reason: text },
    {
      type: 'step_skipped',
      stepId,
      by: request.by,
      reason: request.reason,
      cause: 'operator',
      confirmedBy: by,
      confirmReason: text,
    },
  ]);
}

export interface AbortInput {
  readonly by: CommandActor;
  readonly reason: string;
}

/** Ends the run now, whatever it is doing; the starter may always abort their own run. */
export function applyAbort(state: RunState, input: AbortInput, access: AccessPolicy, now: Date): CommandResult {
  const finished = finishedRefusal(state);
  if (finished) return finished;
  if (input.by.id !== state.startedBy.id && !isListed(access.operators, input.by)) {
    return refuse('not_operator', `${who(input.by)} is not a recovery operator`);
  }
  const reason = checkPersonText(input.reason, true);
  if (!reason.ok) return textRefusal(reason.problem, 'reason', 500);
  return accepted(state, now, [
    {
      type: 'run_aborted',
      by: recordedActor(input.by),
      reason: reason.value as string,
      ...(state.currentStepId ? { stepId: state.currentStepId } : {}),
    },
    { type: 'run_finished', outcome: 'aborted', reason: reason.value as string },
  ]);
}
