import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { webApi } from '@slack/bolt';
import type { Redis } from 'ioredis';
import { ErrorCode } from '../../errors.js';
import type { RunService } from '../../jobs/run-service-port.js';
import type { Logger } from '../../logger.js';
import type { RunEvent, Scenario } from '../../runbook/index.js';
import type { OutboxMessageStatus, SlackOutbox } from '../../slack/outbox/index.js';
import { classifySlackFailure, type SlackFailure } from '../../slack/outbox/slack-failures.js';
import { HEADER_KEY } from '../thread/draft.js';
import { type FileUploadClient, uploadFiles } from './file-upload.js';
import { SummaryUploadFailedError } from './summary-file-errors.js';
import { type SummaryFileRecord, SummaryFileStore, type SummaryFileStoreOptions } from './summary-file-store.js';
import { type ChartRenderer, summaryFiles } from './summary-files.js';

/** What the publisher calls in Slack: the upload steps, and a thread read to find a file shared before a crash. */
export interface SummaryFileSlackClient extends FileUploadClient {
  readonly conversations: {
    replies(args: webApi.ConversationsRepliesArguments): Promise<webApi.ConversationsRepliesResponse>;
  };
}

export interface SummaryFilePublisherOptions {
  /** A connection the publisher uses and leaves open (the caller closes it). */
  readonly redis: Redis;
  /** Prefix of its keys. @defaultValue `dgr:` */
  readonly prefix?: string;
  /** A client configured as the outbox's is (no retries of its own, 429 thrown, a timeout). */
  readonly slack: SummaryFileSlackClient;
  /** The run's thread: the file waits until its messages (the summary among them) are delivered. */
  readonly outbox: Pick<SlackOutbox, 'drain'>;
  readonly service: Pick<RunService, 'get'>;
  readonly scenarioFor: (name: string) => Scenario;
  readonly logger: Logger;
  /** First wait after a transient failure (Slack down, 5xx, thread not delivered yet); doubles. @defaultValue 1000 */
  readonly backoffBaseMs?: number;
  /** Cap of that wait; the upload is tried at this interval for as long as Slack is down. @defaultValue 60000 */
  readonly backoffMaxMs?: number;
  /** How long one attempt waits for the thread to be delivered before it backs off. @defaultValue 10000 */
  readonly threadWaitMs?: number;
  /** Lifetime of the per-run lock that keeps two processes from uploading together. @defaultValue 120000 */
  readonly lockTtlMs?: number;
  /** Wait before trying again when another process holds the run's lock. @defaultValue 1000 */
  readonly lockRetryMs?: number;
  /**
   * Runs that finished longer ago than this get no file (a start-up catch-up of old runs uploads nothing);
   * `/dg summary` still posts it. Kept well under the records' retention, so an expired record cannot cause a
   * second upload. @defaultValue 604800000 (7 days)
   */
  readonly maxAgeMs?: number;
  /** How long a run's record is kept. @defaultValue 2592000 (30 days) */
  readonly retentionSeconds?: number;
  /** Limit of the POST of the bytes. @defaultValue 30000 */
  readonly uploadTimeoutMs?: number;
  /** @defaultValue `() => new Date()` */
  readonly clock?: () => Date;
  /** The journal's copy of each run's record, so a Redis loss never shares a file again. @defaultValue none */
  readonly durable?: SummaryFileStoreOptions['durable'];
  /** Draws the run's chart. @defaultValue a worker thread with vega-lite and resvg */
  readonly renderChart?: ChartRenderer;
}

/** How a run's request ended in this process: shared, refused for good, or nothing to do (no thread, too old). */
export type SummaryFileOutcome = 'done' | 'failed' | 'skipped';

export interface SummaryFilePublisher {
  /**
   * Asks for the run's summary file to be shared into its thread. Returns at once: the upload waits for the
   * thread, retries on its own and never holds anything up. A run whose file is shared is left alone.
   */
  request(runId: string): void;
  /** The run's record in Redis. */
  record(runId: string): Promise<SummaryFileRecord | undefined>;
  /** Resolves with how the run's request ends (at once when its record is final). */
  settled(runId: string, timeoutMs?: number): Promise<SummaryFileOutcome>;
  /** Stops retrying and waits (up to 10 s) for an upload in progress. */
  close(): Promise<void>;
}

type Step =
  | { readonly kind: 'final'; readonly outcome: SummaryFileOutcome }
  | { readonly kind: 'retry'; readonly ms: number };

interface Pending {
  running: Promise<void> | undefined;
  timer: NodeJS.Timeout | undefined;
  /** Transient failures in a row, for the backoff. */
  failures: number;
}

const THREAD_WAIT_SLICE_MS = 1000;

