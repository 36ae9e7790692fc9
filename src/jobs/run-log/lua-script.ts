import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * A Lua script run by its SHA, loaded on demand. Kept off the shared connection's `defineCommand` so modules that
 * share one ioredis instance cannot clash on command names; a restarted Redis (scripts gone) is handled by the
 * NOSCRIPT fallback.
 */
export class LuaScript {
  private readonly sha: string;

  constructor(private readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  /**
   * `bySource`: send the source itself (`EVAL`), one command whatever Redis has cached, for callers that rely on
   * the order of commands on the connection.
   */
  async run(
    redis: Redis,
    keys: readonly string[],
    args: readonly (string | number)[],
    bySource = false,
  ): Promise<unknown> {
    if (bySource) return redis.eval(this.source, keys.length, ...keys, ...args);
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return redis.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}
