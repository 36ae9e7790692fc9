import type { Poll, Retry, Scenario, Step } from '../runbook/index.js';
import { retryPolicy } from '../runbook/index.js';

/** Shortest delay or deadline a scaled scenario keeps, so a poll never turns into a busy loop. */
const MIN_SCALED_MS = 10;

function scaled(ms: number, factor: number): number {
  return Math.max(MIN_SCALED_MS, Math.round(ms * factor));
}

function scalePoll(poll: Poll, factor: number): Poll {
  return { ...poll, initialMs: scaled(poll.initialMs, factor), maxMs: scaled(poll.maxMs, factor) };
}

function scaleRetry(retry: Retry, factor: number): Retry {
  return { ...retry, backoffMs: scaled(retry.backoffMs, factor) };
}

/**
 * Two factors instead of one: `delays` for poll intervals and retry backoffs, `deadlines` for poll deadlines and
 * re-check waits. Tests keep the delays short and the deadlines long, so that a loaded machine makes a run slower
 * but never makes a wait give up that would have succeeded.
 */
export interface TimeScale {
  readonly delays: number;
  readonly deadlines: number;
}

function scaleStep(step: Step, scale: TimeScale): Step {
  if (step.kind === 'decision') return step;
  // The engine's default retry policy depends on the step's kind and risk; pinning it keeps that policy while
  // shortening its backoff.
  const retry = scaleRetry(retryPolicy(step), scale.delays);
  if (step.kind === 'approval') return { ...step, retry };
  const recheck = step.recheck;
  return {
    ...step,
    retry,
    ...(step.poll ? { poll: scalePoll(step.poll, scale.delays) } : {}),
    ...(step.deadlineMs !== undefined ? { deadlineMs: scaled(step.deadlineMs, scale.deadlines) } : {}),
    ...(recheck
      ? {
          recheck: {
            ...recheck,
            ...(recheck.waitMs !== undefined ? { waitMs: scaled(recheck.waitMs, scale.deadlines) } : {}),
            ...(recheck.poll ? { poll: scalePoll(recheck.poll, scale.delays) } : {}),
          },
        }
      : {}),
  } as Step;
}

function positive(factor: number): boolean {
  return factor > 0 && Number.isFinite(factor);
}

/**
 * The scenario with every poll interval, poll deadline, retry backoff and re-check wait multiplied by `scale`, or
 * by its two factors (executor timeouts are left alone). For drills and tests that cannot wait minutes for a
 * deadline; `1` returns the scenario unchanged.
 */
export function scaleScenarioTiming(scenario: Scenario, scale: number | TimeScale): Scenario {
  const factors = typeof scale === 'number' ? { delays: scale, deadlines: scale } : scale;
  if (!positive(factors.delays) || !positive(factors.deadlines)) {
    throw new RangeError('the time scale must be a positive number');
  }
  if (factors.delays === 1 && factors.deadlines === 1) return scenario;
  return { ...scenario, steps: scenario.steps.map((step) => scaleStep(step, factors)) };
}
