import { Redis } from 'ioredis';
import type { Config } from '../config/env.js';
import type { RecoveryConfig } from '../config/recovery-config.js';
import { redisClientOptions } from '../config/redis-connection.js';
import { SharedRateBudget } from '../executors/dg-http/index.js';
import { actionPlanText, createExecutorContext, type ExecutorContextFactory } from '../executors/registry/index.js';
import { alertHookRoutes } from '../handlers/alert-hooks.js';
import { DEFAULT_PREFIX } from '../jobs/run-log/index.js';
import { createRecoveryRuntime, type RecoveryRuntime, type RecoveryRuntimeDeps } from '../jobs/runtime.js';
import { scaleScenarioTiming } from '../jobs/scenario-timing.js';
import type { Logger } from '../logger.js';
import { countSlackErrors, dgCallMetrics } from '../ops/call-metrics.js';
import { type BotMetrics, createBotMetrics } from '../ops/metrics.js';
import { boltCustomRoutes, type OpsServer, opsRoutes, startOpsServer } from '../ops/ops-routes.js';
import { cachedCheck, type ReadinessCheck } from '../ops/readiness.js';
import { observeRunMetrics } from '../ops/run-metrics.js';
import { refreshGauges } from '../ops/scrape-sources.js';
import { createRunHistory } from '../projections/run-history.js';
import {
  createSummaryFilePublisher,
  type SummaryFilePublisher,
  type SummaryFilePublisherOptions,
  summaryFilePoster,
} from '../projections/summary-file/index.js';
import { createThreadProjector, type ThreadProjector } from '../projections/thread-projector.js';
import { findScenario, type Scenario } from '../runbook/index.js';
import { createAlertMessages } from '../slack/alert-messages.js';
import {
  createOutboxSlackClient,
  createSlackOutbox,
  type SlackOutbox,
  type SlackOutboxOptions,
} from '../slack/outbox/index.js';
import { createUserGroupDirectory, type UserGroupDirectoryOptions } from '../slack/user-groups.js';
import { createJournal, DeliveryRecords, type Journal } from '../store/index.js';
import { createHealthProbe } from '../triage/health-probe.js';
import {
  createDiagnoser,
  readRedisPersistence,
  redisPersistenceWarning,
  stateLocation,
  stateLocationNote,
} from '../triage/index.js';
import { type BotApp, createBotApp } from './app.js';
import { createSeenRequests } from './seen-requests.js';
import { checkSlackToken } from './slack-auth-check.js';
import { requireSlackCredentials } from './slack-config.js';

/** Readiness asks Slack's `auth.test` at most this often. */
const SLACK_READY_TTL_MS = 30_000;

/** Which parts run in this process. Several processes may share one Redis. */
export type BotRole =
  /** The Slack front end and the step workers (the default). */
  | 'all'
  /** The Slack front end only (`--no-workers`): other processes run the steps. */
  | 'front-end'
  /** The step workers only (`--workers-only`): no Slack, no HTTP port. */
  | 'workers';

export interface StartBotOptions {
  readonly logger: Logger;
  /** @defaultValue `all` */
  readonly role?: BotRole;
  /** HTTP port of the Slack receiver; 0 picks a free one. @defaultValue `config.port` */
  readonly port?: number;
  /** Prefix of every Redis key and queue. @defaultValue `dgr:` */
  readonly prefix?: string;
  /** The journal; the caller closes it. @defaultValue one on `DATABASE_URL` */
  readonly journal?: Journal;
  /** Passed to the recovery runtime (time scale for drills, worker options, clock). */
  readonly runtime?: Omit<RecoveryRuntimeDeps, 'logger' | 'role' | 'prefix' | 'journal'>;
  /** Passed to the Slack outbox (backoff, concurrency, sweep interval). */
  readonly outbox?: Omit<SlackOutboxOptions, 'redis' | 'prefix' | 'slack' | 'logger'>;
  /** Passed to the summary file's publisher (backoff, waits, age limit). */
  readonly summaryFile?: Omit<
    SummaryFilePublisherOptions,
    'redis' | 'prefix' | 'slack' | 'outbox' | 'service' | 'scenarioFor' | 'logger'
  >;
  /** Passed to the user-group directory (cache lifetime, lookup timeout). */
  readonly userGroups?: Omit<UserGroupDirectoryOptions, 'slack' | 'logger'>;
  /** Channel for threads of runs started from the terminal. @defaultValue such runs get no thread */
  readonly defaultChannel?: string;
  /** Overrides `APPROVAL_REMINDER_MINUTES`, for tests. @defaultValue from the config */
  readonly reminderMs?: number;
  /** Port of the health and metrics server; 0 picks a free one. @defaultValue `config.metricsPort` (none if unset) */
  readonly metricsPort?: number;
}

