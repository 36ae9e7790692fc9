import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRecoveryRuntime, type RecoveryRuntime } from '../../../src/jobs/index.js';
import {
  APPROVER,
  driveRun,
  RunWatcher,
  recommended,
  STARTER,
  startWorld,
  TIME_SCALE,
  testLogger,
  type World,
} from './fixtures.js';

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

  it('records an approval of a round asked again, though the front end remembers the first one as given', async () => {
    await world.sim.inject('hash-drift');
    const started = await front.service.start({ scenario: 'event-log', actor: STARTER });
    if (!started.ok) throw new Error(started.message);
    const { runId } = started;
    const watcher = await RunWatcher.watch(front.service, runId);
    try {
      let s = await watcher.settled();
      while (s.status === 'waiting_decision') {
        const p = s.pendingDecision;
        const o = recommended(p?.options ?? []);
        const out = await front.service.decide(runId, {
          stepId: p?.stepId as string,
          ...(p?.item ? { itemId: p.item.id } : {}),
          optionId: o.id,
          ...(o.needsReason ? { reason: 'drill' } : {}),
          actor: STARTER,
        });
        if (!out.ok) throw new Error(out.message);
        s = await watcher.settled((out.events.at(-1)?.seq ?? s.lastSeq) + 1);
      }
      const first = s.pendingApproval;
      expect(first?.round).toBe(1);
      // The evidence changes before the worker re-measures it for the approval: it voids round 1 and asks again.
      await world.sim.inject('broken-ordering');
      const given = await front.service.approve(runId, {
        stepId: first?.stepId as string,
        actor: APPROVER,
        fingerprint: first?.fingerprint as string,
      });
      expect(given.ok).toBe(true);
      const second = (await watcher.until((x) => (x.pendingApproval?.round ?? 0) >= 2)).pendingApproval;
      expect(second?.grantedBy).toBeNull();

      const again = await front.service.approve(runId, {
        stepId: second?.stepId as string,
        actor: APPROVER,
        fingerprint: second?.fingerprint as string,
      });
      if (!again.ok) throw new Error(again.message);
      expect(again.events.map((e) => e.type)).toContain('approval_granted');
      await watcher.until((x) => x.lastSeq >= (again.events.at(-1)?.seq ?? 0));
      const granted = watcher.ofType('approval_granted').map((e) => [e.stepId, e.round]);
      expect(granted).toEqual([
        [first?.stepId, 1],
        [second?.stepId, 2],
      ]);
    } finally {
      await watcher.close();
      await front.service.abort(runId, { actor: STARTER, reason: 'test over' }).catch(() => undefined);
      await world.sim.clear();
    }
  });
});
