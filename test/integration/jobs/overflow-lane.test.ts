import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { OverflowLane, OverflowWorker } from '../../../src/jobs/overflow-lane.js';
import type { RunEvent } from '../../../src/runbook/index.js';
import { startHoldingProxy } from './crash-support.js';
import { deletePrefix, RunWatcher, randomPrefix, STARTER, startWorld, testLogger, waitUntil } from './fixtures.js';

// Step jobs run in a chain lane (one at a time) and an overflow lane that only runs while it may be needed: while
// more than one run is active, or while the chain lane is stuck on one job. One run's long step must not hold up
// another run; a lone run must not pay for an idle second lane.

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

describe('the overflow lane on its own', () => {
  let redis: Redis;
  let prefix: string;
  let queue: Queue;
  let worker: OverflowWorker;
  let lane: OverflowLane | undefined;
  let processed: string[];
  let activeRuns: number;
  let chainBusyMs: number | undefined;
  let tests = 0;

  beforeAll(() => {
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    prefix = randomPrefix();
  });

  // A queue and a worker of its own per test: nothing one test left running or waiting can answer for another.
  beforeEach(() => {
    const name = `lane-${++tests}`;
    processed = [];
    activeRuns = 1;
    chainBusyMs = undefined;
    queue = new Queue(name, { connection: redis, prefix: prefix.slice(0, -1) });
    worker = new OverflowWorker(
      name,
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

  afterEach(async () => {
    lane?.stop();
    await worker.close();
    await queue.close();
  });

  afterAll(async () => {
    await deletePrefix(redis, prefix);
    await redis.quit();
  });

  /** A lane on this test's worker that looks only when told (`check()`), at the chain lane as `chainBusyMs` says. */
  const laneOver = (countActiveRuns: () => Promise<number>): OverflowLane =>
    new OverflowLane({
      worker,
      countActiveRuns,
      chainBusyMs: () => chainBusyMs,
      logger: testLogger(),
      checkEveryMs: 60_000,
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
    lane = laneOver(async () => activeRuns);
    chainBusyMs = 300;
    await lane.check();
    expect(lane.isOpen).toBe(false);
    chainBusyMs = 1500;
    await lane.check();
    expect(lane.isOpen).toBe(true);
    await queue.add('job', {}, { jobId: 'behind-a-long-job' });
    // This worker never ran before: only the open lane can have taken it.
    await waitUntil(() => processed.includes('behind-a-long-job'), 'the job behind the long one');
    chainBusyMs = undefined;
    await lane.check();
    expect(lane.isOpen).toBe(false);
  });

  it('stays as it is when the active runs cannot be counted', async () => {
    lane = laneOver(async () => {
      throw new Error('Connection is closed.');
    });
    await lane.check();
    expect(lane.isOpen).toBe(false);
  });
});

interface HoldingHostRig {
  readonly world: Awaited<ReturnType<typeof startWorld>>;
  readonly proxy: Awaited<ReturnType<typeof startHoldingProxy>>;
  /** Control API paths whose answer was held back, in order. */
  readonly held: string[];
}

/**
 * For the enclosing `describe`: a world whose host actions go through a proxy that can hold an answer back, set up
 * before its tests and closed after them.
 */
function useHoldingHost(worker: { laneCheckMs: number; chainBusyAfterMs?: number }): HoldingHostRig {
  let rig: HoldingHostRig | undefined;
  beforeAll(async () => {
    const held: string[] = [];
    // The proxy starts before the simulator it forwards to.
    let controlUrl = '';
    const proxy = await startHoldingProxy(
      {
        get controlUrl() {
          return controlUrl;
        },
      },
      (call) => held.push(call.path),
    );
    const world = await startWorld({
      controlUrl: (sim) => {
        controlUrl = sim.controlUrl;
        return proxy.url;
      },
      runtime: { worker },
    });
    rig = { world, proxy, held };
  });
  afterAll(async () => {
    rig?.proxy.close();
    await rig?.world.close();
  });
  const started = (): HoldingHostRig => {
    if (rig === undefined) throw new Error('the holding host is set up in beforeAll');
    return rig;
  };
  return {
    get world() {
      return started().world;
    },
    get proxy() {
      return started().proxy;
    },
    get held() {
      return started().held;
    },
  };
}

/** Steps of the run that ended, passed or failed, so far. */
function outcomes(w: RunWatcher): number {
  return w.events.filter((e: RunEvent) => e.type === 'step_passed' || e.type === 'step_failed').length;
}

describe('two runs, one of them in a long step', () => {
  // Only the count of active runs can open the lane here: the chain lane would have to be stuck for a minute.
  const rig = useHoldingHost({ laneCheckMs: 50, chainBusyAfterMs: 60_000 });

  it("the second run's steps run while the first run's host action has not answered", async () => {
    await rig.world.sim.inject('node-down');
    rig.proxy.holdOnce('/host/restart');
    const restart = await rig.world.service.start({ scenario: 'restart', actor: STARTER });
    if (!restart.ok) throw new Error(restart.message);
    const restartWatch = await RunWatcher.watch(rig.world.service, restart.runId);
    let projectionsWatch: RunWatcher | undefined;
    try {
      // The second run starts once the restart has reached the host and its answer is held: the node is up again
      // for the second run's probes, and the chain lane is on the restart. (Started before, its probes raced the
      // restart: against a node still down they failed three times and paused the run.)
      await waitUntil(() => rig.held.includes('/host/restart'), 'the held restart');
      // A projections run takes its tenant's slot, not the node-wide one: both runs are active at once.
      const projections = await rig.world.service.start({ scenario: 'projections', actor: STARTER });
      if (!projections.ok) throw new Error(projections.message);
      projectionsWatch = await RunWatcher.watch(rig.world.service, projections.runId);
      const watch = projectionsWatch;
      // The projections run goes through two steps while the restart is still unanswered.
      await waitUntil(() => outcomes(watch) >= 2, 'the projections run to go on');
      expect(watch.ofType('step_failed')).toEqual([]);
      expect(restartWatch.state?.steps.restart_runtime?.status).toBe('running');
      expect(rig.proxy.callsTo('/host/restart').at(-1)?.status).toBeNull();
    } finally {
      await restartWatch.close();
      await projectionsWatch?.close();
      await rig.world.service.abort(restart.runId, { actor: STARTER, reason: 'test over' });
      if (projectionsWatch)
        await rig.world.service.abort(projectionsWatch.runId, { actor: STARTER, reason: 'test over' });
      await rig.world.sim.clear();
    }
  });
});

describe('a run started while a job of an aborted run is still running', () => {
  const rig = useHoldingHost({ laneCheckMs: 50 });

  it("a new run's steps run while a job of an aborted run is still waiting for its host action", async () => {
    await rig.world.sim.inject('node-down');
    rig.proxy.holdOnce('/host/restart');
    const aborted = await rig.world.service.start({ scenario: 'restart', actor: STARTER });
    if (!aborted.ok) throw new Error(aborted.message);
    const heldBefore = rig.held.length;
    await waitUntil(() => rig.held.length > heldBefore, 'the held restart', 10_000);
    expect(await rig.world.service.abort(aborted.runId, { actor: STARTER, reason: 'wrong node' })).toMatchObject({
      ok: true,
    });

    // One run active again, but the chain lane is still on the aborted run's restart.
    const next = await rig.world.service.start({ scenario: 'projections', actor: STARTER });
    if (!next.ok) throw new Error(next.message);
    const watch = await RunWatcher.watch(rig.world.service, next.runId);
    try {
      await waitUntil(() => outcomes(watch) >= 2, 'the new run to go on');
      expect(rig.proxy.callsTo('/host/restart').at(-1)?.status).toBeNull();
    } finally {
      await watch.close();
      await rig.world.service.abort(next.runId, { actor: STARTER, reason: 'test over' });
      await rig.world.sim.clear();
    }
  }, 60_000);
});
