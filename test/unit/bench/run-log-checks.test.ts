import { describe, expect, it } from 'vitest';
import { checkExecutions, imposedWaitMs } from '../../../bench/support/actors.js';
import { percentile } from '../../../bench/support/stats.js';
import type { RunEvent } from '../../../src/runbook/index.js';

// The concurrent benchmark's PASS rests on these checks: they must catch a step that ran twice.

const T = '2026-03-07T12:00:00.000Z';
let seq = 0;
function ev(body: Record<string, unknown>, at = T): RunEvent {
  seq += 1;
  return { runId: 'run-bench01', seq, at, ...body } as unknown as RunEvent;
}

const passed = (stepId: string, attempt: number) =>
  ev({ type: 'step_passed', stepId, attempt, outputs: {}, evidence: [] });

describe('checkExecutions', () => {
  it('accepts a log where every started attempt has one outcome, retries and polls included', () => {
    const log = [
      ev({ type: 'step_started', stepId: 'check_healthz', attempt: 1 }),
      passed('check_healthz', 1),
      ev({ type: 'step_started', stepId: 'restart_runtime', attempt: 1 }),
      ev({ type: 'step_failed', stepId: 'restart_runtime', attempt: 1, error: {}, transient: true, evidence: [] }),
      ev({ type: 'step_started', stepId: 'restart_runtime', attempt: 2 }),
      passed('restart_runtime', 2),
      ev({ type: 'step_started', stepId: 'wait_healthz', attempt: 1 }),
      ev({
        type: 'step_waiting',
        stepId: 'wait_healthz',
        attempt: 1,
        poll: 1,
        nextCheckAt: T,
        outputs: {},
        evidence: [],
      }),
      ev({
        type: 'step_waiting',
        stepId: 'wait_healthz',
        attempt: 1,
        poll: 2,
        nextCheckAt: T,
        outputs: {},
        evidence: [],
      }),
      passed('wait_healthz', 1),
      // Decisions pass with attempt 0 and start no job.
      passed('catch_up_decision', 0),
    ];
    expect(checkExecutions(log)).toEqual({ started: 4, problems: [] });
  });

  it('reports an attempt started twice, an outcome recorded twice, an outcome without a start and a doubled poll', () => {
    const log = [
      ev({ type: 'step_started', stepId: 'a', attempt: 1 }),
      ev({ type: 'step_started', stepId: 'a', attempt: 1 }),
      passed('a', 1),
      ev({ type: 'step_started', stepId: 'b', attempt: 1 }),
      passed('b', 1),
      passed('b', 1),
      passed('c', 1),
      ev({ type: 'step_started', stepId: 'd', attempt: 1 }),
      ev({ type: 'step_waiting', stepId: 'd', attempt: 1, poll: 1, nextCheckAt: T, outputs: {}, evidence: [] }),
      ev({ type: 'step_waiting', stepId: 'd', attempt: 1, poll: 1, nextCheckAt: T, outputs: {}, evidence: [] }),
      ev({ type: 'step_started', stepId: 'e', attempt: 1 }),
    ];
    expect(checkExecutions(log).problems).toEqual([
      'a#1 started 2 times',
      'b#1 has 2 outcomes',
      'd#1 has 0 outcomes',
      'e#1 has 0 outcomes',
      'c#1 has 1 outcomes and no start',
      'poll d#1#1 recorded 2 times',
    ]);
  });
});

describe('imposedWaitMs', () => {
  it('adds up the poll intervals and retry backoffs the run scheduled, and nothing else', () => {
    const log = [
      ev({ type: 'step_started', stepId: 'w', attempt: 1 }),
      ev(
        {
          type: 'step_waiting',
          stepId: 'w',
          attempt: 1,
          poll: 1,
          nextCheckAt: '2026-03-07T12:00:02.000Z',
          outputs: {},
          evidence: [],
        },
        '2026-03-07T12:00:00.000Z',
      ),
      ev(
        {
          type: 'step_failed',
          stepId: 'w',
          attempt: 1,
          error: {},
          transient: true,
          retryAt: '2026-03-07T12:00:05.500Z',
          evidence: [],
        },
        '2026-03-07T12:00:05.000Z',
      ),
      ev({ type: 'step_failed', stepId: 'x', attempt: 1, error: {}, transient: false, evidence: [] }),
    ];
    expect(imposedWaitMs(log)).toBe(2500);
  });
});

describe('percentile', () => {
  it('takes the nearest rank, so p99 of 100 samples is the 99th smallest', () => {
    const samples = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentile(samples, 50)).toBe(50);
    expect(percentile(samples, 99)).toBe(99);
    expect(percentile(samples, 100)).toBe(100);
    expect(percentile([], 50)).toBe(0);
  });
});
