import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { DelayedError, type Job, Queue, Worker } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import { bullPrefix } from '../../key-prefix.js';
import type { Logger } from '../../logger.js';
import { type DurableDeliveries, deliverRun } from './deliver-run.js';
import { OutboxDrainTimeoutError, OutboxUnavailableError } from './outbox-errors.js';
import { OutboxStore, type SnapshotMessage } from './outbox-store.js';
import type { OutboxMessage, OutboxMessageStatus, OutboxSlackClient, PublishResult } from './types.js';
import { toStoredContent } from './validate-message.js';

/** The BullMQ queue that carries deliveries, one job per run at a time. */
export const SLACK_OUTBOX_QUEUE = 'slack-outbox';
const DELIVER_JOB = 'deliver-run';
const BACKOFF_TYPE = 'slack-outbox';

export interface SlackOutboxOptions {
  /**
   * An ioredis 5 connection to copy (the outbox opens its own connections from it and closes them; the one given
   * is left alone) or options to open them with.
   */
  readonly redis: Redis | RedisOptions;
  /** Prefix of every key and of the BullMQ queue. @defaultValue `dgr:` */
  readonly prefix?: string;
  /** A client configured as {@link createOutboxSlackClient} does (no retries, 429 thrown, a timeout). */
  readonly slack: OutboxSlackClient;
  readonly logger: Logger;
  /** @defaultValue `slack-outbox` */
  readonly queueName?: string;
  /**
   * Run the delivery worker in this process. A process that only publishes (several processes can share one
   * Redis) sets it to false. @defaultValue true
   */
  readonly worker?: boolean;
  /** Runs delivered at once; the messages of one run are always sent one after another. @defaultValue 4 */
  readonly concurrency?: number;
  /** First wait after Slack failed transiently (5xx, network, timeout); doubles per failure. @defaultValue 1000 */
  readonly backoffBaseMs?: number;
  /** Cap of that wait: deliveries keep retrying at this interval for as long as Slack is down. @defaultValue 60000 */
  readonly backoffMaxMs?: number;
  /** Lifetime of a run's delivery lock, renewed before every Slack call. @defaultValue 30000 */
  readonly lockTtlMs?: number;
  /** Wait before trying again when another delivery holds the run. @defaultValue 250 */
  readonly lockRetryMs?: number;
  /** How often runs with unsettled messages are queued again (a lost or failed job); 0 disables. @defaultValue 60000 */
  readonly sweepIntervalMs?: number;
  /** How long a run's outbox rows outlive their last write. @defaultValue 604800 (7 days) */
  readonly retentionSeconds?: number;
  /** How long {@link SlackOutbox.close} waits for a delivery in progress. @defaultValue 10000 */
  readonly closeTimeoutMs?: number;
  /**
   * The journal's copy of each message's `ts`, so that after a Redis loss a thread is updated, never posted again.
   * @defaultValue none: Redis alone remembers what was posted
   */
  readonly durable?: DurableDeliveries;
}

export interface SlackOutbox {
  /**
   * Stores the latest desired content of one message of a run and requests its delivery. Only Redis is touched:
   * the call never waits for Slack and never fails because of Slack. Many publishes of one key before delivery
   * collapse into one post or one update. Throws `OutboxMessageInvalidError` for a malformed message and
   * `OutboxUnavailableError` when Redis does not answer.
   */
  publish(runId: string, message: OutboxMessage): Promise<PublishResult>;
  /** Requests a delivery of the run now (a no-op when one is already queued or waiting to retry). */
  flush(runId: string): Promise<void>;
  /** Every message of the run in thread order, with what Slack shows and the last error. */
  status(runId: string): Promise<OutboxMessageStatus[]>;
  /**
   * Resolves with the run's status once every message is delivered in its latest version (or refused for good,
   * see `state`); throws `OutboxDrainTimeoutError` naming the keys still pending after `timeoutMs`.
   */
  drain(runId: string, timeoutMs?: number): Promise<OutboxMessageStatus[]>;
  /** How many runs have messages not yet delivered in their latest version (metrics). */
  backlog(): Promise<number>;
  /** Stops the sweep and the worker (waiting up to `closeTimeoutMs` for a delivery in progress) and disconnects. */
  close(): Promise<void>;
}

interface DeliveryJobData {
  readonly runId: string;
  /** Transient failures in a row, for the backoff. */
  readonly failures?: number;
}

function isRedis(value: Redis | RedisOptions): value is Redis {
  return typeof (value as Redis).duplicate === 'function';
}

function openConnection(source: Redis | RedisOptions, overrides: RedisOptions = {}): Redis {
  return isRedis(source) ? source.duplicate(overrides) : new Redis({ ...source, ...overrides });
}

