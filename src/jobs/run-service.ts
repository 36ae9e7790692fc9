import { randomBytes } from 'node:crypto';
import type { Access } from '../config/recovery-config.js';
import { channelAllowed } from '../config/recovery-config.js';
import type { Logger } from '../logger.js';
import {
  type AccessPolicy,
  applyAbort,
  applyApproval,
  applyDecision,
  applyManualResult,
  applyRetry,
  applySkip,
  type CommandActor,
  type CommandResult,
  foldRun,
  isValidRunId,
  parseRunLog,
  type RunEvent,
  type RunState,
  startRun,
} from '../runbook/index.js';
import type { Journal } from '../store/index.js';
import { type LoadedRun, MAX_APPEND_ROUNDS, type RunDriver } from './run-driver.js';
import type { RunEventsBus, SubscribeOptions } from './run-events-bus.js';

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
}

/** What the terminal front end and Slack use to start and steer runs. */
export interface RunService {
  start(req: StartRequest): Promise<StartOutcome>;
  decide(runId: string, input: DecideInput): Promise<CommandOutcome>;
  approve(runId: string, input: { stepId: string; actor: RunActor; fingerprint?: string }): Promise<CommandOutcome>;
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

export interface RunServiceOptions {
  readonly driver: RunDriver;
  readonly bus: RunEventsBus;
  /** For reading finished runs the live log no longer holds; undefined when this process has no journal. */
  readonly journal: Journal | undefined;
  readonly access: Access;
  readonly defaults: {
    readonly tenantId: string;
    readonly traceId: string;
    readonly workflowId: string | undefined;
    readonly previousRelease: string | undefined;
  };
  readonly logger: Logger;
}

/** The recovery config's access section as the engine's policy. */
export function accessPolicyOf(access: Access): AccessPolicy {
  return { operators: access.operators, approvers: access.approvers, twoPersonRule: access.twoPersonRule };
}

/** `run-` and 10 random hex digits: fits the engine's run id rule, job ids and Slack block ids. */
export function newRunId(): string {
  return `run-${randomBytes(5).toString('hex')}`;
}

function refused(code: string, message: string): CommandOutcome {
  return { ok: false, code, message };
}

function toCommandActor(actor: RunActor): CommandActor {
  return {
    id: actor.id,
    ...(actor.name !== undefined ? { name: actor.name } : {}),
    via: actor.via,
    ...(actor.groups ? { groups: actor.groups } : {}),
  };
}

export function createRunService(options: RunServiceOptions): RunService {
  const { driver, bus, logger } = options;
  const policy = accessPolicyOf(options.access);

  /** Read, apply the person's command, compare-and-append; a lost race re-reads and applies it again. */
  const command = async (
    runId: string,
    what: string,
    apply: (run: LoadedRun, now: Date) => CommandResult,
  ): Promise<CommandOutcome> => {
    if (!isValidRunId(runId)) return refused('invalid_run_id', 'that is not a run id');
    try {
      for (let round = 0; round < MAX_APPEND_ROUNDS; round++) {
        // First from the state last seen here: an append from an old one is refused by Redis. A refusal, or a
        // command found already done (it appends nothing, so Redis checks nothing), is answered only from the log.
        const remembered = round === 0;
        const run = remembered ? await driver.loadRecent(runId) : await driver.load(runId);
        if (!run) return refused('unknown_run', `no run ${runId}`);
        const result = apply(run, driver.now());
        if (remembered && (!result.ok || result.events.length === 0)) continue;
        if (!result.ok) return refused(result.refusal.code, result.refusal.message);
        // The command's events and the engine's bookkeeping after them go in one compare-and-append.
        const appended = await driver.appendAndAdvance(run.state, run.scenario, result.events);
        if (!appended.ok) continue;
        if (appended.actError !== undefined) {
          // The command is recorded; the reconciler enqueues whatever could not be enqueued now.
          logger.warn({ runId, err: appended.actError, command: what }, 'could not advance the run after a command');
        }
        if (result.events.length > 0) logger.info({ runId, command: what }, 'command applied');
        return { ok: true, events: appended.decided.events };
      }
      return refused('busy', `run ${runId} kept changing; try again`);
    } catch (err) {
      logger.error({ runId, err, command: what }, 'command failed');
      return refused('unavailable', `the run could not be read or written: ${(err as Error).message}`.slice(0, 500));
    }
  };

  return {
    async start(req) {
      if (req.channelId !== undefined && !channelAllowed(options.access, req.channelId)) {
        return { ok: false, code: 'channel_not_allowed', message: 'recovery runs are not started from this channel' };
      }
      const d = options.defaults;
      const tenantId = req.tenantId ?? d.tenantId;
      const started = startRun(
        {
          runId: newRunId(),
          scenario: req.scenario,
          tenantId,
          startedBy: toCommandActor(req.actor),
          params: {
            traceId: req.params?.traceId ?? d.traceId,
            workflowId: req.params?.workflowId ?? d.workflowId,
            previousRelease: req.params?.previousRelease ?? d.previousRelease,
            upgradedAt: req.params?.upgradedAt,
          },
          ...(req.channelId !== undefined ? { channelId: req.channelId } : {}),
        },
        policy,
        driver.now(),
      );
      if (!started.ok) return { ok: false, code: started.refusal.code, message: started.refusal.message };
      try {
        // After a Redis loss the unfinished runs must hold their slots again before a new run may take one.
        await driver.restoreIfRedisLost().catch((err: unknown) => {
          logger.warn({ err }, 'could not check the journal for runs Redis lost');
        });
        return await driver.launch(started.scenario, started.events[0] as RunEvent);
      } catch (err) {
        logger.error({ err, scenario: started.scenario.name }, 'could not start a run');
        return { ok: false, code: 'unavailable', message: `the run could not be started: ${(err as Error).message}` };
      }
    },

    decide(runId, input) {
      return command(runId, 'decide', (run, now) =>
        applyDecision(
          run.state,
          run.scenario,
          {
            stepId: input.stepId,
            optionId: input.optionId,
            by: toCommandActor(input.actor),
            ...(input.itemId !== undefined ? { itemId: input.itemId } : {}),
            ...(input.reason !== undefined ? { reason: input.reason } : {}),
            ...(input.value !== undefined ? { value: input.value } : {}),
          },
          policy,
          now,
        ),
      );
    },

    approve(runId, input) {
      return command(runId, 'approve', (run, now) =>
        applyApproval(
          run.state,
          run.scenario,
          {
            stepId: input.stepId,
            by: toCommandActor(input.actor),
            ...(input.fingerprint !== undefined ? { fingerprint: input.fingerprint } : {}),
          },
          policy,
          now,
        ),
      );
    },

    manualDone(runId, input) {
      return command(runId, 'manual', (run, now) =>
        applyManualResult(
          run.state,
          run.scenario,
          {
            stepId: input.stepId,
            by: toCommandActor(input.actor),
            outcome: input.failed ? 'failed' : 'done',
            ...(input.note !== undefined ? { note: input.note } : {}),
          },
          policy,
          now,
        ),
      );
    },

    retry(runId, input) {
      return command(runId, 'retry', (run, now) =>
        applyRetry(run.state, run.scenario, { by: toCommandActor(input.actor) }, policy, now),
      );
    },

    skip(runId, input) {
      return command(runId, 'skip', (run, now) =>
        applySkip(run.state, run.scenario, { by: toCommandActor(input.actor), reason: input.reason }, policy, now),
      );
    },

    abort(runId, input) {
      return command(runId, 'abort', (run, now) =>
        applyAbort(run.state, { by: toCommandActor(input.actor), reason: input.reason }, policy, now),
      );
    },

    async get(runId) {
      if (!isValidRunId(runId)) return null;
      const live = await driver.store.read<RunEvent>(runId);
      if (live.length > 0) return { events: live, state: foldRun(live) };
      if (!options.journal) return null;
      const loaded = await options.journal.loadRun(runId);
      if (!loaded || loaded.events.length === 0) return null;
      const events = parseRunLog(loaded.events);
      return { events, state: foldRun(events) };
    },

    async listActive() {
      const out: ActiveRun[] = [];
      for (const runId of await driver.store.listActiveRuns()) {
        const events = await driver.store.read<RunEvent>(runId);
        if (events.length === 0) continue;
        const state = foldRun(events);
        out.push({
          runId,
          scenario: state.scenario,
          tenantId: state.tenantId,
          status: state.status,
          ...(state.currentStepId ? { currentStep: state.currentStepId } : {}),
        });
      }
      return out;
    },

    subscribe(runId, onEvent, subscribeOptions) {
      return bus.subscribe(runId, onEvent, subscribeOptions);
    },
  };
}
