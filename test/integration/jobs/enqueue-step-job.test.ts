import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StepJobCommand } from '../../../src/jobs/queues.js';
import { enqueueStepJob, STEP_QUEUE, type StepJobData } from '../../../src/jobs/queues.js';
import { deletePrefix, randomPrefix } from './fixtures.js';

// Adding the step job the engine asks for: once while it waits, and again when an earlier delivery under the same
// id has finished (it would otherwise swallow the add and the run would wait forever).

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

let redis: Redis;
let prefix: string;
let queue: Queue<StepJobData>;
let worker: Worker<StepJobData>;

beforeAll(() => {
  redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  prefix = randomPrefix();
  queue = new Queue<StepJobData>(STEP_QUEUE, { connection: redis, prefix: prefix.slice(0, -1) });
  // A worker that only takes jobs when told, to finish them by hand.
  worker = new Worker<StepJobData>(STEP_QUEUE, null, {
    connection: redis.duplicate({ maxRetriesPerRequest: null }),
    prefix: prefix.slice(0, -1),
    autorun: false,
  });
});

afterAll(async () => {
  await worker.close();
  await queue.close();
  await deletePrefix(redis, prefix);
  await redis.quit();
});

const options = { attempts: 1 };

function command(jobId: string, delayMs = 0): StepJobCommand {
  return { type: 'run_step', jobId, stepId: 'check_healthz', attempt: 1, delayMs } as StepJobCommand;
}

async function takeAndFinish(jobId: string, how: 'completed' | 'failed'): Promise<void> {
  const job = await worker.getNextJob('hand');
  expect(job?.id).toBe(jobId);
  if (how === 'completed') await job?.moveToCompleted('stale', 'hand', false);
  else await job?.moveToFailed(new Error('infrastructure'), 'hand', false);
  expect(await queue.getJobState(jobId)).toBe(how);
}

describe('enqueueStepJob', () => {
  it('adds a job once; a second add while it waits changes nothing', async () => {
    expect(await enqueueStepJob(queue, 'run-a', command('run-a-1'), options)).toEqual({
      enqueued: true,
      replaced: false,
    });
    expect(await enqueueStepJob(queue, 'run-a', command('run-a-1'), options)).toEqual({
      enqueued: false,
      state: 'waiting',
    });
    expect(await queue.getJobCounts('waiting')).toEqual({ waiting: 1 });
    expect((await queue.getJob('run-a-1'))?.data).toEqual({
      runId: 'run-a',
      stepId: 'check_healthz',
      attempt: 1,
      poll: 0,
    });
    await takeAndFinish('run-a-1', 'completed');
  });

  it('adds the job again when a delivery under the same id has completed or failed', async () => {
    await enqueueStepJob(queue, 'run-b', command('run-b-1'), options);
    await takeAndFinish('run-b-1', 'completed');
    expect(await enqueueStepJob(queue, 'run-b', command('run-b-1'), options)).toEqual({
      enqueued: true,
      replaced: true,
    });
    expect(await queue.getJobState('run-b-1')).toBe('waiting');

    await takeAndFinish('run-b-1', 'failed');
    expect(await enqueueStepJob(queue, 'run-b', command('run-b-1', 60_000), options)).toEqual({
      enqueued: true,
      replaced: true,
    });
    expect(await queue.getJobState('run-b-1')).toBe('delayed');
  });
});
