import { z } from 'zod';
import type { Json, JsonObject } from './json.js';

// Every fact about a run is one of these events, with a per-run, 1-based, contiguous `seq`. The thread, terminal
// and summary are folds of them, so each carries what a person needs later: who, what was measured and expected.

const json = z.json() as z.ZodType<Json>;
const jsonObject = z.record(z.string(), json) as z.ZodType<JsonObject>;
const isoInstant = z.iso.datetime({ offset: true });
const stepId = z.string().regex(/^[a-z][a-z0-9_]{0,62}$/);
/** Free text a person typed (reasons, notes): validated and length-limited before it becomes an event. */
export const MAX_REASON_LENGTH = 500;
const personText = z.string().max(MAX_REASON_LENGTH);

export const ActorSchema = z.object({
  /** Slack user id, or the operating-system user for the terminal front end. */
  id: z.string().min(1).max(200),
  name: z.string().max(200).optional(),
  via: z.enum(['slack', 'cli']),
});
export type Actor = z.infer<typeof ActorSchema>;

export const EvidenceSourceSchema = z.object({
  kind: z.enum(['http', 'sql', 'host', 'engine']),
  method: z.string().max(20).optional(),
  /** Path and query of an HTTP call, or the host action's name. */
  path: z.string().max(2000).optional(),
  status: z.number().int().nullable().optional(),
  requestId: z.string().max(200).nullable().optional(),
  latencyMs: z.number().nonnegative().optional(),
  /** The query text of a SQL probe (never its bound values). */
  sql: z.string().max(4000).optional(),
});
export type EvidenceSource = z.infer<typeof EvidenceSourceSchema>;

/** One measured fact next to what the runbook expects of it. */
export const EvidenceSchema = z.object({
  label: z.string().min(1).max(200),
  measured: json,
  expected: json.optional(),
  /** Whether `measured` meets `expected`; absent when the item only records a fact. */
  ok: z.boolean().optional(),
  /** One sentence for people, e.g. why a 409 does not mean the trace is lost. */
  detail: z.string().max(1000).optional(),
  source: EvidenceSourceSchema,
});
export type Evidence = z.infer<typeof EvidenceSchema>;

export const StepErrorSchema = z.object({
  /** Stable code: an `ErrorCode` from the executors or an engine code such as `deadline_exceeded`. */
  code: z.string().min(1).max(100),
  message: z.string().max(2000),
});
export type StepError = z.infer<typeof StepErrorSchema>;

export const RunParamsSchema = z
  .object({
    /** The known trace read to prove trace readability. */
    traceId: z.string().min(1).max(200).optional(),
    /** The known workflow; workflow checks run only when it is set. */
    workflowId: z.string().min(1).max(200).optional(),
    /** Release or git SHA offered first when rolling back an upgrade. */
    previousRelease: z.string().min(1).max(200).optional(),
    /** When the failed upgrade was installed: without a `pre-upgrade` backup, only one taken before is recommended. */
    upgradedAt: z.string().min(1).max(64).optional(),
    /** The run this one continues after a decision switched scenarios. */
    switchedFrom: z.string().min(1).max(200).optional(),
  })
  .catchall(z.string().max(500));
export type RunParams = z.infer<typeof RunParamsSchema>;

export const DecisionOptionSchema = z.object({
  id: z.string().min(1).max(200),
  label: z.string().min(1).max(300),
  detail: z.string().max(1000).optional(),
  recommended: z.boolean().optional(),
  needsReason: z.boolean().optional(),
  /** The option asks the person to type a value (a backup path, a release), checked against `pattern`. */
  needsValue: z
    .object({ label: z.string().max(200), pattern: z.string().max(500), maxLength: z.number().int().positive() })
    .optional(),
  /** What choosing the option hands to later steps, e.g. the artifact id. */
  value: json.optional(),
  effect: z.string().max(200),
});
export type DecisionOption = z.infer<typeof DecisionOptionSchema>;

export const DecisionItemSchema = z.object({ id: z.string().min(1).max(200), label: z.string().max(500) });
export type DecisionItem = z.infer<typeof DecisionItemSchema>;

