import { Queue } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createRecoveryRuntime } from '../../../src/jobs/index.js';
import { STEP_QUEUE, type StepJobData } from '../../../src/jobs/queues.js';
import { bullPrefix } from '../../../src/jobs/run-log/keys.js';
import { jobIdFor } from '../../../src/runbook/index.js';
import { createJournal } from '../../../src/store/index.js';
import {
  CRASH_SETTLE_MS,
  exited,
  type HoldingProxy,
  type ProxiedCall,
  startHoldingProxy,
  WorkerFleet,
} from './crash-support.js';
import {
  driveRun,
  RunWatcher,
  recoveryFor,
  STARTER,
  startWorld,
  TIME_SCALE,
  testLogger,
  type World,
} from './fixtures.js';

let world: World;
let proxy: HoldingProxy;
let onHeld: (call: ProxiedCall) => void = () => undefined;
/** The run of the test under way, aborted after it if it did not finish, so the next test can start one. */
let current: string | undefined;
const fleet = new WorkerFleet(
  () => world,
  () => proxy.url,
);

beforeAll(async () => {
  // The workers of the first test (four) and the last (two) load their modules while the simulator starts.
  const warm = fleet.warmUp(6);
  // This process only starts and steers the run; the worker processes do the steps.
  world = await startWorld({
    // The `slow` fault (only the close test injects it) holds every answer 10 s: a close cut off at its 200 ms
    // deadline is then told from one that waited by the run log alone, however busy the machine.
    // Replay runs take 1.5 s, so the run's replay poll records an unsatisfied check the first test can kill at.
    sim: { faults: ['node-down', 'projections-behind'], slowLatencyMs: 10_000, replayDurationMs: 1_500 },
    workers: false,
    runtime: { role: 'service' },
  });
  proxy = await startHoldingProxy(world.sim, (call) => onHeld(call));
  await warm;
});

afterEach(async () => {
  const runId = current;
  current = undefined;
  if (runId !== undefined) await world.service.abort(runId, { actor: STARTER, reason: 'test over' });
});

afterAll(async () => {
  fleet.killAll();
  proxy?.close();
  await world?.close();
});

