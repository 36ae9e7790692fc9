import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { outboxKeys, type RunKeys } from './outbox-keys.js';
import type { PublishOutcome, PublishResult } from './types.js';

/** The desired message as stored: what the caller published, minus the bookkeeping. */
export interface StoredContent {
  readonly channel: string;
  readonly parentKey: string | undefined;
  readonly text: string;
  readonly blocks: unknown[];
  readonly broadcast: boolean;
  /** For log lines only: left out of the hash, so it never makes Slack update a message. */
  readonly stepId?: string;
}

/** What Slack shows for one key, as far as the outbox knows. */
export interface StoredState {
  readonly ts?: string;
  /** The channel id Slack answered with (a reply's thread lives there). */
  readonly channel?: string;
  /** For a reply: the ts of the top-level message whose thread it is in. */
  readonly threadTs?: string;
  readonly deliveredVersion: number;
  readonly deliveredHash?: string;
  readonly lastError?: string;
  /** The version Slack refused for good, if the latest attempt ended that way. */
  readonly failedVersion?: number;
  readonly textOnly?: boolean;
  readonly at: number;
}

/** Marks a post whose answer has not been recorded yet. */
export interface Inflight {
  readonly version: number;
  readonly hash: string;
  readonly at: number;
}

export interface SnapshotMessage {
  readonly key: string;
  readonly content: StoredContent;
  readonly version: number;
  readonly hash: string;
  /** Place in the thread: the key's first `order`, ties broken by first-publish sequence. */
  readonly position: number;
  readonly seq: number;
  readonly state: StoredState;
  readonly settledVersion: number;
  readonly inflight: Inflight | undefined;
}

const EMPTY_STATE: StoredState = { deliveredVersion: 0, at: 0 };

/**
 * Stores a key's new content unless it is stale (smaller order than the last accepted) or unchanged (same hash),
 * bumping its version; a key's first publish fixes its place. Returns {outcome, version}.
 * KEYS: content, meta, pending, state, settled, inflight. ARGV: key, content JSON, order, hash, runId, ttl seconds.
 */
const PUBLISH = `
local key = ARGV[1]
local order = tonumber(ARGV[3])
local version = redis.call('HGET', KEYS[2], 'v:' .. key)
if version then
  local last = tonumber(redis.call('HGET', KEYS[2], 'o:' .. key))
  if last and order < last then return {'stale', version} end
  redis.call('HSET', KEYS[2], 'o:' .. key, ARGV[3])
  if redis.call('HGET', KEYS[2], 'h:' .. key) == ARGV[4] then return {'unchanged', version} end
  version = tonumber(version) + 1
else
  version = 1
  local seq = redis.call('HINCRBY', KEYS[2], 'seq', 1)
  redis.call('HSET', KEYS[2], 'p:' .. key, ARGV[3], 's:' .. key, seq, 'o:' .. key, ARGV[3])
end
redis.call('HSET', KEYS[2], 'v:' .. key, version, 'h:' .. key, ARGV[4])
redis.call('HSET', KEYS[1], key, ARGV[2])
redis.call('SADD', KEYS[3], ARGV[5])
local ttl = tonumber(ARGV[6])
for i = 1, 2 do redis.call('EXPIRE', KEYS[i], ttl) end
for i = 4, 6 do if redis.call('EXISTS', KEYS[i]) == 1 then redis.call('EXPIRE', KEYS[i], ttl) end end
return {'changed', tostring(version)}
`;

/**
 * Takes the run out of the pending set when every key is settled at its desired version, atomically with reading
 * the versions, so a publish that lands meanwhile keeps the run pending. KEYS: meta, settled, pending. ARGV: runId.
 */
const SETTLE = `
local meta = redis.call('HGETALL', KEYS[1])
for i = 1, #meta, 2 do
  local field = meta[i]
  if string.sub(field, 1, 2) == 'v:' then
    local settled = redis.call('HGET', KEYS[2], string.sub(field, 3))
    if not settled or tonumber(settled) < tonumber(meta[i + 1]) then return 0 end
  end
end
redis.call('SREM', KEYS[3], ARGV[1])
return 1
`;