const base = { runId: z.string().min(1).max(200), seq: z.number().int().positive(), at: isoInstant };

export const RunStartedSchema = z.object({
  ...base,
  type: z.literal('run_started'),
  scenario: z.string().min(1).max(100),
  scenarioVersion: z.number().int().positive(),
  tenantId: z.string().min(1).max(200),
  startedBy: ActorSchema,
  params: RunParamsSchema,
  channelId: z.string().max(100).optional(),
});

/** How a host action is configured in the deployment: shown to a person, run as a program, or sent as a webhook. */
export const HostActionModeSchema = z.enum(['manual', 'command', 'http']);
export type HostActionMode = z.infer<typeof HostActionModeSchema>;

export const StepStartedSchema = z.object({
  ...base,
  type: z.literal('step_started'),
  stepId,
  attempt: z.number().int().positive(),
  /** When a polled step fails if it is still not satisfied. */
  deadlineAt: isoInstant.optional(),
  /**
   * Host actions: how the action was configured when the attempt started. After an interruption it tells whether
   * sending it again is safe (a webhook under the same Idempotency-Key) or a person must look (a command).
   */
  actionMode: HostActionModeSchema.optional(),
});

/**
 * A delivery found an attempt of an action with side effects started and never finished: the worker running it
 * stopped (killed, or its lock lost). Recorded once per attempt, before anything is repeated.
 */
export const StepInterruptedSchema = z.object({
  ...base,
  type: z.literal('step_interrupted'),
  stepId,
  attempt: z.number().int().positive(),
  actionMode: HostActionModeSchema.optional(),
  /**
   * What happens about it: `recheck` probes the effect first, `repeat` sends the action again (a webhook under the
   * same Idempotency-Key, a manual action shown again, a request DecisionGraph deduplicates), `ask` puts it to a
   * person.
   */
  next: z.enum(['recheck', 'repeat', 'ask']),
  detail: z.string().max(1000),
  /**
   * Set when the worker did not stop: the request was sent and no answer came back (reset, closed, timed out). A
   * later attempt sends the same Idempotency-Key as this one.
   */
  noAnswer: z.literal(true).optional(),
});

/**
 * A step with side effects waits before it starts: its start could not be recorded in the journal (the bot's
 * Postgres), and the action never runs without that record. The worker keeps trying; the step's start clears it.
 */
export const StepHeldSchema = z.object({
  ...base,
  type: z.literal('step_held'),
  stepId,
  attempt: z.number().int().positive(),
  reason: z.string().max(1000),
});

export const StepRecheckedSchema = z.object({
  ...base,
  type: z.literal('step_rechecked'),
  stepId,
  attempt: z.number().int().positive(),
  /** The effect of the interrupted or failed attempt is already visible: the step is not run again. */
  alreadyDone: z.boolean(),
  evidence: z.array(EvidenceSchema),
});

export const StepWaitingSchema = z.object({
  ...base,
  type: z.literal('step_waiting'),
  stepId,
  attempt: z.number().int().positive(),
  /** 1 for the first unsatisfied check of this attempt. */
  poll: z.number().int().positive(),
  nextCheckAt: isoInstant,
  deadlineAt: isoInstant.optional(),
  /**
   * Set when the check is the re-check of an interrupted attempt waiting for its effect to show (a node still
   * booting), not the step's own poll: the action does not run while it waits.
   */
  recheck: z.literal(true).optional(),
  /** Checks in a row, this one included, that DecisionGraph answered with a 5xx or a malformed answer. */
  badAnswers: z.number().int().positive().optional(),
  outputs: jsonObject,
  /** What the judge needs to remember between checks (e.g. the previous sample); not for display. */
  progress: json.optional(),
  evidence: z.array(EvidenceSchema),
});

export const StepPassedSchema = z.object({
  ...base,
  type: z.literal('step_passed'),
  stepId,
  attempt: z.number().int().nonnegative(),
  outputs: jsonObject,
  evidence: z.array(EvidenceSchema),
});

