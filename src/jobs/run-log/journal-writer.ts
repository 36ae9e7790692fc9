import { EventEmitter } from 'node:events';
import { type Job, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import pg from 'pg';
import type { Logger } from '../../logger.js';
import { Journal } from '../../store/journal.js';
import { JournalConflictError, JournalGapError } from '../../store/journal-errors.js';
import { RunEventInvalidError } from '../../store/run-event.js';
import { JOURNAL_QUEUE, type JournalJobData, journalBackoff } from './journal-queue.js';
import { type CopyRunResult, copyRunToJournal, DEFAULT_FINISHED_RUN_TTL_SECONDS } from './journal-sync.js';
import { bullPrefix, DEFAULT_PREFIX } from './keys.js';
import { JournalDrainTimeoutError } from './run-log-errors.js';
import { RunLogStore } from './run-log-store.js';

export interface JournalWriterOptions {
  /** Used as a template: the writer opens its own connections from it and closes them. */
  readonly redis: Redis;
  /** The journal, or a pool of the bot's own database to open one on (schema `dg_recovery`). */
  readonly pg: Journal | pg.Pool;
  /** Must match the prefix of the {@link RunLogStore} that appends. @defaultValue `dgr:` */
  readonly prefix?: string;
  readonly logger: Logger;
  /** @defaultValue `journal` */
  readonly queueName?: string;
  /**
   * Runs copied at once. Ordering does not depend on it (each copy continues from the journal's tail under a
   * per-run lock), so it only trades Postgres connections for throughput. @defaultValue 1
   */
  readonly concurrency?: number;
  /** First retry delay after a failed copy; doubles per attempt. @defaultValue 1000 */
  readonly backoffBaseMs?: number;
  /** @defaultValue 30000 */
  readonly backoffMaxMs?: number;
  /** How often runs left behind (retries exhausted, a lost queue request) are queued again; 0 disables. @defaultValue 60000 */
  readonly sweepIntervalMs?: number;
  /** @defaultValue 604800 (7 days) */
  readonly finishedRunTtlSeconds?: number;
  /** @defaultValue 500 */
  readonly batchSize?: number;
  /**
   * How long a copy's lock lives without renewal (the writer renews it at half this while it runs). A copy of a
   * writer that died (SIGKILL, a lost node) is taken over once the lock has run out and a stalled-job check has
   * seen it, so the run's journal waits at most about this plus `stalledIntervalMs`. A copy is short; a
   * longer lock only delays the takeover. @defaultValue 10000
   */
  readonly lockDurationMs?: number;
  /** How often copies of dead writers are looked for. @defaultValue 5000 */
  readonly stalledIntervalMs?: number;
  /**
   * Takeovers of one copy before it fails (the sweep then queues the run again). Taking a copy over is safe: it
   * continues from the journal's tail. @defaultValue 10
   */
  readonly maxStalledCount?: number;
}

// BullMQ's own 30 s lock and 30 s check would keep a dead writer's run out of the journal for up to a minute.
const DEFAULT_LOCK_MS = 10_000;
const DEFAULT_STALLED_INTERVAL_MS = 5_000;

export interface DrainOptions {
  /** @defaultValue 30000 */
  readonly timeoutMs?: number;
}

export interface JournalWriter {
  /**
   * Resolves once the journal holds every event appended (by any process) before the call; throws
   * {@link JournalDrainTimeoutError} naming the runs still behind when that takes longer than `timeoutMs`.
   */
  drain(options?: DrainOptions): Promise<void>;
  /** Queues a copy for every run the journal may lack events of; returns how many. */
  sweep(): Promise<number>;
  /** Stops the sweep and the worker (waiting for a copy in progress) and closes the writer's connections. */
  close(): Promise<void>;
}

/** Failures that retrying cannot fix: the log and the journal disagree, or an event is malformed. */
function isPermanent(error: unknown): boolean {
  return (
    error instanceof JournalConflictError || error instanceof JournalGapError || error instanceof RunEventInvalidError
  );
}

/**
 * Starts the write-behind: a BullMQ worker on the `journal` queue copies runs from the live log to the Postgres
 * journal. A Postgres outage makes copies fail and retry with capped exponential backoff; nothing is lost because
 * the events stay in the live log until the journal confirms them, and the copy that finally succeeds brings the
 * journal up to date in order.
 */
export async function startJournalWriter(options: JournalWriterOptions): Promise<JournalWriter> {
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  const queueName = options.queueName ?? JOURNAL_QUEUE;
  const logger = options.logger.child({ component: 'journal-writer' });
  const journal = options.pg instanceof pg.Pool ? new Journal({ pool: options.pg, logger }) : options.pg;
  const copyOptions = {
    batchSize: options.batchSize,
    finishedRunTtlSeconds: options.finishedRunTtlSeconds ?? DEFAULT_FINISHED_RUN_TTL_SECONDS,
  };
  const progress = new EventEmitter();
  progress.setMaxListeners(0);

  const storeConnection = options.redis.duplicate();
  storeConnection.on('error', (err) => logger.warn({ err }, 'journal writer redis error'));
  const store = new RunLogStore({ redis: storeConnection, prefix, queueName, logger });

  // BullMQ workers need these even when the caller's connection is tuned to fail fast.
  const workerConnection = options.redis.duplicate({ maxRetriesPerRequest: null, enableOfflineQueue: true });
  workerConnection.on('error', (err) => logger.warn({ err }, 'journal worker redis error'));
  const worker = new Worker<JournalJobData, CopyRunResult>(
    queueName,
    async (job: Job<JournalJobData>) => {
      try {
        const result = await copyRunToJournal(store, journal, job.data.runId, copyOptions);
        if (result.pushed > 0) logger.debug({ runId: result.runId, pushed: result.pushed }, 'journaled');
        progress.emit('copied', result);
        return result;
      } catch (error) {
        if (isPermanent(error)) {
          const code = (error as { code: string }).code;
          logger.error({ runId: job.data.runId, code, err: error }, 'journal copy cannot succeed; needs a person');
          throw new UnrecoverableError(`${code}: ${(error as Error).message}`);
        }
        throw error;
      }
    },
    {
      connection: workerConnection,
      prefix: bullPrefix(prefix),
      concurrency: options.concurrency ?? 1,
      lockDuration: options.lockDurationMs ?? DEFAULT_LOCK_MS,
      stalledInterval: options.stalledIntervalMs ?? DEFAULT_STALLED_INTERVAL_MS,
      maxStalledCount: options.maxStalledCount ?? 10,
      settings: { backoffStrategy: journalBackoff(options.backoffBaseMs ?? 1000, options.backoffMaxMs ?? 30_000) },
    },
  );
  worker.on('error', (err) => logger.warn({ err }, 'journal worker error'));
  worker.on('failed', (job, err) => {
    const code = (err as { code?: string }).code;
    logger.warn(
      { runId: job?.data.runId, attemptsMade: job?.attemptsMade, code, reason: err.message },
      'journal copy failed',
    );
  });

  const sweep = async (): Promise<number> => {
    const backlog = await store.journalBacklog();
    await Promise.all(backlog.map((b) => store.requestJournalSync(b.runId)));
    return backlog.length;
  };

  // Catches runs appended while no writer ran, or whose queue request was lost with a crash.
  await sweep().catch((err: unknown) => logger.warn({ err }, 'journal sweep failed'));
  const sweepEvery = options.sweepIntervalMs ?? 60_000;
  const timer =
    sweepEvery > 0
      ? setInterval(() => {
          sweep().catch((err: unknown) => logger.warn({ err }, 'journal sweep failed'));
        }, sweepEvery)
      : undefined;
  timer?.unref();

  const waitForProgress = (ms: number) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(t);
        progress.off('copied', done);
        resolve();
      };
      // The timer covers copies made by writers in other processes, which emit nothing here.
      const t = setTimeout(done, ms);
      progress.on('copied', done);
    });

  let closing: Promise<void> | undefined;
  return {
    sweep,
    async drain(drainOptions = {}) {
      const deadline = Date.now() + (drainOptions.timeoutMs ?? 30_000);
      const targets = new Map((await store.journalBacklog()).map((b) => [b.runId, b.lastSeq]));
      if (targets.size === 0) return;
      await Promise.all([...targets.keys()].map((runId) => store.requestJournalSync(runId)));
      for (;;) {
        const state = await store.journalProgress([...targets.keys()]);
        for (const [runId, target] of targets) {
          const p = state.get(runId);
          if (!p?.pending || p.journaledSeq >= target) targets.delete(runId);
        }
        if (targets.size === 0) return;
        const left = deadline - Date.now();
        if (left <= 0) throw new JournalDrainTimeoutError([...targets.keys()]);
        await waitForProgress(Math.min(left, 250));
      }
    },
    close() {
      closing ??= (async () => {
        if (timer) clearInterval(timer);
        await worker.close();
        await store.close();
        await Promise.allSettled([workerConnection.quit(), storeConnection.quit()]);
        progress.removeAllListeners();
      })();
      return closing;
    },
  };
}