/** KEYS: lock. ARGV: token, ttl ms. Extends the lock only while the caller still owns it. */
const RENEW_LOCK = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`;

/** KEYS: lock. ARGV: token. Releases the lock only if the caller still owns it. */
const RELEASE_LOCK = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

class Script {
  readonly #sha: string;
  constructor(readonly source: string) {
    this.#sha = createHash('sha1').update(source).digest('hex');
  }
  async run(redis: Redis, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.#sha, keys.length, ...keys, ...args);
    } catch (error) {
      // A restarted or flushed Redis has forgotten the script.
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return redis.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}

const scripts = {
  publish: new Script(PUBLISH),
  settle: new Script(SETTLE),
  renewLock: new Script(RENEW_LOCK),
  releaseLock: new Script(RELEASE_LOCK),
};

/** Stable JSON: object keys sorted, so the same content always hashes the same. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export function contentHash(content: StoredContent): string {
  const { stepId: _logOnly, ...shown } = content;
  return createHash('sha256').update(canonicalJson(shown)).digest('base64url').slice(0, 27);
}

function parseJson<T>(raw: string | undefined | null): T | undefined {
  if (raw === undefined || raw === null) return undefined;
  try {
    return JSON.parse(raw) as T;
  } catch {
    return undefined;
  }
}

export interface OutboxStoreOptions {
  readonly redis: Redis;
  readonly prefix: string;
  /** How long a run's outbox outlives its last write. */
  readonly retentionSeconds: number;
}

/** The outbox's Redis rows. Only the delivery that holds a run's lock writes `state`, `settled` and `inflight`. */
export class OutboxStore {
  readonly #redis: Redis;
  readonly #keys: ReturnType<typeof outboxKeys>;
  readonly #ttl: number;

  constructor(options: OutboxStoreOptions) {
    this.#redis = options.redis;
    this.#keys = outboxKeys(options.prefix);
    this.#ttl = options.retentionSeconds;
  }

  runKeys(runId: string): RunKeys {
    return this.#keys.run(runId);
  }

  async publish(runId: string, key: string, content: StoredContent, order: number): Promise<PublishResult> {
    const k = this.#keys.run(runId);
    const reply = (await scripts.publish.run(
      this.#redis,
      [k.content, k.meta, this.#keys.pending, k.state, k.settled, k.inflight],
      [key, JSON.stringify(content), String(order), contentHash(content), runId, this.#ttl],
    )) as [string, string];
    return { outcome: reply[0] as PublishOutcome, version: Number(reply[1]) };
  }

  /** Everything known about a run's messages, read in one round trip. */
  async load(runId: string): Promise<Map<string, SnapshotMessage>> {
    const k = this.#keys.run(runId);
    const replies = await this.#redis
      .multi()
      .hgetall(k.content)
      .hgetall(k.meta)
      .hgetall(k.state)
      .hgetall(k.settled)
      .hgetall(k.inflight)
      .exec();
    if (replies === null) throw new Error('outbox snapshot transaction was discarded');
    const [content, meta, state, settled, inflight] = replies.map(([error, value]) => {
      if (error) throw error;
      return value as Record<string, string>;
    }) as [
      Record<string, string>,
      Record<string, string>,
      Record<string, string>,
      Record<string, string>,
      Record<string, string>,
    ];

    const messages = new Map<string, SnapshotMessage>();
    for (const [key, raw] of Object.entries(content)) {
      const stored = parseJson<StoredContent>(raw);
      if (!stored) continue;
      messages.set(key, {
        key,
        content: stored,
        version: Number(meta[`v:${key}`] ?? 0),
        hash: meta[`h:${key}`] ?? '',
        position: Number(meta[`p:${key}`] ?? 0),
        seq: Number(meta[`s:${key}`] ?? 0),
        state: parseJson<StoredState>(state[key]) ?? EMPTY_STATE,
        settledVersion: Number(settled[key] ?? 0),
        inflight: parseJson<Inflight>(inflight[key]),
      });
    }
    return messages;
  }

  /** Notes that a post is about to leave, so a retry after a lost answer knows to look for it first. */
  async markInflight(runId: string, key: string, inflight: Inflight): Promise<void> {
    const k = this.#keys.run(runId);
    await this.#redis.multi().hset(k.inflight, key, JSON.stringify(inflight)).expire(k.inflight, this.#ttl).exec();
  }

  /**
   * Records what Slack now shows for a key, in one transaction: the state (with the ts of a post), the settled
   * version when it is final, and the end of any in-flight mark.
   */
  async record(
    runId: string,
    key: string,
    state: StoredState,
    options: { settledVersion?: number; clearInflight?: boolean } = {},
  ): Promise<void> {
    const k = this.#keys.run(runId);
    const tx = this.#redis.multi().hset(k.state, key, JSON.stringify(state)).expire(k.state, this.#ttl);
    if (options.settledVersion !== undefined) {
      tx.hset(k.settled, key, String(options.settledVersion)).expire(k.settled, this.#ttl);
    }
    if (options.clearInflight) tx.hdel(k.inflight, key);
    const replies = await tx.exec();
    const failed = replies?.find(([error]) => error);
    if (failed?.[0]) throw failed[0];
  }

  async settleIfDone(runId: string): Promise<boolean> {
    const k = this.#keys.run(runId);
    return (await scripts.settle.run(this.#redis, [k.meta, k.settled, this.#keys.pending], [runId])) === 1;
  }

  async pendingRuns(): Promise<string[]> {
    return this.#redis.smembers(this.#keys.pending);
  }

  async acquireLock(runId: string, token: string, ttlMs: number): Promise<boolean> {
    return (await this.#redis.set(this.#keys.run(runId).lock, token, 'PX', ttlMs, 'NX')) === 'OK';
  }

  async renewLock(runId: string, token: string, ttlMs: number): Promise<boolean> {
    return (await scripts.renewLock.run(this.#redis, [this.#keys.run(runId).lock], [token, ttlMs])) === 1;
  }

  async releaseLock(runId: string, token: string): Promise<void> {
    await scripts.releaseLock.run(this.#redis, [this.#keys.run(runId).lock], [token]);
  }
}
