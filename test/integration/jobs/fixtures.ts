import { randomBytes } from 'node:crypto';
import { removeAllQueueData } from 'bullmq';
import { Redis } from 'ioredis';
import { stringify } from 'yaml';
import { type SimulatorHandle, type SimulatorOptions, simHostActions, startSimulator } from '../../../sim/index.js';
import { type Config, loadConfig } from '../../../src/config/env.js';
import { parseRecoveryConfig, type RecoveryConfig } from '../../../src/config/recovery-config.js';
import {
  type CommandOutcome,
  createRecoveryRuntime,
  type RecoveryRuntime,
  type RecoveryRuntimeDeps,
  type RunActor,
  type RunService,
} from '../../../src/jobs/index.js';
import { STEP_QUEUE } from '../../../src/jobs/queues.js';
import { createLogger, type Logger } from '../../../src/logger.js';
import {
  type DecisionOption,
  foldRun,
  type PendingDecision,
  type RunEvent,
  type RunState,
  reduce,
} from '../../../src/runbook/index.js';
import { createTempDatabase, type TempDatabase } from '../../helpers/pg.js';
import { deleteKeysUnder } from '../../helpers/redis-keys.js';
import { TEST_TIME_SCALE } from '../../helpers/time-scale.js';
import { FAST_JOURNAL_WRITER } from './journal-timings.js';

export const STARTER: RunActor = { id: 'U0STARTER', name: 'ana', via: 'cli' };
export const APPROVER: RunActor = { id: 'U0APPROVER', name: 'bo', via: 'slack' };
/** An operator who may also approve, to show that nobody approves their own run. */
export const LEAD: RunActor = { id: 'U0LEAD', name: 'cy', via: 'slack' };

/** Delays shrunk 50 times (a 2 s poll becomes 40 ms), deadlines 4 times: see {@link TEST_TIME_SCALE}. */
export const TIME_SCALE = TEST_TIME_SCALE;

export function testLogger(): Logger {
  return createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
}

export function randomPrefix(): string {
  return `dgrjobs-${randomBytes(5).toString('hex')}:`;
}

/** Every host action as a webhook on the simulator's control API, and access for two people. */
export function recoveryYaml(
  sim: SimulatorHandle,
  controlUrl = sim.controlUrl,
  paths: Partial<Record<string, string>> = {},
): string {
  return stringify({
    actions: simHostActions(controlUrl, { paths, timeoutSeconds: 10 }),
    access: {
      operators: [STARTER.id, APPROVER.id, LEAD.id],
      approvers: [APPROVER.id, LEAD.id],
      two_person_rule: true,
    },
    release: { previous_known_good: 'v1' },
  });
}

export function recoveryFor(
  sim: SimulatorHandle,
  controlUrl?: string,
  paths?: Partial<Record<string, string>>,
): RecoveryConfig {
  return parseRecoveryConfig(recoveryYaml(sim, controlUrl, paths), 'jobs.test.yaml', {
    SIM_CONTROL_TOKEN: sim.controlToken,
  });
}

export function envFor(sim: SimulatorHandle, databaseUrl: string, redisUrl = 'redis://127.0.0.1:6379') {
  return {
    DG_BASE_URL: sim.url,
    DG_API_TOKEN: 'dev-reader-token',
    DG_ADMIN_TOKEN: 'dev-admin-token',
    DG_DATABASE_URL: sim.databaseUrl,
    DG_KNOWN_TRACE_ID: sim.known.traceId,
    ...(sim.known.workflowId ? { DG_KNOWN_WORKFLOW_ID: sim.known.workflowId } : {}),
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
  };
}

export interface World {
  readonly sim: SimulatorHandle;
  readonly db: TempDatabase | undefined;
  readonly prefix: string;
  readonly config: Config;
  readonly recovery: RecoveryConfig;
  readonly runtime: RecoveryRuntime;
  readonly service: RunService;
  readonly redis: Redis;
  close(): Promise<void>;
}

export interface WorldOptions {
  readonly sim?: SimulatorOptions;
  /** The bot's own database; a temporary one when unset. */
  readonly databaseUrl?: string;
  readonly redisUrl?: string;
  readonly workers?: boolean;
  readonly runtime?: Partial<RecoveryRuntimeDeps>;
  readonly controlUrl?: (sim: SimulatorHandle) => string;
  /** Control API paths replaced by others, e.g. `/host/restart` by `/host/stop` for a restart that never comes up. */
  readonly paths?: Partial<Record<string, string>>;
}

