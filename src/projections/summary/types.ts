import type {
  Actor,
  DecisionItem,
  Evidence,
  GateResult,
  HostActionMode,
  RunOutcome,
  StepError,
} from '../../runbook/events.js';
import type { Risk, StepKind } from '../../runbook/scenario-schema.js';
import type { StepSkip } from '../../runbook/state.js';

/**
 * A piece of text in the summary. A string is shown as text (renderers escape it for their format); `{ code }`
 * is shown as inline code (ids, commands, values). Renderers never interpret either as markup.
 */
export type Inline = string | { readonly code: string };
export type RichText = readonly Inline[];

/** `in_progress` when the summary is made of a run that has not finished (`/dg summary` on a live run). */
export type SummaryOutcome = RunOutcome | 'in_progress';

export type StepOutcome = 'passed' | 'failed' | 'skipped' | 'not_reached' | 'in_progress' | 'interrupted';

/**
 * An attempt the bot found started and never finished (the worker running it stopped), and what became of it:
 * its effect probed first, the action sent again, or the question put to people and how they answered.
 */
export interface InterruptionSummary {
  readonly stepId: string;
  readonly attempt: number;
  /** When it was found. */
  readonly at: string;
  /** How the action was configured when the attempt started; absent when not recorded. */
  readonly actionMode?: HostActionMode;
  readonly handling: 'recheck' | 'repeat' | 'ask';
  /** `recheck`: whether the effect was found already there (not repeated); absent until re-checked. */
  readonly alreadyDone?: boolean;
  /** `ask`: the answer people gave; absent while nobody has. */
  readonly answer?: {
    readonly optionId: string;
    readonly optionLabel: string;
    readonly by: Actor;
    readonly at: string;
    readonly reason?: string;
  };
}

export interface StepSummary {
  /** 1-based position in the scenario (steps the scenario does not know come last). */
  readonly index: number;
  readonly id: string;
  readonly title: string;
  /** `unknown` for a step the scenario definition does not have (an older version of it). */
  readonly kind: StepKind | 'unknown';
  readonly risk: Risk | 'unknown';
  readonly executor?: string;
  readonly outcome: StepOutcome;
  readonly attempts: number;
  /** Unsatisfied checks over all attempts (polled steps). */
  readonly checks: number;
  /** Failed attempts, the last one included when the step ended failed. */
  readonly failures: number;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly durationMs: number | null;
  /** A re-check found the action's effect already there, so the action was not repeated. */
  readonly alreadyDone: boolean;
  readonly error?: StepError;
  /** Who skipped it and why; for a safety check, the second person who confirmed it. */
  readonly skip?: StepSkip;
  /** The evidence of the step's latest outcome: measured values against expected ones. */
  readonly evidence: readonly Evidence[];
  /** Attempts found interrupted, in log order. */
  readonly interruptions: readonly InterruptionSummary[];
}

export interface OfferedOption {
  readonly id: string;
  readonly label: string;
  readonly recommended: boolean;
}

export interface DecisionSummary {
  readonly seq: number;
  readonly stepId: string;
  readonly stepTitle: string;
  readonly item?: DecisionItem;
  /** The question as it was asked (null when the log holds no matching request). */
  readonly prompt: string | null;
  readonly requestedAt: string | null;
  readonly at: string;
  readonly by: Actor;
  readonly optionId: string;
  readonly optionLabel: string;
  /** The chosen option was the one the bot recommended. */
  readonly followedRecommendation: boolean;
  /** The recommended option's label when another one was chosen. */
  readonly recommendedLabel?: string;
  readonly reason?: string;
  readonly value?: string;
  readonly offered: readonly OfferedOption[];
  /** The evidence shown with the question. */
  readonly saw: readonly Evidence[];
  readonly waitedMs: number | null;
  /** The question was whether this interrupted attempt of the action had finished. */
  readonly interruptedAttempt?: number;
}

export type ApprovalOutcome = 'granted' | 'voided' | 'expired' | 'open' | 'not_given';

export interface ApprovalSummary {
  readonly seq: number;
  readonly stepId: string;
  readonly stepTitle: string;
  readonly guards: string;
  readonly guardsTitle: string;
  readonly round: number;
  readonly requestedAt: string;
  readonly prompt: string;
  /** Who could approve (`null`: anyone) and who could not (the starter, under the two-person rule). */
  readonly approvers: readonly string[] | null;
  readonly excluded: readonly string[];
  readonly fingerprint: string;
  /** The evidence shown to the approver; the approval is bound to it by `fingerprint`. */
  readonly saw: readonly Evidence[];
  readonly outcome: ApprovalOutcome;
  readonly grantedBy?: Actor;
  readonly grantedAt?: string;
  readonly voided?: { readonly reason: string; readonly at: string; readonly currentFingerprint: string };
  /** Nobody approved within the approval timeout (`timeoutMs`): the request closed and the run paused. */
  readonly expired?: { readonly at: string; readonly timeoutMs: number };
}

export type HostActionMeans = 'command' | 'webhook' | 'by hand' | 'unknown';
/** `reported done`: interrupted, and a person said it had finished (the bot did not see it finish). */
export type HostActionOutcome =
  | 'done'
  | 'already done'
  | 'reported done'
  | 'failed'
  | 'not confirmed'
  | 'in progress'
  | 'not run';

