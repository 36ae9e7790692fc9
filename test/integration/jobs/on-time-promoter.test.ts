import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OnTimePromoter } from '../../../src/jobs/on-time-promoter.js';
import { createLogger } from '../../../src/logger.js';
import { deleteKeysUnder } from '../../helpers/redis-keys.js';
import { randomPrefix } from '../run-log/fixtures.js';

// Short delayed step jobs (polls) are promoted by the process that scheduled them once due, instead of waiting
// for Redis's next timeout tick. No worker runs here: BullMQ alone would leave every job delayed.

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

let redis: Redis;
let prefix: string;
let queue: Queue;

beforeAll(() => {
  redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  prefix = randomPrefix();
  queue = new Queue('steps', { connection: redis, prefix: prefix.slice(0, -1) });
});

afterAll(async () => {
  await queue.close();
  await deleteKeysUnder(redis, prefix);
  await redis.quit();
});

const logger = createLogger({ level: 'silent' });

describe('OnTimePromoter', () => {
  it('moves a delayed job to waiting when it is due, not before, and leaves one too far off to BullMQ', async () => {
    const promoter = new OnTimePromoter(queue, logger, 60_000);
    try {
      await queue.add('step', {}, { jobId: 'due', delay: 300 });
      await queue.add('step', {}, { jobId: 'far', delay: 120_000 });
      promoter.schedule('due', 300);
      promoter.schedule('far', 120_000);
      expect(promoter.pending).toBe(1);
      expect(await queue.getJobState('due')).toBe('delayed');

      await expect.poll(() => queue.getJobState('due'), { timeout: 5000 }).toBe('waiting');
      await expect.poll(() => promoter.pending).toBe(0);
      expect(await queue.getJobState('far')).toBe('delayed');
    } finally {
      promoter.close();
    }
  });

  it('leaves a job alone that is no longer delayed, and ignores one that is gone', async () => {
    const promoter = new OnTimePromoter(queue, logger, 60_000);
    try {
      await queue.add('step', {}, { jobId: 'taken', delay: 20 });
      const taken = await queue.getJob('taken');
      await taken?.promote();
      await taken?.remove();
      await queue.add('step', {}, { jobId: 'waits' });
      promoter.schedule('taken', 20);
      promoter.schedule('waits', 20);
      promoter.schedule('never-added', 20);
      await expect.poll(() => promoter.pending).toBe(0);
      expect(await queue.getJobState('waits')).toBe('waiting');
      expect(await queue.getJobState('taken')).toBe('unknown');
    } finally {
      promoter.close();
    }
  });

  it('does nothing once closed', async () => {
    const promoter = new OnTimePromoter(queue, logger, 60_000);
    await queue.add('step', {}, { jobId: 'after-close', delay: 20 });
    promoter.schedule('after-close', 20);
    promoter.schedule('never-added', 20);
    promoter.close();
    expect(promoter.pending).toBe(0);
    promoter.schedule('after-close', 20);
    expect(promoter.pending).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(await queue.getJobState('after-close')).toBe('delayed');
  });
});
