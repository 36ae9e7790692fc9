import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { stringify } from 'yaml';
import {
  createReaderRole,
  type SimulatorHandle,
  type SimulatorOptions,
  simHostActions,
  startSimulator,
} from '../../sim/index.js';
import { type Config, loadConfig } from '../../src/config/env.js';
import { parseRecoveryConfig, type RecoveryConfig } from '../../src/config/recovery-config.js';
import { createRecoveryRuntime, type RecoveryRuntime, type RecoveryRuntimeDeps } from '../../src/jobs/index.js';
import { createLogger, type Logger } from '../../src/logger.js';
import { createTempDatabase, type TempDatabase } from '../../test/helpers/pg.js';
import { deleteKeysUnder } from '../../test/helpers/redis-keys.js';
import { APPROVER_ID, STARTER_ID } from './actors.js';

export const REDIS_URL = 'redis://127.0.0.1:6379';

/** Benchmarks log nothing: a log line per step would be part of what is timed. */
export function silentLogger(): Logger {
  return createLogger({ level: 'silent' });
}

export function randomPrefix(name: string): string {
  return `dgrbench-${name}-${randomBytes(4).toString('hex')}:`;
}

/** Every host action as a webhook on the simulator's control API; two people, the second approves. */
export function recoveryYaml(sim: SimulatorHandle): string {
  return stringify({
    actions: simHostActions(sim.controlUrl),
    access: { operators: [STARTER_ID, APPROVER_ID], approvers: [APPROVER_ID], two_person_rule: true },
    release: { previous_known_good: 'v1' },
  });
}

/** What a process needs to build the same runtime: plain data, so it can cross to a worker process. */
export interface RuntimeRecipe {
  readonly env: Record<string, string>;
  readonly recoveryYaml: string;
  readonly controlToken: string;
  readonly prefix: string;
  readonly timeScale: number;
}

export interface RecipeOptions {
  /** The bot's own database (the journal). */
  readonly journalUrl: string;
  /** DecisionGraph's database as the bot reaches it (a read-only role). */
  readonly dgDatabaseUrl: string;
  readonly prefix: string;
  readonly timeScale: number;
  /** @defaultValue true */
  readonly knownWorkflow?: boolean;
}

export function recipeFor(sim: SimulatorHandle, o: RecipeOptions): RuntimeRecipe {
  const { journalUrl, prefix, timeScale } = o;
  const knownWorkflow = o.knownWorkflow ?? true;
  return {
    env: {
      DG_BASE_URL: sim.url,
      DG_API_TOKEN: 'dev-reader-token',
      DG_ADMIN_TOKEN: 'dev-admin-token',
      DG_DATABASE_URL: o.dgDatabaseUrl,
      DG_KNOWN_TRACE_ID: sim.known.traceId,
      ...(sim.known.workflowId && knownWorkflow ? { DG_KNOWN_WORKFLOW_ID: sim.known.workflowId } : {}),
      DATABASE_URL: journalUrl,
      REDIS_URL,
      LOG_LEVEL: 'silent',
    },
    recoveryYaml: recoveryYaml(sim),
    controlToken: sim.controlToken,
    prefix,
    timeScale,
  };
}

export function configOf(recipe: RuntimeRecipe): { config: Config; recovery: RecoveryConfig } {
  return {
    config: loadConfig(recipe.env),
    recovery: parseRecoveryConfig(recipe.recoveryYaml, 'bench.yaml', { SIM_CONTROL_TOKEN: recipe.controlToken }),
  };
}

/** The job layer as a deployment wires it, for a recipe; nothing periodic runs besides the step jobs. */
export function runtimeFor(recipe: RuntimeRecipe, deps: Partial<RecoveryRuntimeDeps> = {}): Promise<RecoveryRuntime> {
  const { config, recovery } = configOf(recipe);
  return createRecoveryRuntime(config, recovery, {
    logger: silentLogger(),
    prefix: recipe.prefix,
    timeScale: recipe.timeScale,
    reconcileIntervalMs: 0,
    journalWriter: { backoffBaseMs: 50, backoffMaxMs: 500, sweepIntervalMs: 0 },
    ...deps,
  });
}

/** Removes every Redis key of a prefix (run logs, queues, slots). */
export async function deletePrefix(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 3 });
  redis.on('error', () => undefined);
  try {
    await deleteKeysUnder(redis, prefix);
  } finally {
    redis.disconnect();
  }
}

export interface BenchWorld {
  readonly sim: SimulatorHandle;
  readonly journal: TempDatabase;
  /** DecisionGraph's database as the bot reaches it: a SELECT-only role (`recipe.env.DG_DATABASE_URL`). */
  readonly readerUrl: string;
  readonly recipe: RuntimeRecipe;
  close(): Promise<void>;
}

export interface BenchWorldOptions {
  /**
   * Configure the first tenant's workflow as the deployment's known workflow (runs then read it). Off when runs
   * recover other tenants, which do not have it. @defaultValue true
   */
  readonly knownWorkflow?: boolean;
}

/** A simulator and a journal database; runtimes are the benchmark's to build and close. */
export async function startBenchWorld(
  name: string,
  sim: SimulatorOptions,
  timeScale: number,
  options: BenchWorldOptions = {},
): Promise<BenchWorld> {
  const handle = await startSimulator(sim);
  let journal: TempDatabase | undefined;
  let reader: { url: string; drop: () => Promise<void> } | undefined;
  try {
    journal = await createTempDatabase(`dgbench_${name.replace(/\W/g, '')}`);
    reader = await createReaderRole(handle.databaseUrl, 'dgbench_ro');
  } catch (err) {
    await handle.close();
    await journal?.drop();
    throw err;
  }
  const recipe = recipeFor(handle, {
    journalUrl: journal.url,
    dgDatabaseUrl: reader.url,
    prefix: randomPrefix(name),
    timeScale,
    ...(options.knownWorkflow !== undefined ? { knownWorkflow: options.knownWorkflow } : {}),
  });
  const ownJournal = journal;
  const ownReader = reader;
  return {
    sim: handle,
    journal,
    readerUrl: reader.url,
    recipe,
    async close() {
      await deletePrefix(recipe.prefix).catch(() => undefined);
      await handle.close();
      await ownJournal.drop();
      await ownReader.drop();
    },
  };
}
