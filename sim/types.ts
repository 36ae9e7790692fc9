import type { SeedOptions } from './db/seed.js';
import type { ServiceAccountsFile } from './http/service-accounts.js';
import type { SimClock } from './util/clock.js';
import type { ImposedWait } from './util/imposed-waits.js';

export type { ServiceAccountsFile } from './http/service-accounts.js';

/** The scenario switches the simulator can turn on and off, each reproducing what DecisionGraph shows in it. */
export const FAULT_NAMES = [
  'node-down',
  'postgres-down',
  'projections-behind',
  'open-failures',
  'orphaned-run',
  'hash-drift',
  'broken-ordering',
  'cursor-ahead',
  'failed-upgrade',
  'failed-upgrade-unlabelled',
  'drifted-backup',
  'slow',
  'rebuild-disabled',
  'stop-ignored',
  'host-cut-off',
  'host-answer-lost',
  'replay-answer-lost',
] as const;
export type FaultName = (typeof FAULT_NAMES)[number];

export function isFaultName(value: string): value is FaultName {
  return (FAULT_NAMES as readonly string[]).includes(value);
}

/**
 * Faults that live in one tenant's rows of DecisionGraph's database, and so are switched per tenant. The others
 * act on the whole node (its process, its Postgres, its release, its answers) and take no tenant.
 */
export const TENANT_FAULTS = [
  'projections-behind',
  'open-failures',
  'orphaned-run',
  'hash-drift',
  'broken-ordering',
  'cursor-ahead',
] as const satisfies readonly FaultName[];
export type TenantFaultName = (typeof TENANT_FAULTS)[number];

export function isTenantFault(fault: FaultName): fault is TenantFaultName {
  return (TENANT_FAULTS as readonly string[]).includes(fault);
}

/** The host actions as the control API counts them (`hostActionCounts()`), the names a host-answer fault takes. */
export const SIM_HOST_ACTIONS = [
  'restart',
  'stop',
  'start',
  'switch_release',
  'restore_postgres',
  'stop_writes',
  'resume_writes',
  'preserve_database',
  'restore_backup',
] as const;

/**
 * Faults on the way back from the host: the action is carried out, then its answer never arrives. `host-cut-off`
 * destroys the connection unanswered; `host-answer-lost` leaves it open and silent until the caller gives up.
 * Switched per host action (`action`), or for every action when none is named.
 */
export const HOST_ANSWER_FAULTS = ['host-cut-off', 'host-answer-lost'] as const satisfies readonly FaultName[];
export type HostAnswerFaultName = (typeof HOST_ANSWER_FAULTS)[number];

export function isHostAnswerFault(fault: FaultName): fault is HostAnswerFaultName {
  return (HOST_ANSWER_FAULTS as readonly string[]).includes(fault);
}

/** What became of one host-action request on the control API, as the host saw it. */
export interface HostActionRequest {
  /** As counted, e.g. `restore_backup`. */
  readonly action: string;
  readonly idempotencyKey: string | null;
  /** Answered from an earlier request with the same key: nothing ran. */
  readonly replayed: boolean;
  readonly status: number;
  /** `answered`, or how a host-answer fault kept the answer from the caller. */
  readonly delivery: 'answered' | 'cut-off' | 'answer-lost';
}

/** The tenant a fault switch acts on when none is named. */
export const DEFAULT_FAULT_TENANT = 'default';

export interface FaultOptions {
  /**
   * Tenant whose rows a tenant fault ({@link TENANT_FAULTS}) changes; naming one for a node-wide fault is an
   * error. On `clear`, leaving it out clears the fault in every tenant it is on.
   * @defaultValue `default` (inject)
   */
  tenantId?: string;
  /**
   * Host-answer faults ({@link HOST_ANSWER_FAULTS}) only: the host action whose answers are lost, one of
   * {@link SIM_HOST_ACTIONS}; naming one for another fault is an error.
   * @defaultValue every host action
   */
  action?: string;
}

/** Per-minute request budgets per API scope, as DecisionGraph's `:dg_api, :rate_limits`. */
export interface RateLimits {
  read: number;
  write: number;
  admin: number;
}

