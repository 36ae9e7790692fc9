import type { Redis } from 'ioredis';

/**
 * Where a run's summary file stands, kept in Redis next to the outbox:
 * - `inflight`: the file was uploaded and was about to be shared into the thread (set just before
 *   `files.completeUploadExternal`); whether Slack shared it is not known;
 * - `done`: shared into the thread; never uploaded again;
 * - `failed`: Slack refused it for good (`code`); not tried again automatically.
 */
export type SummaryFileState = 'inflight' | 'done' | 'failed';

export interface SummaryFileRecord {
  readonly state: SummaryFileState;
  readonly fileId?: string;
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
}

const RELEASE_LOCK = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

/** The `<prefix>summary-file:` keys: one record and one lock per run. */
export class SummaryFileStore {
  readonly #redis: Redis;
  readonly #base: string;
  readonly #ttl: number;

  constructor(options: SummaryFileStoreOptions) {
    this.#redis = options.redis;
    this.#base = `${options.prefix ?? 'dgr:'}summary-file:run:`;
    this.#ttl = options.retentionSeconds ?? 30 * 24 * 3600;
  }

  async get(runId: string): Promise<SummaryFileRecord | undefined> {
    const raw = await this.#redis.get(`${this.#base}${runId}`);
    if (raw === null) return undefined;
    try {
      return JSON.parse(raw) as SummaryFileRecord;
    } catch {
      return undefined;
    }
  }

  async put(runId: string, record: Omit<SummaryFileRecord, 'at'>, now = new Date()): Promise<void> {
    const value: SummaryFileRecord = { ...record, at: now.toISOString() };
    await this.#redis.set(`${this.#base}${runId}`, JSON.stringify(value), 'EX', this.#ttl);
  }

  async acquireLock(runId: string, token: string, ttlMs: number): Promise<boolean> {
    return (await this.#redis.set(`${this.#base}${runId}:lock`, token, 'PX', ttlMs, 'NX')) === 'OK';
  }

  async releaseLock(runId: string, token: string): Promise<void> {
    await this.#redis.eval(RELEASE_LOCK, 1, `${this.#base}${runId}:lock`, token);
  }
}
