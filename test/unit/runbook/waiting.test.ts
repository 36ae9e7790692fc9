import { describe, expect, it } from 'vitest';
import {
  type Actor,
  foldRun,
  openWait,
  type RunEvent,
  type RunState,
  whoIsAwaited,
  whoMayAnswer,
} from '../../../src/runbook/index.js';

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
