import { describe, expect, it } from 'vitest';
import {
  applyAbort,
  applyDecision,
  applyManualResult,
  decideNext,
  OPEN_ACCESS,
  startRun,
} from '../../../src/runbook/index.js';
import { ACCESS, APPROVER, append, type Drive, STARTER, start, step, T0 } from './driver.js';
import { World } from './world.js';

const base: {
  runId: string;
  scenario: string;
  tenantId: string;
  startedBy: typeof STARTER;
  params: Record<string, string>;
} = {
  runId: 'run-9',
  scenario: 'restart',
  tenantId: 'default',
  startedBy: STARTER,
  params: { traceId: 'trace-demo' },
};

function awaiting(d: Drive, stepId: string): void {
  for (let i = 0; i < 200; i++) {
    const out = decideNext(d.state, d.scenario, d.now, { access: ACCESS });
    if (out.command.type === 'await_decision' && out.command.stepId === stepId) {
      append(d, out.events);
      return;
    }
    if (step(d) === 'stop') break;
  }
  throw new Error(`never asked ${stepId}`);
}

describe('starting a run', () => {
  it('records who started what, with which parameters, by alias', () => {
    const r = startRun(
      { ...base, scenario: 'node-restart', channelId: 'C0INCIDENT', params: { traceId: 'trace-demo', workflowId: '' } },
      ACCESS,
      T0,
    );
    expect(r).toMatchObject({
      ok: true,
      scenario: { name: 'restart' },
      events: [
        {
          type: 'run_started',
          runId: 'run-9',
          seq: 1,
          at: '2026-03-07T12:00:00.000Z',
          scenario: 'restart',
          scenarioVersion: 1,
          tenantId: 'default',
          startedBy: { id: 'U012ABC', name: 'ana', via: 'slack' },
          params: { traceId: 'trace-demo' },
          channelId: 'C0INCIDENT',
        },
      ],
    });
  });

  it('refuses unknown scenarios with the list, bad ids, missing or malformed parameters, and non-operators', () => {
    const refusal = (input: Partial<typeof base> & { params?: Record<string, string> }, access = ACCESS) => {
      const r = startRun({ ...base, ...input }, access, T0);
      return r.ok ? undefined : r.refusal;
    };
    const unknown = refusal({ scenario: 'reboot-the-world' });
    expect(unknown?.code).toBe('unknown_scenario');
    expect(unknown?.message).toContain('event-log (eventlog, log, restore)');
    expect(refusal({ runId: 'run:1' })?.code).toBe('invalid_run_id');
    expect(refusal({ runId: '12345' })?.code).toBe('invalid_run_id');
    expect(refusal({ params: {} })).toMatchObject({
      code: 'missing_param',
      message: 'the restart scenario needs traceId',
    });
    expect(refusal({ params: { traceId: 'x; rm -rf /' } })?.code).toBe('invalid_param');
    expect(refusal({ params: { traceId: '<!channel>' } })?.code).toBe('invalid_param');
    expect(refusal({ params: { traceId: 't', previousRelease: '--upload-pack=evil' } })?.code).toBe('invalid_param');
    expect(refusal({ tenantId: 'a b' })?.code).toBe('invalid_param');
    expect(refusal({ params: { traceId: 't', upgradedAt: '2026-03-07T11:40:00Z' } })).toBeUndefined();
    expect(refusal({ params: { traceId: 't', upgradedAt: '2026-13-07T11:40:00Z' } })).toMatchObject({
      code: 'invalid_param',
      message: expect.stringContaining('give an ISO 8601 time with a zone'),
    });
    expect(refusal({ startedBy: { id: 'U999', via: 'slack' } })?.code).toBe('not_operator');
    expect(refusal({ startedBy: { id: 'U999', via: 'slack', groups: ['S0OPS'] } as typeof STARTER })).toBeUndefined();
    expect(refusal({ startedBy: { id: 'U999', via: 'cli' } }, OPEN_ACCESS)).toBeUndefined();
  });
});