function final(outcome: SummaryFileOutcome): Step {
  return { kind: 'final', outcome };
}

/** Exponential, capped, with ±20 % jitter. */
function backoffMs(failures: number, baseMs: number, maxMs: number): number {
  const raw = Math.min(maxMs, baseMs * 2 ** Math.max(0, failures - 1));
  return Math.max(1, Math.round(raw * (0.8 + Math.random() * 0.4)));
}

function failureOf(err: unknown): SlackFailure {
  if (err instanceof SummaryUploadFailedError) return err.failure;
  // Redis or the run log did not answer: nothing about Slack is known, so try again later.
  return { kind: 'transient', code: 'unexpected_error', maybeSent: false };
}

async function sharedInThread(
  slack: SummaryFileSlackClient,
  place: { channel: string; threadTs: string },
  fileId: string,
): Promise<boolean> {
  let cursor: string | undefined;
  try {
    for (let page = 0; page < 20; page++) {
      const res = await slack.conversations.replies({
        channel: place.channel,
        ts: place.threadTs,
        limit: 200,
        ...(cursor ? { cursor } : {}),
      });
      if ((res.messages ?? []).some((m) => (m.files ?? []).some((f) => f.id === fileId))) return true;
      cursor = res.response_metadata?.next_cursor || undefined;
      if (!cursor) return false;
    }
    return false;
  } catch (err) {
    throw new SummaryUploadFailedError('replies', classifySlackFailure(err), err);
  }
}

/**
 * Shares each finished run's summary files (`incident-<runId>.md`, `.json`, `.png`) into the run's thread in one
 * message, right after the summary message, once across retries, restarts and processes. How, the retries, and the one window in which it
 * may be shared twice: docs/internals.md#summary-file.
 */
