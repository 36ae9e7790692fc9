import { describe, expect, it } from 'vitest';
import { eventsOf, run, start, statuses } from './driver.js';
import { openRun } from './fixtures.js';
import { World } from './world.js';

// Each scenario walked from its injected fault to the end through the engine, the judges and a fake world, the way
// the job layer drives a run (begin, call, record, decide). Decisions take the recommended option unless a test
// picks another; approvals come from a second person.

describe('restart scenario', () => {
  const fault = () => {
    const w = new World();
    w.runtimeUp = false;
    w.cursors.trace_summary = 2150;
    return w;
  };

  it('restarts the runtime, requests a catch_up for projections that do not move, and recovers', () => {
    const w = fault();
    const d = run(start(w, 'restart'));
    expect(d.state.outcome?.outcome).toBe('recovered');
    expect(w.hostCalls).toEqual({ restart_runtime: 1 });
    expect(statuses(d)).toMatchObject({
      postgres_down: 'skipped',
      already_up: 'skipped',
      check_projections: 'passed',
      catch_up_decision: 'passed',
      start_catch_up: 'passed',
      poll_catch_up: 'passed',
      read_trace: 'passed',
      read_inbox: 'skipped',
      gate: 'passed',
    });
    expect(d.state.steps.check_projections?.outputs.state).toBe('behind_not_moving');
    const replay = eventsOf(d, 'step_passed').find((e) => e.stepId === 'start_catch_up');
    expect(replay?.outputs).toMatchObject({ jobId: 'replay-5801', attached: false });
    const finished = eventsOf(d, 'run_finished')[0];
    expect(finished?.gate).toMatchObject({ stepId: 'gate', passed: true, failing: [] });
  });

  it('reads the inbox and the known workflow only when a workflow is known', () => {
    const d = run(start(fault(), 'restart', { traceId: 'trace-demo', workflowId: 'trace-demo:account:42' }));
    expect(d.state.outcome?.outcome).toBe('recovered');
    expect(statuses(d)).toMatchObject({ read_inbox: 'passed', read_workflow: 'passed' });
    expect(d.state.steps.read_inbox?.outputs).toMatchObject({ openCount: 3 });
    const gateEvidence = d.state.steps.gate?.evidence ?? [];
    expect(gateEvidence.find((e) => e.label === 'checklist: known workflow reads')).toMatchObject({ ok: true });
  });

  it('needs no replay when projections are catching up by themselves', () => {
    const w = fault();
    // An event appended after the restart starts the workers.
    const d = run(start(w, 'restart'), {
      intercept: (_call, stepId) => {
        if (stepId === 'check_projections') w.workersRunning = true;
        return undefined;
      },
    });
    expect(d.state.outcome?.outcome).toBe('recovered');
    expect(d.state.steps.check_projections?.outputs.state).toBe('catching_up');
    expect(statuses(d)).toMatchObject({ catch_up_decision: 'skipped', start_catch_up: 'skipped' });
    expect(w.calls).not.toContain('dg.replay_start');
  });

  it('offers to switch to the postgres scenario when Postgres is down', () => {
    const w = fault();
    w.postgresUp = false;
    const d = run(start(w, 'restart'));
    expect(d.state.outcome).toMatchObject({ outcome: 'switched', switchTo: 'postgres' });
    expect(w.hostCalls).toEqual({});
  });

  it('skips the restart when healthz already answers and goes to the projection check', () => {
    const w = new World();
    w.cursors.trace_summary = 2150;
    const d = run(start(w, 'restart'));
    expect(d.state.outcome?.outcome).toBe('recovered');
    expect(d.state.steps.restart_runtime?.skip).toMatchObject({ cause: 'decision' });
    expect(d.state.steps.wait_healthz?.status).toBe('skipped');
    expect(w.hostCalls).toEqual({});
  });

  it('asks about each orphaned replay run and lists the decided ones instead of failing the gate', () => {
    const w = fault();
    w.openRuns = [openRun({ job_id: 'replay-17' }), openRun({ job_id: 'replay-18', projection_name: 'trace_summary' })];
    const d = run(start(w, 'restart'));
    const asked = eventsOf(d, 'decision_requested').filter((e) => e.stepId === 'orphan_runs');
    expect(asked.map((e) => e.item?.id)).toEqual(['replay-17', 'replay-18']);
    expect(asked[0]?.prompt).toContain('replay-17');
    expect(asked[0]?.prompt).toContain('after 120 events');
    expect(d.state.outcome?.outcome).toBe('recovered');
    expect(d.state.steps.gate?.outputs.acknowledgedRuns).toEqual(['replay-17', 'replay-18']);
    // Both orphans still sit in the table: the gate passed because a person decided about them.
    expect(w.openRuns.map((r) => r.job_id)).toEqual(['replay-17', 'replay-18']);
  });

  it('waits for a person to do a manual restart and continues on Done', () => {
    const w = fault();
    w.defaultMode = 'manual';
    const d = run(start(w, 'restart'));
    expect(d.state.outcome?.outcome).toBe('recovered');
    const requested = eventsOf(d, 'manual_action_requested');
    expect(requested.map((e) => e.stepId)).toEqual(['restart_runtime']);
    expect(eventsOf(d, 'manual_action_done')[0]).toMatchObject({ stepId: 'restart_runtime', by: { id: 'U012ABC' } });
  });
});

