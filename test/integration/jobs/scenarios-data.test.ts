import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { APPROVER, driveRun, type RunWatcher, startRun, startWorld, type World } from './fixtures.js';

// One simulated deployment for the file (rebuilds allowed): each test injects its fault.
let world: World;
let watcher: RunWatcher | undefined;

beforeAll(async () => {
  world = await startWorld({ sim: { allowRebuild: true } });
});

afterEach(async () => {
  await watcher?.close();
  watcher = undefined;
  await world.sim.clear();
});

afterAll(async () => {
  await world?.close();
});

describe('data scenarios from the injected fault to recovered', () => {
  it('projections behind: a catch_up with the reason given, polled until the run completes', async () => {
    await world.sim.inject('projections-behind');
    watcher = await startRun(world.service, 'projections');
    const end = await driveRun(watcher);
    expect(end.outcome?.outcome).toBe('recovered');
    expect(end.steps.inspect_health?.outputs.state).toBe('behind_not_moving');
    expect(end.decisions.map((d) => [d.stepId, d.optionId, d.reason])).toEqual([
      ['replay_decision', 'catch_up', 'drill: recommended choice'],
    ]);
    expect(end.steps.start_catch_up?.outputs).toMatchObject({ mode: 'catch_up', attached: false });
    expect(watcher.ofType('step_waiting').some((e) => e.stepId === 'poll_replay')).toBe(true);
  });

  it('open failures: an approved rebuild clears them', async () => {
    await world.sim.inject('open-failures');
    watcher = await startRun(world.service, 'projections');
    const end = await driveRun(watcher);
    expect(end.outcome?.outcome).toBe('recovered');
    expect(end.decisions.map((d) => d.optionId)).toEqual(['rebuild']);
    expect(end.approvals.map((a) => [a.stepId, a.by.id])).toEqual([['approve_rebuild', APPROVER.id]]);
    expect(end.steps.start_rebuild?.outputs).toMatchObject({ mode: 'rebuild' });
  });

  it('orphaned run: decided per run, retried with a fresh catch_up', async () => {
    await world.sim.inject('orphaned-run');
    watcher = await startRun(world.service, 'projections');
    const end = await driveRun(watcher);
    expect(end.outcome?.outcome).toBe('recovered');
    const orphan = end.decisions.find((d) => d.stepId === 'orphan_runs');
    expect(orphan?.item?.id).toBeTruthy();
    expect(orphan?.optionId).toBe('retry');
    expect(end.steps.poll_replay?.status).toBe('passed');
  });

  it('event-log: hash drift; writes stopped, the broken database kept, a backup restored, verified', async () => {
    await world.sim.inject('hash-drift');
    watcher = await startRun(world.service, 'event-log');
    const end = await driveRun(watcher, {
      // The backup taken before the damage, not the copy of the broken database the run just made.
      decide: (p) =>
        p.stepId === 'choose_backup'
          ? { optionId: p.options.find((o) => o.label.startsWith('scheduled'))?.id ?? 'abort' }
          : undefined,
    });
    expect(end.outcome?.outcome).toBe('recovered');
    const counts = world.sim.hostActionCounts();
    expect([counts.stop_writes, counts.preserve_database, counts.restore_backup, counts.restart]).toEqual([1, 1, 1, 1]);
    expect(end.steps.gather_integrity?.outputs.damage).not.toBe('none');
    expect(end.steps.verify_integrity?.status).toBe('passed');
    expect(end.approvals.map((a) => a.stepId)).toEqual(['approve_stop_writes', 'approve_preserve', 'approve_restore']);
  });
});
