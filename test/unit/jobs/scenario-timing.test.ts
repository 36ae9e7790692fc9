import { describe, expect, it } from 'vitest';
import { scaleScenarioTiming } from '../../../src/jobs/scenario-timing.js';
import { getScenario, retryPolicy, type Step } from '../../../src/runbook/index.js';

describe('scaled scenario timing for drills', () => {
  const restart = getScenario('restart');

  it('shrinks polls, deadlines and retry backoffs, and keeps everything else', () => {
    const fast = scaleScenarioTiming(restart, 0.01);
    const wait = fast.steps.find((s) => s.id === 'wait_healthz');
    const original = restart.steps.find((s) => s.id === 'wait_healthz');
    if (wait?.kind !== 'wait_until' || original?.kind !== 'wait_until') throw new Error('wait_healthz is a wait');
    expect(wait.deadlineMs).toBe(original.deadlineMs / 100);
    expect(wait.poll.initialMs).toBe(Math.max(10, original.poll.initialMs / 100));
    expect(wait.timeoutMs).toBe(original.timeoutMs);
    const action = fast.steps.find((s) => s.id === 'restart_runtime');
    const before = restart.steps.find((s) => s.id === 'restart_runtime');
    if (!action || !before) throw new Error('restart_runtime is a step');
    // The engine's default policy for the step is kept, only faster.
    expect(retryPolicy(action)).toEqual({ ...retryPolicy(before), backoffMs: retryPolicy(before).backoffMs / 100 });
    // The wait for an interrupted restart's node to boot shrinks with the boot wait it mirrors.
    if (action.kind !== 'action' || before.kind !== 'action') throw new Error('restart_runtime is an action');
    expect(action.recheck?.waitMs).toBe(wait.deadlineMs);
    expect(action.recheck?.poll).toEqual(wait.poll);
    expect(fast.steps.map((s) => [s.id, s.kind, s.risk])).toEqual(restart.steps.map((s) => [s.id, s.kind, s.risk]));
  });

  it('scales deadlines and re-check waits by their own factor when given two', () => {
    const split = scaleScenarioTiming(restart, { delays: 0.02, deadlines: 0.25 });
    const uniform = scaleScenarioTiming(restart, 0.02);
    const wait = split.steps.find((s) => s.id === 'wait_healthz');
    const original = restart.steps.find((s) => s.id === 'wait_healthz');
    if (wait?.kind !== 'wait_until' || original?.kind !== 'wait_until') throw new Error('wait_healthz is a wait');
    expect(wait.deadlineMs).toBe(original.deadlineMs / 4);
    const fast = uniform.steps.find((s) => s.id === 'wait_healthz');
    if (fast?.kind !== 'wait_until') throw new Error('wait_healthz is a wait');
    expect(wait.poll).toEqual(fast.poll);
    const action = split.steps.find((s) => s.id === 'restart_runtime');
    if (action?.kind !== 'action') throw new Error('restart_runtime is an action');
    expect(action.recheck?.waitMs).toBe(wait.deadlineMs);
    expect(action.recheck?.poll).toEqual(wait.poll);
    expect(retryPolicy(action)).toEqual(retryPolicy(uniform.steps.find((s) => s.id === 'restart_runtime') as Step));
  });

  it('returns the scenario itself at scale 1 and refuses nonsense', () => {
    expect(scaleScenarioTiming(restart, 1)).toBe(restart);
    expect(scaleScenarioTiming(restart, { delays: 1, deadlines: 1 })).toBe(restart);
    expect(() => scaleScenarioTiming(restart, 0)).toThrow(RangeError);
    expect(() => scaleScenarioTiming(restart, Number.NaN)).toThrow(RangeError);
    expect(() => scaleScenarioTiming(restart, { delays: 0.02, deadlines: 0 })).toThrow(RangeError);
  });
});
