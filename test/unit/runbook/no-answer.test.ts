import { describe, expect, it } from 'vitest';
import {
  type ExecutorCall,
  foldRun,
  INTERRUPTION_OPTIONS,
  type ScenarioName,
  type StepOutcome,
} from '../../../src/runbook/index.js';
import { APPROVER, type Drive, eventsOf, type Policy, run, STARTER, start } from './driver.js';
import { World } from './world.js';

// A webhook the host received and acted on, whose answer was lost (reset, closed, timed out): the bot cannot tell
// whether it ran, so it must not treat it as "not sent" and send it again under a new key.

/** What the host-action layer reports for a webhook sent and cut off before its answer. */
function noAnswer(call: ExecutorCall, timedOut = false): StepOutcome {
  const action = call.executor.slice('host.'.length);
  const code = timedOut ? 'DG_ERR_HOST_ACTION_TIMEOUT' : 'DG_ERR_HOST_ACTION_NO_ANSWER';
  const message = `${action}: sent; no answer before the connection closed (UND_ERR_SOCKET); the outcome on the host is unknown`;
  return {
    kind: 'measured',
    measurement: {
      mode: 'http',
      method: 'POST',
      url: `https://ops.example.internal/hooks/dg/${action}`,
      status: null,
      timedOut,
      durationMs: 12,
      error: message,
      failure: { code, message },
    },
  };
}

interface LostAnswers {
  readonly intercept: NonNullable<Policy['intercept']>;
  /** Idempotency-Key of every call of the action, in order. */
  readonly keys: string[];
}

/** The host carries out `action` and its first `times` answers are lost. */
function losesAnswers(w: World, action: string, times = 1, timedOut = false): LostAnswers {
  const keys: string[] = [];
  let left = times;
  return {
    keys,
    intercept: (call) => {
      if (call.executor !== `host.${action}`) return undefined;
      keys.push(call.idempotencyKey);
      const answer = w.respond(call);
      if (left === 0) return answer;
      left--;
      return noAnswer(call, timedOut);
    },
  };
}

function withWebhooks(w: World, name: ScenarioName, actions: readonly string[]): Drive {
  for (const a of actions) w.modes[a] = 'http';
  const d = start(w, name);
  d.engine = { hostActionModes: Object.fromEntries(actions.map((a) => [a, 'http'])) };
  return d;
}

const EVENT_LOG_ACTIONS = ['stop_writes', 'preserve_database', 'list_backups', 'restore_backup', 'restart_runtime'];

describe('a destructive webhook sent and never answered', () => {
  function restoreCutOff() {
    const w = new World();
    w.integrity = { payload_hash_drift: 2 };
    const d = withWebhooks(w, 'event-log', EVENT_LOG_ACTIONS);
    const lost = losesAnswers(w, 'restore_backup');
    untilAsked(d, 'restore_backup', { intercept: lost.intercept });
    return { w, d, lost };
  }

  it('is not sent again on its own: people are asked whether it finished', () => {
    const { w, d, lost } = restoreCutOff();
    expect(w.hostCalls.restore_backup).toBe(1);
    expect(lost.keys).toEqual(['run-1-restore_backup-a1']);
    expect(eventsOf(d, 'step_interrupted')).toMatchObject([
      { stepId: 'restore_backup', attempt: 1, next: 'ask', noAnswer: true, actionMode: 'http' },
    ]);
    expect(eventsOf(d, 'step_interrupted')[0]?.detail).toContain('no answer came back');
    expect(eventsOf(d, 'step_failed').filter((e) => e.stepId === 'restore_backup')).toEqual([]);
    const asked = eventsOf(d, 'decision_requested').at(-1);
    expect(asked).toMatchObject({ stepId: 'restore_backup', item: { id: 'a1', label: 'attempt 1, sent; no answer' } });
    expect(asked?.prompt).toContain('was sent at');
    expect(asked?.prompt).toContain('no answer came back; it is unknown whether it finished');
    expect(asked?.options.map((o) => o.id)).toEqual(['done', 'run_again', 'abort']);
    expect(asked?.evidence.map((e) => e.measured)).toContain('sent; no answer');
    expect(foldRun(d.events)).toEqual(d.state);
  });

  it('goes on without a second restore when a person says it finished', () => {
    const { w, d, lost } = restoreCutOff();
    run(d, {
      intercept: lost.intercept,
      decide: (cmd) =>
        cmd.stepId === 'restore_backup'
          ? { optionId: INTERRUPTION_OPTIONS.done, reason: 'restore log says done' }
          : undefined,
    });
    expect(d.state.outcome?.outcome).toBe('recovered');
    expect(w.hostCalls.restore_backup).toBe(1);
  });

  it('is sent again once, under the same Idempotency-Key, when an approver other than the starter says so', () => {
    const { w, d, lost } = restoreCutOff();
    const runAgain = (by: typeof STARTER) => ({
      intercept: lost.intercept,
      decide: (cmd: { stepId: string }) =>
        cmd.stepId === 'restore_backup' ? { optionId: INTERRUPTION_OPTIONS.runAgain, by } : undefined,
    });
    expect(() => run(d, runAgain(STARTER))).toThrow(/not_approver|approver/);
    expect(w.hostCalls.restore_backup).toBe(1);
    run(d, runAgain(APPROVER));
    expect(d.state.outcome?.outcome).toBe('recovered');
    expect(lost.keys).toEqual(['run-1-restore_backup-a1', 'run-1-restore_backup-a1']);
    expect(d.state.steps.restore_backup).toMatchObject({ status: 'passed', attempt: 2, keyAttempt: 1 });
  });
});

