import type { Redis } from 'ioredis';
import type { MessageBlock } from './blocks/validate.js';

/** The Slack message an alert (one fingerprint) was posted as, and how often Alertmanager has sent it. */
export interface AlertMessageRecord {
  readonly channel: string;
  readonly ts: string;
  /** What the message shows now, so that a resolved alert keeps its diagnosis. */
  readonly blocks: readonly MessageBlock[];
  readonly notifications: number;
  readonly status: 'firing' | 'resolved';
}

/** Per fingerprint, in Redis, so that every process updates the one message instead of posting another. */
export interface AlertMessages {
  /** True for exactly one caller per fingerprint until {@link release} or the claim's expiry: that one posts. */
  claim(fingerprint: string): Promise<boolean>;
  release(fingerprint: string): Promise<void>;
  get(fingerprint: string): Promise<AlertMessageRecord | null>;
  save(fingerprint: string, record: AlertMessageRecord): Promise<void>;
}

/** A posted alert is remembered this long; a later alert with the same fingerprint gets a new message. */
const RECORD_TTL_S = 14 * 24 * 3600;
/** Longer than a diagnosis plus a post; a process that died meanwhile frees the fingerprint after it. */
const CLAIM_TTL_MS = 120_000;

export function createAlertMessages(options: { redis: Redis; prefix: string }): AlertMessages {
  const { redis } = options;
  const key = (fingerprint: string) => `${options.prefix}alert:${fingerprint}`;
  return {
    async claim(fingerprint) {
      return (await redis.set(`${key(fingerprint)}:claim`, '1', 'PX', CLAIM_TTL_MS, 'NX')) === 'OK';
    },
    async release(fingerprint) {
      await redis.del(`${key(fingerprint)}:claim`);
    },
    async get(fingerprint) {
      const raw = await redis.get(key(fingerprint));
      return raw === null ? null : (JSON.parse(raw) as AlertMessageRecord);
    },
    async save(fingerprint, record) {
      await redis.set(key(fingerprint), JSON.stringify(record), 'EX', RECORD_TTL_S);
    },
  };
}
