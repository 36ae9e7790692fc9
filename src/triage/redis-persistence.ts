import { Redis, type RedisOptions } from 'ioredis';

/** What a Redis restart keeps: `none` loses every live run log and job; `unknown` when `CONFIG` is not allowed. */
export type RedisPersistence = 'aof' | 'snapshots' | 'none' | 'unknown';

/** Reads `appendonly` and `save` on a connection of its own, closed before it returns; `unknown` on any failure. */
export async function readRedisPersistence(
  redisUrl: string,
  timeoutMs = 2000,
  connection: RedisOptions = {},
): Promise<RedisPersistence> {
  const redis = new Redis(redisUrl, {
    ...connection,
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    const [, appendonly] = (await redis.config('GET', 'appendonly')) as [string, string];
    const [, save] = (await redis.config('GET', 'save')) as [string, string];
    if (appendonly === 'yes') return 'aof';
    return save.trim() === '' ? 'none' : 'snapshots';
  } catch {
    // Managed Redis services often refuse CONFIG: nothing is known, nothing is claimed.
    return 'unknown';
  } finally {
    redis.disconnect();
  }
}

/** The warning for a Redis that keeps nothing on disk; undefined otherwise. */
export function redisPersistenceWarning(persistence: RedisPersistence): string | undefined {
  if (persistence !== 'none') return undefined;
  return (
    'Warning: Redis keeps nothing on disk (appendonly no, no save): a Redis restart loses the live run logs and ' +
    'jobs. Runs are reloaded from the journal and an action already started is re-checked, never repeated ' +
    'blindly; the newest routine events may be measured again. Set appendonly yes.'
  );
}
