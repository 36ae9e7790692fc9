import { describe, expect, it } from 'vitest';
import { isExecutorStep, loadScenarios } from '../../../src/runbook/index.js';
import { busiestWindow, pollDelayMs, pollTimes } from '../../../src/runbook/poll-schedule.js';

const SOON = { initialMs: 250, maxMs: 5_000, factor: 1.25 };

describe('poll schedule', () => {
  it('looks again soon and backs off by the factor up to the longest delay', () => {
    expect([1, 2, 3, 4].map((n) => pollDelayMs(SOON, n))).toEqual([250, 312.5, 390.625, 488.28125]);
    expect(pollDelayMs(SOON, 40)).toBe(5_000);
  });

  it('lists only the checks that start before the deadline', () => {
    const times = pollTimes(SOON, 2_000);
    expect(times[0]).toBe(250);
    expect(times.at(-1)).toBeLessThan(2_000);
    // 250, 562.5, 953.1, 1441.4: the next would come after 2 s.
    expect(times).toHaveLength(4);
  });

  it('counts the readings of the busiest minute, the first included', () => {
    expect(busiestWindow({ initialMs: 10_000, maxMs: 10_000, factor: 1 }, 600_000, 60_000)).toBe(6);
    expect(busiestWindow(SOON, 1_000, 60_000)).toBe(4);
  });
});

/** DecisionGraph's limits per minute and account (contract §1), by the scope each executor's polls use. */
const BUDGET_PER_MINUTE: Record<string, number> = {
  'dg.replay_poll': 60,
  'dg.trace_read': 600,
  'dg.graph_read': 600,
  'dg.projection_health': 600,
  'gate.checklist': 600,
};

describe("the runbook's polls", () => {
  const polled = [...loadScenarios().values()].flatMap((s) =>
    s.steps
      .filter(isExecutorStep)
      .flatMap((step) => (step.poll && step.deadlineMs !== undefined ? [{ where: `${s.name}.${step.id}`, step }] : [])),
  );

  it('leave a rate-limited scope at least two thirds of its budget in any minute', () => {
    const limited = polled.filter(({ step }) => BUDGET_PER_MINUTE[step.executor] !== undefined);
    expect(limited.map((p) => p.step.executor)).toContain('dg.replay_poll');
    for (const { where, step } of limited) {
      const budget = BUDGET_PER_MINUTE[step.executor] as number;
      const poll = step.poll as NonNullable<typeof step.poll>;
      expect(busiestWindow(poll, step.deadlineMs as number, 60_000), where).toBeLessThanOrEqual(budget / 3);
    }
  });

  it('look again within a quarter second while waiting for a boot or a replay', () => {
    const waits = polled.filter(({ step }) => step.executor === 'dg.healthz' || step.executor === 'dg.replay_poll');
    expect(waits.length).toBeGreaterThan(4);
    for (const { where, step } of waits) expect(step.poll?.initialMs, where).toBeLessThanOrEqual(250);
  });
});