/** A simulator with a small history, a journal database and a runtime on a key prefix of its own. */
export async function startWorld(options: WorldOptions = {}): Promise<World> {
  const sim = await startSimulator({ seed: { tracesPerTenant: 40 }, ...options.sim });
  const db = options.databaseUrl ? undefined : await createTempDatabase('dgjobs');
  const databaseUrl = options.databaseUrl ?? (db as TempDatabase).url;
  const config = loadConfig(envFor(sim, databaseUrl, options.redisUrl));
  const recovery = recoveryFor(sim, options.controlUrl?.(sim), options.paths);
  const prefix = randomPrefix();
  const runtime = await createRecoveryRuntime(config, recovery, {
    logger: testLogger(),
    prefix,
    timeScale: TIME_SCALE,
    reconcileIntervalMs: 0,
    journalWriter: FAST_JOURNAL_WRITER,
    // The simulator's database URL is its superuser's, which the role guard refuses (it has tests of its own).
    executorDeps: { requireReadOnlyRole: false },
    ...options.runtime,
  });
  if (options.workers !== false) await runtime.startWorkers();
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 3 });
  redis.on('error', () => undefined);
  return {
    sim,
    db,
    prefix,
    config,
    recovery,
    runtime,
    service: runtime.service,
    redis,
    async close() {
      await runtime.close();
      await deletePrefix(redis, prefix).catch(() => undefined);
      redis.disconnect();
      await sim.close();
      await db?.drop();
    },
  };
}

export async function deletePrefix(redis: Redis, prefix: string): Promise<void> {
  const bull = prefix.replace(/:$/, '');
  for (const queue of [STEP_QUEUE, 'journal']) await removeAllQueueData(redis.duplicate(), queue, bull);
  await deleteKeysUnder(redis, prefix);
}

/** Resolves once `condition` holds (looked at every 10 ms); fails naming `what` after `timeoutMs`. */
export async function waitUntil(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Follows one run through its live events. */
export class RunWatcher {
  events: RunEvent[] = [];
  state: RunState | undefined;
  private waiters = new Set<() => void>();
  private stop: (() => Promise<void>) | undefined;

  private constructor(
    readonly service: RunService,
    readonly runId: string,
  ) {}

  static async watch(service: RunService, runId: string): Promise<RunWatcher> {
    const w = new RunWatcher(service, runId);
    w.stop = await service.subscribe(runId, (e) => w.push(e), { fromSeq: 1 });
    return w;
  }

  private push(e: RunEvent): void {
    this.events.push(e);
    this.state = this.state === undefined ? foldRun([e]) : reduce(this.state, e);
    for (const wake of [...this.waiters]) wake();
  }

  /**
   * Resolves with the state once `predicate` holds. Fails, describing where the run is, once the run has gone
   * `timeoutMs` without a new event: a run that is slow because the machine is busy keeps moving and is waited for;
   * one that is stuck is not (the test's own timeout bounds the whole).
   */
  until(predicate: (s: RunState) => boolean, timeoutMs = 15_000): Promise<RunState> {
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const giveUp = () => {
        this.waiters.delete(check);
        const s = this.state;
        const tail = this.events.slice(-6).map((e) => `${e.seq}:${e.type}${'stepId' in e ? `(${e.stepId})` : ''}`);
        reject(
          new Error(
            `run ${this.runId} did not get there (no event for ${timeoutMs} ms): status ${s?.status}, ` +
              `step ${s?.currentStepId}, ${tail.join(' ')}`,
          ),
        );
      };
      const check = () => {
        clearTimeout(timer);
        if (this.state !== undefined && predicate(this.state)) {
          this.waiters.delete(check);
          resolve(this.state);
          return;
        }
        timer = setTimeout(giveUp, timeoutMs);
      };
      this.waiters.add(check);
      check();
    });
  }

  /** Waits until the run needs a person or has finished, having seen at least `seq`. */
  settled(afterSeq = 0, timeoutMs?: number): Promise<RunState> {
    return this.until((s) => s.lastSeq >= afterSeq && s.status !== 'running', timeoutMs);
  }

  ofType<T extends RunEvent['type']>(type: T): Extract<RunEvent, { type: T }>[] {
    return this.events.filter((e): e is Extract<RunEvent, { type: T }> => e.type === type);
  }

  async close(): Promise<void> {
    await this.stop?.();
  }
}

export interface Choice {
  readonly optionId: string;
  readonly reason?: string;
  readonly value?: string;
}

export interface DrivePolicy {
  /** Chooses at a decision; default: the recommended option (else the first), with a reason when one is needed. */
  decide?: (pending: PendingDecision, state: RunState) => Choice | undefined | Promise<Choice | undefined>;
  /** Return the state at the first pause instead of failing. */
  stopAtPause?: boolean;
  /** What to do at a pause; default: fail the test. */
  onPause?: (state: RunState) => Promise<CommandOutcome> | undefined;
}

