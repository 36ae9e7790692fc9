import type { RunService } from '../jobs/run-service-port.js';
import type { Logger } from '../logger.js';
import type { RunEvent, RunState, Scenario } from '../runbook/index.js';
import type { OutboxMessage, SlackOutbox } from '../slack/outbox/index.js';
import {
  type ActionPlanOf,
  DEFAULT_REMINDER_MS,
  incidentSummaryMessage,
  reminderDueAt,
  renderThread,
  type SummaryContent,
  stepIdOfKey,
} from './thread/index.js';

export interface ThreadProjectorOptions {
  readonly service: Pick<RunService, 'subscribe' | 'get' | 'listActive'>;
  readonly outbox: Pick<SlackOutbox, 'publish'>;
  /** The scenario a run follows, as the job layer runs it. */
  readonly scenarioFor: (name: string) => Scenario;
  readonly logger: Logger;
  /** Channel for runs started without one (from the terminal). @defaultValue such runs get no thread */
  readonly defaultChannel?: string;
  /** Post the incident summary in the thread when a run finishes. @defaultValue true */
  readonly summary?: boolean;
  /**
   * Runs to render at start-up, in case events were appended while no projector was listening.
   * @defaultValue the active runs
   */
  readonly catchUpRuns?: () => Promise<readonly string[]>;
  /** First wait before trying again when the outbox (Redis) did not answer; doubles up to 30 s. @defaultValue 500 */
  readonly retryBaseMs?: number;
  /** A wait for a person left this long gets a reminder mentioning who it calls. @defaultValue 600000 (10 min) */
  readonly reminderMs?: number;
  /** The access config's operators, called when a run started from the terminal waits. @defaultValue `null` */
  readonly operators?: readonly string[] | null;
  /** The exact action an approval lets run. @defaultValue approvals do not quote the action */
  readonly actionPlan?: ActionPlanOf;
  /** @defaultValue `() => new Date()` */
  readonly clock?: () => Date;
  /**
   * Told each time a finished run's thread has been handed to the outbox (the summary file's publisher listens).
   * Must return at once and never throw. @defaultValue nobody is told
   */
  readonly onRunFinished?: (runId: string) => void;
}

export interface ThreadProjector {
  /** Subscribes to every run's events, then renders the runs that may have moved while nobody listened. */
  start(): Promise<void>;
  /** Renders one run now (or right after the render in progress). */
  project(runId: string): Promise<void>;
  /** Resolves once no render is pending or running. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

interface RunProjection {
  running: Promise<void> | undefined;
  dirty: boolean;
  failures: number;
  retryTimer: NodeJS.Timeout | undefined;
  /** Wakes the run up when its approval reminder comes due (no event marks that moment). */
  reminderTimer: NodeJS.Timeout | undefined;
  /** What was last handed to the outbox per key, to skip unchanged messages without a Redis round trip. */
  readonly published: Map<string, string>;
}

function contentOf(message: OutboxMessage): string {
  return JSON.stringify([
    message.channel,
    message.parentKey ?? '',
    message.text,
    message.blocks,
    message.broadcast ?? false,
  ]);
}

/**
 * Keeps every run's Slack thread in step with its log: each batch of events triggers a render of the whole
 * thread (pure, from the log), and the messages that changed go to the outbox, which posts or updates them.
 * Renders of one run never overlap; events arriving during a render cause one more render after it. The thread is
 * a function of the log, so a lost event, a restart or a second projector only ever re-publishes the same
 * content.
 */
