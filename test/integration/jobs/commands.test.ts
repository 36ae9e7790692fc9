import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { switchedRunId } from '../../../src/jobs/index.js';
import { APPROVER, driveRun, RunWatcher, STARTER, startRun, startWorld, type World } from './fixtures.js';

let world: World;
const watchers: RunWatcher[] = [];

afterEach(async () => {
  for (const w of watchers.splice(0)) await w.close();
});

async function watch(runId: string, in_: World = world): Promise<RunWatcher> {
  const w = await RunWatcher.watch(in_.service, runId);
  watchers.push(w);
  return w;
}

describe('starting runs', () => {
  beforeAll(async () => {
    world = await startWorld();
  });

  afterAll(async () => {
    await world?.close();
  });

  it('refuses a second run in the same slot and points at the active one; a finished run frees it', async () => {
    const { service } = world;
    const eventLog = await service.start({ scenario: 'event-log', actor: STARTER });
    if (!eventLog.ok) throw new Error(eventLog.message);
    // Nothing is damaged: the run stops at a decision and holds the node-wide slot meanwhile.
    await (await watch(eventLog.runId)).until((s) => s.status === 'waiting_decision');

    expect(await service.start({ scenario: 'upgrade', actor: APPROVER })).toEqual({
      ok: false,
      code: 'run_active',
      message: `a run for this deployment is already active: ${eventLog.runId}`,
      activeRunId: eventLog.runId,
    });

    // Projections runs take a slot per tenant, not the node-wide one.
    const projections = await service.start({ scenario: 'stale', actor: STARTER });
    expect(projections.ok).toBe(true);
    if (!projections.ok) return;
    await (await watch(projections.runId)).until((s) => s.status === 'waiting_decision');
    expect(await service.start({ scenario: 'projections', actor: STARTER })).toMatchObject({
      ok: false,
      code: 'run_active',
      activeRunId: projections.runId,
    });
    const active = await service.listActive();
    expect(active.map((r) => [r.runId, r.scenario, r.status]).sort()).toEqual(
      [
        [eventLog.runId, 'event-log', 'waiting_decision'],
        [projections.runId, 'projections', 'waiting_decision'],
      ].sort(),
    );

    expect(await service.abort(eventLog.runId, { actor: STARTER, reason: 'drill over' })).toMatchObject({ ok: true });
    const next = await service.start({ scenario: 'upgrade', actor: APPROVER });
    expect(next.ok).toBe(true);
    if (next.ok) await service.abort(next.runId, { actor: APPROVER, reason: 'drill over' });
    await service.abort(projections.runId, { actor: STARTER, reason: 'drill over' });

    expect(await service.start({ scenario: 'reboot-everything', actor: STARTER })).toMatchObject({
      ok: false,
      code: 'unknown_scenario',
    });
    expect(await service.start({ scenario: 'restart', actor: { id: 'U0STRANGER', via: 'slack' } })).toMatchObject({
      ok: false,
      code: 'not_operator',
    });
    expect(await service.decide('run-nosuchrun', { stepId: 'x', optionId: 'y', actor: STARTER })).toMatchObject({
      ok: false,
      code: 'unknown_run',
    });
  });

  it('a decision to switch scenarios ends the run and starts the other scenario, which recovers', async () => {
    await world.sim.inject('postgres-down');
    const first = await startRun(world.service, 'restart');
    watchers.push(first);
    const switched = await driveRun(first);
    expect(switched.outcome).toMatchObject({ outcome: 'switched', switchTo: 'postgres' });
    expect(switched.decisions.map((d) => d.optionId)).toEqual(['switch_postgres']);

    const next = await watch(switchedRunId(first.runId));
    const end = await driveRun(next);
    const started = next.ofType('run_started')[0];
    expect(started?.params.switchedFrom).toBe(first.runId);
    expect(started?.startedBy.id).toBe(STARTER.id);
    expect(end.outcome?.outcome).toBe('recovered');
    expect(world.sim.hostActionCounts().restart ?? 0).toBe(0);
    expect(world.sim.hostActionCounts().restore_postgres).toBe(1);
  });
});

describe('a step that fails pauses the run', () => {
  let stuck: World;

  beforeAll(async () => {
    // The "restart" only stops the node, so healthz never comes back.
    stuck = await startWorld({
      sim: { faults: ['node-down'] },
      paths: { '/host/restart': '/host/stop' },
      // The wait's deadline is what this test is about: delays and deadlines at 1/200, 5 min becoming 1.5 s.
      runtime: { timeScale: 0.005 },
    });
  });

  afterAll(async () => {
    await stuck?.close();
  });

  it('a wait that never succeeds fails at its deadline and pauses; retry, skip with a reason, abort', async () => {
    const { service } = stuck;
    const w = await startRun(service, 'restart');
    watchers.push(w);
    const firstPause = await w.until((s) => s.status === 'paused');
    expect(firstPause.pause).toMatchObject({ stepId: 'wait_healthz', options: ['retry', 'skip', 'abort'] });
    const failed = w.ofType('step_failed')[0];
    expect(failed?.error.code).toBe('deadline_exceeded');
    expect(failed?.evidence.some((e) => e.label === 'deadline' && e.ok === false)).toBe(true);
    // 1.5 s of polling: every check was its own delayed job (how many fit depends on how busy the machine is).
    expect(w.ofType('step_waiting').length).toBeGreaterThan(1);

    expect(await service.skip(w.runId, { actor: STARTER, reason: '  ' })).toMatchObject({
      ok: false,
      code: 'reason_required',
    });
    const retried = await service.retry(w.runId, { actor: STARTER });
    expect(retried.ok).toBe(true);
    const secondPause = await w.until((s) => s.status === 'paused' && s.lastSeq > firstPause.lastSeq);
    expect(secondPause.steps.wait_healthz).toMatchObject({ status: 'failed', attempt: 2 });

    expect(await service.skip(w.runId, { actor: APPROVER, reason: 'the node is kept down on purpose' })).toMatchObject({
      ok: true,
    });
    // The next step cannot reach the node either: its own retries run out, and the run pauses again.
    const thirdPause = await w.until((s) => s.status === 'paused' && s.pause?.stepId === 'check_projections');
    expect(thirdPause.steps.wait_healthz?.skip).toMatchObject({ by: { id: APPROVER.id }, cause: 'operator' });
    expect(thirdPause.steps.check_projections?.attempt).toBe(3);

    expect(await service.abort(w.runId, { actor: STARTER, reason: 'drill over' })).toMatchObject({ ok: true });
    const end = await w.until((s) => s.status === 'finished');
    expect(end.outcome).toMatchObject({ outcome: 'aborted', reason: 'drill over' });
    expect(await service.retry(w.runId, { actor: STARTER })).toMatchObject({ ok: false, code: 'run_finished' });
    // The slot is free again.
    const again = await service.start({ scenario: 'restart', actor: STARTER });
    expect(again.ok).toBe(true);
    if (again.ok) await service.abort(again.runId, { actor: STARTER, reason: 'drill over' });
  });
});