/** Exponential, capped, with ±20 % jitter so deliveries of many runs do not hit a recovering Slack in step. */
function backoffMs(failures: number, baseMs: number, maxMs: number): number {
  const raw = Math.min(maxMs, baseMs * 2 ** Math.max(0, failures - 1));
  return Math.max(1, Math.round(raw * (0.8 + Math.random() * 0.4)));
}

function toStatus(m: SnapshotMessage): OutboxMessageStatus {
  const { state } = m;
  const delivered = state.ts !== undefined && (state.deliveredVersion >= m.version || state.deliveredHash === m.hash);
  const failed = !delivered && state.failedVersion !== undefined && state.failedVersion >= m.version;
  return {
    key: m.key,
    channel: state.channel ?? m.content.channel,
    parentKey: m.content.parentKey,
    order: m.position,
    ts: state.ts,
    desiredVersion: m.version,
    deliveredVersion: delivered ? m.version : state.deliveredVersion,
    state: delivered ? 'delivered' : failed ? 'failed' : 'pending',
    lastError: state.lastError,
    textOnly: state.textOnly === true,
    broadcast: m.content.broadcast,
  };
}

/**
 * The only way the bot posts run messages to Slack: `publish` stores the desired content in Redis, and one BullMQ
 * job per run walks its messages in thread order, posting, updating or skipping each. Delivery, retries, and the
 * one window in which a header may be posted twice: docs/internals.md#slack-outbox.
 */
