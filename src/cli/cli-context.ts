import type { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import type { Config } from '../config/env.js';
import type { RecoveryConfig } from '../config/recovery-config.js';
import { redisClientOptions } from '../config/redis-connection.js';
import { loadStartupConfig } from '../config/startup-config.js';
import { createExecutorContext, type ExecutorContextFactory } from '../executors/registry/index.js';
import { createRecoveryRuntime, type RecoveryRuntime, type TimeScale } from '../jobs/index.js';
import { RunLogUnavailableError } from '../jobs/run-log/index.js';
import { createLogger, type Logger } from '../logger.js';
import { createJournal, type Journal } from '../store/index.js';
import { serverOf } from '../triage/index.js';
import { createLogGate, type LogGate } from './log-gate.js';

/** How the terminal front end reaches its state; the demo sets these, a shell leaves them to the defaults. */
export interface CliRuntimeOptions {
  /** Redis key prefix of the deployment. @defaultValue the job layer's (`dgr:`) */
  readonly prefix?: string;
  /** Multiplies every poll interval, poll deadline and retry backoff; for drills. @defaultValue 1 */
  readonly timeScale?: number | TimeScale;
  /** Period of the reconciler's sweep. @defaultValue the runtime's */
  readonly reconcileIntervalMs?: number;
  /**
   * Refuses a `DG_DATABASE_URL` role that can write to DecisionGraph's tables: checked before a command that
   * reaches DecisionGraph, and again by the SQL probes once Postgres answers (safety rule 1). Only tests that
   * point the front end at a database's superuser turn it off.
   * @defaultValue true
   */
  readonly requireReadOnlyRole?: boolean;
}

export interface CliContext {
  readonly config: Config;
  readonly recovery: RecoveryConfig;
  readonly logger: Logger;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly runtimeOptions: CliRuntimeOptions;
  /**
   * Where the logs go, held shut during a Redis outage; `undefined` when `LOG_LEVEL` asks for the logs as they
   * are.
   */
  readonly logGate: LogGate | undefined;
  /**
   * The runtime, opened on first use: `all` can run step jobs in this process (once its caller starts the
   * workers), `service` only steers runs.
   */
  runtime(role: 'all' | 'service'): Promise<RecoveryRuntime>;
  /** The journal, shared with the runtime. */
  journal(): Journal;
  /** DecisionGraph's API and Postgres, for the read-only probes of `status` and `diagnose`. */
  executors(): ExecutorContextFactory;
  close(): Promise<void>;
}

/** How long the terminal waits for Redis before saying it is not there. */
const REDIS_CHECK_MS = 3000;

/**
 * Fails fast, with the server named, when Redis does not answer: the job layer would otherwise keep retrying (as a
 * long-running bot should), and a person at a terminal would see nothing but a hang.
 */
async function checkRedis(config: Config): Promise<void> {
  const url = config.redisUrl;
  const redis = new Redis(url, {
    ...redisClientOptions(url, config.redis),
    lazyConnect: true,
    connectTimeout: REDIS_CHECK_MS,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  let first: Error | undefined;
  redis.on('error', (err: Error) => {
    first ??= err;
  });
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    const where = serverOf(url, '6379')?.server ?? 'REDIS_URL';
    throw new RunLogUnavailableError(
      `Redis at ${where} does not answer (${(first ?? (err as Error)).message}); runs live in Redis, so start it or set REDIS_URL`,
      { cause: err },
    );
  } finally {
    redis.disconnect();
  }
}

/**
 * Reads the configuration (the environment, then `RECOVERY_CONFIG`) and opens connections lazily, so `help` and
 * bad usage never connect anywhere and `diagnose` never needs Redis. Logs go to `logStream` (stderr), at `warn`
 * unless `LOG_LEVEL` says otherwise: the terminal's own output is for people.
 */
export async function openCliContext(
  env: Readonly<Record<string, string | undefined>>,
  logStream: Writable,
  runtimeOptions: CliRuntimeOptions = {},
): Promise<CliContext> {
  const { config, recovery } = await loadStartupConfig(env);
  const level = env.LOG_LEVEL ? config.logLevel : 'warn';
  const logGate = env.LOG_LEVEL ? undefined : createLogGate(logStream);
  const logger = createLogger({ level, name: 'dg-recovery-cli' }, logGate?.stream ?? logStream);
  let journal: Journal | undefined;
  let runtime: Promise<RecoveryRuntime> | undefined;
  let runtimeRole: 'all' | 'service' | undefined;
  let executors: ExecutorContextFactory | undefined;

  const journalOf = (): Journal => {
    journal ??= createJournal({ connectionString: config.databaseUrl, logger });
    return journal;
  };

  return {
    config,
    recovery,
    logger,
    env,
    runtimeOptions,
    logGate,
    runtime(role) {
      if (runtime !== undefined) {
        if (runtimeRole === 'service' && role === 'all') throw new Error('the runtime was opened without workers');
        return runtime;
      }
      runtimeRole = role;
      runtime = (async () => {
        await checkRedis(config);
        const created = await createRecoveryRuntime(config, recovery, {
          logger,
          role,
          journal: journalOf(),
          ...(runtimeOptions.prefix !== undefined ? { prefix: runtimeOptions.prefix } : {}),
          ...(runtimeOptions.timeScale !== undefined ? { timeScale: runtimeOptions.timeScale } : {}),
          ...(runtimeOptions.reconcileIntervalMs !== undefined
            ? { reconcileIntervalMs: runtimeOptions.reconcileIntervalMs }
            : {}),
          executorDeps: { requireReadOnlyRole: runtimeOptions.requireReadOnlyRole !== false },
        });
        return created;
      })();
      return runtime;
    },
    journal: journalOf,
    executors() {
      executors ??= createExecutorContext(config, recovery, {
        logger,
        requireReadOnlyRole: runtimeOptions.requireReadOnlyRole !== false,
      });
      return executors;
    },
    async close() {
      const opened = runtime;
      runtime = undefined;
      if (opened) await (await opened.catch(() => undefined))?.close();
      await executors?.close();
      await journal?.close();
    },
  };
}