describe('deciding', () => {
  const atCatchUp = () => {
    const w = new World();
    w.runtimeUp = false;
    w.cursors.trace_summary = 2150;
    const d = start(w, 'restart');
    awaiting(d, 'catch_up_decision');
    return d;
  };

  it('refuses an unknown option, a missing or overlong reason, and control characters', () => {
    const d = atCatchUp();
    const decide = (optionId: string, reason?: string) =>
      applyDecision(
        d.state,
        d.scenario,
        { stepId: 'catch_up_decision', optionId, by: STARTER, ...(reason !== undefined ? { reason } : {}) },
        ACCESS,
        d.now,
      );
    expect(decide('reboot')).toMatchObject({ ok: false, refusal: { code: 'unknown_option' } });
    expect(decide('wait')).toMatchObject({ ok: false, refusal: { code: 'reason_required' } });
    expect(decide('wait', '   ')).toMatchObject({ ok: false, refusal: { code: 'reason_required' } });
    expect(decide('wait', 'x'.repeat(501))).toMatchObject({ ok: false, refusal: { code: 'reason_too_long' } });
    expect(decide('wait', 'x'.repeat(500)).ok).toBe(true);
    expect(decide('wait', 'bell\u0007')).toMatchObject({ ok: false, refusal: { code: 'reason_invalid' } });
    expect(decide('wait', 'reads \u202ebackwards')).toMatchObject({ ok: false, refusal: { code: 'reason_invalid' } });
    expect(decide('wait', 'two\nlines')).toMatchObject({
      ok: true,
      events: [{ type: 'decision_made', reason: 'two\nlines' }],
    });
  });

  it('refuses a decision nobody asked for and one from a non-operator', () => {
    const d = atCatchUp();
    expect(
      applyDecision(d.state, d.scenario, { stepId: 'already_up', optionId: 'abort', by: STARTER }, ACCESS, d.now),
    ).toMatchObject({
      ok: false,
      refusal: { code: 'not_pending' },
    });
    expect(
      applyDecision(
        d.state,
        d.scenario,
        { stepId: 'catch_up_decision', optionId: 'catch_up', by: { id: 'U404', via: 'slack' } },
        ACCESS,
        d.now,
      ),
    ).toMatchObject({
      ok: false,
      refusal: { code: 'not_operator' },
    });
  });

  it('checks a typed value against the option pattern', () => {
    const w = new World();
    w.smokeFailing = ['trace_read'];
    const d = start(w, 'upgrade');
    awaiting(d, 'choose_release');
    const pick = (value?: string) =>
      applyDecision(
        d.state,
        d.scenario,
        { stepId: 'choose_release', optionId: 'other', by: STARTER, ...(value !== undefined ? { value } : {}) },
        ACCESS,
        d.now,
      );
    expect(pick()).toMatchObject({ ok: false, refusal: { code: 'value_required' } });
    expect(pick('-oProxyCommand=x')).toMatchObject({ ok: false, refusal: { code: 'value_invalid' } });
    expect(pick('v1.4.2 && reboot')).toMatchObject({ ok: false, refusal: { code: 'value_invalid' } });
    expect(pick('a'.repeat(201))).toMatchObject({ ok: false, refusal: { code: 'value_invalid' } });
    expect(pick('release/1.4.2')).toMatchObject({ ok: true, events: [{ value: 'release/1.4.2' }] });
  });
});

describe('manual actions and abort', () => {
  it('accepts Done once, records who, and refuses it when nothing waits', () => {
    const w = new World();
    w.runtimeUp = false;
    w.defaultMode = 'manual';
    const d = start(w, 'restart');
    for (let i = 0; i < 50 && d.state.status !== 'waiting_manual'; i++) step(d);
    expect(d.state.pendingManual).toMatchObject({
      stepId: 'restart_runtime',
      instructions: 'On the DecisionGraph host, restart runtime as the operations handbook describes, then click Done.',
    });
    const note = 'restarted with systemctl';
    const done = applyManualResult(
      d.state,
      d.scenario,
      { stepId: 'restart_runtime', by: APPROVER, outcome: 'done', note },
      ACCESS,
      d.now,
    );
    expect(done).toMatchObject({
      ok: true,
      events: [
        { type: 'manual_action_done', note },
        { type: 'step_passed', outputs: { manual: true, manualBy: 'U034DEF' } },
      ],
    });
    if (!done.ok) return;
    append(d, done.events);
    expect(
      applyManualResult(
        d.state,
        d.scenario,
        { stepId: 'restart_runtime', by: APPROVER, outcome: 'done' },
        ACCESS,
        d.now,
      ),
    ).toEqual({ ok: true, events: [], duplicate: true });
    expect(
      applyManualResult(
        d.state,
        d.scenario,
        { stepId: 'restart_runtime', by: STARTER, outcome: 'done' },
        ACCESS,
        d.now,
      ),
    ).toMatchObject({
      ok: false,
      refusal: { code: 'not_pending' },
    });
  });

  it('pauses when a person reports a manual action as not done', () => {
    const w = new World();
    w.runtimeUp = false;
    w.defaultMode = 'manual';
    const d = start(w, 'restart');
    for (let i = 0; i < 50 && d.state.status !== 'waiting_manual'; i++) step(d);
    const failed = applyManualResult(
      d.state,
      d.scenario,
      { stepId: 'restart_runtime', by: STARTER, outcome: 'failed', note: 'no shell access' },
      ACCESS,
      d.now,
    );
    if (!failed.ok) throw new Error('refused');
    append(d, failed.events);
    const next = decideNext(d.state, d.scenario, d.now, { access: ACCESS });
    expect(next.command).toMatchObject({
      type: 'paused',
      stepId: 'restart_runtime',
      reason: 'Restart the DecisionGraph runtime: reported as not done by ana: no shell access',
    });
  });

  it('lets the starter or an operator abort with a reason, once', () => {
    const d = start(new World(), 'restart');
    expect(applyAbort(d.state, { by: { id: 'U404', via: 'slack' }, reason: 'x' }, ACCESS, d.now)).toMatchObject({
      ok: false,
      refusal: { code: 'not_operator' },
    });
    expect(applyAbort(d.state, { by: STARTER, reason: '' }, ACCESS, d.now)).toMatchObject({
      ok: false,
      refusal: { code: 'reason_required' },
    });
    const aborted = applyAbort(d.state, { by: STARTER, reason: 'false alarm' }, { ...ACCESS, operators: [] }, d.now);
    expect(aborted).toMatchObject({
      ok: true,
      events: [
        { type: 'run_aborted', reason: 'false alarm' },
        { type: 'run_finished', outcome: 'aborted' },
      ],
    });
    if (!aborted.ok) return;
    append(d, aborted.events);
    expect(applyAbort(d.state, { by: STARTER, reason: 'again' }, ACCESS, d.now)).toMatchObject({
      ok: false,
      refusal: { code: 'run_finished' },
    });
    expect(decideNext(d.state, d.scenario, d.now).command).toEqual({
      type: 'finished',
      outcome: 'aborted',
      switchTo: undefined,
    });
  });
});