export function createSlackOutbox(options: SlackOutboxOptions): SlackOutbox {
  const prefix = options.prefix ?? 'dgr:';
  const queueName = options.queueName ?? SLACK_OUTBOX_QUEUE;
  const logger = options.logger.child({ component: 'slack-outbox' });
  const backoffBase = options.backoffBaseMs ?? 1000;
  const backoffMax = options.backoffMaxMs ?? 60_000;
  const lockTtlMs = options.lockTtlMs ?? 30_000;
  const lockRetryMs = options.lockRetryMs ?? 250;
  const progress = new EventEmitter();
  progress.setMaxListeners(0);

  const connection = openConnection(options.redis);
  connection.on('error', (err) => logger.warn({ err }, 'outbox redis error'));
  const store = new OutboxStore({
    redis: connection,
    prefix,
    retentionSeconds: options.retentionSeconds ?? 7 * 24 * 3600,
  });
  const queue = new Queue<DeliveryJobData>(queueName, {
    connection,
    prefix: bullPrefix(prefix),
    defaultJobOptions: {
      // Only unexpected errors (Redis trouble mid-delivery) count as attempts; Slack failures reschedule the job.
      attempts: 20,
      backoff: { type: BACKOFF_TYPE },
      removeOnComplete: true,
      removeOnFail: { age: 7 * 24 * 3600, count: 1000 },
    },
  });
  queue.on('error', (err) => logger.warn({ err }, 'outbox queue error'));

  const requestDelivery = async (runId: string): Promise<void> => {
    // One job per run: while it waits (or backs off) it will deliver later publishes too; while it runs, one
    // follow-up is kept so a publish made mid-walk is not left behind.
    await queue.add(DELIVER_JOB, { runId }, { deduplication: { id: runId, keepLastIfActive: true } });
  };

  const delay = async (job: Job<DeliveryJobData>, token: string | undefined, ms: number, failures: number) => {
    if ((job.data.failures ?? 0) !== failures) await job.updateData({ ...job.data, failures });
    await job.moveToDelayed(Date.now() + ms, token);
    throw new DelayedError();
  };

  const processJob = async (job: Job<DeliveryJobData>, token?: string): Promise<{ calls: number }> => {
    const { runId } = job.data;
    const failures = job.data.failures ?? 0;
    const log = logger.child({ runId });
    const lockToken = randomUUID();
    if (!(await store.acquireLock(runId, lockToken, lockTtlMs))) {
      return delay(job, token, lockRetryMs, failures);
    }
    let outcome: Awaited<ReturnType<typeof deliverRun>>;
    try {
      outcome = await deliverRun({
        runId,
        store,
        slack: options.slack,
        logger: log,
        keepLock: () => store.renewLock(runId, lockToken, lockTtlMs),
        onRecorded: (key) => progress.emit('recorded', runId, key),
        ...(options.durable ? { durable: options.durable } : {}),
      });
    } finally {
      await store
        .releaseLock(runId, lockToken)
        .catch((err: unknown) => log.warn({ err }, 'outbox lock release failed'));
    }
    switch (outcome.kind) {
      case 'done':
        await store.settleIfDone(runId);
        if (failures > 0) {
          log.info({ failures }, 'Slack reachable again; thread caught up');
          await job.updateData({ ...job.data, failures: 0 });
        }
        return { calls: outcome.calls };
      case 'rate_limited':
        return delay(job, token, outcome.retryAfterMs, failures);
      case 'transient': {
        const wait = backoffMs(failures + 1, backoffBase, backoffMax);
        log.warn({ key: outcome.key, code: outcome.code, failures: failures + 1, waitMs: wait }, 'delivery postponed');
        return delay(job, token, wait, failures + 1);
      }
      case 'lock_lost':
        return delay(job, token, lockRetryMs, failures);
    }
  };

  let worker: Worker<DeliveryJobData> | undefined;
  let workerConnection: Redis | undefined;
  let sweepTimer: NodeJS.Timeout | undefined;

  const sweep = async (): Promise<void> => {
    const runs = await store.pendingRuns();
    await Promise.all(runs.map((runId) => requestDelivery(runId)));
  };

  if (options.worker ?? true) {
    // BullMQ workers block on Redis and need these whatever the caller's connection says.
    workerConnection = openConnection(options.redis, { maxRetriesPerRequest: null, enableOfflineQueue: true });
    workerConnection.on('error', (err) => logger.warn({ err }, 'outbox worker redis error'));
    worker = new Worker<DeliveryJobData>(queueName, processJob, {
      connection: workerConnection,
      prefix: bullPrefix(prefix),
      concurrency: options.concurrency ?? 4,
      settings: { backoffStrategy: (attemptsMade) => backoffMs(attemptsMade, backoffBase, backoffMax) },
    });
    worker.on('error', (err) => logger.warn({ err }, 'outbox worker error'));
    worker.on('failed', (job, err) => {
      logger.warn(
        { runId: job?.data.runId, attemptsMade: job?.attemptsMade, reason: err.message },
        'delivery job failed',
      );
    });
    // Picks up runs whose job was lost with a crash or failed for good while Redis misbehaved.
    sweep().catch((err: unknown) => logger.warn({ err }, 'outbox sweep failed'));
    const every = options.sweepIntervalMs ?? 60_000;
    if (every > 0) {
      sweepTimer = setInterval(() => {
        sweep().catch((err: unknown) => logger.warn({ err }, 'outbox sweep failed'));
      }, every);
      sweepTimer.unref();
    }
  }

  const status = async (runId: string): Promise<OutboxMessageStatus[]> => {
    let snapshot: Map<string, SnapshotMessage>;
    try {
      snapshot = await store.load(runId);
    } catch (error) {
      throw new OutboxUnavailableError('read the run status', error);
    }
    return [...snapshot.values()].sort((a, b) => a.position - b.position || a.seq - b.seq).map(toStatus);
  };

  const waitForProgress = (runId: string, ms: number) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        progress.off('recorded', onRecorded);
        resolve();
      };
      const onRecorded = (id: string) => {
        if (id === runId) done();
      };
      // The timer covers deliveries made by workers in other processes, which emit nothing here.
      const timer = setTimeout(done, ms);
      progress.on('recorded', onRecorded);
    });

  const flush = async (runId: string): Promise<void> => {
    try {
      await requestDelivery(runId);
    } catch (error) {
      throw new OutboxUnavailableError('request a delivery', error);
    }
  };

  let closing: Promise<void> | undefined;

  return {
    async publish(runId, message) {
      const content = toStoredContent(runId, message);
      try {
        const result = await store.publish(runId, message.key, content, message.order);
        if (result.outcome === 'changed') await requestDelivery(runId);
        return result;
      } catch (error) {
        throw new OutboxUnavailableError('store the message', error);
      }
    },

    flush,
    status,

    async backlog() {
      return (await store.pendingRuns()).length;
    },

    async drain(runId, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      await flush(runId);
      for (;;) {
        const current = await status(runId);
        const pending = current.filter((s) => s.state === 'pending');
        if (pending.length === 0) return current;
        const left = deadline - Date.now();
        if (left <= 0)
          throw new OutboxDrainTimeoutError(
            runId,
            pending.map((s) => s.key),
            timeoutMs,
          );
        await waitForProgress(runId, Math.min(left, 100));
      }
    },

    close() {
      closing ??= (async () => {
        if (sweepTimer) clearInterval(sweepTimer);
        if (worker) {
          const limit = options.closeTimeoutMs ?? 10_000;
          let timer: NodeJS.Timeout | undefined;
          const timedOut = new Promise<'timeout'>((resolve) => {
            timer = setTimeout(() => resolve('timeout'), limit);
          });
          const result = await Promise.race([worker.close().then(() => 'closed' as const), timedOut]);
          clearTimeout(timer);
          // The delivery left running keeps its lock until the TTL; the next worker retakes the job as stalled.
          if (result === 'timeout') logger.warn({ timeoutMs: limit }, 'outbox worker did not stop in time');
        }
        await queue.close().catch((err: unknown) => logger.warn({ err }, 'outbox queue close failed'));
        await Promise.allSettled([connection.quit(), workerConnection?.quit()]);
        progress.removeAllListeners();
      })();
      return closing;
    },
  };
}