export interface SimulatorOptions {
  /** DecisionGraph's database. @defaultValue a fresh `dgsim_<random>` database on `adminDatabaseUrl`'s server */
  databaseUrl?: string;
  /**
   * Maintenance connection used to create/drop the own database and to switch the `postgres-down` fault.
   * @defaultValue `databaseUrl` with database `postgres`, else `postgres://root@127.0.0.1:5432/postgres`
   */
  adminDatabaseUrl?: string;
  /** API port. @defaultValue 0 (ephemeral; kept across simulated restarts) */
  port?: number;
  /** @defaultValue `127.0.0.1` */
  host?: string;
  /** Control API port. @defaultValue 0 (ephemeral) */
  controlPort?: number;
  /**
   * History to seed into an empty event log; `false` seeds nothing.
   * @defaultValue 300 traces of tenant `default`
   */
  seed?: SeedOptions | false;
  /** @defaultValue DecisionGraph's dev accounts (`dev-reader-token`, `dev-writer-token`, `dev-admin-token`) */
  serviceAccounts?: ServiceAccountsFile;
  /**
   * Where the accounts came from, reported as healthz `auth.bootstrap_source`.
   * @defaultValue `application_env`
   */
  serviceAccountsSource?: string;
  /** @defaultValue `{ read: 600, write: 300, admin: 60 }` */
  rateLimits?: Partial<RateLimits>;
  /** DecisionGraph's `allow_rebuild` admin control. @defaultValue false (the production default) */
  allowRebuild?: boolean;
  /** Faults switched on before the API listens. @defaultValue none */
  faults?: FaultName[];
  /**
   * Tenant faults (of tenant `default`) already on when the start-up backup is taken, so that backup and every
   * later one carry them and a restore brings them back: a backup taken while projections lagged, or with a run row
   * a crash left `running`. Clearing `hash-drift` or `broken-ordering` copies rows back from that same backup, so
   * it does not undo them. @defaultValue none
   */
  faultsInBackups?: TenantFaultName[];
  /** How long a (re)start takes before the API accepts connections. @defaultValue 0 */
  bootDelayMs?: number;
  /** Bearer token of the control API. @defaultValue random */
  controlToken?: string;
  /** Added to every API answer. @defaultValue 0 */
  latencyMs?: number;
  /** Latency the `slow` fault adds on top of `latencyMs`. @defaultValue 1500 */
  slowLatencyMs?: number;
  /** Pause before each batch of a replay run, so drills and tests can watch a run in `running`. @defaultValue 0 */
  replayBatchDelayMs?: number;
  /**
   * How long every replay run stays `running` before its first batch, as on a big or busy deployment where even a
   * catch_up with nothing to do takes seconds. @defaultValue 0
   */
  replayDurationMs?: number;
  /**
   * The clock behind every timestamp the simulator writes (events' `recorded_at`, run rows, cursors, digests,
   * failures, workflows, backups, release installs) and every duration it serves (boot delay, latency, replay
   * durations and batch pauses, rate-limit windows); tests pass a `ManualClock`. Projector polls and retries stay
   * on real timers. @defaultValue the real clock
   */
  clock?: SimClock;
  /** Live projector poll interval (`projection_poll_interval_ms`). @defaultValue 1000 */
  pollIntervalMs?: number;
  /** `deployment_env` reported by healthz. @defaultValue `prod` */
  deploymentEnv?: string;
}

export interface SimulatorHandle {
  /** Base URL of the DecisionGraph API, `http://127.0.0.1:<port>`. */
  url: string;
  /** Base URL of the control API (faults, host actions). */
  controlUrl: string;
  controlToken: string;
  /** DecisionGraph's database, for SQL probes. */
  databaseUrl: string;
  known: { traceId: string; workflowId: string | null; tenantId: string };
  /** Switches a fault on (for `opts.tenantId`, tenant faults only); a fault already on there stays as it is. */
  inject(fault: FaultName, opts?: FaultOptions): Promise<void>;
  /**
   * Switches a fault off: in `opts.tenantId` when given, else wherever it is on. Without `fault`, every fault
   * (of that tenant, when given).
   */
  clear(fault?: FaultName, opts?: FaultOptions): Promise<void>;
  /** How often each host action ran: restart, stop, start, switch_release, restore_postgres, ... */
  hostActionCounts(): Record<string, number>;
  /** Every host-action request the control API received, in order, with its key and what became of its answer. */
  hostActionRequests(): HostActionRequest[];
  /** Every boot, replay run and host action so far, start and end on the simulator's clock: the waits it imposed. */
  imposedWaits(): ImposedWait[];
  /** Stops both servers and drops the database if the simulator created it. */
  close(): Promise<void>;
}