describe('postgres scenario', () => {
  const fault = () => {
    const w = new World();
    w.postgresUp = false;
    w.connected = false;
    return w;
  };

  it('restores Postgres, sees the runtime reconnect, needs no replay, and recovers', () => {
    const w = fault();
    const d = run(start(w, 'postgres'));
    expect(d.state.outcome?.outcome).toBe('recovered');
    expect(d.state.steps.check_sql?.outputs.postgres).toBe('unreachable');
    expect(d.state.steps.check_healthz?.outputs.healthz).toBe('db_unavailable');
    expect(statuses(d)).toMatchObject({
      postgres_up: 'skipped',
      restore_postgres: 'passed',
      wait_sql: 'passed',
      wait_reconnect: 'passed',
      restart_decision: 'skipped',
      restart_runtime: 'skipped',
      replay_decision: 'skipped',
      gate: 'passed',
    });
    expect(w.hostCalls).toEqual({ restore_postgres: 1 });
  });

  it('restarts a runtime that does not reconnect within a minute, then replays stale projections with a reason', () => {
    const w = fault();
    w.reconnectsByItself = false;
    w.cursors.precedent_index = 2100;
    const d = run(start(w, 'postgres'), {
      decide: (cmd) =>
        cmd.stepId === 'replay_decision'
          ? { optionId: 'catch_up', reason: 'precedent_index stuck after the outage' }
          : undefined,
    });
    expect(d.state.outcome?.outcome).toBe('recovered');
    expect(d.state.steps.wait_reconnect?.outputs.reconnected).toBe(false);
    expect(statuses(d)).toMatchObject({
      restart_decision: 'passed',
      restart_runtime: 'passed',
      start_replay: 'passed',
    });
    expect(w.hostCalls).toEqual({ restore_postgres: 1, restart_runtime: 1 });
    const started = eventsOf(d, 'step_started').find((e) => e.stepId === 'start_replay');
    expect(started).toBeDefined();
    // The reason typed at the decision is the reason sent with the replay.
    expect(d.state.decisions.find((x) => x.stepId === 'replay_decision')?.reason).toBe(
      'precedent_index stuck after the outage',
    );
  });

  it('refuses a replay decision without a reason', () => {
    const w = fault();
    w.cursors.precedent_index = 2100;
    expect(() =>
      run(start(w, 'postgres'), {
        decide: (cmd) => (cmd.stepId === 'replay_decision' ? { optionId: 'catch_up' } : undefined),
      }),
    ).toThrow(/reason_required/);
  });
});

