import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  APPROVER,
  driveRun,
  LEAD,
  type RunWatcher,
  recommended,
  STARTER,
  startRun,
  startWorld,
  type World,
} from './fixtures.js';

// One simulated deployment for the file. Replays pause between batches, so a replay started by hand is still
// running when the run asks for its own.
let world: World;
const watchers: RunWatcher[] = [];

beforeAll(async () => {
  world = await startWorld({ sim: { allowRebuild: true, replayBatchDelayMs: 150 } });
});

afterEach(async () => {
  for (const w of watchers.splice(0)) await w.close();
  await world.sim.clear();
});

afterAll(async () => {
  await world?.close();
});

describe('replays', () => {
  it('a forbidden rebuild is explained and a catch_up offered; approvals need a second person', async () => {
    // The deployment forbids rebuilds, as production deployments do by default.
    await world.sim.inject('rebuild-disabled');
    await world.sim.inject('open-failures');
    const { service } = world;
    const w = await startRun(service, 'projections', { actor: LEAD });
    watchers.push(w);
    const asked = await w.until((s) => s.status === 'waiting_decision');
    expect(asked.pendingDecision?.stepId).toBe('replay_decision');
    expect(recommended(asked.pendingDecision?.options ?? []).id).toBe('rebuild');
    await service.decide(w.runId, {
      stepId: 'replay_decision',
      optionId: 'rebuild',
      reason: 'hash mismatch',
      actor: LEAD,
    });
    const waiting = await w.until((s) => s.status === 'waiting_approval');
    const request = { stepId: 'approve_rebuild', fingerprint: waiting.pendingApproval?.fingerprint ?? '' };
    expect(await service.approve(w.runId, { ...request, actor: LEAD })).toMatchObject({
      ok: false,
      code: 'same_person',
    });
    expect(await service.approve(w.runId, { ...request, actor: STARTER })).toMatchObject({
      ok: false,
      code: 'not_approver',
    });
    expect(
      await service.approve(w.runId, { ...request, actor: APPROVER, fingerprint: 'seen-something-else' }),
    ).toMatchObject({
      ok: false,
      code: 'stale_fingerprint',
    });
    expect(await service.approve(w.runId, { ...request, actor: APPROVER })).toMatchObject({ ok: true });
    const end = await driveRun(w, {
      stopAtPause: true,
    });
    const forbidden = w.ofType('step_failed').find((e) => e.stepId === 'start_rebuild');
    expect(forbidden?.error.code).toBe('rebuild_forbidden');
    const offer = w.ofType('decision_requested').find((e) => e.stepId === 'rebuild_refused');
    expect(offer?.prompt).toMatch(/forbids rebuilds/);
    expect(recommended(offer?.options ?? []).id).toBe('catch_up');
    expect(end.decisions.map((d) => [d.stepId, d.optionId, d.by.id])).toEqual([
      ['replay_decision', 'rebuild', LEAD.id],
      ['rebuild_refused', 'catch_up', STARTER.id],
    ]);
    expect(end.approvals.map((a) => [a.stepId, a.by.id])).toEqual([['approve_rebuild', APPROVER.id]]);
    // A catch_up does not clear failures that need a rebuild: the checklist says so and the run pauses.
    expect(end.pause?.stepId).toBe('gate');
    expect(end.outcome).toBeNull();
    expect(await service.abort(w.runId, { actor: LEAD, reason: 'failures need a rebuild' })).toMatchObject({
      ok: true,
    });
  });

  it('a replay already running is followed instead of started again (409 attaches)', async () => {
    await world.sim.inject('projections-behind');
    const sim = world.sim;
    let manualJobId: string | undefined;
    const w = await startRun(world.service, 'projections');
    watchers.push(w);
    const end = await driveRun(w, {
      decide: async (p) => {
        if (p.stepId !== 'replay_decision') return undefined;
        // Someone else starts a catch_up by hand just before the run asks for one.
        const res = await fetch(`${sim.url}/api/v1/admin/replays`, {
          method: 'POST',
          headers: {
            authorization: 'Bearer dev-admin-token',
            'x-tenant-id': sim.known.tenantId,
            'content-type': 'application/json',
          },
          body: JSON.stringify({ mode: 'catch_up', projection: 'all', reason: 'started by hand' }),
        });
        expect(res.status).toBe(202);
        manualJobId = ((await res.json()) as { data: { run: { job_id: string } } }).data.run.job_id;
        return { optionId: 'catch_up', reason: 'stale after an outage' };
      },
    });
    expect(end.outcome?.outcome).toBe('recovered');
    expect(end.steps.start_catch_up?.outputs).toMatchObject({ attached: true, jobId: manualJobId });
    expect(end.steps.poll_replay?.status).toBe('passed');
  });
});
