import { performance } from 'node:perf_hooks';
import { DelayedError, type Job, Worker, type WorkerOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { ExecutorContextFactory } from '../executors/registry/index.js';
import { measureStep } from '../executors/registry/index.js';
import { type Logger, lazyChild, withLogContext } from '../logger.js';
import {
  actsOnWorld,
  type BeginStep,
  beginStep,
  type ExecutorCall,
  expireApproval,
  foldOnto,
  holdStep,
  type RunState,
  recordOutcome,
  type StepOutcome,
  stepState,
} from '../runbook/index.js';
import { RunBusyError, StepInterruptedError } from './job-errors.js';
import { JOURNAL_HOLD_REASON, type JournalGateOptions, untilJournaled } from './journal-gate.js';
import { OverflowLane, OverflowWorker } from './overflow-lane.js';
import { APPROVAL_TIMEOUT_JOB, STEP_QUEUE, type StepJobData } from './queues.js';
import { type AppendOutcome, type LoadedRun, MAX_APPEND_ROUNDS, type RunDriver } from './run-driver.js';
import { bullPrefix } from './run-log/keys.js';

export interface StepWorkerOptions {
  /**
   * Step jobs run at once by this process (they mostly wait on I/O): one in the chain lane, the rest in the overflow
   * lane, which runs only while it may be needed (see {@link OverflowLane}). @defaultValue 8
   */
  readonly concurrency?: number;
  /** How often the worker looks whether its overflow lane is needed. @defaultValue 500 */
  readonly laneCheckMs?: number;
  /** How long the chain lane may be on one job before the overflow lane opens anyway. @defaultValue 1000 */
  readonly chainBusyAfterMs?: number;
  /**
   * How long a job's lock lives without renewal (renewed at half this while the step runs). A killed worker's step
   * is taken over once its lock has run out and a stalled-job check has seen it: within this plus
   * `stalledIntervalMs`, 9 s at the defaults. @defaultValue {@link STEP_LOCK_MS}
   */
  readonly lockDurationMs?: number;
  /** How often jobs of dead workers are looked for. @defaultValue {@link STEP_STALLED_INTERVAL_MS} */
  readonly stalledIntervalMs?: number;
  /**
   * Times a job may be taken over from a dead worker before it fails. Taking over is safe (the step is re-probed
   * before anything is repeated), so this is generous. @defaultValue 10
   */
  readonly maxStalledCount?: number;
  /** How long `close()` lets running steps finish before cutting them off. @defaultValue 10000 */
  readonly closeTimeoutMs?: number;
  /**
   * The start of a step that is simply run again when interrupted (a probe, a gate, a read) is recorded with its
   * outcome; one whose call runs longer than this has its start recorded while it runs, so the thread and the terminal show it running. @defaultValue 500
   */
  readonly announceStartAfterMs?: number;
  /** How an action waits for the journal to take its start. @defaultValue 0.5 s doubling up to 15 s */
  readonly journalGate?: JournalGateOptions;
}

// BullMQ's own 30 s lock and 30 s check took a dead worker's step over only after 65 to 96 s.
/** @see StepWorkerOptions.lockDurationMs */
export const STEP_LOCK_MS = 6000;
/** @see StepWorkerOptions.stalledIntervalMs */
export const STEP_STALLED_INTERVAL_MS = 3000;

/** @see StepWorkerOptions.announceStartAfterMs */
export const ANNOUNCE_START_AFTER_MS = 500;

/**
 * How one delivery of a step job ended; the job's return value, for people reading the queue. `waiting`: an
 * interrupted action's effect is not visible yet and is checked again later; `asked`: an interrupted action was put
 * to people; `expired`: an approval timed out and the run paused.
 */
export type StepJobResult = 'done' | 'already_done' | 'waiting' | 'asked' | 'expired' | 'stale' | 'missing';

export interface StepWorker {
  /** The chain lane, and the overflow lane when the concurrency leaves room for one (see {@link OverflowLane}). */
  readonly lanes: readonly Worker<StepJobData, StepJobResult>[];
  readonly overflow: OverflowLane | undefined;
  /** Lets running steps finish (up to the close timeout), then cuts them off; their jobs run again elsewhere. */
  close(): Promise<void>;
}

export interface StepProcessorDeps {
  readonly driver: RunDriver;
  readonly executors: ExecutorContextFactory;
  readonly logger: Logger;
  /** Aborted when the worker shuts down: running executor calls are cancelled and their outcome is not recorded. */
  readonly shutdown: AbortSignal;
  /** @defaultValue {@link ANNOUNCE_START_AFTER_MS} */
  readonly announceStartAfterMs?: number;
  /** How an action waits for the journal to take its start. @defaultValue the gate's defaults */
  readonly journalGate?: JournalGateOptions;
}

/**
 * The signal a call gets: aborted at its timeout or when the worker shuts down. `clear` drops the timer and the
 * listener once the call is over (`AbortSignal.any` of a timeout signal would keep both alive until the timeout,
 * and costs ten times as much per call).
 */
function callDeadline(timeoutMs: number, shutdown: AbortSignal): { signal: AbortSignal; clear(): void } {
  const controller = new AbortController();
  const onShutdown = () => controller.abort(shutdown.reason);
  if (shutdown.aborted) onShutdown();
  else shutdown.addEventListener('abort', onShutdown, { once: true });
  const timer = setTimeout(
    () => controller.abort(new DOMException('the step call timed out', 'TimeoutError')),
    timeoutMs,
  );
  timer.unref();
  return {
    signal: controller.signal,
    clear() {
      clearTimeout(timer);
      shutdown.removeEventListener('abort', onShutdown);
    },
  };
}

/**
 * A delivery about to act on the world with nothing appended first: the attempt's start is already recorded (a job
 * taken over from a dead worker, the re-send of an interrupted webhook). No compare-and-append stands between its
 * decision and the side effect.
 */
function isUnguardedSideEffect(begin: BeginStep): boolean {
  return begin.kind === 'execute' && begin.events.length === 0 && !begin.repeatable;
}

type RepeatableBegin = Extract<BeginStep, { kind: 'execute' }>;

function isRepeatable(begin: BeginStep): begin is RepeatableBegin {
  return begin.kind === 'execute' && begin.repeatable;
}

type Recorded =
  | { readonly kind: 'stale' }
  | { readonly kind: 'recorded'; readonly state: RunState; readonly alreadyDone: boolean; readonly deferred: boolean };

/**
 * One delivery of a step job: load the run, ask the engine whether this job is still wanted (a stale one is
 * dropped), append `step_started`, re-probe first when a side effect may already have happened, run the executor,
 * record its outcome, and let the engine go on. Every append is a compare-and-append; a lost race re-reads.
 */
export function createStepProcessor(deps: StepProcessorDeps) {
  const { driver, executors, shutdown } = deps;
  const announceStartAfterMs = deps.announceStartAfterMs ?? ANNOUNCE_START_AFTER_MS;

  const measure = (call: ExecutorCall, state: RunState, stepId: string, jobId: string, logger: Logger) =>
    withLogContext({ runId: state.runId, stepId }, () => measureUnder(call, state, jobId, logger));
  const measureUnder = async (
    call: ExecutorCall,
    state: RunState,
    jobId: string,
    logger: Logger,
  ): Promise<StepOutcome> => {
    const deadline = callDeadline(call.timeoutMs, shutdown);
    const ctx = executors.forStep({
      runId: state.runId,
      tenantId: state.tenantId,
      idempotencyKey: call.idempotencyKey,
      signal: deadline.signal,
      logger,
    });
    let outcome: StepOutcome;
    try {
      outcome = await measureStep(call.executor, call.params, ctx);
    } catch (err) {
      if (shutdown.aborted) throw new StepInterruptedError(state.runId, jobId);
      logger.error({ err, executor: call.executor }, 'executor failed unexpectedly');
      // A bug, not a state of the world: the run pauses on it with the message rather than retrying forever.
      outcome = {
        kind: 'error',
        error: {
          code: 'internal_error',
          message:
            `the ${call.executor} executor failed unexpectedly: ${err instanceof Error ? err.message : String(err)}`.slice(
              0,
              2000,
            ),
          transient: false,
        },
      };
    } finally {
      deadline.clear();
    }
    // A measurement taken while the shutdown cancelled the call describes the cancellation, not the world.
    if (shutdown.aborted) throw new StepInterruptedError(state.runId, jobId);
    return outcome;
  };

  /**
   * Compare-and-append of the outcome, with the start of an `unstarted` (repeatable) attempt and, when the outcome
   * settles the attempt, the bookkeeping after it and the engine's next command (docs/internals.md#step-worker).
   */
  const record = async (
    first: LoadedRun,
    jobId: string,
    phase: 'recheck' | 'execute',
    outcome: StepOutcome,
    unstarted?: RepeatableBegin,
  ): Promise<Recorded> => {
    let { state, scenario } = first;
    let begin = unstarted;
    for (let round = 0; round < MAX_APPEND_ROUNDS; round++) {
      const started = begin ? foldOnto(state, begin.events) : state;
      const result = recordOutcome(started, scenario, { jobId, phase, outcome }, driver.now(), driver.engineOptions);
      if (result.stale) return { kind: 'stale' };
      const events = begin ? [...begin.events, ...result.events] : result.events;
      const settles = phase === 'execute' || result.alreadyDone === true || result.deferred === true;
      const recorded = (appendedState: RunState): Recorded => ({
        kind: 'recorded',
        state: appendedState,
        alreadyDone: result.alreadyDone === true,
        deferred: result.deferred === true,
      });
      if (settles) {
        const appended = await driver.appendAndAdvance(state, scenario, events);
        if (appended.ok) {
          // Recorded, but what comes next is not queued: failing the job lets its retry heal the run.
          if (appended.actError !== undefined) throw appended.actError;
          return recorded(appended.state);
        }
      } else {
        const appended = await driver.append(state, events);
        if (appended.ok) return recorded(appended.state);
      }
      const reloaded = await driver.load(state.runId);
      if (!reloaded) return { kind: 'stale' };
      ({ state, scenario } = reloaded);
      if (unstarted) {
        const again = beginStep(state, scenario, { jobId }, driver.now(), driver.engineOptions);
        if (!isRepeatable(again)) return { kind: 'stale' };
        begin = again;
      }
    }
    throw new RunBusyError(first.state.runId, MAX_APPEND_ROUNDS);
  };

  /**
   * A step the engine simply runs again when interrupted (a probe, a gate, a read): its start goes into the append
   * of its outcome, or on its own after `announceStartAfterMs` (docs/internals.md#step-worker). `retry`: the run
   * wants something else now; the caller decides afresh.
   */
  const runRepeatable = async (
    first: LoadedRun,
    begin: RepeatableBegin,
    jobId: string,
    logger: Logger,
  ): Promise<StepJobResult | 'retry'> => {
    let announced: Promise<AppendOutcome> | undefined;
    const timer = setTimeout(() => {
      announced = driver.append(first.state, begin.events);
      announced.catch(() => undefined);
    }, announceStartAfterMs);
    let outcome: StepOutcome;
    try {
      outcome = await measure(begin.call, foldOnto(first.state, begin.events), begin.stepId, jobId, logger);
    } finally {
      clearTimeout(timer);
    }
    const start = announced === undefined ? undefined : await announced;
    if (start?.ok) {
      const recorded = await record({ state: start.state, scenario: first.scenario }, jobId, 'execute', outcome);
      return recorded.kind === 'stale' ? 'stale' : 'done';
    }
    // The start still to be recorded (a lost announcement makes the first try fail and begin again afresh).
    const recorded = await record(first, jobId, 'execute', outcome, begin);
    return recorded.kind === 'stale' ? 'retry' : 'done';
  };

  /** An approval-timeout job: expires the approval round it was scheduled for, if nobody gave it meanwhile. */
  const expire = async (job: Job<StepJobData>, token: string | undefined): Promise<StepJobResult> => {
    const { runId, stepId } = job.data;
    const round = { stepId, round: job.data.round ?? 0 };
    for (let attempt = 0; attempt < MAX_APPEND_ROUNDS; attempt++) {
      const loaded = await driver.load(runId);
      if (!loaded) return 'missing';
      const result = expireApproval(loaded.state, loaded.scenario, driver.now(), driver.engineOptions, round);
      if (result.kind === 'stale') return 'stale';
      if (result.kind === 'not_due') {
        // Fired early (clocks of two hosts apart): wait for the rest. Without a token the reconciler adds it again.
        if (token === undefined) return 'stale';
        await job.moveToDelayed(Date.parse(result.expiresAt), token);
        throw new DelayedError();
      }
      const appended = await driver.append(loaded.state, result.events);
      if (!appended.ok) continue;
      deps.logger.info({ runId, stepId, round: round.round }, 'approval expired; the run is paused');
      await driver.advance(runId);
      return 'expired';
    }
    throw new RunBusyError(runId, MAX_APPEND_ROUNDS);
  };

  return async function processStepJob(job: Job<StepJobData>, token?: string): Promise<StepJobResult> {
    if (job.name === APPROVAL_TIMEOUT_JOB) return expire(job, token);
    const jobId = job.id as string;
    const { runId } = job.data;
    for (let round = 0; round < MAX_APPEND_ROUNDS; round++) {
      // The first round decides from the state this process last saw: a step job usually follows one this process
      // ran, and the compare-and-append of step_started refuses it if the run moved on meanwhile.
      const remembered = round === 0;
      const loaded = remembered ? await driver.loadRecent(runId) : await driver.load(runId);
      if (!loaded) return 'missing';
      const { scenario } = loaded;
      const begin = beginStep(loaded.state, scenario, { jobId }, driver.now(), driver.engineOptions);
      // A delivery that would act on the world with nothing appended before (a job taken over after the start of
      // a side effect was recorded) has no compare-and-append to refuse an old state: it decides from the log.
      if (remembered && isUnguardedSideEffect(begin)) continue;
      if (begin.kind === 'stale') {
        // Wanted, but behind bookkeeping not yet recorded (a crash between two appends): record it and go on. Else
        // make sure what the run wants is queued: cheap, and it heals a writer that died before enqueueing it.
        const advanced = await driver.advance(runId, jobId);
        if (advanced.kind === 'self') continue;
        return 'stale';
      }
      const logger = lazyChild(deps.logger, { runId, stepId: begin.stepId, attempt: begin.attempt, jobId });
      if (isRepeatable(begin)) {
        const result = await runRepeatable(loaded, begin, jobId, logger);
        if (result !== 'retry') return result;
        logger.info('the run moved on while the step ran; deciding again');
        continue;
      }
      // An action with side effects starts only once the journal holds the run: its start is written through.
      const acts = begin.kind !== 'ask' && actsOnWorld(scenario, begin.stepId);
      let held = false;
      const hold = async () => {
        if (stepState(loaded.state, begin.stepId).held !== null) return;
        const events = holdStep(loaded.state, begin.stepId, begin.attempt, JOURNAL_HOLD_REASON, driver.now());
        held = (await driver.append(loaded.state, events)).ok;
      };
      const gate = { driver, runId, jobId, shutdown, logger };
      if (acts) await untilJournaled({ ...gate, onHeld: hold }, deps.journalGate);
      // The log has moved on by the hold: decide again from it.
      if (held) continue;
      const started = await driver.append(loaded.state, begin.events);
      if (!started.ok) continue;
      if (acts && started.unjournaled) await untilJournaled(gate, deps.journalGate);
      if (begin.kind === 'ask') {
        logger.warn('an interrupted action may have half run; people are asked whether it finished');
        await driver.advance(runId, undefined, { state: started.state, scenario });
        return 'asked';
      }
      let current: LoadedRun = { state: started.state, scenario };

      if (begin.kind === 'recheck') {
        const outcome = await measure(begin.recheck, current.state, begin.stepId, jobId, logger);
        const rechecked = await record(current, jobId, 'recheck', outcome);
        if (rechecked.kind === 'stale') return 'stale';
        if (rechecked.alreadyDone) {
          logger.info('the step had already taken effect; not repeated');
          return 'already_done';
        }
        if (rechecked.deferred) {
          logger.info('the interrupted attempt shows no effect yet; not repeated now');
          return 'waiting';
        }
        current = { state: rechecked.state, scenario };
      }

      const outcome = await measure(begin.call, current.state, begin.stepId, jobId, logger);
      const recorded = await record(current, jobId, 'execute', outcome);
      if (recorded.kind === 'stale') {
        logger.info('the run moved on while the step ran; its outcome is dropped');
        return 'stale';
      }
      return 'done';
    }
    throw new RunBusyError(runId, MAX_APPEND_ROUNDS);
  };
}

export interface StartStepWorkerOptions extends StepWorkerOptions {
  readonly driver: RunDriver;
  readonly executors: ExecutorContextFactory;
  /** Template for the worker's own connection (BullMQ workers need `maxRetriesPerRequest: null`). */
  readonly redis: Redis;
  readonly prefix: string;
  readonly logger: Logger;
}

export function startStepWorker(options: StartStepWorkerOptions): StepWorker {
  const logger = options.logger.child({ component: 'step-worker' });
  const shutdown = new AbortController();
  const concurrency = Math.max(1, Math.trunc(options.concurrency ?? 8));
  const processor = createStepProcessor({
    driver: options.driver,
    executors: options.executors,
    logger,
    shutdown: shutdown.signal,
    ...(options.announceStartAfterMs !== undefined ? { announceStartAfterMs: options.announceStartAfterMs } : {}),
    ...(options.journalGate !== undefined ? { journalGate: options.journalGate } : {}),
  });
  const connections: Redis[] = [];

  // When the chain lane's job started, on the monotonic clock; it takes one job at a time.
  let chainBusySince: number | undefined;
  const chainProcessor: typeof processor = async (job, token) => {
    chainBusySince = performance.now();
    try {
      return await processor(job, token);
    } finally {
      chainBusySince = undefined;
    }
  };

  const startLane = (laneConcurrency: number, overflow: boolean): Worker<StepJobData, StepJobResult> => {
    const connection = options.redis.duplicate({ maxRetriesPerRequest: null, enableOfflineQueue: true });
    connection.on('error', (err) => logger.warn({ err }, 'step worker redis error'));
    connections.push(connection);
    const settings: WorkerOptions = {
      connection,
      prefix: bullPrefix(options.prefix),
      concurrency: laneConcurrency,
      lockDuration: options.lockDurationMs ?? STEP_LOCK_MS,
      stalledInterval: options.stalledIntervalMs ?? STEP_STALLED_INTERVAL_MS,
      maxStalledCount: options.maxStalledCount ?? 10,
      // The overflow lane starts when it may be needed (see OverflowLane); the chain lane's look for jobs of dead
      // workers covers the whole queue.
      autorun: !overflow,
      skipStalledCheck: overflow,
    };
    const worker = overflow
      ? new OverflowWorker<StepJobData, StepJobResult>(STEP_QUEUE, processor, settings)
      : new Worker<StepJobData, StepJobResult>(STEP_QUEUE, chainProcessor, settings);
    worker.on('error', (err) => logger.warn({ err }, 'step worker error'));
    // A stale job may be wanted again by an append that landed as it finished, whose add saw it active and left
    // it; one more look now that it is completed re-adds it (an add replaces a completed job of the same id).
    worker.on('completed', (job, result) => {
      if (result !== 'stale' || job.name === APPROVAL_TIMEOUT_JOB) return;
      options.driver.advance(job.data.runId).catch((err: unknown) => {
        logger.warn({ runId: job.data.runId, err }, 'could not re-check a run after a stale job; the reconciler will');
      });
    });
    worker.on('failed', (job, err) => {
      const code = (err as { code?: string }).code;
      logger.warn(
        { runId: job?.data.runId, jobId: job?.id, attemptsMade: job?.attemptsMade, code, reason: err.message },
        'step job failed; it is retried',
      );
    });
    return worker;
  };

  const chain = startLane(1, false);
  const overflowWorker = concurrency > 1 ? startLane(concurrency - 1, true) : undefined;
  const overflow =
    overflowWorker &&
    new OverflowLane({
      worker: overflowWorker,
      countActiveRuns: () => options.driver.store.countActiveRuns(),
      chainBusyMs: () => (chainBusySince === undefined ? undefined : performance.now() - chainBusySince),
      logger,
      ...(options.laneCheckMs !== undefined ? { checkEveryMs: options.laneCheckMs } : {}),
      ...(options.chainBusyAfterMs !== undefined ? { chainBusyAfterMs: options.chainBusyAfterMs } : {}),
    });
  const lanes = overflowWorker ? [chain, overflowWorker] : [chain];

  let closing: Promise<void> | undefined;
  return {
    lanes,
    overflow,
    close() {
      closing ??= (async () => {
        overflow?.stop();
        const closeTimeoutMs = options.closeTimeoutMs ?? 10_000;
        const graceful = Promise.all(lanes.map((w) => w.close()));
        let timer: NodeJS.Timeout | undefined;
        const deadline = new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), closeTimeoutMs);
        });
        if ((await Promise.race([graceful.then(() => 'closed' as const), deadline])) === 'timeout') {
          logger.warn({ closeTimeoutMs }, 'steps still running at the close deadline; cutting them off');
          shutdown.abort();
          const forced = new Promise<'forced'>((resolve) => setTimeout(() => resolve('forced'), 2000).unref());
          // BullMQ's close(true) would only return the close already under way: a step that ignores the abort is
          // left behind and the connections are dropped under it (its job is taken over once its lock runs out).
          if ((await Promise.race([graceful.then(() => 'closed' as const), forced])) === 'forced') {
            logger.warn('a step ignored the abort; dropping the worker connections');
            clearTimeout(timer);
            for (const c of connections) c.disconnect();
            return;
          }
        }
        clearTimeout(timer);
        await Promise.all(connections.map((c) => c.quit().catch(() => c.disconnect())));
      })();
      return closing;
    },
  };
}
