import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type pg from 'pg';
import type { Config } from '../config/env.js';
import type { RecoveryConfig } from '../config/recovery-config.js';
import { redisClientOptions } from '../config/redis-connection.js';
import { SharedRateBudget } from '../executors/dg-http/index.js';
import { createExecutorContext, type ExecutorContextFactory, type ExecutorDeps } from '../executors/registry/index.js';
import type { Logger } from '../logger.js';
import { findScenario, type RunEvent, type Scenario } from '../runbook/index.js';
import { createJournal, createJournalPool, type Journal } from '../store/index.js';
import { STEP_QUEUE, type StepJobData, type StepJobOptions, stepJobOptions } from './queues.js';
import { type ReconcileReport, type Reconciler, startReconciler } from './reconciler.js';
import { RunDriver } from './run-driver.js';
import { createRunEventsBus, type RunEventsBus } from './run-events-bus.js';
import {
  createRunRecovery,
  DEFAULT_PREFIX,
  type JournalWriter,
  type JournalWriterOptions,
  RunLogStore,
  startJournalWriter,
} from './run-log/index.js';
import { bullPrefix } from './run-log/keys.js';
import { accessPolicyOf, createRunService } from './run-service.js';
import type { RunService } from './run-service-port.js';
import { scaleScenarioTiming, type TimeScale } from './scenario-timing.js';
import { type StepWorker, type StepWorkerOptions, startStepWorker } from './step-worker.js';

export interface RecoveryRuntimeDeps {
  readonly logger: Logger;
  /**
   * What this process does. `all` and `workers` can run step jobs ({@link RecoveryRuntime.startWorkers}); `service`
   * only starts and steers runs (a Slack or terminal front end sharing Redis with worker processes) and opens no
   * connection to DecisionGraph. @defaultValue `all`
   */
  readonly role?: 'all' | 'service' | 'workers';
  /** Prefix of every Redis key and queue, shared by every process of one deployment. @defaultValue `dgr:` */
  readonly prefix?: string;
  /** Connection to use as a template (each part duplicates it); the caller closes it. @defaultValue `config.redisUrl` */
  readonly redis?: Redis;
  /** The journal; the caller closes it. @defaultValue one on `config.databaseUrl`, schema `dg_recovery` */
  readonly journal?: Journal;
  /** The executors; the caller closes them. @defaultValue built from the config for roles `all` and `workers` */
  readonly executors?: ExecutorContextFactory;
  /** Options for the executors built here. @defaultValue the executors' defaults */
  readonly executorDeps?: Omit<ExecutorDeps, 'logger'>;
  /** The engine's clock. @defaultValue `() => new Date()` */
  readonly clock?: () => Date;
  /**
   * Multiplies every poll interval, poll deadline and retry backoff of the scenarios; for drills and tests (which
   * may scale deadlines apart from delays, see {@link TimeScale}).
   * @defaultValue 1
   */
  readonly timeScale?: number | TimeScale;
  /** @defaultValue the step worker's defaults */
  readonly worker?: StepWorkerOptions;
  /** Delivery options of step jobs. @defaultValue the queue's defaults */
  readonly stepJobs?: StepJobOptions;
  /** Options of the journal write-behind. @defaultValue the writer's defaults */
  readonly journalWriter?: Pick<
    JournalWriterOptions,
    | 'backoffBaseMs'
    | 'backoffMaxMs'
    | 'sweepIntervalMs'
    | 'concurrency'
    | 'finishedRunTtlSeconds'
    | 'lockDurationMs'
    | 'stalledIntervalMs'
    | 'maxStalledCount'
  >;
  /** Period of the reconciler's sweep; 0 sweeps only at start-up and on demand. @defaultValue 30000 */
  readonly reconcileIntervalMs?: number;
  /**
   * An approval nobody gave for this long expires and the run pauses; for drills and tests.
   * @defaultValue `config.approvalTimeoutMinutes` (`APPROVAL_TIMEOUT_MINUTES`)
   */
  readonly approvalTimeoutMs?: number;
  /** Called after every successful append in this process (metrics, drills). Must not throw. */
  readonly onAppended?: (runId: string, events: readonly RunEvent[]) => void;
}

