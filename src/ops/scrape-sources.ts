import type { RunService } from '../jobs/run-service-port.js';
import type { RuntimeBacklog } from '../jobs/runtime.js';
import type { Logger } from '../logger.js';
import type { BotMetrics } from './metrics.js';

/** What the gauges are read from at each scrape; a process has only some of them. */
export interface ScrapeSources {
  readonly backlog?: () => Promise<RuntimeBacklog>;
  readonly outboxBacklog?: () => Promise<number>;
  readonly service?: RunService;
  /** @defaultValue `Date.now` */
  readonly now?: () => number;
}

const WAIT_KINDS = {
  waiting_decision: { kind: 'decision', event: 'decision_requested' },
  waiting_approval: { kind: 'approval', event: 'approval_requested' },
  waiting_manual: { kind: 'manual', event: 'manual_action_requested' },
} as const;

/**
 * Sets the gauges from their sources right before a scrape. A source that does not answer drops its series, so
 * an alert sees them absent rather than a stale value.
 */
export async function refreshGauges(metrics: BotMetrics, sources: ScrapeSources, logger: Logger): Promise<void> {
  const read = async (what: string, reset: () => void, work: () => Promise<void>) => {
    try {
      await work();
    } catch (err) {
      reset();
      logger.warn({ err, what }, 'metric source did not answer');
    }
  };
  const jobs: Promise<void>[] = [];
  const { backlog, outboxBacklog, service } = sources;
  if (backlog) {
    jobs.push(
      read(
        'run backlog',
        () => {
          metrics.queueJobs.reset();
          metrics.journalLagEvents.reset();
          metrics.journalLagRuns.reset();
        },
        async () => {
          const b = await backlog();
          for (const [state, n] of Object.entries(b.stepJobs)) metrics.queueJobs.set({ queue: 'steps', state }, n);
          metrics.journalLagEvents.set(b.journalEvents);
          metrics.journalLagRuns.set(b.journalRuns);
        },
      ),
    );
  }
  if (outboxBacklog) {
    jobs.push(
      read(
        'outbox',
        () => metrics.outboxBacklog.reset(),
        async () => metrics.outboxBacklog.set(await outboxBacklog()),
      ),
    );
  }
  if (service) {
    const reset = () => {
      metrics.peopleWaits.reset();
      metrics.peopleWaitOldest.reset();
    };
    jobs.push(read('people waits', reset, () => readPeopleWaits(metrics, service, sources.now ?? Date.now)));
  }
  await Promise.all(jobs);
}

async function readPeopleWaits(metrics: BotMetrics, service: RunService, now: () => number): Promise<void> {
  const counts = new Map<string, number>();
  const oldest = new Map<string, number>();
  for (const { kind } of Object.values(WAIT_KINDS)) counts.set(kind, 0);
  for (const run of await service.listActive()) {
    const wait = WAIT_KINDS[run.status as keyof typeof WAIT_KINDS];
    if (!wait) continue;
    counts.set(wait.kind, (counts.get(wait.kind) ?? 0) + 1);
    const loaded = await service.get(run.runId);
    const asked = loaded?.events.findLast((e) => e.type === wait.event);
    if (!asked) continue;
    const age = Math.max(0, now() - Date.parse(asked.at)) / 1000;
    oldest.set(wait.kind, Math.max(oldest.get(wait.kind) ?? 0, age));
  }
  metrics.peopleWaits.reset();
  metrics.peopleWaitOldest.reset();
  for (const [kind, n] of counts) {
    metrics.peopleWaits.set({ kind }, n);
    metrics.peopleWaitOldest.set({ kind }, oldest.get(kind) ?? 0);
  }
}
