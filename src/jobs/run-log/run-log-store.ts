import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '../../logger.js';
import {
  assertRunBatch,
  type RunEventEnvelope,
  type StoredRunEvent,
  TERMINAL_EVENT_TYPES,
} from '../../store/run-event.js';
import {
  DEFAULT_JOURNAL_ATTEMPTS,
  JOURNAL_JOB,
  JOURNAL_QUEUE,
  type JournalJobData,
  journalJobOptions,
} from './journal-queue.js';
import {
  assertPrefix,
  bullPrefix,
  DEFAULT_PREFIX,
  type RunLogKeys,
  type RunSlotScope,
  runEventChannels,
  runLogKeys,
} from './keys.js';
import { toRunLogError } from './run-log-errors.js';
import { ACQUIRE_SLOT, APPEND, BACKLOG, MARK_JOURNALED, RELEASE_SLOT, RESTORE } from './scripts.js';

export interface RunLogStoreOptions {
  /** Shared connection; the store never closes it. */
  readonly redis: Redis;
  /** Prefix of every key, and of the journal queue. @defaultValue `dgr:` */
  readonly prefix?: string;
  /** @defaultValue `journal` */
  readonly queueName?: string;
  /** Attempts of each journal job before the periodic sweep takes over. @defaultValue 20 */
  readonly journalAttempts?: number;
  /**
   * How long the journal copy requests of appends made close together are gathered into one: a step and the
   * person or step that follows it append within milliseconds, and one copy covers them all. @defaultValue 25
   */
  readonly journalRequestDelayMs?: number;
  readonly logger?: Logger;
}

export type AppendResult =
  | { readonly ok: true; readonly lastSeq: number }
  /** Someone else appended first (or the log was lost): `currentSeq` is the run's last seq now. */
  | { readonly ok: false; readonly reason: 'conflict'; readonly currentSeq: number };

export interface RunSlot {
  readonly scope: RunSlotScope;
  /** Required for the `tenant` scope. */
  readonly tenantId?: string;
}

export type RunSlotRequest = RunSlot & { readonly runId: string };

export type AcquireSlotResult =
  | { readonly acquired: true }
  | { readonly acquired: false; readonly holderRunId: string };

export interface JournalBacklogEntry {
  readonly runId: string;
  readonly lastSeq: number;
  /** Highest seq known to be journaled (0 when unknown, e.g. never written or lost with Redis). */
  readonly journaledSeq: number;
}

export interface JournalProgress {
  /** The run still has (or may have) events the journal lacks. */
  readonly pending: boolean;
  readonly journaledSeq: number;
}

/**
 * The live run logs in Redis: one list per run, appended with compare-and-append, an index of active runs, and
 * the run slots (one node-wide run, one run per tenant). Every append announces its events on the run's channel
 * and, shortly after, asks the journal writer to copy the run to Postgres.
 */
export class RunLogStore {
  readonly prefix: string;
  readonly queueName: string;
  private readonly redis: Redis;
  private readonly keys: RunLogKeys;
  private readonly logger: Logger | undefined;
  private readonly attempts: number;
  private readonly channels: ReturnType<typeof runEventChannels>;
  private readonly journalRequestDelayMs: number;
  private queue: Queue<JournalJobData> | undefined;
  /** Runs appended to since the last batch of journal requests went out. */
  private readonly journalRequestsDue = new Set<string>();
  private journalRequestTimer: NodeJS.Timeout | undefined;
  private journalRequestsInFlight: Promise<void> = Promise.resolve();

  constructor(options: RunLogStoreOptions) {
    this.prefix = options.prefix ?? DEFAULT_PREFIX;
    assertPrefix(this.prefix);
    this.queueName = options.queueName ?? JOURNAL_QUEUE;
    this.redis = options.redis;
    this.keys = runLogKeys(this.prefix);
    this.logger = options.logger;
    this.attempts = options.journalAttempts ?? DEFAULT_JOURNAL_ATTEMPTS;
    this.channels = runEventChannels(this.prefix);
    this.journalRequestDelayMs = Math.max(0, options.journalRequestDelayMs ?? 25);
  }