export interface RecoveryRuntime {
  readonly service: RunService;
  /**
   * Starts the step worker, the journal write-behind and the reconciler (which first reloads what Redis lost and
   * gives every unfinished run the job it needs). Refused for role `service`.
   */
  startWorkers(): Promise<void>;
  /** One reconciler sweep now (also runs periodically once workers are started). */
  reconcile(): Promise<ReconcileReport>;
  /** Resolves once the journal holds every event appended so far; needs started workers. */
  drainJournal(timeoutMs?: number): Promise<void>;
  /** What the metrics read at a scrape: step jobs by state and how far the journal is behind the live log. */
  backlog(): Promise<RuntimeBacklog>;
  /** Resolves when Redis answers, for readiness checks. */
  ping(): Promise<void>;
  /** Stops workers (running steps get the close timeout), then closes every connection this runtime opened. */
  close(): Promise<void>;
}

export interface RuntimeBacklog {
  /** Step jobs in the queue by BullMQ state. */
  readonly stepJobs: Readonly<Record<'waiting' | 'active' | 'delayed' | 'prioritized' | 'failed', number>>;
  /** Runs whose events the journal does not hold yet, and how many events that is in all. */
  readonly journalRuns: number;
  readonly journalEvents: number;
}

/**
 * Wires the recovery engine to Redis (live run logs, step jobs, pub/sub), the Postgres journal (migrated here,
 * written behind) and the executors. Several processes may share one Redis: any mix of `service` and `workers`.
 */
