import type { RunService } from '../jobs/run-service-port.js';
import type { Logger } from '../logger.js';
import type { RunEvent, Scenario } from '../runbook/index.js';
import type { BotMetrics } from './metrics.js';

const HEALTHY_OUTCOMES = new Set(['recovered', 'recovered_with_exceptions']);

export interface RunMetricsDeps {
  readonly service: RunService;
  readonly metrics: BotMetrics;
  readonly scenarioFor: (name: string) => Scenario;
  readonly logger: Logger;
}

/**
 * Counts runs and times runs and steps from the live event stream. Durations come from the events' own
 * timestamps; a run that started before this process learns its start from its log when it finishes.
 */
export async function observeRunMetrics(deps: RunMetricsDeps): Promise<() => Promise<void>> {
  const { metrics } = deps;
  const runs = new Map<string, { scenario: string; startedAt: number }>();
  const steps = new Map<string, number>();

  const runOf = async (runId: string) => {
    const known = runs.get(runId);
    if (known) return known;
    const loaded = await deps.service.get(runId);
    const started = loaded?.events.find((e) => e.type === 'run_started');
    return started?.type === 'run_started' ? { scenario: started.scenario, startedAt: Date.parse(started.at) } : null;
  };
  const executorOf = (scenario: string, stepId: string): string => {
    try {
      const step = deps.scenarioFor(scenario).steps.find((s) => s.id === stepId);
      return step === undefined ? 'unknown' : 'executor' in step ? step.executor : step.kind;
    } catch {
      return 'unknown';
    }
  };
  const stepEnded = async (event: RunEvent & { stepId: string }, result: string) => {
    const key = `${event.runId}\u0000${event.stepId}`;
    const since = steps.get(key);
    steps.delete(key);
    const run = await runOf(event.runId);
    if (since === undefined || run === null) return;
    metrics.stepDuration.observe(
      { executor: executorOf(run.scenario, event.stepId), result },
      Math.max(0, Date.parse(event.at) - since) / 1000,
    );
  };

  const onEvent = async (event: RunEvent): Promise<void> => {
    switch (event.type) {
      case 'run_started':
        runs.set(event.runId, { scenario: event.scenario, startedAt: Date.parse(event.at) });
        metrics.runsStarted.inc({ scenario: event.scenario });
        return;
      case 'step_started':
        steps.set(`${event.runId}\u0000${event.stepId}`, Date.parse(event.at));
        return;
      case 'step_passed':
        return stepEnded(event, 'passed');
      case 'step_failed':
        return stepEnded(event, 'failed');
      case 'step_skipped':
        return stepEnded(event, 'skipped');
      case 'run_finished': {
        const run = await runOf(event.runId);
        runs.delete(event.runId);
        for (const key of steps.keys()) if (key.startsWith(`${event.runId}\u0000`)) steps.delete(key);
        const scenario = run?.scenario ?? 'unknown';
        metrics.runsFinished.inc({ scenario, outcome: event.outcome });
        if (!run) return;
        const seconds = Math.max(0, Date.parse(event.at) - run.startedAt) / 1000;
        metrics.runDuration.observe({ scenario, outcome: event.outcome }, seconds);
        if (HEALTHY_OUTCOMES.has(event.outcome)) metrics.timeToHealthy.observe({ scenario }, seconds);
        return;
      }
      default:
        return;
    }
  };

  return deps.service.subscribe('*', (event) => {
    onEvent(event).catch((err: unknown) => deps.logger.warn({ err, runId: event.runId }, 'run metrics not updated'));
  });
}