  /**
   * Appends events atomically if the run's last seq is `expectedSeq − 1`; the events must carry seq
   * `expectedSeq, expectedSeq+1, …` and this `runId`. A lost race is a result, not an exception: `{ok: false,
   * currentSeq}`. Throws `RunEventInvalidError` for a malformed batch and `RunLogUnavailableError` when Redis fails.
   * The events are announced on {@link runEventChannels}' channel of the run in the same call. `expectedLast`, the
   * JSON of the event the caller last saw, makes the append also require that the log still ends in it. `ordered`:
   * a command sent on this connection after the call runs after the append (docs/internals.md#run-log).
   */
  async append<E extends RunEventEnvelope>(
    runId: string,
    expectedSeq: number,
    events: readonly E[],
    expectedLast = '',
    options: { readonly ordered?: boolean } = {},
  ): Promise<AppendResult> {
    assertRunBatch(runId, events, expectedSeq);
    const ends = events.some((e) => TERMINAL_EVENT_TYPES.has(e.type));
    const k = this.keys;
    let reply: [number, number];
    try {
      reply = (await APPEND.run(
        this.redis,
        [k.events(runId), k.active, k.unjournaled, k.held(runId)],
        [
          expectedSeq,
          runId,
          ends ? 'end' : '',
          this.channels.channel(runId),
          expectedLast,
          ...events.map((e) => JSON.stringify(e)),
        ],
        options.ordered === true,
      )) as [number, number];
    } catch (error) {
      throw toRunLogError(error);
    }
    if (reply[0] !== 1) return { ok: false, reason: 'conflict', currentSeq: reply[1] };
    this.requestJournalSyncSoon(runId);
    return { ok: true, lastSeq: reply[1] };
  }

  /**
   * Events from `fromSeq` on (1-based), at most `limit`. Empty for an unknown run, and for a finished run whose
   * log has expired after being journaled: read those from the journal.
   */
  async read<E = StoredRunEvent>(runId: string, fromSeq = 1, limit?: number): Promise<E[]> {
    const start = Math.max(0, Math.trunc(fromSeq) - 1);
    const stop = limit === undefined ? -1 : start + Math.max(1, Math.trunc(limit)) - 1;
    try {
      const raw = await this.redis.lrange(this.keys.events(runId), start, stop);
      return raw.map((json) => JSON.parse(json) as E);
    } catch (error) {
      throw toRunLogError(error);
    }
  }

  /** 0 when Redis has no log for the run. */
  async lastSeq(runId: string): Promise<number> {
    try {
      return await this.redis.llen(this.keys.events(runId));
    } catch (error) {
      throw toRunLogError(error);
    }
  }

  /** Runs that have started and not ended (an append with `run_finished` or `run_aborted` ends a run). */
  async listActiveRuns(): Promise<string[]> {
    try {
      return (await this.redis.smembers(this.keys.active)).sort();
    } catch (error) {
      throw toRunLogError(error);
    }
  }

  /** How many runs have started and not ended. */
  async countActiveRuns(): Promise<number> {
    try {
      return await this.redis.scard(this.keys.active);
    } catch (error) {
      throw toRunLogError(error);
    }
  }

  /**
   * Takes the node-wide slot or the tenant's slot for `runId`. Idempotent for the holder; a second run is refused
   * and told who holds it. Slots have no expiry (runs wait on people for hours); they are freed by
   * {@link releaseRunSlot} or by appending the run's `run_finished`/`run_aborted`.
   */
  async acquireRunSlot(request: RunSlotRequest): Promise<AcquireSlotResult> {
    const slotKey = this.slotKey(request);
    try {
      const [ok, holder] = (await ACQUIRE_SLOT.run(
        this.redis,
        [slotKey, this.keys.held(request.runId)],
        [request.runId],
      )) as [number, string];
      return ok === 1 ? { acquired: true } : { acquired: false, holderRunId: holder };
    } catch (error) {
      throw toRunLogError(error);
    }
  }

  /** Frees the slot if `runId` holds it; true when it did. */
  async releaseRunSlot(request: RunSlotRequest): Promise<boolean> {
    const slotKey = this.slotKey(request);
    try {
      return (await RELEASE_SLOT.run(this.redis, [slotKey, this.keys.held(request.runId)], [request.runId])) === 1;
    } catch (error) {
      throw toRunLogError(error);
    }
  }

  /** The run holding the slot, if any. */
  async runSlotHolder(slot: RunSlot): Promise<string | undefined> {
    try {
      return (await this.redis.get(this.slotKey(slot))) ?? undefined;
    } catch (error) {
      throw toRunLogError(error);
    }
  }

  /** Runs whose log may hold events the journal lacks, with how far each is known to be journaled. */
  async journalBacklog(): Promise<JournalBacklogEntry[]> {
    try {
      const flat = (await BACKLOG.run(
        this.redis,
        [this.keys.unjournaled, this.keys.journaled],
        [this.keys.eventsPrefix],
      )) as (string | number)[];
      const out: JournalBacklogEntry[] = [];
      for (let i = 0; i + 2 < flat.length; i += 3) {
        out.push({ runId: String(flat[i]), lastSeq: Number(flat[i + 1]), journaledSeq: Number(flat[i + 2]) });
      }
      return out.sort((a, b) => a.runId.localeCompare(b.runId));
    } catch (error) {
      throw toRunLogError(error);
    }
  }