export async function createRecoveryRuntime(
  config: Config,
  recovery: RecoveryConfig,
  deps: RecoveryRuntimeDeps,
): Promise<RecoveryRuntime> {
  const role = deps.role ?? 'all';
  const prefix = deps.prefix ?? DEFAULT_PREFIX;
  const logger = deps.logger.child({ component: 'recovery-runtime' });
  const clock = deps.clock ?? (() => new Date());
  const timeScale = deps.timeScale ?? 1;

  const ownsRedis = deps.redis === undefined;
  const template =
    deps.redis ??
    new Redis(config.redisUrl, {
      ...redisClientOptions(config.redisUrl, config.redis),
      lazyConnect: true,
      maxRetriesPerRequest: 3,
    });
  const redis = template.duplicate({ maxRetriesPerRequest: 3 });
  redis.on('error', (err) => logger.warn({ err }, 'redis error'));

  const ownsJournal = deps.journal === undefined;
  let journalPool: pg.Pool | undefined;
  if (deps.journal === undefined) {
    journalPool = createJournalPool({ connectionString: config.databaseUrl, logger });
  }
  const journal = deps.journal ?? createJournal({ pool: journalPool, logger });
  try {
    const migrated = await journal.migrate();
    logger.info({ schema: journal.schema, applied: migrated.applied.length }, 'journal schema ready');
  } catch (err) {
    // The bot must outlive its own database: runs go on in Redis and the journal migrates on its first use.
    logger.warn({ err }, 'journal not reachable at start-up; runs are kept in Redis until it is');
  }

  const store = new RunLogStore({ redis, prefix, logger });
  const runRecovery = createRunRecovery({ store, journal, logger });
  // The run log's connection: a step job goes right behind its append, and Redis runs one connection in order.
  // No version check: it is one INFO at start-up, and a connection blip during it would fail every later add.
  const queue = new Queue<StepJobData>(STEP_QUEUE, {
    connection: redis,
    prefix: bullPrefix(prefix),
    skipVersionCheck: true,
  });
  // The connection's own listener above reports its errors; this one only keeps them from being thrown.
  queue.on('error', (err) => logger.debug({ err }, 'step queue error'));
  const bus: RunEventsBus = createRunEventsBus({
    redis,
    prefix,
    read: (runId, fromSeq, limit) => store.read<RunEvent>(runId, fromSeq, limit),
    lastSeq: (runId) => store.lastSeq(runId),
    logger,
  });

  const scenarios = new Map<string, Scenario>();
  const scenarioFor = (name: string): Scenario => {
    let scenario = scenarios.get(name);
    if (scenario === undefined) {
      const found = findScenario(name);
      if (found === undefined) throw new Error(`run of unknown scenario ${name.slice(0, 50)}`);
      scenario = scaleScenarioTiming(found, timeScale);
      scenarios.set(name, scenario);
    }
    return scenario;
  };

  const driver = new RunDriver({
    store,
    recovery: runRecovery,
    queue,
    jobOptions: stepJobOptions(deps.stepJobs),
    redis,
    prefix,
    access: accessPolicyOf(recovery.access),
    approvalTimeoutMs: deps.approvalTimeoutMs ?? config.approvalTimeoutMinutes * 60_000,
    hostActionModes: Object.fromEntries(Object.entries(recovery.actions).map(([name, action]) => [name, action.type])),
    clock,
    scenarioFor,
    logger,
    ...(deps.onAppended ? { onAppended: deps.onAppended } : {}),
  });

  const service = createRunService({
    driver,
    bus,
    journal,
    access: recovery.access,
    defaults: {
      tenantId: config.decisionGraph.tenantId,
      traceId: config.decisionGraph.knownTraceId,
      workflowId: config.decisionGraph.knownWorkflowId,
      previousRelease: recovery.release.previousKnownGood,
    },
    logger,
  });

  const ownsExecutors = deps.executors === undefined && role !== 'service';
  let executors = deps.executors;
  let stepWorker: StepWorker | undefined;
  let journalWriter: JournalWriter | undefined;
  let reconciler: Reconciler | undefined;
  let closing: Promise<void> | undefined;

  const reconcile = (): Promise<ReconcileReport> =>
    (reconciler ?? startReconciler({ driver, recovery: runRecovery, logger, intervalMs: 0 })).reconcile();

  return {
    service,
    reconcile,
    async startWorkers() {
      if (role === 'service') throw new Error('this runtime was created for role "service": it runs no workers');
      if (stepWorker) return;
      // Every worker process spends one DecisionGraph budget per scope and account, counted in Redis.
      const rateBudget = new SharedRateBudget({ redis, prefix, logger });
      executors ??= createExecutorContext(config, recovery, { logger, rateBudget, ...deps.executorDeps });
      journalWriter = await startJournalWriter({ redis: template, pg: journal, prefix, logger, ...deps.journalWriter });
      reconciler = startReconciler({
        driver,
        recovery: runRecovery,
        logger,
        intervalMs: deps.reconcileIntervalMs ?? 30_000,
      });
      stepWorker = startStepWorker({ driver, executors, redis: template, prefix, logger, ...deps.worker });
      const report = await reconciler.reconcile();
      logger.info(
        { restored: report.restored.length, active: report.advanced, failed: report.failed.length },
        'workers started; unfinished runs reconciled',
      );
    },
    async backlog() {
      const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'failed');
      const behind = await store.journalBacklog();
      return {
        stepJobs: {
          waiting: counts.waiting ?? 0,
          active: counts.active ?? 0,
          delayed: counts.delayed ?? 0,
          prioritized: counts.prioritized ?? 0,
          failed: counts.failed ?? 0,
        },
        journalRuns: behind.length,
        journalEvents: behind.reduce((sum, b) => sum + Math.max(0, b.lastSeq - b.journaledSeq), 0),
      };
    },
    async ping() {
      await redis.ping();
    },
    async drainJournal(timeoutMs) {
      if (!journalWriter) throw new Error('the journal writer runs with the workers: start them first');
      await journalWriter.drain(timeoutMs === undefined ? {} : { timeoutMs });
    },
    close() {
      closing ??= (async () => {
        await reconciler?.close();
        driver.close();
        await stepWorker?.close();
        await journalWriter?.close();
        await bus.close();
        await queue.close().catch(() => undefined);
        await store.close();
        if (ownsExecutors) await executors?.close();
        if (ownsJournal) await journalPool?.end();
        await redis.quit().catch(() => redis.disconnect());
        if (ownsRedis) template.disconnect();
      })();
      return closing;
    },
  };
}
