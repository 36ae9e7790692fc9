import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRedisPersistence, redisPersistenceWarning } from '../../../src/triage/index.js';
import { freePort } from '../../helpers/own-postgres.js';
import { type OwnRedis, startOwnRedis } from '../../helpers/own-redis.js';

// A Redis of the test's own starts with nothing on disk (no save, appendonly no); the test turns snapshots on (an
// hourly save, which writes nothing during the test).

let redis: OwnRedis;

beforeAll(async () => {
  redis = await startOwnRedis();
});

afterAll(async () => {
  // Killed, not stopped: a Redis that saves snapshots would write one into the working directory on shutdown.
  await redis?.kill();
});

describe('what a Redis restart keeps', () => {
  it('warns about a Redis that keeps nothing on disk, and not once it saves snapshots', async () => {
    expect(await readRedisPersistence(redis.url)).toBe('none');
    const warning = redisPersistenceWarning('none');
    expect(warning).toContain('appendonly no');
    expect(warning).toContain('reloaded from the journal');

    const admin = new Redis(redis.url);
    try {
      await admin.config('SET', 'save', '3600 1');
    } finally {
      admin.disconnect();
    }
    expect(await readRedisPersistence(redis.url)).toBe('snapshots');
    expect(redisPersistenceWarning('snapshots')).toBeUndefined();
    expect(redisPersistenceWarning('aof')).toBeUndefined();
  });

  it('claims nothing when Redis does not answer', async () => {
    const url = `redis://127.0.0.1:${await freePort()}`;
    expect(await readRedisPersistence(url, 500)).toBe('unknown');
    expect(redisPersistenceWarning('unknown')).toBeUndefined();
  });
});
