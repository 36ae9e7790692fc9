import { describe, expect, it } from 'vitest';
import {
  type AccessPolicy,
  type Actor,
  applySkip,
  decideNext,
  getScenario,
  parseScenario,
  type ScenarioInput,
  type StepOutcome,
} from '../../../src/runbook/index.js';
import { ACCESS, APPROVER, append, type Drive, eventsOf, run, STARTER, start } from './driver.js';
import { World } from './world.js';

// A failed safety check (the runtime that would not stop, writes that would not stop, the checklist) is skipped
// only when a second person confirms it, and a run that went past one never ends plain `recovered`.

const CY: Actor = { id: 'U056GHI', name: 'cy', via: 'slack' };
const THREE: AccessPolicy = {
  ...ACCESS,
  operators: [...(ACCESS.operators ?? []), CY.id],
  approvers: [APPROVER.id, CY.id],
};

/** The stop command answers OK, but the node keeps answering: `wait_stopped` fails at its deadline. */
const stopIgnored = (call: { executor: string }): StepOutcome | undefined =>
  call.executor === 'host.stop_runtime'
    ? {
        kind: 'measured',
        measurement: {
          mode: 'command',
          argv: ['systemctl', 'stop', 'decisiongraph'],
          exitCode: 0,
          signal: null,
          timedOut: false,
          durationMs: 1,
          outputTail: '',
        },
      }
    : undefined;

function upgradeWithLiveNode(): { d: Drive; w: World } {
  const w = new World();
  w.smokeFailing = ['trace_read'];
  const d = run(start(w, 'upgrade', { traceId: 'trace-demo', previousRelease: 'v1.4.2' }), { intercept: stopIgnored });
  return { d, w };
}

function skip(d: Drive, by: Actor, reason: string, access: AccessPolicy = THREE) {
  const result = applySkip(d.state, d.scenario, { by, reason }, access, d.now);
  if (result.ok) append(d, result.events);
  return result;
}

describe('skipping a failed safety check', () => {
  it('records one person’s Skip as a request: the run stays paused and the restore is not asked for', () => {
    const { d, w } = upgradeWithLiveNode();
    expect(d.state.pause).toMatchObject({ stepId: 'wait_stopped' });
    const asked = skip(d, STARTER, 'the node is wedged; restore anyway');
    expect(asked).toMatchObject({ ok: true, events: [{ type: 'skip_requested', stepId: 'wait_stopped' }] });
    expect(d.state.steps.wait_stopped?.status).toBe('failed');
    expect(decideNext(d.state, d.scenario, d.now, { access: THREE }).command).toMatchObject({
      type: 'paused',
      stepId: 'wait_stopped',
    });
    run(d, { intercept: stopIgnored, pause: () => 'stop' });
    expect(eventsOf(d, 'approval_requested').map((e) => e.stepId)).toEqual(['approve_stop']);
    expect(w.hostCalls.restore_backup ?? 0).toBe(0);
  });

  it('takes the confirmation of an approver who neither started the run nor asked, with a reason', () => {
    const { d } = upgradeWithLiveNode();
    skip(d, APPROVER, 'the node is wedged; restore anyway');
    const again = skip(d, APPROVER, 'still wedged');
    expect(again).toMatchObject({ ok: false, refusal: { code: 'same_person' } });
    const starterApproves = { ...THREE, approvers: [STARTER.id, APPROVER.id, CY.id] };
    expect(skip(d, STARTER, 'go', starterApproves)).toMatchObject({ ok: false, refusal: { code: 'same_person' } });
    const outsider = { id: 'U0OPS', name: 'ops', via: 'slack' as const, groups: ['S0OPS'] };
    expect(skip(d, outsider, 'go')).toMatchObject({ ok: false, refusal: { code: 'not_approver' } });
    expect(skip(d, CY, '')).toMatchObject({ ok: false, refusal: { code: 'reason_required' } });
    expect(d.state.pause).not.toBeNull();
    const confirmed = skip(d, CY, 'checked the host: the old process holds no connections');
    expect(confirmed.ok).toBe(true);
    expect(d.state.steps.wait_stopped?.skip).toMatchObject({
      by: { id: APPROVER.id },
      reason: 'the node is wedged; restore anyway',
      confirmedBy: { id: CY.id },
      confirmReason: 'checked the host: the old process holds no connections',
    });
  });

  it('ends a run that went past a confirmed skip recovered_with_exceptions, naming who skipped and confirmed', () => {
    const { d } = upgradeWithLiveNode();
    run(d, { intercept: stopIgnored, pause: () => ({ skip: 'the node is wedged' }) });
    expect(d.state.outcome).toMatchObject({ outcome: 'recovered_with_exceptions' });
    expect(d.state.outcome?.reason).toContain('Wait until the runtime no longer answers (by ana, confirmed by bo)');
  });

  it('keeps Skip of an ordinary read-only step a one-person action', () => {
    const w = new World();
    w.transientFailures['sql.projection_failures'] = 3;
    const d = run(start(w, 'projections'));
    expect(skip(d, STARTER, 'checked by hand')).toMatchObject({
      ok: true,
      events: [{ type: 'run_resumed' }, { type: 'step_skipped', cause: 'operator' }],
    });
  });

  it('needs the second person for the approval of a safety check, whose skip would skip the check', () => {
    const w = new World();
    w.smokeFailing = ['trace_read'];
    const d = start(w, 'upgrade', { traceId: 'trace-demo', previousRelease: 'v1.4.2' });
    // The approval's re-check of the smoke checks fails three times: the run pauses at the approval.
    run(d, {
      approve: () => 'approve',
      intercept: (call, stepId) =>
        stepId === 'approve_stop' && call.executor === 'smoke.checks'
          ? { kind: 'error', error: { code: 'unreachable', message: 'down', transient: false } }
          : undefined,
    });
    expect(d.state.pause).toMatchObject({ stepId: 'approve_stop' });
    expect(skip(d, STARTER, 'no need to stop')).toMatchObject({ events: [{ type: 'skip_requested' }] });
  });

  it('needs the second person for the checklist gate', () => {
    const w = new World();
    w.runtimeUp = false;
    w.traceMissing = true;
    const d = run(start(w, 'restart'), { pause: (cmd) => (cmd.stepId === 'gate' ? 'stop' : { skip: 'x' }) });
    expect(d.state.pause).toMatchObject({ stepId: 'gate' });
    expect(skip(d, STARTER, 'known gap')).toMatchObject({ events: [{ type: 'skip_requested', stepId: 'gate' }] });
    expect(d.state.outcome).toBeNull();
  });
});