export function createSummaryFilePublisher(options: SummaryFilePublisherOptions): SummaryFilePublisher {
  const logger = options.logger.child({ component: 'summary-file' });
  const store = new SummaryFileStore({
    redis: options.redis,
    logger,
    ...(options.durable !== undefined ? { durable: options.durable } : {}),
    ...(options.prefix !== undefined ? { prefix: options.prefix } : {}),
    ...(options.retentionSeconds !== undefined ? { retentionSeconds: options.retentionSeconds } : {}),
  });
  const backoffBase = options.backoffBaseMs ?? 1000;
  const backoffMax = options.backoffMaxMs ?? 60_000;
  const threadWaitMs = options.threadWaitMs ?? 10_000;
  const lockTtlMs = options.lockTtlMs ?? 120_000;
  const lockRetryMs = options.lockRetryMs ?? 1000;
  const maxAgeMs = options.maxAgeMs ?? 7 * 24 * 3600 * 1000;
  const clock = options.clock ?? (() => new Date());
  const pending = new Map<string, Pending>();
  const signals = new EventEmitter();
  signals.setMaxListeners(0);
  let closed = false;

  /** The run's thread once every message is settled; `undefined` while Slack has not taken it yet. */
  const deliveredThread = async (runId: string): Promise<OutboxMessageStatus[] | undefined> => {
    const deadline = Date.now() + threadWaitMs;
    for (;;) {
      try {
        return await options.outbox.drain(runId, Math.max(1, Math.min(THREAD_WAIT_SLICE_MS, deadline - Date.now())));
      } catch (err) {
        if ((err as { code?: string }).code !== ErrorCode.OutboxDrainTimeout) throw err;
        if (closed || Date.now() >= deadline) return undefined;
      }
    }
  };

  const upload = async (
    runId: string,
    events: readonly RunEvent[],
    scenario: Scenario,
    header: OutboxMessageStatus,
  ) => {
    const place = { channel: header.channel, threadTs: header.ts as string };
    const token = randomUUID();
    if (!(await store.acquireLock(runId, token, lockTtlMs))) return undefined;
    try {
      const current = await store.get(runId);
      if (current?.state === 'done' || current?.state === 'failed') return final(current.state);
      if (
        current?.state === 'inflight' &&
        current.fileId &&
        (await sharedInThread(options.slack, place, current.fileId))
      ) {
        await store.put(runId, { state: 'done', fileId: current.fileId, ...place }, clock());
        logger.info({ runId, fileId: current.fileId }, 'summary file found in the thread after an interrupted share');
        return final('done');
      }
      const files = await summaryFiles(runId, events, scenario, {
        logger,
        ...(options.renderChart ? { renderChart: options.renderChart } : {}),
      });
      const { fileIds } = await uploadFiles(
        options.slack,
        files,
        { channelId: place.channel, threadTs: place.threadTs },
        {
          timeoutMs: options.uploadTimeoutMs ?? 30_000,
          beforeShare: (ids) =>
            store.put(runId, { state: 'inflight', fileId: ids[0], fileIds: ids, ...place }, clock()),
        },
      );
      await store.put(runId, { state: 'done', fileId: fileIds[0], fileIds, ...place }, clock());
      logger.info({ runId, fileIds }, 'summary files shared in the thread');
      return final('done');
    } finally {
      await store.releaseLock(runId, token).catch((err: unknown) => logger.warn({ err, runId }, 'lock release failed'));
    }
  };

  const attempt = async (runId: string, p: Pending): Promise<Step> => {
    try {
      const known = await store.get(runId);
      if (known?.state === 'done' || known?.state === 'failed') return final(known.state);
      const run = await options.service.get(runId);
      if (!run || run.state.outcome === null) return final('skipped');
      const finished = run.events.findLast((e) => e.type === 'run_finished');
      if (finished && clock().getTime() - Date.parse(finished.at) > maxAgeMs) return final('skipped');
      let scenario: Scenario;
      try {
        scenario = options.scenarioFor(run.state.scenario);
      } catch {
        return final('skipped');
      }
      const thread = await deliveredThread(runId);
      if (thread === undefined) {
        p.failures += 1;
        const wait = backoffMs(p.failures, backoffBase, backoffMax);
        logger.info({ runId, waitMs: wait }, 'thread not delivered yet; the summary file waits');
        return { kind: 'retry', ms: wait };
      }
      const header = thread.find((m) => m.key === HEADER_KEY);
      if (!header) return final('skipped');
      if (header.ts === undefined) {
        logger.warn({ runId, code: header.lastError }, 'the thread was refused by Slack: no summary file');
        return final('skipped');
      }
      const step = await upload(runId, run.events, scenario, header);
      if (step === undefined) return { kind: 'retry', ms: lockRetryMs };
      if (p.failures > 0 && step.kind === 'final' && step.outcome === 'done') {
        logger.info({ runId, failures: p.failures }, 'Slack reachable again; summary file shared');
      }
      return step;
    } catch (err) {
      const failure = failureOf(err);
      switch (failure.kind) {
        case 'rate_limited':
          return { kind: 'retry', ms: failure.retryAfterMs };
        case 'transient': {
          p.failures += 1;
          const wait = backoffMs(p.failures, backoffBase, backoffMax);
          logger.warn({ err, runId, code: failure.code, failures: p.failures, waitMs: wait }, 'summary file postponed');
          return { kind: 'retry', ms: wait };
        }
        default:
          logger.error({ err, runId, code: failure.code }, 'Slack refused the summary file; not trying again');
          await store
            .put(runId, { state: 'failed', code: failure.code }, clock())
            .catch((e: unknown) => logger.warn({ err: e, runId }, 'could not record the refusal'));
          return final('failed');
      }
    }
  };

  const run = (runId: string, p: Pending): void => {
    p.running = attempt(runId, p)
      .then((step) => {
        if (step.kind === 'final') {
          pending.delete(runId);
          signals.emit('settled', runId, step.outcome);
          return;
        }
        if (closed) {
          pending.delete(runId);
          return;
        }
        p.timer = setTimeout(() => {
          p.timer = undefined;
          run(runId, p);
        }, step.ms);
        p.timer.unref();
      })
      .finally(() => {
        p.running = undefined;
      });
  };

  return {
    request(runId) {
      if (closed || pending.has(runId)) return;
      const p: Pending = { running: undefined, timer: undefined, failures: 0 };
      pending.set(runId, p);
      run(runId, p);
    },

    record: (runId) => store.get(runId),

    settled(runId, timeoutMs = 30_000) {
      return new Promise<SummaryFileOutcome>((resolve, reject) => {
        const onSettled = (id: string, outcome: SummaryFileOutcome) => {
          if (id !== runId) return;
          finish();
          resolve(outcome);
        };
        const timer = setTimeout(() => {
          finish();
          reject(new Error(`the summary file of ${runId} was not settled within ${timeoutMs} ms`));
        }, timeoutMs);
        const finish = () => {
          clearTimeout(timer);
          signals.off('settled', onSettled);
        };
        signals.on('settled', onSettled);
        if (pending.has(runId)) return;
        store.get(runId).then(
          (known) => {
            if (known?.state === 'done' || known?.state === 'failed') onSettled(runId, known.state);
          },
          () => undefined,
        );
      });
    },

    async close() {
      closed = true;
      for (const p of pending.values()) if (p.timer) clearTimeout(p.timer);
      const running = [...pending.values()].map((p) => p.running).filter((r) => r !== undefined);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all(running),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, 10_000);
        }),
      ]);
      clearTimeout(timer);
    },
  };
}