describe('projections scenario', () => {
  const semanticFault = () => {
    const w = new World();
    w.cursors.trace_summary = 2150;
    w.failures.trace_summary = 1;
    w.failureRows = [
      { projection_name: 'trace_summary', error_code: 'conflict', event_id: 'ev-9', log_seq: 2151, count: 3 },
    ];
    return w;
  };

  it('classifies a hash mismatch as semantic, rebuilds the affected projection after an approval, and recovers', () => {
    const w = semanticFault();
    const d = run(start(w, 'projections'), {
      decide: (cmd) => {
        const rec = cmd.options.find((o) => o.recommended);
        return rec ? { optionId: rec.id, reason: 'hash mismatch on ev-9: projector bug fixed in 1.5.1' } : undefined;
      },
    });
    expect(d.state.outcome?.outcome).toBe('recovered');
    expect(d.state.steps.inspect_failures?.outputs).toMatchObject({
      kinds: 'semantic',
      suggested: 'rebuild',
      rebuildTarget: 'trace_summary',
    });
    const asked = eventsOf(d, 'decision_requested').find((e) => e.stepId === 'replay_decision');
    expect(asked?.options.find((o) => o.recommended)?.id).toBe('rebuild');
    expect(eventsOf(d, 'approval_granted')).toMatchObject([{ stepId: 'approve_rebuild', by: { id: 'U034DEF' } }]);
    expect(statuses(d)).toMatchObject({
      start_rebuild: 'passed',
      rebuild_refused: 'skipped',
      start_catch_up: 'skipped',
      poll_replay: 'passed',
    });
    expect(w.replay).toMatchObject({ mode: 'rebuild', projection_name: 'trace_summary', status: 'completed' });
  });

  it('offers catch_up when the deployment forbids rebuilds, and recovers with it', () => {
    const w = semanticFault();
    w.allowRebuild = false;
    const d = run(start(w, 'projections'), {
      decide: (cmd) => {
        const rec = cmd.options.find((o) => o.recommended);
        return rec ? { optionId: rec.id, reason: 'semantic fault' } : undefined;
      },
    });
    expect(d.state.steps.start_rebuild).toMatchObject({ status: 'failed', error: { code: 'rebuild_forbidden' } });
    expect(eventsOf(d, 'run_paused')).toEqual([]);
    expect(statuses(d)).toMatchObject({ rebuild_refused: 'passed', start_catch_up: 'passed', poll_replay: 'passed' });
    expect(w.replay?.mode).toBe('catch_up');
    expect(d.state.outcome?.outcome).toBe('recovered');
  });

  const cursorsAhead = () => {
    const w = new World();
    for (const p of ['context_graph', 'trace_summary', 'precedent_index'] as const) w.cursors[p] = w.tail + 10;
    return w;
  };
  const recommendedWithReason = {
    decide: (cmd: { options: readonly { id: string; recommended?: boolean }[] }) => {
      const rec = cmd.options.find((o) => o.recommended);
      return rec ? { optionId: rec.id, reason: 'cursors past the restored tail' } : undefined;
    },
  };

  it('finds cursors ahead of the tail at the start, offers only a rebuild, and recovers with it', () => {
    const w = cursorsAhead();
    const d = run(start(w, 'projections'), recommendedWithReason);
    expect(d.state.steps.inspect_cursors?.outputs).toMatchObject({ hasCursorAhead: true, cursorAhead: 3 });
    expect(statuses(d)).toMatchObject({ nothing_to_repair: 'skipped', start_rebuild: 'passed', poll_replay: 'passed' });
    const asked = eventsOf(d, 'decision_requested').find((e) => e.stepId === 'replay_decision');
    expect(asked?.options.map((o) => o.id)).toEqual(['rebuild', 'abort']);
    expect(w.replay).toMatchObject({ mode: 'rebuild', projection_name: 'all', status: 'completed' });
    expect(d.state.outcome?.outcome).toBe('recovered');
  });

  it('ends the run failed, naming the manual steps, when cursors are ahead and rebuilds are forbidden', () => {
    const w = cursorsAhead();
    w.allowRebuild = false;
    const d = run(start(w, 'projections'), recommendedWithReason);
    expect(d.state.steps.start_rebuild).toMatchObject({ status: 'failed', error: { code: 'rebuild_forbidden' } });
    expect(eventsOf(d, 'run_paused')).toEqual([]);
    expect(statuses(d)).toMatchObject({ rebuild_refused: 'pending', start_catch_up: 'pending', gate: 'pending' });
    expect(d.state.outcome?.outcome).toBe('failed');
    expect(d.state.outcome?.reason).toMatch(/^Request the rebuild: .*Needs manual action: enable rebuilds/);
    expect(d.state.outcome?.reason).toContain('then run `projections` again');
  });

  it('attaches to a replay that is already running instead of starting a second one', () => {
    const w = new World();
    w.cursors.trace_summary = 2150;
    w.replay = {
      ...openRun({ job_id: 'replay-42', status: 'running' }),
      processed_events: 10,
      last_log_seq: 2150,
      error_code: null,
      error_message: null,
      polls: 0,
    };
    w.activeReplayJobs = 1;
    w.openRuns = [openRun({ job_id: 'replay-42', status: 'running', requested_at: '2026-03-07T11:59:00Z' })];
    const d = run(start(w, 'projections'));
    expect(d.state.steps.start_catch_up?.outputs).toMatchObject({ jobId: 'replay-42', attached: true });
    expect(d.state.steps.poll_replay?.outputs.jobId).toBe('replay-42');
    expect(d.state.outcome?.outcome).toBe('recovered');
  });

  it('goes straight to the checklist when nothing needs repair', () => {
    const w = new World();
    const d = run(start(w, 'projections'));
    expect(d.state.outcome?.outcome).toBe('recovered');
    expect(statuses(d)).toMatchObject({
      nothing_to_repair: 'passed',
      replay_decision: 'skipped',
      start_catch_up: 'skipped',
      gate: 'passed',
    });
    expect(w.calls).not.toContain('dg.replay_start');
  });

  it('pauses when the replay run fails even though open failures read 0', () => {
    const w = semanticFault();
    w.replayOutcome = 'failed';
    const d = run(start(w, 'projections'), {
      decide: (cmd) => (cmd.stepId === 'replay_decision' ? { optionId: 'rebuild', reason: 'r' } : undefined),
    });
    expect(d.state.status).toBe('paused');
    expect(d.state.steps.poll_replay?.error?.code).toBe('replay_failed');
    expect(w.failures.trace_summary).toBe(0);
  });
});

