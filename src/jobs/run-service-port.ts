import type { RunEvent, RunState, WaitKind } from '../runbook/index.js';
import type { SubscribeOptions } from './run-events-bus.js';

// The run service as both front ends (Slack and the terminal) and their projections see it. Types only: a front
// end depends on what the service does, and `createRunService` in `run-service.ts` is the one that does it.

/** A person sending a command, as the front end (Slack or the terminal) identified them. */
export interface RunActor {
  readonly id: string;
  readonly name?: string;
  readonly via: 'slack' | 'cli';
  /** User-group ids the front end resolved for them, checked against the access lists. */
  readonly groups?: readonly string[];
}

/**
 * A command's result. Refusals carry the engine's code (`not_operator`, `same_person`, `reason_required`, ...) or
 * one of the job layer's: `unknown_run`, `invalid_run_id`, `busy`, `unavailable`.
 */
export type CommandOutcome =
  | { readonly ok: true; readonly events: RunEvent[] }
  | { readonly ok: false; readonly code: string; readonly message: string };

export type StartOutcome =
  | { readonly ok: true; readonly runId: string }
  /** `run_active` comes with the id of the run that holds the slot. */
  | { readonly ok: false; readonly code: string; readonly message: string; readonly activeRunId?: string };

export interface StartRequest {
  /** A scenario name or alias, as typed. */
  readonly scenario: string;
  /** @defaultValue the configured `DG_TENANT_ID` */
  readonly tenantId?: string;
  /** @defaultValue the configured known trace and workflow */
  readonly params?: {
    readonly traceId?: string;
    readonly workflowId?: string;
    readonly previousRelease?: string;
    /** When the failed upgrade was installed (ISO 8601 with a zone). */
    readonly upgradedAt?: string;
  };
  readonly actor: RunActor;
  /** Where the run was asked for; checked against the configured channels. */
  readonly channelId?: string;
}

export interface DecideInput {
  readonly stepId: string;
  readonly optionId: string;
  readonly reason?: string;
  readonly actor: RunActor;
  /** For a decision asked once per item (each orphaned replay run): the item's id. */
  readonly itemId?: string;
  /** For an option that asks for a typed value (a backup path, a release). */
  readonly value?: string;
}

export interface ActiveRun {
  readonly runId: string;
  readonly scenario: string;
  readonly tenantId: string;
  readonly status: string;
  readonly currentStep?: string;
  /** What the run waits for a person to do, at which step, and who it calls; absent while it works on its own. */
  readonly waiting?: {
    readonly kind: WaitKind;
    readonly stepId: string | undefined;
    readonly since: string;
    readonly call: readonly string[];
  };
}

/** What the terminal front end and Slack use to start and steer runs. */
export interface RunService {
  start(req: StartRequest): Promise<StartOutcome>;
  decide(runId: string, input: DecideInput): Promise<CommandOutcome>;
  approve(runId: string, input: { stepId: string; actor: RunActor; fingerprint?: string }): Promise<CommandOutcome>;
  /** Rejects the open approval: the run pauses with Retry (ask again) and Abort. */
  reject(runId: string, input: { stepId: string; actor: RunActor }): Promise<CommandOutcome>;
  /** Reports a manual action as done (or, with `failed`, as not done: the run pauses). */
  manualDone(
    runId: string,
    input: { stepId: string; actor: RunActor; note?: string; failed?: boolean },
  ): Promise<CommandOutcome>;
  retry(runId: string, input: { actor: RunActor }): Promise<CommandOutcome>;
  skip(runId: string, input: { actor: RunActor; reason: string }): Promise<CommandOutcome>;
  abort(runId: string, input: { actor: RunActor; reason: string }): Promise<CommandOutcome>;
  /** The run's events and state from the live log, falling back to the journal; `null` when neither knows it. */
  get(runId: string): Promise<{ events: RunEvent[]; state: RunState } | null>;
  listActive(): Promise<ActiveRun[]>;
  /**
   * Live events of one run (or `'*'`, every run) in seq order, each once, published after each append. A
   * switched run's successor names its predecessor in `run_started.params.switchedFrom`.
   */
  subscribe(
    runId: string | '*',
    onEvent: (e: RunEvent) => void,
    options?: SubscribeOptions,
  ): Promise<() => Promise<void>>;
}