export function recommended(options: readonly DecisionOption[]): DecisionOption {
  const choice = options.find((o) => o.recommended) ?? options.find((o) => o.effect !== 'abort') ?? options[0];
  if (!choice) throw new Error('a decision without options');
  return choice;
}

function lastSeqOf(outcome: CommandOutcome, fallback: number): number {
  if (!outcome.ok) throw new Error(`command refused: ${outcome.code} ${outcome.message}`);
  return outcome.events.at(-1)?.seq ?? fallback;
}

/**
 * Drives a run to its end as two people would: the starter decides and confirms manual actions, the other person
 * approves. Returns the finished state; fails once the run goes `timeoutMs` without a new event.
 */
export async function driveRun(w: RunWatcher, policy: DrivePolicy = {}, timeoutMs = 15_000): Promise<RunState> {
  const { service, runId } = w;
  let seen = 0;
  for (let round = 0; round < 60; round++) {
    const s = await w.settled(seen, timeoutMs);
    seen = s.lastSeq;
    switch (s.status) {
      case 'finished':
        return s;
      case 'waiting_decision': {
        const p = s.pendingDecision as PendingDecision;
        const chosen =
          (await policy.decide?.(p, s)) ??
          (() => {
            const o = recommended(p.options);
            return { optionId: o.id, ...(o.needsReason ? { reason: 'drill: recommended choice' } : {}) };
          })();
        if (!chosen) throw new Error(`no choice for ${p.stepId}`);
        const out = await service.decide(runId, {
          stepId: p.stepId,
          ...(p.item ? { itemId: p.item.id } : {}),
          ...chosen,
          actor: STARTER,
        });
        seen = lastSeqOf(out, seen);
        break;
      }
      case 'waiting_approval': {
        const p = s.pendingApproval;
        if (!p) throw new Error('waiting for an approval that is not pending');
        const out = await service.approve(runId, { stepId: p.stepId, actor: APPROVER, fingerprint: p.fingerprint });
        seen = lastSeqOf(out, seen);
        break;
      }
      case 'waiting_manual': {
        const p = s.pendingManual;
        if (!p) throw new Error('waiting for a manual action that is not pending');
        seen = lastSeqOf(await service.manualDone(runId, { stepId: p.stepId, actor: STARTER }), seen);
        break;
      }
      case 'paused': {
        if (policy.stopAtPause) return s;
        const handled = policy.onPause?.(s);
        if (!handled) throw new Error(`run paused: ${s.pause?.reason}`);
        seen = lastSeqOf(await handled, seen);
        break;
      }
      default:
        throw new Error(`unexpected status ${s.status}`);
    }
  }
  throw new Error('the run needed too many rounds');
}

/**
 * A worker-only runtime on the world's Redis prefix and journal, with its own recovery config (a host action
 * wired as a command, say), as a second process of the bot would run.
 */
export function workersFor(
  world: World,
  recovery: RecoveryConfig,
  extra: Partial<RecoveryRuntimeDeps> = {},
): Promise<RecoveryRuntime> {
  return createRecoveryRuntime(world.config, recovery, {
    logger: testLogger(),
    role: 'workers',
    prefix: world.prefix,
    timeScale: TIME_SCALE,
    reconcileIntervalMs: 0,
    journalWriter: FAST_JOURNAL_WRITER,
    // The simulator's database URL is its superuser's, which the role guard refuses.
    executorDeps: { requireReadOnlyRole: false },
    ...extra,
  });
}

/** A drive policy that restores the backup whose label starts with `label` (not the one recommended). */
export function restoreBackupLabelled(label: string): DrivePolicy {
  return {
    decide: (p) =>
      p.stepId === 'choose_backup'
        ? { optionId: p.options.find((o) => o.label.startsWith(label))?.id ?? 'abort' }
        : undefined,
  };
}

/** Starts a run as the starter and watches it. */
export async function startRun(
  service: RunService,
  scenario: string,
  extra: { tenantId?: string; actor?: RunActor } = {},
): Promise<RunWatcher> {
  const started = await service.start({ scenario, actor: STARTER, ...extra });
  if (!started.ok) throw new Error(`start refused: ${started.code} ${started.message}`);
  return RunWatcher.watch(service, started.runId);
}

/** Every step's status in scenario order, for assertions that read like the run. */
export function stepStatuses(state: RunState): Record<string, string> {
  return Object.fromEntries(Object.values(state.steps).map((s) => [s.stepId, s.status]));
}