describe('worker processes killed with SIGKILL', () => {
  it('at step boundaries and in the middle of a host action: the run finishes, each host action ran once', async () => {
    const { service } = world;
    const started = await service.start({ scenario: 'restart', actor: STARTER });
    if (!started.ok) throw new Error(started.message);
    current = started.runId;
    const watcher = await RunWatcher.watch(service, started.runId);
    const finished = driveRun(watcher, {}, CRASH_SETTLE_MS);
    // Awaited below; until then a failure of the steps before is the one reported.
    finished.catch(() => undefined);

    // Killed right after recording that a probe started, before it is called.
    expect(await exited(fleet.spawn('step_started:check_healthz').child)).toBe('SIGKILL');
    // Killed while the restart it asked for is under way on the host: the answer is held back.
    proxy.holdOnce('/host/restart');
    const held = new Promise<ProxiedCall>((resolve) => {
      onHeld = resolve;
    });
    const third = fleet.spawn();
    expect((await held).worker).toBe(third.n);
    third.child.kill('SIGKILL');
    expect(await exited(third.child)).toBe('SIGKILL');
    // Killed after recording an unsatisfied check, before its delayed re-check was queued.
    expect(await exited(fleet.spawn('step_waiting:poll_catch_up').child)).toBe('SIGKILL');

    const last = fleet.spawn();
    const end = await finished;
    last.child.kill('SIGTERM');
    expect(await exited(last.child)).toBe(null);

    expect(end.outcome?.outcome).toBe('recovered');
    expect(world.sim.hostActionCounts().restart).toBe(1);
    // The interrupted restart was re-probed, found done, and not repeated.
    const recheck = watcher.ofType('step_rechecked').find((e) => e.stepId === 'restart_runtime');
    expect(recheck?.alreadyDone).toBe(true);
    expect(end.steps.restart_runtime).toMatchObject({ status: 'passed', alreadyDone: true });
    // No step ran to completion twice.
    const passed = watcher.ofType('step_passed').map((e) => e.stepId);
    expect(new Set(passed).size).toBe(passed.length);

    // The journal holds every event, contiguous, exactly as the live log.
    await world.runtime.reconcile();
    const journal = createJournal({ connectionString: world.db?.url ?? '' });
    try {
      const loaded = await journal.loadRun(started.runId);
      const live = (await service.get(started.runId))?.events ?? [];
      expect(loaded?.events.map((e) => e.seq)).toEqual(live.map((_, i) => i + 1));
      expect(loaded?.events).toEqual(live);
      expect(loaded?.run.status).toBe('finished');
    } finally {
      await journal.close();
    }
    await watcher.close();
  }, 60_000);

  it('a worker shut down mid-step cuts the call off at its deadline; the step runs again elsewhere, once', async () => {
    await world.sim.inject('slow');
    const workers = () =>
      createRecoveryRuntime(world.config, recoveryFor(world.sim), {
        logger: testLogger(),
        role: 'workers',
        prefix: world.prefix,
        timeScale: TIME_SCALE,
        reconcileIntervalMs: 0,
        worker: { closeTimeoutMs: 200, lockDurationMs: 1000, stalledIntervalMs: 500 },
        journalWriter: { sweepIntervalMs: 0, lockDurationMs: 1000, stalledIntervalMs: 500 },
        // The simulator's database URL is its superuser's, which the role guard refuses.
        executorDeps: { requireReadOnlyRole: false },
      });
    const first = await workers();
    await first.startWorkers();
    const started = await world.service.start({ scenario: 'projections', actor: STARTER });
    if (!started.ok) throw new Error(started.message);
    current = started.runId;
    const watcher = await RunWatcher.watch(world.service, started.runId);
    await watcher.until((s) => s.steps.inspect_health?.status === 'running');
    await first.close();
    // The 10 s call was cut off at the 200 ms close deadline, not waited for: had close waited, the worker would
    // have recorded the reading it got. The run log, not the clock, tells (a busy machine may take seconds to close).
    const closed = await world.service.get(started.runId);
    expect(closed?.state.steps.inspect_health?.status).toBe('running');
    expect(closed?.events.filter((e) => 'stepId' in e && e.stepId === 'inspect_health').map((e) => e.type)).toEqual([
      'step_started',
    ]);

    await world.sim.clear('slow');
    const second = await workers();
    try {
      await second.startWorkers();
      await watcher.until((s) => s.steps.inspect_health?.status !== 'running');
      const starts = watcher.ofType('step_started').filter((e) => e.stepId === 'inspect_health');
      expect(starts.map((e) => e.attempt)).toEqual([1]);
      expect(watcher.ofType('step_failed')).toEqual([]);
    } finally {
      current = undefined;
      await world.service.abort(started.runId, { actor: STARTER, reason: 'drill over' });
      await second.close();
      await watcher.close();
    }
  });

  it('at production lock settings: the live worker takes the step over within 15 s; the restart runs once', async () => {
    // The sender of the restart is killed once the host has restarted; measured with the job's own timestamps.
    await world.sim.inject('node-down');
    const restartsBefore = world.sim.hostActionCounts().restart ?? 0;
    const workers = [
      fleet.spawn(undefined, { productionLocks: true }),
      fleet.spawn(undefined, { productionLocks: true }),
    ];
    await Promise.all(workers.map((w) => w.ready));
    proxy.holdOnce('/host/restart');
    let killedAt = 0;
    const killed = new Promise<NodeJS.Signals | null>((resolve) => {
      onHeld = (call) => {
        const sender = fleet.get(call.worker)?.child;
        if (sender === undefined) throw new Error(`no worker ${call.worker} sent ${call.path}`);
        sender.kill('SIGKILL');
        killedAt = Date.now();
        resolve(exited(sender));
      };
    });
    const started = await world.service.start({ scenario: 'restart', actor: STARTER });
    if (!started.ok) throw new Error(started.message);
    current = started.runId;
    const watcher = await RunWatcher.watch(world.service, started.runId);
    const queue = new Queue<StepJobData>(STEP_QUEUE, { connection: world.redis, prefix: bullPrefix(world.prefix) });
    try {
      const end = await driveRun(watcher, {}, CRASH_SETTLE_MS);
      expect(await killed).toBe('SIGKILL');
      expect(end.outcome?.outcome).toBe('recovered');
      expect((world.sim.hostActionCounts().restart ?? 0) - restartsBefore).toBe(1);
      expect(end.steps.restart_runtime).toMatchObject({ status: 'passed', alreadyDone: true });

      // The job's last start is the takeover: it came within 15 s of the kill.
      const job = await queue.getJob(jobIdFor(started.runId, 'restart_runtime', 1, 0));
      const takenOverAfterMs = (job?.processedOn ?? Number.POSITIVE_INFINITY) - killedAt;
      expect(takenOverAfterMs).toBeGreaterThan(0);
      expect(takenOverAfterMs).toBeLessThan(15_000);
    } finally {
      await queue.close();
      await watcher.close();
    }
  }, 90_000);
});
