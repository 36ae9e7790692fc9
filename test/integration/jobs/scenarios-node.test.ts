import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { APPROVER, driveRun, type RunWatcher, STARTER, startRun, startWorld, type World } from './fixtures.js';

// One simulated deployment for the file: each test injects its fault, and what a run repaired stays repaired.
let world: World;
let watcher: RunWatcher | undefined;

beforeAll(async () => {
  world = await startWorld();
});

afterEach(async () => {
  await watcher?.close();
  watcher = undefined;
  await world.sim.clear();
});

afterAll(async () => {
  await world?.close();
});

function hostActionsSince(before: Record<string, number>): Record<string, number> {
  const now = world.sim.hostActionCounts();
  return Object.fromEntries(
    Object.entries(now)
      .map(([k, v]) => [k, v - (before[k] ?? 0)] as const)
      .filter(([, v]) => v !== 0),
  );
}

describe('node-wide scenarios from the injected fault to recovered', () => {
  it('restart: the node is down and projections stall after it; one restart, a catch_up, the checklist passes', async () => {
    await world.sim.inject('node-down');
    await world.sim.inject('projections-behind');
    const before = world.sim.hostActionCounts();
    watcher = await startRun(world.service, 'restart');
    const end = await driveRun(watcher);
    expect(end.outcome?.outcome).toBe('recovered');
    expect(end.outcome?.gate?.passed).toBe(true);
    expect(hostActionsSince(before)).toEqual({ restart: 1 });
    expect(end.decisions.map((d) => [d.stepId, d.optionId, d.by.id])).toEqual([
      ['catch_up_decision', 'catch_up', STARTER.id],
    ]);
    // After the restart no worker and no replay job runs: one reading tells the projections will not move.
    expect(watcher.ofType('step_waiting').filter((e) => e.stepId === 'check_projections')).toHaveLength(0);
    expect(end.steps.check_projections?.outputs).toMatchObject({
      state: 'behind_not_moving',
      decidedBy: 'idle_workers',
    });
    expect(end.steps.check_projections?.evidence.find((e) => e.label === 'healthz projector')?.measured).toBe(
      'active_workers 0, active_replay_jobs 0',
    );
    expect(end.steps.poll_catch_up?.status).toBe('passed');
    // Every measured value sits next to the expected one.
    const gate = watcher.ofType('step_passed').find((e) => e.stepId === 'gate');
    expect(gate?.evidence.length).toBeGreaterThan(3);
    expect(gate?.evidence.every((e) => e.ok !== false)).toBe(true);
  });

  it('postgres: Postgres is down; it is restored once, the runtime reconnects, the checklist passes', async () => {
    await world.sim.inject('postgres-down');
    const before = world.sim.hostActionCounts();
    watcher = await startRun(world.service, 'postgres');
    const end = await driveRun(watcher);
    expect(end.outcome?.outcome).toBe('recovered');
    expect(end.steps.check_sql?.outputs.postgres).toBe('unreachable');
    expect(hostActionsSince(before)).toEqual({ restore_postgres: 1 });
    expect(end.steps.restart_runtime?.status).toBe('skipped');
  });

  it('upgrade: a failed upgrade is rolled back, each destructive step approved by a second person', async () => {
    await world.sim.inject('failed-upgrade');
    const before = world.sim.hostActionCounts();
    watcher = await startRun(world.service, 'upgrade');
    const end = await driveRun(watcher);
    expect(end.outcome?.outcome).toBe('recovered');
    expect(hostActionsSince(before)).toEqual({ stop: 1, restore_backup: 1, switch_release: 1, start: 1 });
    expect(end.approvals.map((a) => [a.stepId, a.by.id])).toEqual([
      ['approve_stop', APPROVER.id],
      ['approve_restore', APPROVER.id],
      ['approve_switch', APPROVER.id],
    ]);
    expect(end.steps.smoke_before?.outputs.allPassed).toBe(false);
    expect(end.steps.switch_release?.status).toBe('passed');
    expect(end.decisions.find((d) => d.stepId === 'choose_release')?.optionId).toBe('configured');
  });
});