export const StepFailedSchema = z.object({
  ...base,
  type: z.literal('step_failed'),
  stepId,
  attempt: z.number().int().nonnegative(),
  error: StepErrorSchema,
  transient: z.boolean(),
  /** Set when the step's retry policy runs another attempt on its own at this time. */
  retryAt: isoInstant.optional(),
  outputs: jsonObject.optional(),
  evidence: z.array(EvidenceSchema),
  /** The person who reported a manual action as not done. */
  by: ActorSchema.optional(),
});

export const StepSkippedSchema = z.object({
  ...base,
  type: z.literal('step_skipped'),
  stepId,
  /** `null` when the engine skipped it (a condition, a decision, an approval that was skipped). */
  by: ActorSchema.nullable(),
  reason: z.string().max(1000),
  cause: z.enum(['condition', 'decision', 'operator', 'guard']),
  /** A skip of a safety check or the checklist: the second person who confirmed it, and why. */
  confirmedBy: ActorSchema.optional(),
  confirmReason: personText.optional(),
});

/**
 * Someone asked to skip a failed safety check or the checklist: the run stays paused until a second person, as
 * for an approval, confirms it with a Skip of their own.
 */
export const SkipRequestedSchema = z.object({
  ...base,
  type: z.literal('skip_requested'),
  stepId,
  by: ActorSchema,
  reason: personText,
});

export const DecisionRequestedSchema = z.object({
  ...base,
  type: z.literal('decision_requested'),
  stepId,
  /** For a decision asked once per item (e.g. per orphaned replay run). */
  item: DecisionItemSchema.optional(),
  prompt: z.string().max(2000),
  options: z.array(DecisionOptionSchema).min(1),
  evidence: z.array(EvidenceSchema),
});

export const DecisionMadeSchema = z.object({
  ...base,
  type: z.literal('decision_made'),
  stepId,
  item: DecisionItemSchema.optional(),
  optionId: z.string().min(1).max(200),
  by: ActorSchema,
  reason: personText.optional(),
  value: z.string().max(MAX_REASON_LENGTH).optional(),
});

export const ApprovalRequestedSchema = z.object({
  ...base,
  type: z.literal('approval_requested'),
  stepId,
  /** 1 for the first request; a voided approval is asked again with the next round. */
  round: z.number().int().positive(),
  /** The destructive step this approval lets run. */
  guards: stepId,
  prompt: z.string().max(2000),
  /** User or user-group ids who may approve; `null`: anyone. */
  approvers: z.array(z.string().max(200)).nullable(),
  /** Who may not approve (the starter, under the two-person rule). */
  excluded: z.array(z.string().max(200)),
  /** Digest of what the approver is shown; re-measured before the guarded step runs. */
  fingerprint: z.string().min(1).max(100),
  evidence: z.array(EvidenceSchema),
});

export const ApprovalGrantedSchema = z.object({
  ...base,
  type: z.literal('approval_granted'),
  stepId,
  round: z.number().int().positive(),
  by: ActorSchema,
  fingerprint: z.string().min(1).max(100),
});

export const ApprovalVoidedSchema = z.object({
  ...base,
  type: z.literal('approval_voided'),
  stepId,
  round: z.number().int().positive(),
  reason: z.string().max(1000),
  seenFingerprint: z.string().max(100),
  currentFingerprint: z.string().max(100),
  evidence: z.array(EvidenceSchema),
});

/** Nobody approved within the approval timeout: the request is closed and the run pauses. */
export const ApprovalExpiredSchema = z.object({
  ...base,
  type: z.literal('approval_expired'),
  stepId,
  round: z.number().int().positive(),
  /** Who could have approved, as the request named them; `null`: anyone. */
  approvers: z.array(z.string().max(200)).nullable(),
  /** The approval timeout in force. */
  timeoutMs: z.number().int().positive(),
  requestedAt: isoInstant,
});

/**
 * Someone who may approve (or the starter) said no: the guarded step does not run and the request is closed. With
 * `reopens` the decision the approval is bound to is asked again; without it the run pauses (Retry, Abort).
 */
