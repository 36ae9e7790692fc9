import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRecoveryRuntime, type RecoveryRuntime } from '../../../src/jobs/index.js';
import { driveRun, RunWatcher, STARTER, startWorld, TIME_SCALE, testLogger, type World } from './fixtures.js';

// The worker keeps each run's latest state in memory between its step jobs. People's answers arrive through
// another process (the Slack front end), so after each answer that memory is behind the log: the worker must
// notice, read the run afresh, and carry out what people decided, each step once.

let world: World;
let front: RecoveryRuntime;

beforeAll(async () => {
  world = await startWorld({ sim: { allowRebuild: true } });
  front = await createRecoveryRuntime(world.config, world.recovery, {
    logger: testLogger(),
    prefix: world.prefix,
    timeScale: TIME_SCALE,
    role: 'service',
  });
});

afterAll(async () => {
  await front?.close();
  await world?.close();
});

describe('a worker and a front end in two processes', () => {
  it('carries out each answer given through the other process, each step once, and the run recovers', async () => {
    await world.sim.inject('orphaned-run');
    const started = await front.service.start({ scenario: 'projections', actor: STARTER });
    if (!started.ok) throw new Error(started.message);
    const watcher = await RunWatcher.watch(front.service, started.runId);
    try {
      const end = await driveRun(watcher);
      expect(end.outcome?.outcome).toBe('recovered');
      // The orphaned run was retried as decided, not left alone, and the retry was polled to its end.
      expect(end.decisions.find((d) => d.stepId === 'orphan_runs')?.optionId).toBe('retry');
      expect(end.steps.poll_replay?.status).toBe('passed');

      const starts = new Map<string, number>();
      for (const e of watcher.ofType('step_started')) {
        const key = `${e.stepId}#${e.attempt}`;
        starts.set(key, (starts.get(key) ?? 0) + 1);
      }
      expect([...starts.values()].every((n) => n === 1)).toBe(true);
      // Every event the front end saw is the log's, in order, without a gap.
      expect(watcher.events.map((e) => e.seq)).toEqual(watcher.events.map((_, i) => i + 1));
    } finally {
      await watcher.close();
      await world.sim.clear();
    }
  });
});