export function createThreadProjector(options: ThreadProjectorOptions): ThreadProjector {
  const logger = options.logger.child({ component: 'thread-projector' });
  const runs = new Map<string, RunProjection>();
  const retryBase = options.retryBaseMs ?? 500;
  const reminderMs = options.reminderMs ?? DEFAULT_REMINDER_MS;
  const clock = options.clock ?? (() => new Date());
  let unsubscribe: (() => Promise<void>) | undefined;
  let closed = false;

  const summary =
    options.summary === false
      ? undefined
      : (events: readonly RunEvent[], scenario: Scenario): SummaryContent | undefined => {
          try {
            return incidentSummaryMessage(events, scenario);
          } catch (err) {
            logger.error({ err, runId: events[0]?.runId }, 'could not build the incident summary');
            return undefined;
          }
        };

  const render = async (runId: string, p: RunProjection): Promise<'done' | 'finished'> => {
    const run = await options.service.get(runId);
    if (!run) return 'done';
    let scenario: Scenario;
    try {
      scenario = options.scenarioFor(run.state.scenario);
    } catch (err) {
      logger.error({ err, runId }, 'run of an unknown scenario: no thread');
      return 'done';
    }
    const now = clock();
    const messages = renderThread(run.events, scenario, {
      ...(options.defaultChannel ? { defaultChannel: options.defaultChannel } : {}),
      ...(summary ? { summary } : {}),
      now,
      reminderMs,
      operators: options.operators ?? null,
      ...(options.actionPlan ? { actionPlan: options.actionPlan } : {}),
    });
    wakeForReminder(runId, p, run.state, now);
    for (const message of messages) {
      const content = contentOf(message);
      if (p.published.get(message.key) === content) continue;
      const stepId = stepIdOfKey(message.key);
      const result = await options.outbox
        .publish(runId, stepId ? { ...message, stepId } : message)
        .catch((err: unknown) => {
          logger.warn({ err, runId, key: message.key, stepId }, 'could not hand a message to the outbox');
          throw err;
        });
      // A key published before that the outbox takes as new: it lost its state with Redis, and with it whatever it
      // had not delivered yet. Every message of the run is handed to it again.
      if (result.version === 1 && p.published.has(message.key)) {
        logger.warn({ runId }, 'the outbox forgot the thread; publishing every message again');
        p.published.clear();
        p.dirty = true;
      }
      p.published.set(message.key, content);
    }
    if (run.state.outcome === null) return 'done';
    try {
      options.onRunFinished?.(runId);
    } catch (err) {
      logger.warn({ err, runId }, 'the finished-run listener failed');
    }
    return 'finished';
  };

  const wakeForReminder = (runId: string, p: RunProjection, state: RunState, now: Date): void => {
    if (p.reminderTimer) clearTimeout(p.reminderTimer);
    p.reminderTimer = undefined;
    const dueAt = reminderDueAt(state, reminderMs);
    if (closed || dueAt === undefined) return;
    const wait = dueAt - now.getTime();
    if (wait <= 0) return;
    p.reminderTimer = setTimeout(() => {
      p.reminderTimer = undefined;
      void schedule(runId);
    }, wait + 5);
    p.reminderTimer.unref();
  };

  const loop = async (runId: string, p: RunProjection): Promise<void> => {
    try {
      let result: 'done' | 'finished' = 'done';
      do {
        p.dirty = false;
        result = await render(runId, p);
      } while (p.dirty && !closed);
      p.failures = 0;
      // A finished run changes no more; its memory goes, and a late event only re-publishes the same content.
      if (result === 'finished' && !p.dirty) runs.delete(runId);
    } catch (err) {
      p.failures += 1;
      const wait = Math.min(30_000, retryBase * 2 ** (p.failures - 1));
      logger.warn({ err, runId, failures: p.failures, waitMs: wait }, 'could not project the run; trying again');
      if (!closed) {
        p.retryTimer = setTimeout(() => {
          p.retryTimer = undefined;
          schedule(runId);
        }, wait);
        p.retryTimer.unref();
      }
    }
  };

  const schedule = (runId: string): Promise<void> => {
    if (closed) return Promise.resolve();
    let p = runs.get(runId);
    if (!p) {
      p = {
        running: undefined,
        dirty: false,
        failures: 0,
        retryTimer: undefined,
        reminderTimer: undefined,
        published: new Map(),
      };
      runs.set(runId, p);
    }
    if (p.running) {
      p.dirty = true;
      return p.running;
    }
    const projection = p;
    projection.running = loop(runId, projection).finally(() => {
      projection.running = undefined;
    });
    return projection.running;
  };

  return {
    async start() {
      unsubscribe = await options.service.subscribe('*', (event) => {
        void schedule(event.runId);
      });
      const ids = options.catchUpRuns
        ? await options.catchUpRuns()
        : (await options.service.listActive()).map((r) => r.runId);
      logger.info({ runs: ids.length }, 'catching up run threads');
      await Promise.all(ids.map((runId) => schedule(runId)));
    },
    project: schedule,
    async idle() {
      for (;;) {
        const pending = [...runs.values()].map((p) => p.running).filter((r): r is Promise<void> => r !== undefined);
        if (pending.length === 0) return;
        await Promise.all(pending);
      }
    },
    async close() {
      closed = true;
      await unsubscribe?.();
      for (const p of runs.values()) {
        if (p.retryTimer) clearTimeout(p.retryTimer);
        if (p.reminderTimer) clearTimeout(p.reminderTimer);
      }
      await Promise.all([...runs.values()].map((p) => p.running));
    },
  };
}