export const ApprovalRejectedSchema = z.object({
  ...base,
  type: z.literal('approval_rejected'),
  stepId,
  round: z.number().int().positive(),
  by: ActorSchema,
  reopens: z
    .object({
      /** The decision asked again; its rejected choice is kept aside and marked when it is asked. */
      decision: stepId,
      optionId: z.string().min(1).max(200),
      /** The steps from the decision up to the approval, back to pending. */
      steps: z.array(stepId).max(200),
    })
    .optional(),
});

export const ManualActionRequestedSchema = z.object({
  ...base,
  type: z.literal('manual_action_requested'),
  stepId,
  attempt: z.number().int().positive(),
  instructions: z.string().max(4000),
  evidence: z.array(EvidenceSchema),
});

export const ManualActionDoneSchema = z.object({
  ...base,
  type: z.literal('manual_action_done'),
  stepId,
  attempt: z.number().int().positive(),
  by: ActorSchema,
  note: personText.optional(),
});

export const RunPausedSchema = z.object({
  ...base,
  type: z.literal('run_paused'),
  reason: z.string().max(2000),
  stepId: stepId.optional(),
  /** What the person may do next. */
  options: z.array(z.enum(['retry', 'skip', 'abort'])),
});

export const RunResumedSchema = z.object({
  ...base,
  type: z.literal('run_resumed'),
  by: ActorSchema,
  action: z.enum(['retry', 'skip']),
  stepId,
  reason: personText.optional(),
});

export const RunAbortedSchema = z.object({
  ...base,
  type: z.literal('run_aborted'),
  by: ActorSchema,
  reason: personText,
  /** The step the run was in, if any. */
  stepId: stepId.optional(),
});

export const GateResultSchema = z.object({
  stepId,
  passed: z.boolean(),
  /** Failing checklist conditions, as `{condition, detail, measured, expected}`. */
  failing: z.array(
    z.object({ condition: z.string().max(100), detail: z.string().max(2000), measured: json, expected: json }),
  ),
  skipped: z.boolean().optional(),
});
export type GateResult = z.infer<typeof GateResultSchema>;

export const RunFinishedSchema = z.object({
  ...base,
  type: z.literal('run_finished'),
  /** `recovered_with_exceptions`: the checklist passed, but a failed step was skipped on the way. */
  outcome: z.enum(['recovered', 'recovered_with_exceptions', 'failed', 'aborted', 'switched']),
  gate: GateResultSchema.optional(),
  /** For `switched`: the scenario the operator chose to run instead. */
  switchTo: z.string().max(100).optional(),
  reason: z.string().max(2000).optional(),
});

export const RunEventSchema = z.discriminatedUnion('type', [
  RunStartedSchema,
  StepStartedSchema,
  StepInterruptedSchema,
  StepHeldSchema,
  StepRecheckedSchema,
  StepWaitingSchema,
  StepPassedSchema,
  StepFailedSchema,
  StepSkippedSchema,
  SkipRequestedSchema,
  DecisionRequestedSchema,
  DecisionMadeSchema,
  ApprovalRequestedSchema,
  ApprovalGrantedSchema,
  ApprovalVoidedSchema,
  ApprovalExpiredSchema,
  ApprovalRejectedSchema,
  ManualActionRequestedSchema,
  ManualActionDoneSchema,
  RunPausedSchema,
  RunResumedSchema,
  RunAbortedSchema,
  RunFinishedSchema,
]);

export type RunEvent = z.infer<typeof RunEventSchema>;
export type RunEventType = RunEvent['type'];
export type RunEventOf<T extends RunEventType> = Extract<RunEvent, { type: T }>;
export type RunOutcome = RunEventOf<'run_finished'>['outcome'];

export const RUN_EVENT_TYPES: readonly RunEventType[] = RunEventSchema.options.map((o) => o.shape.type.value);

/** An event as the engine builds it, before the run log gives it its envelope. */
export type RunEventBody = RunEvent extends infer E
  ? E extends RunEvent
    ? Omit<E, 'runId' | 'seq' | 'at'>
    : never
  : never;