describe('event-log scenario', () => {
  const fault = () => {
    const w = new World();
    w.integrity = { payload_hash_drift: 2, trace_seq_step: 1 };
    return w;
  };

  it('stops writes, preserves, restores the chosen backup, verifies, lets writers back in and recovers', () => {
    const w = fault();
    const d = run(start(w, 'event-log'));
    expect(d.state.outcome?.outcome).toBe('recovered');
    // The backup list is read twice: once to choose, once more right before the restore to re-check the approval.
    expect(w.hostCalls).toEqual({
      stop_writes: 1,
      preserve_database: 1,
      list_backups: 2,
      restore_backup: 1,
      restart_runtime: 1,
    });
    expect(w.restoredArtifact).toBe('nightly-0307');
    expect(eventsOf(d, 'approval_granted').map((e) => e.stepId)).toEqual([
      'approve_stop_writes',
      'approve_preserve',
      'approve_restore',
    ]);
    const choose = eventsOf(d, 'decision_requested').find((e) => e.stepId === 'choose_backup');
    expect(choose?.options.map((o) => o.id)).toEqual([
      'nightly-0307',
      'pre-upgrade-0306',
      'nightly-0306',
      'other',
      'abort',
    ]);
    expect(choose?.options[0]).toMatchObject({ recommended: true, label: 'nightly · 10 h before the run · 1.2 GiB' });
    expect(d.state.steps.verify_parity?.outputs).toMatchObject({ eventCount: 2032, eventsNotRestored: 68 });
    expect(statuses(d)).toMatchObject({
      no_damage: 'skipped',
      rebuild_decision: 'passed',
      start_rebuild: 'skipped',
      resume_writes: 'passed',
    });
    expect(eventsOf(d, 'manual_action_requested').map((e) => e.stepId)).toEqual(['resume_writes']);
    // The event log is never written: no executor in the run appends events.
    expect(w.calls.filter((c) => c.startsWith('dg.') && c !== 'dg.replay_start')).not.toContain('dg.events');
  });

  it('restores an artifact a person types when the backup list is manual', () => {
    const w = fault();
    const d = run(start(w, 'event-log'), {
      intercept: (call) =>
        call.executor === 'host.list_backups'
          ? { kind: 'measured', measurement: { mode: 'manual', instructions: 'find the backups' } }
          : undefined,
      decide: (cmd) =>
        cmd.stepId === 'choose_backup' ? { optionId: 'other', value: '/backups/dg-0301.dump' } : undefined,
    });
    const asked = eventsOf(d, 'decision_requested').find((e) => e.stepId === 'choose_backup');
    expect(asked?.options.map((o) => o.id)).toEqual(['other', 'abort']);
    expect(w.restoredArtifact).toBe('/backups/dg-0301.dump');
    expect(d.state.outcome?.outcome).toBe('recovered');
  });

  it('recommends typing an artifact when the backup listing finds none', () => {
    const w = fault();
    w.backups = [];
    const d = run(start(w, 'event-log'), {
      decide: (cmd) =>
        cmd.stepId === 'choose_backup' ? { optionId: 'other', value: '/backups/offsite-0301.dump' } : undefined,
    });
    const asked = eventsOf(d, 'decision_requested').find((e) => e.stepId === 'choose_backup');
    expect(asked?.options.map((o) => [o.id, o.recommended === true])).toEqual([
      ['other', true],
      ['abort', false],
    ]);
    expect(asked?.evidence.find((e) => e.label === 'backup artifacts found')).toMatchObject({ measured: 0, ok: false });
    expect(w.restoredArtifact).toBe('/backups/offsite-0301.dump');
    expect(d.state.outcome?.outcome).toBe('recovered');
  });

  it('pauses on a backup list that cannot be read instead of offering no backup', () => {
    const w = fault();
    const message = 'list_backups: line 1 of the stdout is not valid JSON';
    const d = run(start(w, 'event-log'), {
      intercept: (call) =>
        call.executor === 'host.list_backups'
          ? {
              kind: 'measured',
              measurement: {
                mode: 'command',
                argv: ['list-backups'],
                exitCode: 0,
                signal: null,
                timedOut: false,
                durationMs: 4,
                outputTail: 'Backups:\n  nightly',
                failure: { code: 'DG_ERR_HOST_ACTION_BAD_OUTPUT', message },
              },
            }
          : undefined,
    });
    expect(d.state.status).toBe('paused');
    expect(d.state.pause).toMatchObject({ stepId: 'list_backups', options: ['retry', 'skip', 'abort'] });
    expect(d.state.pause?.reason).toContain(message);
    expect(d.state.steps.list_backups?.error?.code).toBe('DG_ERR_HOST_ACTION_BAD_OUTPUT');
    expect(eventsOf(d, 'decision_requested').some((e) => e.stepId === 'choose_backup')).toBe(false);
  });

  it('tries the integrity scan again when Postgres was briefly unreachable, and never takes it for no damage', () => {
    const w = fault();
    let failures = 1;
    const d = run(start(w, 'event-log'), {
      intercept: (call) =>
        call.executor === 'sql.integrity' && failures-- > 0
          ? {
              kind: 'measured',
              measurement: {
                checks: [],
                error: { code: 'DG_ERR_SQL_UNREACHABLE', message: 'connect ECONNREFUSED', transient: true },
              },
            }
          : undefined,
    });
    const first = eventsOf(d, 'step_failed').find((e) => e.stepId === 'gather_integrity');
    expect(first).toMatchObject({ attempt: 1, transient: true, error: { code: 'DG_ERR_SQL_UNREACHABLE' } });
    expect(first?.retryAt).toBeDefined();
    expect(d.state.steps.gather_integrity).toMatchObject({
      status: 'passed',
      attempt: 2,
      outputs: { damage: 'found' },
    });
    expect(d.state.steps.no_damage?.status).toBe('skipped');
    expect(d.state.outcome?.outcome).toBe('recovered');
  });

  it('stops when no damage is found', () => {
    const w = new World();
    const d = run(start(w, 'event-log'));
    expect(d.state.outcome?.outcome).toBe('aborted');
    expect(eventsOf(d, 'run_aborted')[0]).toMatchObject({ stepId: 'no_damage', by: { id: 'U012ABC' } });
    expect(w.hostCalls).toEqual({});
  });
});