  /** Journal progress of the given runs, as far as Redis knows it. */
  async journalProgress(runIds: readonly string[]): Promise<Map<string, JournalProgress>> {
    const out = new Map<string, JournalProgress>();
    if (runIds.length === 0) return out;
    try {
      const res = await this.redis
        .multi()
        .smismember(this.keys.unjournaled, ...runIds)
        .hmget(this.keys.journaled, ...runIds)
        .exec();
      const members = (res?.[0]?.[1] ?? []) as number[];
      const seqs = (res?.[1]?.[1] ?? []) as (string | null)[];
      runIds.forEach((runId, i) => {
        out.set(runId, { pending: members[i] === 1, journaledSeq: Number(seqs[i] ?? 0) });
      });
      return out;
    } catch (error) {
      throw toRunLogError(error);
    }
  }

  /**
   * Records that the journal holds the run up to `seq`. Returns true when that covers the whole log (the run
   * leaves the backlog; a finished run's log then expires after `finishedRunTtlSeconds`, 0 keeping it).
   */
  async markJournaled(runId: string, seq: number, finishedRunTtlSeconds: number): Promise<boolean> {
    const k = this.keys;
    try {
      const res = await MARK_JOURNALED.run(
        this.redis,
        [k.events(runId), k.unjournaled, k.journaled, k.active],
        [runId, seq, Math.max(0, Math.trunc(finishedRunTtlSeconds))],
      );
      return res === 1;
    } catch (error) {
      throw toRunLogError(error);
    }
  }

  /**
   * Puts a run's journaled events back into an empty log (after Redis lost it). A run with a live log is left
   * alone: `{restored: false, currentSeq}`. An active run rejoins the active index; a finished one expires after
   * `finishedRunTtlSeconds`.
   */
  async restoreRun(
    runId: string,
    events: readonly RunEventEnvelope[],
    options: { active: boolean; finishedRunTtlSeconds: number },
  ): Promise<{ restored: boolean; lastSeq: number }> {
    if (events.length > 0) assertRunBatch(runId, events, 1);
    const k = this.keys;
    try {
      const [ok, seq] = (await RESTORE.run(
        this.redis,
        [k.events(runId), k.active, k.journaled, k.unjournaled],
        [
          runId,
          options.active ? '1' : '0',
          Math.max(0, Math.trunc(options.finishedRunTtlSeconds)),
          ...events.map((e) => JSON.stringify(e)),
        ],
      )) as [number, number];
      return { restored: ok === 1, lastSeq: seq };
    } catch (error) {
      throw toRunLogError(error);
    }
  }

  /** Queues a copy of the run to the journal (at most one pending per run). */
  async requestJournalSync(runId: string): Promise<void> {
    this.queue ??= this.createQueue();
    await this.queue.add(JOURNAL_JOB, { runId }, journalJobOptions(runId, this.attempts));
  }

  /**
   * Gathers the journal requests of appends made close together into one per run, off the appender's path. The
   * run is already in the unjournaled index, so a request lost with a crash is only a delay: the writer's sweep
   * finds the run.
   */
  private requestJournalSyncSoon(runId: string): void {
    this.journalRequestsDue.add(runId);
    if (this.journalRequestTimer) return;
    this.journalRequestTimer = setTimeout(() => this.flushJournalRequests(), this.journalRequestDelayMs);
    this.journalRequestTimer.unref();
  }

  /** Sends the journal requests gathered so far now; resolves once every request sent so far is in Redis. */
  flushJournalRequests(): Promise<void> {
    clearTimeout(this.journalRequestTimer);
    this.journalRequestTimer = undefined;
    const runs = [...this.journalRequestsDue];
    this.journalRequestsDue.clear();
    const sent = Promise.all(
      runs.map((runId) =>
        this.requestJournalSync(runId).catch((error: unknown) => {
          this.logger?.warn({ runId, err: error }, 'could not queue the journal copy; the sweep will pick it up');
        }),
      ),
    ).then(() => undefined);
    this.journalRequestsInFlight = Promise.all([this.journalRequestsInFlight, sent]).then(() => undefined);
    return this.journalRequestsInFlight;
  }

  /** Sends the journal requests still gathered, then closes the store's queue; the Redis connection is the caller's. */
  async close(): Promise<void> {
    await this.flushJournalRequests();
    const queue = this.queue;
    this.queue = undefined;
    await queue?.close();
  }

  private createQueue(): Queue<JournalJobData> {
    const queue = new Queue<JournalJobData>(this.queueName, {
      connection: this.redis,
      prefix: bullPrefix(this.prefix),
      // No INFO at start: a connection blip during it would fail every later add on the shared connection.
      skipVersionCheck: true,
    });
    // The connection is the caller's, whose own listener reports its errors; this one keeps them from being thrown.
    queue.on('error', (err) => this.logger?.debug({ err }, 'journal queue error'));
    return queue;
  }

  private slotKey(slot: RunSlot): string {
    if (slot.scope === 'tenant') {
      if (!slot.tenantId) throw new TypeError('a tenant slot needs a tenantId');
      return this.keys.slot('tenant', slot.tenantId);
    }
    return this.keys.slot('node');
  }
}

export function createRunLogStore(options: RunLogStoreOptions): RunLogStore {
  return new RunLogStore(options);
}
