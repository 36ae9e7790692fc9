import type { Redis } from 'ioredis';
import type { Logger } from '../../logger.js';
import type { DeliveryRecords } from '../../store/delivery-records.js';

/**
 * Where a run's summary file stands, kept in Redis next to the outbox and copied to the journal (which outlives a
 * Redis loss):
 * - `inflight`: the file was uploaded and was about to be shared into the thread (set just before
 *   `files.completeUploadExternal`); whether Slack shared it is not known;
 * - `done`: shared into the thread; never uploaded again;
 * - `failed`: Slack refused it for good (`code`); not tried again automatically.
 */
export type SummaryFileState = 'inflight' | 'done' | 'failed';

export interface SummaryFileRecord {
  readonly state: SummaryFileState;
  /** The first file shared (the Markdown): the one looked for in the thread after an interrupted share. */
  readonly fileId?: string;
  /** Every file shared together in that message (Markdown, export, chart). */
  readonly fileIds?: readonly string[];
  readonly channel?: string;
  readonly threadTs?: string;
  /** The Slack error that made it fail for good. */
  readonly code?: string;
  /** When the record was written (ISO instant). */
  readonly at: string;
}

export interface SummaryFileStoreOptions {
  readonly redis: Redis;
  /** @defaultValue `dgr:` */
  readonly prefix?: string;
  /** How long a record is kept: longer than any run is still uploaded for. @defaultValue 2592000 (30 days) */
  readonly retentionSeconds?: number;
  /** The journal's copy of the records. @defaultValue none: Redis alone */
  readonly durable?: Pick<DeliveryRecords, 'summaryFile' | 'saveSummaryFile'>;
  /** Told when the journal does not answer (the record then lives in Redis alone). */
  readonly logger?: Logger;
}

const RELEASE_LOCK = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

/** The `<prefix>summary-file:` keys: one record and one lock per run. */
export class SummaryFileStore {
  readonly #redis: Redis;
  readonly #base: string;
  readonly #ttl: number;
  readonly #durable: SummaryFileStoreOptions['durable'];
  readonly #logger: Logger | undefined;

  constructor(options: SummaryFileStoreOptions) {
    this.#redis = options.redis;
    this.#base = `${options.prefix ?? 'dgr:'}summary-file:run:`;
    this.#ttl = options.retentionSeconds ?? 30 * 24 * 3600;
    this.#durable = options.durable;
    this.#logger = options.logger;
  }

  /** The record in Redis, or else the journal's (after a Redis loss); undefined when neither has one. */
  async get(runId: string): Promise<SummaryFileRecord | undefined> {
    const raw = await this.#redis.get(`${this.#base}${runId}`);
    if (raw === null) return this.#journaled(runId);
    try {
      return JSON.parse(raw) as SummaryFileRecord;
    } catch {
      return undefined;
    }
  }

  /** Writes the record to the journal, then to Redis; a journal that does not answer leaves it to Redis alone. */
  async put(runId: string, record: Omit<SummaryFileRecord, 'at'>, now = new Date()): Promise<void> {
    const value: SummaryFileRecord = { ...record, at: now.toISOString() };
    await this.#durable
      ?.saveSummaryFile(runId, value)
      .catch((err: unknown) => this.#logger?.warn({ err, runId }, 'could not journal the summary file record'));
    await this.#redis.set(`${this.#base}${runId}`, JSON.stringify(value), 'EX', this.#ttl);
  }

  async #journaled(runId: string): Promise<SummaryFileRecord | undefined> {
    try {
      return await this.#durable?.summaryFile<SummaryFileRecord>(runId);
    } catch (err) {
      // Uploading goes on: only a Redis loss while the journal is down can then share a file twice.
      this.#logger?.warn({ err, runId }, 'journal did not answer; the summary file record is read from Redis alone');
      return undefined;
    }
  }

  async acquireLock(runId: string, token: string, ttlMs: number): Promise<boolean> {
    return (await this.#redis.set(`${this.#base}${runId}:lock`, token, 'PX', ttlMs, 'NX')) === 'OK';
  }

  async releaseLock(runId: string, token: string): Promise<void> {
    await this.#redis.eval(RELEASE_LOCK, 1, `${this.#base}${runId}:lock`, token);
  }
}