describe('upgrade scenario', () => {
  const fault = () => {
    const w = new World();
    w.smokeFailing = ['projection_health', 'trace_read'];
    return w;
  };

  it('rolls back to the pre-upgrade backup and the configured release, and recovers', () => {
    const w = fault();
    const tailBefore = w.tail;
    const d = run(start(w, 'upgrade', { traceId: 'trace-demo', previousRelease: 'v1.4.2' }));
    expect(d.state.outcome?.outcome).toBe('recovered');
    expect(d.state.steps.smoke_before?.outputs.failing).toEqual(['projection_health', 'trace_read']);
    expect(w.restoredArtifact).toBe('pre-upgrade-0306');
    expect(w.release).toBe('v1.4.2');
    // The tail is read after the runtime stopped answering and before the backups are listed.
    expect(d.state.steps.read_tail?.outputs.maxLogSeq).toBe(tailBefore);
    const at = (executor: string) => w.calls.indexOf(executor);
    expect(at('sql.parity')).toBeGreaterThan(at('host.stop_runtime'));
    expect(at('sql.parity')).toBeLessThan(at('host.list_backups'));
    expect(w.hostCalls).toEqual({
      stop_runtime: 1,
      list_backups: 2,
      restore_backup: 1,
      switch_release: 1,
      start_runtime: 1,
    });
    expect(eventsOf(d, 'approval_granted').map((e) => e.stepId)).toEqual([
      'approve_stop',
      'approve_restore',
      'approve_switch',
    ]);
    const release = eventsOf(d, 'decision_requested').find((e) => e.stepId === 'choose_release');
    expect(release?.options[0]).toMatchObject({
      id: 'configured',
      label: 'Previous known-good release v1.4.2',
      recommended: true,
      value: 'v1.4.2',
    });
  });

  it('takes a typed release when none is configured', () => {
    const w = fault();
    const d = run(start(w, 'upgrade'), {
      decide: (cmd) => (cmd.stepId === 'choose_release' ? { optionId: 'other', value: 'a1b2c3d' } : undefined),
    });
    const release = eventsOf(d, 'decision_requested').find((e) => e.stepId === 'choose_release');
    expect(release?.options.map((o) => o.id)).toEqual(['other', 'abort']);
    expect(w.release).toBe('a1b2c3d');
    expect(d.state.outcome?.outcome).toBe('recovered');
  });

  it('goes on to the restore approval when Postgres cannot be read for the tail', () => {
    const w = fault();
    w.parityUnreachable = true;
    const d = run(start(w, 'upgrade', { traceId: 'trace-demo', previousRelease: 'v1.4.2' }));
    expect(d.state.steps.read_tail?.status).toBe('failed');
    expect(d.state.steps.read_tail?.error?.code).toBe('DG_ERR_SQL_UNREACHABLE');
    expect(eventsOf(d, 'approval_granted').map((e) => e.stepId)).toContain('approve_restore');
    expect(d.state.outcome?.outcome).toBe('recovered');
  });

  it('stops when every smoke check passes', () => {
    const w = new World();
    const d = run(start(w, 'upgrade'));
    expect(d.state.outcome?.outcome).toBe('aborted');
    expect(w.hostCalls).toEqual({});
  });
});
