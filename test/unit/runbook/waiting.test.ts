import { describe, expect, it } from 'vitest';
import {
  type Actor,
  applyRejection,
  foldRun,
  openWait,
  type RunEvent,
  type RunState,
  whoIsAwaited,
  whoMayAnswer,
} from '../../../src/runbook/index.js';
import { getScenario } from '../../../src/runbook/scenarios/index.js';

const AT = '2026-03-01T03:00:00.000Z';

function runStarted(by: Actor): RunEvent {
  return {
    type: 'run_started',
    runId: 'run-w',
    seq: 1,
    at: AT,
    scenario: 'restart',
    scenarioVersion: 1,
    tenantId: 't1',
    startedBy: by,
    params: {},
  };
}

function started(by: Actor): RunState {
  return foldRun([runStarted(by)]);
}

const ANA: Actor = { id: 'U0ANA', name: 'ana', via: 'slack' };
const CLI: Actor = { id: 'ana', via: 'cli' };

describe('whoMayAnswer', () => {
  it('calls the listed approvers minus the starter under the two-person rule, users and groups alike', () => {
    const who = whoMayAnswer(started(ANA), 'approval', { approvers: ['U0ANA', 'U0BO', 'S0OPS'], excluded: ['U0ANA'] });
    expect(who).toEqual({ call: ['U0BO', 'S0OPS'], mayAnswer: ['U0ANA', 'U0BO', 'S0OPS'], excluded: ['U0ANA'] });
  });

  it('calls the starter, who must find a second person, when anyone may approve', () => {
    const who = whoMayAnswer(started(ANA), 'approval', { approvers: null, excluded: ['U0ANA'] });
    expect(who).toEqual({ call: ['U0ANA'], mayAnswer: null, excluded: ['U0ANA'] });
  });

  it('calls the starter for a decision, a manual step or a pause', () => {
    for (const kind of ['decision', 'manual', 'pause'] as const) {
      expect(whoMayAnswer(started(ANA), kind, undefined, ['U0ANA', 'S0OPS']).call).toEqual(['U0ANA']);
    }
  });

  it('calls the operators when the run was started from the terminal, and nobody without a list', () => {
    expect(whoMayAnswer(started(CLI), 'decision', undefined, ['S0OPS']).call).toEqual(['S0OPS']);
    expect(whoMayAnswer(started(CLI), 'manual', undefined, null).call).toEqual([]);
  });
});

describe('openWait', () => {
  it('is null while the run works on its own, and names the decision it waits for', () => {
    const state = started(ANA);
    expect(openWait(state)).toBeNull();
    const waiting = foldRun([
      runStarted(ANA),
      {
        type: 'decision_requested',
        runId: 'run-w',
        seq: 2,
        at: '2026-03-01T03:01:00.000Z',
        stepId: 'choose',
        prompt: 'Which?',
        options: [{ id: 'a', label: 'A', effect: 'continue' }],
        evidence: [],
      },
    ]);
    expect(whoIsAwaited(waiting)).toEqual({
      wait: { kind: 'decision', stepId: 'choose', since: '2026-03-01T03:01:00.000Z' },
      call: ['U0ANA'],
      mayAnswer: null,
      excluded: [],
    });
  });
});

describe('applyRejection', () => {
  const scenario = getScenario('upgrade');
  const asked: RunEvent[] = [
    { ...runStarted(ANA), scenario: 'upgrade', scenarioVersion: scenario.version } as RunEvent,
    {
      type: 'approval_requested',
      runId: 'run-w',
      seq: 2,
      at: '2026-03-01T03:01:00.000Z',
      stepId: 'approve_stop',
      round: 1,
      guards: 'stop_runtime',
      prompt: 'Stop the upgraded runtime',
      approvers: ['U0BO'],
      excluded: ['U0ANA'],
      fingerprint: 'fp-1',
      evidence: [],
    },
  ];
  const access = { operators: null, approvers: ['U0BO'], twoPersonRule: true };
  const now = new Date('2026-03-01T03:02:00.000Z');

  it('lets an approver or the starter reject, pausing with Retry and Abort; refuses anyone else', () => {
    for (const by of [
      { id: 'U0BO', via: 'slack' as const },
      { id: 'U0ANA', via: 'slack' as const },
    ]) {
      const result = applyRejection(foldRun(asked), scenario, { stepId: 'approve_stop', by }, access, now);
      if (!result.ok) throw new Error(result.refusal.message);
      expect(result.events.map((e) => e.type)).toEqual(['approval_rejected', 'run_paused']);
      const state = foldRun([...asked, ...result.events]);
      expect(state.pendingApproval).toBeNull();
      expect(state.pause?.options).toEqual(['retry', 'abort']);
    }
    const eve = applyRejection(
      foldRun(asked),
      scenario,
      { stepId: 'approve_stop', by: { id: 'U0EVE', via: 'slack' } },
      access,
      now,
    );
    expect(eve.ok ? 'accepted' : eve.refusal.code).toBe('not_approver');
  });
});
