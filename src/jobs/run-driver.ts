import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { JobsOptions, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import {
  type AccessPolicy,
  decideNext,
  type EngineCommand,
  type EngineOptions,
  type EngineOutput,
  foldOnto,
  foldRun,
  type HostActionMode,
  isWriteThrough,
  type RunEvent,
  type RunState,
  type Scenario,
  startRun,
} from '../runbook/index.js';
import { RunBusyError } from './job-errors.js';
import { OnTimePromoter } from './on-time-promoter.js';
import {
  enqueueApprovalTimeout,
  enqueueStepJob,
  isStepJobCommand,
  type StepJobCommand,
  type StepJobData,
} from './queues.js';
import type { RunLogStore, RunRecovery, RunSlot } from './run-log/index.js';

/** Rounds of read → decide → compare-and-append before a writer gives up on a run that keeps changing. */
export const MAX_APPEND_ROUNDS = 8;

/** Runs whose latest state this process keeps in memory (most recently touched first to stay). */
const RECENT_RUNS = 1000;

export interface LoadedRun {
  readonly state: RunState;
  readonly scenario: Scenario;
}

export type AppendOutcome =
  /** `unjournaled`: the append holds the start or outcome of a side effect, and the journal did not take it. */
  { readonly ok: true; readonly state: RunState; readonly unjournaled?: true } | { readonly ok: false };

export type AdvanceResult =
  /** Neither the live log nor the journal knows the run. */
  | { readonly kind: 'missing' }
  /** The run wants the very job that asked (after bookkeeping events were appended): it should go on. */
  | { readonly kind: 'self'; readonly events: RunEvent[] }
  | { readonly kind: 'done'; readonly command: EngineCommand; readonly events: RunEvent[]; readonly state: RunState };

/** What the engine decided after an append: every event appended (the caller's, then its bookkeeping) and the command. */
export interface Decided extends EngineOutput {
  /** The bookkeeping finished the run as `switched`: a successor run is to be started. */
  readonly switching: boolean;
  /** When the engine decided, on this process's monotonic clock: a step job's delay counts from here. */
  readonly decidedAtMonoMs: number;
}

export type AdvancedAppend =
  | {
      readonly ok: true;
      readonly state: RunState;
      readonly decided: Decided;
      /** Carrying out the command failed after the events were recorded. */
      readonly actError?: unknown;
    }
  | { readonly ok: false };

/** Pauses before each further try of carrying out a command whose events are recorded (about 3.5 s in all). */
const ACT_RETRY_DELAYS_MS = [250, 1000, 2250];

async function retrying(act: () => Promise<void>): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await act();
    } catch (err) {
      const delay = ACT_RETRY_DELAYS_MS[attempt];
      if (delay === undefined) throw err;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

function isSwitch(events: readonly RunEvent[]): boolean {
  return events.some((e) => e.type === 'run_finished' && e.outcome === 'switched');
}

export type LaunchResult =
  | { readonly ok: true; readonly runId: string }
  | { readonly ok: false; readonly code: string; readonly message: string; readonly activeRunId?: string };

export interface RunDriverOptions {
  readonly store: RunLogStore;
  /** Undefined when the journal is not available to this process. */
  readonly recovery: RunRecovery | undefined;
  /**
   * The step queue, on the store's Redis connection: a step job is sent right behind the append it follows from
   * and must not overtake it.
   */
  readonly queue: Queue<StepJobData>;
  readonly jobOptions: JobsOptions;
  /** Commands on the side: start markers and the switch index. */
  readonly redis: Redis;
  readonly prefix: string;
  readonly access: AccessPolicy;
  /** An approval nobody gave for this long expires and the run pauses. @defaultValue the engine's (60 min) */
  readonly approvalTimeoutMs?: number;
  /**
   * How each host action is configured, by action name; recorded when a step starts, so that after a crash the
   * engine knows whether repeating it is safe. @defaultValue none: an interrupted host action is put to a person
   */
  readonly hostActionModes?: Readonly<Partial<Record<string, HostActionMode>>>;
  readonly clock: () => Date;
  /** The scenario a run of this name follows (possibly with scaled timing). */
  readonly scenarioFor: (name: string) => Scenario;
  readonly logger: Logger;
  /** Called after every successful append, before anything else happens; for metrics and drills. */
  readonly onAppended?: (runId: string, events: readonly RunEvent[]) => void;
}

/** Which slot a run of this scenario takes: one node-wide run per deployment, one `projections` run per tenant. */
export function slotOf(scenario: Scenario, tenantId: string): RunSlot {
  return scenario.scope === 'tenant' ? { scope: 'tenant', tenantId } : { scope: 'node' };
}

/** The id of the run a `switched` run continues in: derived, so a repeated hand-over starts it once. */
export function switchedRunId(runId: string): string {
  return `run-${createHash('sha256').update(`${runId}:switched`).digest('hex').slice(0, 12)}`;
}

function keys(prefix: string) {
  return {
    /** Set while a start is between taking its slot and appending `run_started`. */
    starting: (runId: string) => `${prefix}jobs:starting:${runId}`,
    /** Runs whose `switched` finish has been decided and whose successor may not have started yet. */
    switching: `${prefix}jobs:switching`,
    /** Set once Redis holds the runs; missing means Redis lost its data (or never had any). */
    alive: `${prefix}jobs:alive`,
  };
}

/**
 * The loop every writer of a run shares: read the log, let the engine decide, compare-and-append, act on the
 * command. Every write is a compare-and-append on the seq the decision was made from; a lost race re-reads and
 * decides again, so nothing is appended twice.
 */
export class RunDriver {
  private readonly k: ReturnType<typeof keys>;
  private readonly promoter: OnTimePromoter;
  /** The state of each run as this process last read or appended it; see {@link loadRecent}. */
  private readonly recent = new Map<string, LoadedRun>();
  /** The JSON of the last event each state was folded from, which every append from that state requires. */
  private readonly tails = new WeakMap<RunState, string>();
  readonly engineOptions: EngineOptions;

  constructor(private readonly o: RunDriverOptions) {
    this.k = keys(o.prefix);
    this.promoter = new OnTimePromoter(o.queue, o.logger);
    this.engineOptions = {
      access: o.access,
      ...(o.approvalTimeoutMs !== undefined ? { approvalTimeoutMs: o.approvalTimeoutMs } : {}),
      ...(o.hostActionModes !== undefined ? { hostActionModes: o.hostActionModes } : {}),
    };
  }

  get store(): RunLogStore {
    return this.o.store;
  }

  now(): Date {
    return this.o.clock();
  }

  /**
   * The run from the live log. A run the live log lost (Redis flushed) is put back from the journal first, so a
   * person's command or a job after the loss continues it instead of failing.
   */
  async load(runId: string): Promise<LoadedRun | undefined> {
    let events = await this.o.store.read<RunEvent>(runId);
    if (events.length === 0 && this.o.recovery) {
      const report = await this.o.recovery.rebuildFromJournal(runId);
      if (report.status === 'not_found') return undefined;
      if (report.status === 'restored')
        this.o.logger.info({ runId, lastSeq: report.lastSeq }, 'run restored from the journal');
      events = await this.o.store.read<RunEvent>(runId);
    }
    if (events.length === 0) return undefined;
    const state = foldRun(events);
    this.tails.set(state, JSON.stringify(events.at(-1)));
    return this.remember({ state, scenario: this.o.scenarioFor(state.scenario) });
  }

  /**
   * The run as this process last read or appended it, without asking Redis ({@link load} when it has not seen it);
   * it may be behind the log. For writers only, whose compare-and-append refuses a decision made on an old state
   * (docs/internals.md#run-driver).
   */
  async loadRecent(runId: string): Promise<LoadedRun | undefined> {
    return this.recent.get(runId) ?? (await this.load(runId));
  }

  private remember(loaded: LoadedRun): LoadedRun {
    const { runId } = loaded.state;
    this.recent.delete(runId);
    if (loaded.state.outcome !== null) return loaded;
    this.recent.set(runId, loaded);
    if (this.recent.size > RECENT_RUNS) {
      const oldest = this.recent.keys().next().value;
      if (oldest !== undefined) this.recent.delete(oldest);
    }
    return loaded;
  }

  /**
   * Compare-and-append of events built on `state` (the append announces them to the run's listeners). A state this
   * driver read or appended is also checked against the log's last event, not only its length.
   */
  append(state: RunState, events: readonly RunEvent[]): Promise<AppendOutcome> {
    return this.commit(state, events, foldOnto(state, events), false);
  }

  /** {@link append} of events already folded into `next`; `ordered`: see {@link RunLogStore.append}. */
  private async commit(
    state: RunState,
    events: readonly RunEvent[],
    next: RunState,
    ordered: boolean,
  ): Promise<AppendOutcome> {
    if (events.length === 0) return { ok: true, state };
    const result = await this.o.store.append(state.runId, state.lastSeq + 1, events, this.tails.get(state), {
      ordered,
    });
    if (!result.ok) {
      this.o.logger.debug(
        { runId: state.runId, expected: state.lastSeq + 1, current: result.currentSeq },
        'append lost a race',
      );
      return { ok: false };
    }
    this.tails.set(next, JSON.stringify(events.at(-1)));
    const scenario = this.o.scenarioFor(next.scenario);
    this.remember({ state: next, scenario });
    this.o.onAppended?.(state.runId, events);
    if (!events.some((e) => isWriteThrough(e, scenario))) return { ok: true, state: next };
    return (await this.writeThrough(state.runId, events))
      ? { ok: true, state: next }
      : { ok: true, state: next, unjournaled: true };
  }

  /** Journals the events now (see {@link RunRecovery.writeThrough}); false, logged, when the journal refused. */
  private async writeThrough(runId: string, events: readonly RunEvent[]): Promise<boolean> {
    if (!this.o.recovery) return true;
    try {
      await this.o.recovery.writeThrough(runId, events);
      return true;
    } catch (err) {
      this.o.logger.warn({ runId, err }, "the journal did not take a side effect's record; the write-behind retries");
      return false;
    }
  }

  /**
   * Brings the journal up to the live log of the run now; throws when the journal cannot be written. A side effect
   * starts only after this. A process without a journal has nothing to wait for.
   */
  async journalRun(runId: string): Promise<void> {
    await this.o.recovery?.journalRun(runId);
  }

  /**
   * Lets the engine take the run as far as it can without the world: appends its bookkeeping events and acts on
   * its command (enqueue the step job, start the run a `switched` finish names). Idempotent: a job already
   * waiting is not added again, so a reconciler may call it for any run at any time. `known`: the run as the
   * caller's own last append left it, saving a read back (as safe as a fresh read: docs/internals.md#run-driver).
   */
  async advance(runId: string, selfJobId?: string, known?: LoadedRun): Promise<AdvanceResult> {
    for (let round = 0; round < MAX_APPEND_ROUNDS; round++) {
      const loaded = round === 0 && known !== undefined ? known : await this.load(runId);
      if (!loaded) return { kind: 'missing' };
      const decided = this.decide(loaded.state, loaded.scenario, []);
      const command = decided.command;
      const self = isStepJobCommand(command) && command.jobId === selfJobId;
      const appended = await this.appendDecided(loaded.state, decided, !self);
      if (!appended.ok) continue;
      if (appended.actError !== undefined) throw appended.actError;
      if (self) return { kind: 'self', events: decided.events };
      return { kind: 'done', command, events: decided.events, state: decided.state };
    }
    throw new RunBusyError(runId, MAX_APPEND_ROUNDS);
  }

  /**
   * Compare-and-append of `events` (built on `state`) together with the bookkeeping the engine adds after them, in
   * one append, then what the engine asks next: what {@link append} and {@link advance} would do in two appends.
   * A failure to carry out the command after a successful append is returned as `actError`: the events are
   * recorded, and a retried job or the reconciler carries it out.
   */
  async appendAndAdvance(state: RunState, scenario: Scenario, events: readonly RunEvent[]): Promise<AdvancedAppend> {
    return this.appendDecided(state, this.decide(state, scenario, events));
  }

  private decide(state: RunState, scenario: Scenario, events: readonly RunEvent[]): Decided {
    const out = decideNext(foldOnto(state, events), scenario, this.now(), this.engineOptions);
    return {
      ...out,
      events: [...events, ...out.events],
      switching: isSwitch(out.events),
      decidedAtMonoMs: performance.now(),
    };
  }

  /**
   * Appends `decided.events` and carries out its command, sending the next step job right behind the append on the
   * same connection instead of after its answer (docs/internals.md#run-driver).
   */
  private async appendDecided(state: RunState, decided: Decided, carryOut = true): Promise<AdvancedAppend> {
    // Recorded before the switch itself, so a crash right after it leaves the successor to the reconciler.
    if (decided.switching) await this.o.redis.sadd(this.k.switching, state.runId);
    // `decided.state` is what every one of `decided.events` folds into.
    const appending = this.commit(state, decided.events, decided.state, true);
    const command = decided.command;
    const enqueueing = carryOut && isStepJobCommand(command) ? this.enqueueStep(decided, command) : undefined;
    // Settled either way below; this only keeps an early throw from leaving it unobserved.
    enqueueing?.catch(() => undefined);
    let appended: AppendOutcome;
    try {
      appended = await appending;
    } catch (err) {
      await enqueueing?.catch(() => undefined);
      throw err;
    }
    if (!appended.ok) {
      await enqueueing?.catch(() => undefined);
      return { ok: false };
    }
    try {
      if (enqueueing !== undefined) {
        // The events are recorded now: a Redis blip must not leave the run without its next job.
        await enqueueing.catch(() => retrying(() => this.enqueueStep(decided, command as StepJobCommand)));
      } else if (carryOut) {
        await retrying(() => this.actWithoutJob(decided));
      }
    } catch (actError) {
      return { ok: true, state: appended.state, decided, actError };
    }
    return { ok: true, state: appended.state, decided };
  }

  /** Enqueues the step job, due when the engine said (its delay counted from the decision, not from now). */
  private async enqueueStep(decided: Decided, command: StepJobCommand): Promise<void> {
    const runId = decided.state.runId;
    // Measured on the monotonic clock: the engine's clock may be a test's fixed one.
    const elapsedMs = performance.now() - decided.decidedAtMonoMs;
    const delayMs = command.delayMs > 0 ? Math.max(0, command.delayMs - elapsedMs) : 0;
    const due = { ...command, delayMs };
    const result = await enqueueStepJob(this.o.queue, runId, due, this.o.jobOptions);
    if (result.enqueued) this.o.logger.debug({ runId, jobId: command.jobId, delayMs }, 'step job enqueued');
    // Whoever added it: the promoter only starts a job that is still delayed.
    this.promoter.schedule(command.jobId, delayMs);
  }

  /** The commands that are not a step job: schedule an approval's expiry, start the run a switch names. */
  private async actWithoutJob(decided: Decided): Promise<void> {
    const { command, state } = decided;
    const runId = state.runId;
    if (command.type === 'await_approval') {
      // The approval's defined end if nobody gives it: a delayed check expires it and pauses the run.
      const result = await enqueueApprovalTimeout(this.o.queue, runId, command, this.o.jobOptions);
      if (result.enqueued) {
        this.o.logger.debug({ runId, jobId: command.expiryJobId, expiresAt: command.expiresAt }, 'expiry scheduled');
      }
    } else if (decided.switching) {
      // Only the writer that recorded the switch starts the successor; after a crash in between, the
      // reconciler does (the run is in the switch index until then).
      await this.continueSwitched(state);
    }
  }

  /** Stops the timers that start this process's delayed jobs on time (BullMQ still starts them). */
  close(): void {
    this.promoter.close();
  }

  /**
   * Takes the run's slot and appends its `run_started`; a second run in the same slot is refused and pointed at
   * the active one. A holder that never got its first event (its starter died in between) is cleared.
   */
  async launch(scenario: Scenario, started: RunEvent, options: { idempotent?: boolean } = {}): Promise<LaunchResult> {
    if (started.type !== 'run_started') throw new TypeError('launch needs a run_started event');
    const runId = started.runId;
    const slot = slotOf(scenario, started.tenantId);
    await this.o.redis.set(this.k.starting(runId), '1', 'EX', 60);
    try {
      for (let round = 0; round < 2; round++) {
        const taken = await this.o.store.acquireRunSlot({ ...slot, runId });
        if (taken.acquired) break;
        if (round === 0 && (await this.isAbandoned(taken.holderRunId))) {
          this.o.logger.warn({ holderRunId: taken.holderRunId }, 'clearing a run slot whose run never started');
          await this.o.store.releaseRunSlot({ ...slot, runId: taken.holderRunId });
          continue;
        }
        const where = slot.scope === 'node' ? 'for this deployment' : `for tenant ${started.tenantId}`;
        return {
          ok: false,
          code: 'run_active',
          message: `a run ${where} is already active: ${taken.holderRunId}`,
          activeRunId: taken.holderRunId,
        };
      }
      const appended = await this.o.store.append(runId, 1, [started]);
      if (!appended.ok) {
        if (!options.idempotent) {
          await this.o.store.releaseRunSlot({ ...slot, runId });
          return { ok: false, code: 'run_exists', message: `run ${runId} already exists` };
        }
        // Started before (a repeated hand-over): keep the slot only while that run is going.
        const existing = await this.load(runId);
        if (existing?.state.outcome) await this.o.store.releaseRunSlot({ ...slot, runId });
        return { ok: true, runId };
      }
      this.o.onAppended?.(runId, [started]);
    } finally {
      await this.o.redis.del(this.k.starting(runId)).catch(() => undefined);
    }
    this.o.logger.info({ runId, scenario: scenario.name, tenantId: started.tenantId }, 'run started');
    await this.advance(runId).catch((err: unknown) => {
      // The run is recorded; the reconciler enqueues what this could not.
      this.o.logger.warn({ runId, err }, 'could not advance the new run');
    });
    return { ok: true, runId };
  }

  /**
   * Reloads every unfinished run from the journal when Redis lost its data since the last check (a marker key is
   * gone), so their slots are held again before anyone starts a new run. Returns the runs put back; `undefined`
   * when Redis had not lost anything.
   */
  async restoreIfRedisLost(): Promise<string[] | undefined> {
    if (!this.o.recovery) return undefined;
    if ((await this.o.redis.set(this.k.alive, new Date().toISOString(), 'NX')) !== 'OK') return undefined;
    try {
      const restored: string[] = [];
      for (const report of await this.o.recovery.restoreActiveRunsFromJournal()) {
        if (report.status === 'restored') restored.push(report.runId);
      }
      if (restored.length > 0) this.o.logger.warn({ runs: restored }, 'runs reloaded from the journal');
      return restored;
    } catch (err) {
      // Next time again: the journal may be down too.
      await this.o.redis.del(this.k.alive).catch(() => undefined);
      throw err;
    }
  }

  /** Starts the runs that `switched` finishes name and that have not started yet (after a crash in between). */
  async continuePendingSwitches(): Promise<number> {
    let started = 0;
    for (const runId of await this.o.redis.smembers(this.k.switching)) {
      const loaded = await this.load(runId);
      if (loaded?.state.outcome?.outcome === 'switched') {
        await this.continueSwitched(loaded.state);
        started++;
      } else if (!loaded || loaded.state.outcome !== null) {
        await this.o.redis.srem(this.k.switching, runId);
      }
    }
    return started;
  }

  private async continueSwitched(state: RunState): Promise<void> {
    const switchTo = state.outcome?.switchTo;
    if (switchTo === undefined) return;
    const decision = [...state.decisions].reverse().find((d) => d.option?.effect === `end:switched:${switchTo}`);
    const by = decision?.by ?? state.startedBy;
    const params: Record<string, string | undefined> = { ...state.params, switchedFrom: state.runId };
    // The person already chose the switch as an operator of this run; the new run is the same incident.
    const started = startRun(
      {
        runId: switchedRunId(state.runId),
        scenario: switchTo,
        tenantId: state.tenantId,
        startedBy: by,
        params,
        ...(state.channelId ? { channelId: state.channelId } : {}),
      },
      { ...this.o.access, operators: null },
      this.now(),
    );
    if (!started.ok) {
      this.o.logger.error({ runId: state.runId, switchTo, refusal: started.refusal.code }, 'switched run refused');
      await this.o.redis.srem(this.k.switching, state.runId);
      return;
    }
    const launched = await this.launch(started.scenario, started.events[0] as RunEvent, { idempotent: true });
    if (launched.ok) {
      this.o.logger.info({ runId: state.runId, next: launched.runId, switchTo }, 'run continues as another scenario');
    } else {
      // Another run holds the slot: starting this one later, unasked, would surprise people more than a refusal.
      this.o.logger.warn(
        { runId: state.runId, switchTo, code: launched.code, activeRunId: launched.activeRunId },
        'could not start the run this one switched to',
      );
    }
    await this.o.redis.srem(this.k.switching, state.runId);
  }

  private async isAbandoned(holderRunId: string): Promise<boolean> {
    if ((await this.o.store.lastSeq(holderRunId)) > 0) return false;
    if ((await this.o.redis.exists(this.k.starting(holderRunId))) === 1) return false;
    if (!this.o.recovery) return false;
    try {
      const report = await this.o.recovery.rebuildFromJournal(holderRunId);
      // Unfinished in the journal: it is back in the live log now and holds its slot rightly.
      return report.status === 'not_found' || !report.active;
    } catch {
      return false;
    }
  }
}
