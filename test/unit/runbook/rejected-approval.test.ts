import { describe, expect, it } from 'vitest';
import { applyRejection, foldRun } from '../../../src/runbook/index.js';
import { ACCESS, APPROVER, apply, eventsOf, run, start, statuses } from './driver.js';
import { World } from './world.js';

// A rejected approval bound to a decision goes back to that decision: people choose another option, the rejected
// one stays offered and marked, and the guarded step runs once, on the new choice.

function atRestoreApproval() {
  const w = new World();
  w.integrity = { payload_hash_drift: 2, trace_seq_step: 1 };
  const d = run(start(w, 'event-log'), { approve: (cmd) => (cmd.stepId === 'approve_restore' ? 'stop' : 'approve') });
  expect(d.state.pendingApproval?.stepId).toBe('approve_restore');
  return { w, d };
}

describe('rejecting an approval bound to a decision', () => {
  it('asks the backup choice again, marks the rejected backup, and restores the one chosen next', () => {
    const { w, d } = atRestoreApproval();
    const rejected = applyRejection(d.state, d.scenario, { stepId: 'approve_restore', by: APPROVER }, ACCESS, d.now);
    if (!rejected.ok) throw new Error(rejected.refusal.message);
    expect(rejected.events).toHaveLength(1);
    expect(rejected.events[0]).toMatchObject({
      type: 'approval_rejected',
      stepId: 'approve_restore',
      round: 1,
      reopens: { decision: 'choose_backup', optionId: 'nightly-0307', steps: ['choose_backup', 'approve_restore'] },
    });
    apply(d, rejected);
    expect(d.state.pause).toBeNull();
    expect(d.state.decisions.some((x) => x.stepId === 'choose_backup')).toBe(false);
    expect(d.state.rejectedDecisions.map((r) => [r.record.optionId, r.by.id])).toEqual([['nightly-0307', APPROVER.id]]);

    run(d, {
      decide: (cmd) => (cmd.stepId === 'choose_backup' ? { optionId: 'pre-upgrade-0306' } : undefined),
    });
    const asked = eventsOf(d, 'decision_requested').filter((e) => e.stepId === 'choose_backup');
    expect(asked).toHaveLength(2);
    const again = asked[1]?.options.find((o) => o.id === 'nightly-0307');
    expect(again?.label).toBe('nightly · 10 h before the run · 1.2 GiB (approval rejected by bo)');
    expect(again?.recommended).toBeUndefined();
    expect(asked[1]?.options.some((o) => o.recommended === true)).toBe(false);

    expect(
      eventsOf(d, 'approval_requested')
        .filter((e) => e.stepId === 'approve_restore')
        .map((e) => e.round),
    ).toEqual([1, 2]);
    expect(w.hostCalls.restore_backup).toBe(1);
    expect(w.restoredArtifact).toBe('pre-upgrade-0306');
    expect(d.state.outcome?.outcome).toBe('recovered');
    // The state is the fold of the log: replaying it gives the same run.
    expect(foldRun(d.events)).toEqual(d.state);
  });

  it('goes back from a rejected rebuild to the replay decision, where catch_up can be chosen instead', () => {
    const w = new World();
    w.cursors.trace_summary = 2150;
    w.failures.trace_summary = 1;
    w.failureRows = [
      { projection_name: 'trace_summary', error_code: 'conflict', event_id: 'ev-9', log_seq: 2151, count: 3 },
    ];
    const d = run(start(w, 'projections'), {
      decide: (cmd) => ({ optionId: cmd.options.find((o) => o.recommended)?.id ?? '', reason: 'semantic fault' }),
      approve: () => 'stop',
    });
    expect(d.state.pendingApproval?.stepId).toBe('approve_rebuild');
    const rejected = applyRejection(d.state, d.scenario, { stepId: 'approve_rebuild', by: APPROVER }, ACCESS, d.now);
    if (!rejected.ok) throw new Error(rejected.refusal.message);
    expect(rejected.events[0]).toMatchObject({ reopens: { decision: 'replay_decision', optionId: 'rebuild' } });
    apply(d, rejected);
    run(d, {
      decide: (cmd) =>
        cmd.stepId === 'replay_decision' ? { optionId: 'catch_up', reason: 'no rebuild today' } : undefined,
    });
    expect(d.state.outcome?.outcome).toBe('recovered');
    expect(statuses(d)).toMatchObject({
      approve_rebuild: 'skipped',
      start_rebuild: 'skipped',
      start_catch_up: 'passed',
    });
    expect(w.replay).toMatchObject({ mode: 'catch_up' });
  });

  it('pauses with Retry and Abort when the approval is bound to no decision', () => {
    const w = new World();
    w.integrity = { payload_hash_drift: 2, trace_seq_step: 1 };
    const d = run(start(w, 'event-log'), {
      approve: (cmd) => (cmd.stepId === 'approve_stop_writes' ? 'stop' : 'approve'),
    });
    expect(d.state.pendingApproval?.stepId).toBe('approve_stop_writes');
    const rejected = applyRejection(
      d.state,
      d.scenario,
      { stepId: 'approve_stop_writes', by: APPROVER },
      ACCESS,
      d.now,
    );
    if (!rejected.ok) throw new Error(rejected.refusal.message);
    expect(rejected.events.map((e) => e.type)).toEqual(['approval_rejected', 'run_paused']);
    expect(rejected.events[0]).not.toHaveProperty('reopens');
    expect(w.writesStopped).toBe(false);
  });
});
