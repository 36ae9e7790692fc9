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

function scaleStep(step: Step, factor: number): Step {
  if (step.kind === 'decision') return step;
  // The engine's default retry policy depends on the step's kind and risk; pinning it keeps that policy while
  // shortening its backoff.
  const retry = scaleRetry(retryPolicy(step), factor);
  if (step.kind === 'approval') return { ...step, retry };
  const recheck = step.recheck;
  return {
    ...step,
    retry,
    ...(step.poll ? { poll: scalePoll(step.poll, factor) } : {}),
    ...(step.deadlineMs !== undefined ? { deadlineMs: scaled(step.deadlineMs, factor) } : {}),
    ...(recheck
      ? {
          recheck: {
            ...recheck,
            ...(recheck.waitMs !== undefined ? { waitMs: scaled(recheck.waitMs, factor) } : {}),
            ...(recheck.poll ? { poll: scalePoll(recheck.poll, factor) } : {}),
          },
        }
      : {}),
  } as Step;
}

/**
 * The scenario with every poll interval, poll deadline, retry backoff and re-check wait multiplied by `factor`
 * (executor timeouts are left alone). For drills and tests that cannot wait minutes for a deadline; `1` returns the
 * scenario unchanged.
 */
export function scaleScenarioTiming(scenario: Scenario, factor: number): Scenario {
  if (!(factor > 0) || !Number.isFinite(factor)) throw new RangeError('the time scale must be a positive number');
  if (factor === 1) return scenario;
  return { ...scenario, steps: scenario.steps.map((step) => scaleStep(step, factor)) };
}
