import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { STEP_JOB, STEP_QUEUE, type StepJobData } from '../../../src/jobs/queues.js';
import { RunWatcher, STARTER, startWorld, type World } from './fixtures.js';

// The next step job is sent right behind the append of the outcome it follows from. When the append is recorded but
// the add fails (a Redis blip between the two replies), the run must not be left without its next job: the add is
// tried again within the same delivery, and the delivery still ends well.
//
// A blip that hits exactly one command of a pipelined pair cannot be produced on demand with a real Redis, so the
// add of one chosen job is made to fail once with the error ioredis gives for a dropped connection; everything
// else (the append, the retried add, the worker) is real.

let world: World;

beforeAll(async () => {
  world = await startWorld();
});

afterAll(async () => {
  vi.restoreAllMocks();
  await world?.close();
});

describe('a step job whose add fails after the outcome was recorded', () => {
  it('is added again by the same delivery; the run goes on and the delivery completes', async () => {
    await world.sim.inject('postgres-down');
    const realAdd = Queue.prototype.add;
    const refused: string[] = [];
    vi.spyOn(Queue.prototype, 'add').mockImplementation(function (this: Queue, name, data, opts) {
      const step = data as StepJobData;
      if (name === STEP_JOB && step.stepId === 'check_postgres' && refused.length === 0) {
        refused.push(String(opts?.jobId));
        return Promise.reject(new Error('Connection is closed.'));
      }
      return realAdd.call(this, name, data, opts);
    });

    const started = await world.service.start({ scenario: 'restart', actor: STARTER });
    if (!started.ok) throw new Error(started.message);
    const watcher = await RunWatcher.watch(world.service, started.runId);
    const queue = new Queue<StepJobData>(STEP_QUEUE, { connection: world.redis, prefix: world.prefix.slice(0, -1) });
    try {
      const state = await watcher.until((s) => s.status === 'waiting_decision');
      expect(refused).toEqual([`${started.runId}-check_postgres-a1-p0`]);
      expect(state.pendingDecision?.stepId).toBe('postgres_down');
      expect(state.steps.check_postgres?.status).toBe('passed');

      // The delivery that recorded check_healthz and then met the failed add completed on its first attempt: it
      // did not fail over to a retry of the whole job.
      const recorder = await queue.getJob(`${started.runId}-check_healthz-a1-p0`);
      expect(await recorder?.getState()).toBe('completed');
      expect(recorder?.returnvalue).toBe('done');
      expect(recorder?.attemptsMade).toBe(1);
      const next = await queue.getJob(`${started.runId}-check_postgres-a1-p0`);
      expect(await next?.getState()).toBe('completed');
    } finally {
      vi.restoreAllMocks();
      await queue.close();
      await watcher.close();
      await world.service.abort(started.runId, { actor: STARTER, reason: 'test over' });
      await world.sim.clear();
    }
  });
});
