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
  applyRejection,
  applyRetry,
  applySkip,
  type CommandActor,
  type CommandResult,
  foldRun,
  isValidRunId,
  parseRunLog,
  type RunEvent,
  startRun,
  whoIsAwaited,
} from '../runbook/index.js';
import type { Journal } from '../store/index.js';
import { type LoadedRun, MAX_APPEND_ROUNDS, type RunDriver } from './run-driver.js';
import type { RunEventsBus } from './run-events-bus.js';
import type { ActiveRun, CommandOutcome, RunActor, RunService } from './run-service-port.js';

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

    reject(runId, input) {
      return command(runId, 'reject', (run, now) =>
        applyRejection(run.state, run.scenario, { stepId: input.stepId, by: toCommandActor(input.actor) }, policy, now),
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
        const awaited = whoIsAwaited(state, policy.operators);
        out.push({
          runId,
          scenario: state.scenario,
          tenantId: state.tenantId,
          status: state.status,
          ...(state.currentStepId ? { currentStep: state.currentStepId } : {}),
          ...(awaited ? { waiting: { ...awaited.wait, call: awaited.call } } : {}),
        });
      }
      return out;
    },

    subscribe(runId, onEvent, subscribeOptions) {
      return bus.subscribe(runId, onEvent, subscribeOptions);
    },
  };
}
