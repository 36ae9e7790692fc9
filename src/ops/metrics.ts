import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** Every metric name starts with this (docs/metrics.md). */
export const METRIC_PREFIX = 'dg_recovery_';

const MINUTES = [30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14_400];
const STEP_SECONDS = [0.1, 0.5, 1, 5, 15, 60, 300, 900, 1800, 3600];

/** The process's metrics, one registry per process (tests build their own). */
export interface BotMetrics {
  readonly registry: Registry;
  readonly runsStarted: Counter<'scenario'>;
  readonly runsFinished: Counter<'scenario' | 'outcome'>;
  readonly runDuration: Histogram<'scenario' | 'outcome'>;
  readonly timeToHealthy: Histogram<'scenario'>;
  readonly stepDuration: Histogram<'executor' | 'result'>;
  readonly peopleWaits: Gauge<'kind'>;
  readonly peopleWaitOldest: Gauge<'kind'>;
  readonly outboxBacklog: Gauge;
  readonly slackErrors: Counter<'method' | 'kind'>;
  readonly dgCalls: Counter<'endpoint' | 'status'>;
  readonly rateBudgetWaits: Counter<'scope'>;
  readonly rateBudgetWaitSeconds: Counter<'scope'>;
  readonly journalLagEvents: Gauge;
  readonly journalLagRuns: Gauge;
  readonly queueJobs: Gauge<'queue' | 'state'>;
}

/** Builds the registry with the process's default metrics (CPU, memory, event loop) under the same prefix. */
export function createBotMetrics(): BotMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });
  const registers = [registry];
  const name = (n: string) => `${METRIC_PREFIX}${n}`;
  return {
    registry,
    runsStarted: new Counter({
      name: name('runs_started_total'),
      help: 'Recovery runs started',
      labelNames: ['scenario'],
      registers,
    }),
    runsFinished: new Counter({
      name: name('runs_finished_total'),
      help: 'Recovery runs finished, by outcome',
      labelNames: ['scenario', 'outcome'],
      registers,
    }),
    runDuration: new Histogram({
      name: name('run_duration_seconds'),
      help: 'From a run start to its end',
      labelNames: ['scenario', 'outcome'],
      buckets: MINUTES,
      registers,
    }),
    timeToHealthy: new Histogram({
      name: name('time_to_healthy_seconds'),
      help: 'From a run start to its end with DecisionGraph healthy again (outcome recovered*)',
      labelNames: ['scenario'],
      buckets: MINUTES,
      registers,
    }),
    stepDuration: new Histogram({
      name: name('step_duration_seconds'),
      help: 'From a step attempt start to its pass, failure or skip',
      labelNames: ['executor', 'result'],
      buckets: STEP_SECONDS,
      registers,
    }),
    peopleWaits: new Gauge({
      name: name('people_waits'),
      help: 'Runs waiting for a person, by what they wait for (decision, approval, manual)',
      labelNames: ['kind'],
      registers,
    }),
    peopleWaitOldest: new Gauge({
      name: name('people_wait_oldest_seconds'),
      help: 'Age of the oldest wait for a person, by kind',
      labelNames: ['kind'],
      registers,
    }),
    outboxBacklog: new Gauge({
      name: name('slack_outbox_backlog_runs'),
      help: 'Runs with Slack messages not yet delivered in their latest version',
      registers,
    }),
    slackErrors: new Counter({
      name: name('slack_errors_total'),
      help: 'Slack Web API calls that failed, by method and kind (the Slack error code, rate_limited, request_error)',
      labelNames: ['method', 'kind'],
      registers,
    }),
    dgCalls: new Counter({
      name: name('dg_calls_total'),
      help: 'DecisionGraph API calls, by route template and HTTP status (none: no answer)',
      labelNames: ['endpoint', 'status'],
      registers,
    }),
    rateBudgetWaits: new Counter({
      name: name('dg_rate_budget_waits_total'),
      help: 'DecisionGraph calls held back because the shared rate budget was spent',
      labelNames: ['scope'],
      registers,
    }),
    rateBudgetWaitSeconds: new Counter({
      name: name('dg_rate_budget_wait_seconds_total'),
      help: 'Time DecisionGraph calls spent waiting for the rate budget',
      labelNames: ['scope'],
      registers,
    }),
    journalLagEvents: new Gauge({
      name: name('journal_lag_events'),
      help: 'Run events in the live log (Redis) not yet copied to the journal (Postgres)',
      registers,
    }),
    journalLagRuns: new Gauge({
      name: name('journal_lag_runs'),
      help: 'Runs whose latest events the journal does not hold yet',
      registers,
    }),
    queueJobs: new Gauge({
      name: name('queue_jobs'),
      help: 'BullMQ jobs by queue and state',
      labelNames: ['queue', 'state'],
      registers,
    }),
  };
}
