import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSeenRequests, seenRequestsKey } from '../../../src/bot/seen-requests.js';
import { deleteKeysUnder } from '../../helpers/redis-keys.js';

// Requests already received live in Redis, not in the process: a bot started again (a new connection, a new
// store) still knows them for the rest of the signature window.

const PREFIX = `dgseen-${randomBytes(4).toString('hex')}:`;
let before: Redis;
let after: Redis;

beforeAll(() => {
  before = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: 3 });
  after = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: 3 });
});

afterAll(async () => {
  await deleteKeysUnder(before, PREFIX);
  before.disconnect();
  after.disconnect();
});

describe('requests already received', () => {
  it('are known to a store on another connection, as after a restart, until the window closes', async () => {
    const first = createSeenRequests({ redis: before, prefix: PREFIX });
    const restarted = createSeenRequests({ redis: after, prefix: PREFIX });
    expect(await first.firstSight('v0=aaaa', 290)).toBe(true);
    expect(await restarted.firstSight('v0=aaaa', 290)).toBe(false);
    expect(await restarted.firstSight('v0=bbbb', 290)).toBe(true);
    const ttl = await after.pttl(seenRequestsKey(PREFIX, 'v0=aaaa'));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(290_000);
  });

  it('rejects instead of answering when Redis does not answer in time', async () => {
    const down = new Redis('redis://127.0.0.1:1', {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    down.on('error', () => undefined);
    const seen = createSeenRequests({ redis: down, prefix: PREFIX, timeoutMs: 200 });
    await expect(seen.firstSight('v0=cccc', 10)).rejects.toThrow();
    down.disconnect();
  });
});