export interface RunningBot {
  readonly runtime: RecoveryRuntime;
  /** The HTTP receiver's port (undefined in Socket Mode and for role `workers`). */
  readonly port: number | undefined;
  readonly slack: BotApp | undefined;
  readonly outbox: SlackOutbox | undefined;
  readonly projector: ThreadProjector | undefined;
  readonly summaryFile: SummaryFilePublisher | undefined;
  readonly metrics: BotMetrics;
  /** The port of `/healthz`, `/readyz` and `/metrics` apart from Slack's (`METRICS_PORT`); undefined without one. */
  readonly metricsPort: number | undefined;
  /**
   * Stops receiving first, then the projector, the summary file's publisher, the outbox, the workers, and closes
   * every connection.
   */
  stop(): Promise<void>;
}

/**
 * Wires the process: the recovery runtime (run service, and the step workers unless the role is `front-end`), and
 * for the front end the Slack outbox, the thread projector and the Bolt app. Slack's values are checked before
 * anything connects, with a message naming what is missing, and the bot token with Slack (`auth.test`).
 */
export async function startBot(
  config: Config,
  recovery: RecoveryConfig,
  options: StartBotOptions,
): Promise<RunningBot> {
  const role = options.role ?? 'all';
  const logger = options.logger;
  const frontEnd = role !== 'workers';
  const credentials = frontEnd ? requireSlackCredentials(config) : undefined;
  if (credentials) {
    const apiUrl = credentials.apiUrl ? { slackApiUrl: credentials.apiUrl } : {};
    await checkSlackToken(createOutboxSlackClient({ token: credentials.botToken, ...apiUrl, timeoutMs: 5000 }), logger);
  }
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  const ownsJournal = options.journal === undefined;
  const journal = options.journal ?? createJournal({ connectionString: config.databaseUrl, logger });
  const location = stateLocation(config, { prefix });
  const persistence = await readRedisPersistence(
    config.redisUrl,
    undefined,
    redisClientOptions(config.redisUrl, config.redis),
  );
  const lossWarning = redisPersistenceWarning(persistence);
  const note = [stateLocationNote(location), lossWarning].filter((s) => s !== undefined).join(' ');
  // The bot must outlive the server it repairs: sharing DecisionGraph's Postgres, or a Redis that forgets everything
  // on restart, is worth a warning at start-up.
  if (location.sharesServerWithDecisionGraph || lossWarning !== undefined) logger.warn({ role, persistence }, note);
  else logger.info({ role, persistence }, note);

  const metrics = createBotMetrics();
  const runtime = await createRecoveryRuntime(config, recovery, {
    ...options.runtime,
    executorDeps: { onDgCall: dgCallMetrics(metrics), ...options.runtime?.executorDeps },
    logger,
    role: role === 'front-end' ? 'service' : role === 'workers' ? 'workers' : 'all',
    prefix,
    journal,
  });
  const scenarios = new Map<string, Scenario>();
  const scenarioFor = (name: string): Scenario => {
    let scenario = scenarios.get(name);
    if (!scenario) {
      const found = findScenario(name);
      if (!found) throw new Error(`unknown scenario ${name.slice(0, 50)}`);
      scenario = scaleScenarioTiming(found, options.runtime?.timeScale ?? 1);
      scenarios.set(name, scenario);
    }
    return scenario;
  };

  let redis: Redis | undefined;
  let outbox: SlackOutbox | undefined;
  let projector: ThreadProjector | undefined;
  let summaryFile: SummaryFilePublisher | undefined;
  let slack: BotApp | undefined;
  let diagnoseExecutors: ExecutorContextFactory | undefined;
  let port: number | undefined;
  let opsServer: OpsServer | undefined;
  let stopRunMetrics: (() => Promise<void>) | undefined;
  const stop = async () => {
    await opsServer?.close();
    await slack?.stop().catch((err: unknown) => logger.warn({ err }, 'Slack receiver did not stop cleanly'));
    await stopRunMetrics?.().catch(() => undefined);
    await projector?.close();
    await summaryFile?.close();
    await outbox?.close();
    await runtime.close();
    await diagnoseExecutors?.close();
    if (ownsJournal) await journal.close().catch(() => undefined);
    redis?.disconnect();
  };

  try {
    if (role !== 'front-end') await runtime.startWorkers();
    // Health and metrics: Redis and the journal for every role, Slack's token for the front end.
    const readiness: ReadinessCheck[] = [
      { name: 'redis', check: () => runtime.ping() },
      { name: 'journal', check: async () => void (await journal.listRuns({ limit: 1 })) },
    ];
    if (credentials) {
      const apiUrl = credentials.apiUrl ? { slackApiUrl: credentials.apiUrl } : {};
      const authClient = createOutboxSlackClient({ token: credentials.botToken, ...apiUrl, timeoutMs: 1500 });
      const authTest = async () => void (await authClient.auth.test());
      readiness.push({ name: 'slack', check: cachedCheck(authTest, SLACK_READY_TTL_MS) });
    }
    const routes = opsRoutes({
      metrics,
      readiness,
      logger,
      beforeScrape: () =>
        refreshGauges(
          metrics,
          {
            backlog: () => runtime.backlog(),
            service: runtime.service,
            ...(outbox ? { outboxBacklog: () => (outbox as SlackOutbox).backlog() } : {}),
          },
          logger,
        ),
    });
    const metricsPort = options.metricsPort ?? config.metricsPort;
    if (metricsPort !== undefined) opsServer = await startOpsServer(routes, metricsPort, logger);
    if (frontEnd) {
      // Each front end counts runs from the event stream; worker processes count only their own calls.
      stopRunMetrics = await observeRunMetrics({ service: runtime.service, metrics, scenarioFor, logger });
    }
    if (frontEnd && credentials) {
      redis = new Redis(config.redisUrl, {
        ...redisClientOptions(config.redisUrl, config.redis),
        lazyConnect: true,
        maxRetriesPerRequest: 3,
      });
      redis.on('error', (err) => logger.warn({ err }, 'front-end redis error'));
      const apiUrl = credentials.apiUrl ? { slackApiUrl: credentials.apiUrl } : {};
      // No retries of its own and 429s thrown: the outbox and the file publisher do their own waiting.
      const workClient = countSlackErrors(createOutboxSlackClient({ token: credentials.botToken, ...apiUrl }), metrics);
      // What Slack shows is copied to the journal, so that a Redis loss never posts a thread or a file again.
      const durable = new DeliveryRecords(journal);
      outbox = createSlackOutbox({ ...options.outbox, redis, prefix, slack: workClient, logger, durable });
      summaryFile = createSummaryFilePublisher({
        ...options.summaryFile,
        durable,
        redis,
        prefix,
        slack: workClient,
        outbox,
        service: runtime.service,
        scenarioFor,
        logger,
      });
      const publisher = summaryFile;
      projector = createThreadProjector({
        service: runtime.service,
        outbox,
        scenarioFor,
        logger,
        ...(options.defaultChannel ? { defaultChannel: options.defaultChannel } : {}),
        reminderMs: options.reminderMs ?? config.slack.reminderMinutes * 60_000,
        operators: recovery.access.operators,
        actionPlan: (state, step) => actionPlanText(recovery, step, state),
        onRunFinished: (runId) => publisher.request(runId),
        catchUpRuns: async () => {
          const active = (await runtime.service.listActive()).map((r) => r.runId);
          // Runs that finished while no projector listened still get their last messages and summary.
          const recent = await journal.listRuns({ limit: 20 }).catch(() => []);
          return [...new Set([...active, ...recent.map((r) => r.runId)])];
        },
      });
      await projector.start();
      diagnoseExecutors = createExecutorContext(config, recovery, {
        logger,
        rateBudget: new SharedRateBudget({ redis, prefix, logger }),
        requireReadOnlyRole: options.runtime?.executorDeps?.requireReadOnlyRole,
      });
      const diagnose = createDiagnoser({ executors: diagnoseExecutors, logger });
      const alertRoutes = config.alerts
        ? alertHookRoutes({
            ...config.alerts,
            diagnose,
            messages: createAlertMessages({ redis, prefix }),
            slack: workClient,
            logger,
          })
        : [];
      slack = createBotApp({
        slack: credentials,
        logger,
        deps: {
          service: runtime.service,
          access: recovery.access,
          logger,
          scenarioFor,
          stateNote: note,
          ...(options.defaultChannel ? { defaultChannel: options.defaultChannel } : {}),
          history: createRunHistory({ journal, service: runtime.service, scenarioFor, logger }),
          diagnose,
          health: createHealthProbe(diagnoseExecutors),
          // Lookups sit in a slash command's 3 s: a short timeout of their own, no retries.
          userGroups: createUserGroupDirectory({
            ...options.userGroups,
            slack: createOutboxSlackClient({ token: credentials.botToken, ...apiUrl, timeoutMs: 1500 }),
            logger,
          }),
          postSummaryFile: summaryFilePoster(workClient),
        },
        seenRequests: createSeenRequests({ redis, prefix }),
        customRoutes: [...boltCustomRoutes(routes), ...alertRoutes],
      });
      port = (await slack.start(options.port ?? config.port)).port;
    }
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
  return { runtime, port, slack, outbox, projector, summaryFile, metrics, metricsPort: opsServer?.port, stop };
}
