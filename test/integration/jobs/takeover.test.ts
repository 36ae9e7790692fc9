import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STEP_QUEUE, type StepJobData } from '../../../src/jobs/queues.js';
import { bullPrefix } from '../../../src/jobs/run-log/keys.js';
import { jobIdFor } from '../../../src/runbook/index.js';
import {
  CRASH_SETTLE_MS,
  exited,
  type HoldingProxy,
  type ProxiedCall,
  ready,
  startHoldingProxy,
  WorkerFleet,
} from './crash-support.js';
import { driveRun, RunWatcher, STARTER, startWorld, type World } from './fixtures.js';

// Two worker processes at the step worker's production lock and stalled-check settings. The one that sends the
// restart is killed with SIGKILL once the host has restarted (its answer is held back); the other must take the
// step over within 15 s, measured with the job's own timestamps.

let world: World;
let proxy: HoldingProxy;
let onHeld: (call: ProxiedCall) => void = () => undefined;
const fleet = new WorkerFleet(
  () => world,
  () => proxy.url,
);

beforeAll(async () => {
  world = await startWorld({ sim: { faults: ['node-down'] }, workers: false, runtime: { role: 'service' } });
  proxy = await startHoldingProxy(world.sim, (call) => onHeld(call));
});

afterAll(async () => {
  fleet.killAll();
  proxy?.close();
  await world?.close();
});

describe('a worker killed mid-step at production settings', () => {
  it('hands the step to the live worker within 15 s; the restart runs once', async () => {
    const workers = [
      fleet.spawn(undefined, { productionLocks: true }),
      fleet.spawn(undefined, { productionLocks: true }),
    ];
    await Promise.all(workers.map((w) => ready(w.child)));
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
    const watcher = await RunWatcher.watch(world.service, started.runId);
    const queue = new Queue<StepJobData>(STEP_QUEUE, { connection: world.redis, prefix: bullPrefix(world.prefix) });
    try {
      const end = await driveRun(watcher, {}, CRASH_SETTLE_MS);
      expect(await killed).toBe('SIGKILL');
      expect(end.outcome?.outcome).toBe('recovered');
      expect(world.sim.hostActionCounts().restart).toBe(1);
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
