import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { OverflowLane } from '../../../src/jobs/overflow-lane.js';
import type { RunEvent } from '../../../src/runbook/index.js';
import { startHoldingProxy } from './crash-support.js';
import {
  deletePrefix,
  RunWatcher,
  randomPrefix,
  STARTER,
  startWorld,
  testLogger,
  type World,
  waitUntil,
} from './fixtures.js';

// Step jobs run in a chain lane (one at a time) and an overflow lane that only runs while more than one run is
// active. One run's long step must not hold up another run; a lone run must not pay for an idle second lane.

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

describe('the overflow lane on its own', () => {
  let redis: Redis;
  let prefix: string;
  let queue: Queue;
  let worker: Worker;
  let lane: OverflowLane | undefined;
  const processed: string[] = [];
  let activeRuns = 1;
  let chainBusyMs: number | undefined;

  beforeAll(() => {
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    prefix = randomPrefix();
    queue = new Queue('lane', { connection: redis, prefix: prefix.slice(0, -1) });
    worker = new Worker(
      'lane',
      async (job) => {
        processed.push(String(job.id));
      },
      {
        connection: redis.duplicate({ maxRetriesPerRequest: null }),
        prefix: prefix.slice(0, -1),
        autorun: false,
      },
    );
  });

  afterEach(() => lane?.stop());

  /** A lane on this worker that looks only when told (`check()`), at the chain lane as `chainBusyMs` says. */
  const laneOver = (countActiveRuns: () => Promise<number>): OverflowLane =>
    new OverflowLane({
      worker,
      countActiveRuns,
      chainBusyMs: () => chainBusyMs,
      logger: testLogger(),
      checkEveryMs: 60_000,
    });

  afterAll(async () => {
    await worker.close();
    await queue.close();
    await deletePrefix(redis, prefix);
    await redis.quit();
  });

  it('takes jobs only while more than one run is active', async () => {
    lane = laneOver(async () => activeRuns);
    await lane.check();
    expect(lane.isOpen).toBe(false);
    await queue.add('job', {}, { jobId: 'while-one' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(processed).toEqual([]);

    activeRuns = 2;
    await lane.check();
    expect(lane.isOpen).toBe(true);
    await waitUntil(() => processed.includes('while-one'), 'the waiting job');

    activeRuns = 1;
    await lane.check();
    expect(lane.isOpen).toBe(false);
    // A paused BullMQ worker may still take the one job its last blocking read was woken for; after that, none.
    await queue.add('job', {}, { jobId: 'after-close-1' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await queue.add('job', {}, { jobId: 'after-close-2' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(processed.filter((id) => id.startsWith('after-close')).length).toBeLessThan(2);

    activeRuns = 3;
    await lane.check();
    await waitUntil(() => processed.includes('after-close-2'), 'the job added while it was closed');
  });

  it('opens while the chain lane has been on one job for over a second, with a single run active', async () => {
    activeRuns = 1;
    lane = laneOver(async () => activeRuns);
    chainBusyMs = 300;
    await lane.check();
    expect(lane.isOpen).toBe(false);
    chainBusyMs = 1500;
    await lane.check();
    expect(lane.isOpen).toBe(true);
    await queue.add('job', {}, { jobId: 'behind-a-long-job' });
    await waitUntil(() => processed.includes('behind-a-long-job'), 'the job behind the long one');
    chainBusyMs = undefined;
    await lane.check();
    expect(lane.isOpen).toBe(false);
  });

  it('stays as it is when the active runs cannot be counted', async () => {
    chainBusyMs = undefined;
    lane = laneOver(async () => {
      throw new Error('Connection is closed.');
    });
    await lane.check();
    expect(lane.isOpen).toBe(false);
  });
});

describe('two runs, one of them in a long step', () => {
  let world: World;
  let proxy: Awaited<ReturnType<typeof startHoldingProxy>>;
  const held: string[] = [];

  beforeAll(async () => {
    // The host actions go through a proxy that can hold an answer back, started before the simulator it forwards to.
    let controlUrl = '';
    proxy = await startHoldingProxy(
      {
        get controlUrl() {
          return controlUrl;
        },
      },
      (call) => held.push(call.path),
    );
    world = await startWorld({
      controlUrl: (sim) => {
        controlUrl = sim.controlUrl;
        return proxy.url;
      },
      runtime: { worker: { laneCheckMs: 50 } },
    });
  });

  afterAll(async () => {
    proxy?.close();
    await world?.close();
  });

  it("the second run's steps run while the first run's host action has not answered", async () => {
    await world.sim.inject('node-down');
    proxy.holdOnce('/host/restart');
    const restart = await world.service.start({ scenario: 'restart', actor: STARTER });
    if (!restart.ok) throw new Error(restart.message);
    const restartWatch = await RunWatcher.watch(world.service, restart.runId);
    // A projections run takes its tenant's slot, not the node-wide one: both runs are active at once.
    const projections = await world.service.start({ scenario: 'projections', actor: STARTER });
    if (!projections.ok) throw new Error(projections.message);
    const projectionsWatch = await RunWatcher.watch(world.service, projections.runId);
    try {
      await waitUntil(() => held.includes('/host/restart'), 'the held restart', 10_000);
      const outcomes = (w: RunWatcher) =>
        w.events.filter((e: RunEvent) => e.type === 'step_passed' || e.type === 'step_failed').length;
      const before = outcomes(projectionsWatch);
      // The projections run goes on by at least two more steps; the restart is still unanswered meanwhile.
      await waitUntil(() => outcomes(projectionsWatch) >= before + 2, 'the projections run to go on', 5_000);
      expect(restartWatch.state?.steps.restart_runtime?.status).toBe('running');
      expect(proxy.callsTo('/host/restart').at(-1)?.status).toBeNull();
    } finally {
      await restartWatch.close();
      await projectionsWatch.close();
      await world.service.abort(restart.runId, { actor: STARTER, reason: 'test over' });
      await world.service.abort(projections.runId, { actor: STARTER, reason: 'test over' });
      await world.sim.clear();
    }
  });

  it("a new run's steps run while a job of an aborted run is still waiting for its host action", async () => {
    await world.sim.inject('node-down');
    proxy.holdOnce('/host/restart');
    const aborted = await world.service.start({ scenario: 'restart', actor: STARTER });
    if (!aborted.ok) throw new Error(aborted.message);
    const heldBefore = held.length;
    await waitUntil(() => held.length > heldBefore, 'the held restart', 10_000);
    expect(await world.service.abort(aborted.runId, { actor: STARTER, reason: 'wrong node' })).toMatchObject({
      ok: true,
    });

    // One run active again, but the chain lane is still on the aborted run's restart (and on the one held in the
    // test before, until its timeout).
    const next = await world.service.start({ scenario: 'projections', actor: STARTER });
    if (!next.ok) throw new Error(next.message);
    const watch = await RunWatcher.watch(world.service, next.runId);
    try {
      const outcomes = () => watch.events.filter((e) => e.type === 'step_passed' || e.type === 'step_failed').length;
      await waitUntil(() => outcomes() >= 2, 'the new run to go on', 5_000);
      expect(proxy.callsTo('/host/restart').at(-1)?.status).toBeNull();
    } finally {
      await watch.close();
      await world.service.abort(next.runId, { actor: STARTER, reason: 'test over' });
      await world.sim.clear();
    }
  });
});