describe('a restart sent and never answered', () => {
  it('is re-probed, found done by an answering node, and not sent again', () => {
    const w = new World();
    w.runtimeUp = false;
    const d = withWebhooks(w, 'restart', ['restart_runtime']);
    const lost = losesAnswers(w, 'restart_runtime', 1, true);
    run(d, { intercept: lost.intercept });
    expect(d.state.outcome?.outcome).toBe('recovered');
    expect(w.hostCalls.restart_runtime).toBe(1);
    expect(eventsOf(d, 'step_interrupted')).toMatchObject([
      { stepId: 'restart_runtime', next: 'recheck', noAnswer: true },
    ]);
    expect(eventsOf(d, 'step_rechecked')).toMatchObject([{ stepId: 'restart_runtime', alreadyDone: true }]);
    expect(d.state.steps.restart_runtime).toMatchObject({ status: 'passed', attempt: 1, alreadyDone: true });
  });

  it('without a probe that can tell, is sent again under the same Idempotency-Key', () => {
    const w = new World();
    w.integrity = { payload_hash_drift: 2 };
    const d = withWebhooks(w, 'event-log', EVENT_LOG_ACTIONS);
    const lost = losesAnswers(w, 'restart_runtime');
    run(d, { intercept: lost.intercept });
    expect(d.state.outcome?.outcome).toBe('recovered');
    expect(eventsOf(d, 'step_interrupted')).toMatchObject([{ stepId: 'restart_runtime', next: 'repeat' }]);
    expect(lost.keys).toEqual(['run-1-restart_runtime-a1', 'run-1-restart_runtime-a1']);
  });
});

describe('stopping the runtime, sent and never answered', () => {
  it('asks people, instead of stopping it again, when the node still answers after the wait', () => {
    const w = new World();
    w.smokeFailing = ['projection_health', 'trace_read'];
    const d = withWebhooks(w, 'upgrade', ['stop_runtime']);
    // The host got the stop but the node keeps answering: only people can say what happened.
    const keys: string[] = [];
    const intercept: Policy['intercept'] = (call) => {
      if (call.executor !== 'host.stop_runtime') return undefined;
      keys.push(call.idempotencyKey);
      w.hostCalls.stop_runtime = (w.hostCalls.stop_runtime ?? 0) + 1;
      return noAnswer(call, true);
    };
    untilAsked(d, 'stop_runtime', { intercept });
    expect(keys).toEqual(['run-1-stop_runtime-a1']);
    expect(
      eventsOf(d, 'step_rechecked')
        .filter((e) => e.stepId === 'stop_runtime')
        .at(-1),
    ).toMatchObject({
      alreadyDone: false,
    });
    expect(eventsOf(d, 'decision_requested').at(-1)).toMatchObject({ stepId: 'stop_runtime', item: { id: 'a1' } });
    expect(d.state.steps.stop_runtime?.status).toBe('awaiting_decision');
  });
});

class StopDriving extends Error {}

/** Drives the run until people are asked about an attempt of `stepId`, and stops there. */
function untilAsked(d: Drive, stepId: string, policy: Policy): void {
  const decide: NonNullable<Policy['decide']> = (cmd) => {
    if (cmd.stepId === stepId) throw new StopDriving();
    return undefined;
  };
  try {
    run(d, { ...policy, decide });
  } catch (err) {
    if (!(err instanceof StopDriving)) throw err;
    return;
  }
  throw new Error(`the run ended without asking about ${stepId}`);
}
