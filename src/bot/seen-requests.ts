import type { Redis } from 'ioredis';

/**
 * Signed Slack requests already received, kept in Redis so a restart of the bot does not forget them. An entry
 * lives as long as its signature could still be accepted, so a captured request resent within that window is
 * recognised however often the bot restarted in between.
 */
export interface SeenRequests {
  /**
   * Records `id` for `ttlSec` seconds. `true` the first time, `false` for a repeat; rejects when Redis does not
   * answer within the timeout (the caller must then not apply the request).
   */
  firstSight(id: string, ttlSec: number): Promise<boolean>;
}

export interface SeenRequestsOptions {
  readonly redis: Redis;
  /** Prefix of every key (`<prefix>slack:seen:<id>`). */
  readonly prefix: string;
  /** How long the check may take: it sits before Slack's 3 s acknowledgement. @defaultValue 1000 */
  readonly timeoutMs?: number;
}

export function seenRequestsKey(prefix: string, id: string): string {
  return `${prefix}slack:seen:${id}`;
}

export function createSeenRequests(options: SeenRequestsOptions): SeenRequests {
  const timeoutMs = options.timeoutMs ?? 1000;
  return {
    async firstSight(id, ttlSec) {
      let timer: NodeJS.Timeout | undefined;
      const slow = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`Redis did not answer within ${timeoutMs} ms`)), timeoutMs);
      });
      try {
        const set = options.redis.set(seenRequestsKey(options.prefix, id), '1', 'EX', Math.max(1, ttlSec), 'NX');
        return (await Promise.race([set, slow])) === 'OK';
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