export interface HostActionSummary {
  readonly stepId: string;
  readonly title: string;
  /** The recovery config's action name (`restart_runtime`…), or `manual` for a step the runbook leaves to people. */
  readonly action: string;
  readonly risk: Risk | 'unknown';
  readonly means: HostActionMeans;
  readonly outcome: HostActionOutcome;
  readonly at: string | null;
  /** The person who did it by hand, or who said an interrupted attempt of it had finished. */
  readonly by?: Actor;
  readonly note?: string;
  /** Values people chose for the action, e.g. `artifact nightly-0307`, `release v1.4.2`. */
  readonly chosen?: string;
  /** What ran: the command line, the webhook call and its status, or the instructions given. */
  readonly detail?: string;
  readonly error?: StepError;
  readonly evidence: readonly Evidence[];
}

export type ManualActionId = 'orphaned_runs' | 'semantic_or_transient' | 'backup_choice' | 'service_accounts';
/**
 * `decided`: people made the call (recorded with who and why). `open`: asked, not answered. `not_needed`: the run
 * found nothing to decide. `not_checked`: the run ended before it looked. `not_applicable`: the scenario has no
 * such decision. `reminder`: a standing duty this run gave cause to remember.
 */
export type ManualActionStatus = 'decided' | 'open' | 'not_needed' | 'not_checked' | 'not_applicable' | 'reminder';

export interface ManualActionItem {
  readonly label: RichText;
  readonly decision?: string;
  readonly by?: Actor;
  readonly at?: string;
  readonly reason?: string;
}

/** One of the runbook's "manual actions that are still required", as it applied to this run. */
export interface ManualActionSummary {
  readonly id: ManualActionId;
  readonly title: string;
  readonly status: ManualActionStatus;
  readonly detail: RichText;
  readonly items: readonly ManualActionItem[];
}

export interface FinalHealth {
  /** The checklist gate ran (passed or failed). */
  readonly checked: boolean;
  readonly passed: boolean | null;
  readonly stepId: string | null;
  readonly at: string | null;
  readonly failing: GateResult['failing'];
  /** Checklist conditions that had no input (e.g. no SQL facts). */
  readonly unchecked: readonly string[];
  /** Orphaned runs a person decided about: listed, not held against the gate. */
  readonly acknowledgedRuns: readonly string[];
  /** Checklist items no API or table shows, left to people. */
  readonly manualChecks: readonly string[];
  /** Other tenants whose projections were behind or failing at the last reading: each needs its own run. */
  readonly otherTenants: readonly string[];
  readonly evidence: readonly Evidence[];
  readonly note: RichText;
}

export type FollowUpId =
  | 'preserved_database'
  | 'events_not_restored'
  | 'rebuild_disabled'
  | 'writes_stopped'
  | 'runtime_stopped'
  | 'orphans_ignored'
  | 'no_replay'
  | 'unconfirmed_action'
  | 'approval_pending'
  | 'decision_pending'
  | 'step_failed'
  | 'step_skipped'
  | 'checklist_failing'
  | 'aborted'
  | 'switched'
  | 'release_rolled_back'
  | 'other_tenants';

export interface FollowUp {
  readonly id: FollowUpId;
  readonly text: RichText;
}

export interface TimelineEntry {
  readonly seq: number;
  readonly at: string;
  /** Milliseconds since the run started. */
  readonly offsetMs: number;
  readonly type: string;
  readonly text: RichText;
}

/** Everything the incident record says about one run, made from its event log alone. */
export interface IncidentSummary {
  readonly runId: string;
  readonly scenario: {
    readonly name: string;
    readonly title: string;
    readonly version: number;
    /** The scenario definition was available; without it step titles fall back to step ids. */
    readonly known: boolean;
  };
  readonly tenantId: string;
  readonly trigger: {
    readonly startedBy: Actor;
    readonly channelId?: string;
    /** Run parameters, sorted by name. */
    readonly params: readonly { readonly name: string; readonly value: string }[];
    readonly switchedFrom?: string;
  };
  readonly outcome: SummaryOutcome;
  readonly outcomeReason?: string;
  readonly switchTo?: string;
  readonly abort?: { readonly by: Actor; readonly reason: string; readonly at: string; readonly stepId?: string };
  readonly times: {
    readonly startedAt: string;
    readonly endedAt: string | null;
    readonly durationMs: number | null;
    /** First moment DecisionGraph answered with its database connected. */
    readonly reachableAt: string | null;
    readonly timeToReachableMs: number | null;
    /** When the recovery checklist passed. */
    readonly healthyAt: string | null;
    readonly timeToHealthyMs: number | null;
    /** Time of the last event. */
    readonly lastEventAt: string;
  };
  readonly steps: readonly StepSummary[];
  readonly decisions: readonly DecisionSummary[];
  readonly approvals: readonly ApprovalSummary[];
  readonly hostActions: readonly HostActionSummary[];
  readonly manualActions: readonly ManualActionSummary[];
  readonly finalHealth: FinalHealth;
  readonly followUps: readonly FollowUp[];
  readonly timeline: readonly TimelineEntry[];
  readonly eventCount: number;
}