describe('the event-log scenario’s safety checks', () => {
  it('holds the restore after a failed stop_writes until a second person confirms the skip', () => {
    const w = new World();
    w.integrity = { payload_hash_drift: 2 };
    w.hostFailures.stop_writes = 1;
    const d = run(start(w, 'event-log'));
    expect(d.state.pause).toMatchObject({ stepId: 'stop_writes' });
    skip(d, STARTER, 'writers are paused by hand');
    run(d, { pause: () => 'stop' });
    expect(d.state.pause).toMatchObject({ stepId: 'stop_writes' });
    expect(w.hostCalls.restore_backup ?? 0).toBe(0);
    skip(d, APPROVER, 'saw the load balancer in maintenance');
    run(d);
    expect(w.hostCalls.restore_backup).toBe(1);
    expect(d.state.outcome?.outcome).toBe('recovered_with_exceptions');
  });

  it('asks a second person to skip a restored log that still has hash drift, after another backup', () => {
    const w = new World();
    w.integrity = { payload_hash_drift: 2 };
    w.integrityAfterRestore = { payload_hash_drift: 1 };
    // The first damaged restore offers another backup (recommended); the second one pauses on its check.
    const d = run(start(w, 'event-log'));
    expect(d.state.decisions.map((x) => x.optionId)).toContain('choose_another');
    expect(d.state.pause).toMatchObject({ stepId: 'verify_integrity_again' });
    expect(skip(d, STARTER, 'drift predates the backup')).toMatchObject({ events: [{ type: 'skip_requested' }] });
  });
});

describe('a destructive step behind a safety check', () => {
  it('does not run past a safety check one person skipped alone (a log from before the rule)', () => {
    const { d } = upgradeWithLiveNode();
    // What the old rule wrote: a resume and a skip by one person, with nobody confirming.
    const envelope = (n: number) => ({ runId: d.state.runId, seq: d.state.lastSeq + n, at: d.now.toISOString() });
    append(d, [
      { ...envelope(1), type: 'run_resumed', by: STARTER, action: 'skip', stepId: 'wait_stopped', reason: 'go' },
      { ...envelope(2), type: 'step_skipped', stepId: 'wait_stopped', by: STARTER, reason: 'go', cause: 'operator' },
    ]);
    run(d, { intercept: stopIgnored, pause: () => 'stop' });
    expect(d.state.pause).toMatchObject({ stepId: 'approve_restore', options: ['abort'] });
    expect(d.state.pause?.reason).toContain('was skipped without a second person confirming it');
    expect(eventsOf(d, 'approval_requested').map((e) => e.stepId)).toEqual(['approve_stop']);
  });
});

describe('safetyCheckFor in scenario data', () => {
  const shipped = getScenario('upgrade');
  const withStep = (id: string, patch: Record<string, unknown>) =>
    ({
      ...shipped,
      steps: shipped.steps.map((s) => (s.id === id ? { ...s, ...patch } : s)),
    }) as ScenarioInput;

  it('marks the checks before the upgrade’s restore', () => {
    const marked = shipped.steps.filter((s) => 'safetyCheckFor' in s && s.safetyCheckFor !== undefined);
    expect(marked.map((s) => s.id)).toEqual(['stop_runtime', 'wait_stopped']);
  });

  it('refuses a target that is not a later destructive action, and a check that may fail and go on', () => {
    expect(() => parseScenario(withStep('wait_stopped', { safetyCheckFor: ['choose_release'] }))).toThrow(
      /wait_stopped.safetyCheckFor: choose_release is not a destructive action/,
    );
    expect(() => parseScenario(withStep('wait_stopped', { safetyCheckFor: ['stop_runtime'] }))).toThrow(
      /stop_runtime must come later/,
    );
    expect(() => parseScenario(withStep('wait_stopped', { safetyCheckFor: ['nope'] }))).toThrow(/nope does not exist/);
    expect(() => parseScenario(withStep('wait_stopped', { continueOnFailure: ['deadline_exceeded'] }))).toThrow(
      /a safety check cannot continueOnFailure/,
    );
  });
});
