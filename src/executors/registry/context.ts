import type pg from 'pg';
import type { Dispatcher } from 'undici';
import type { Config } from '../../config/env.js';
import type { RecoveryConfig } from '../../config/recovery-config.js';
import { type Logger, lazyChild } from '../../logger.js';
import {
  type CallBudget,
  createDgAgent,
  type DgCallObserver,
  DgHttpClient,
  type DgHttpTimeouts,
  RateBudget,
} from '../dg-http/index.js';
import { createProbePool, type ProbePoolOptions } from '../dg-sql/index.js';
import { guardReadOnlyRole } from './role-guard.js';

/** Wall clock of the executors (stuck-run thresholds, call timestamps); injected so tests can pin it. */
export type Clock = () => Date;

/** Everything one executor call may touch, for one step attempt of one run. */
export interface ExecutorContext {
  /** DecisionGraph's API, sending the run's tenant as `x-tenant-id`. */
  readonly dg: DgHttpClient;
  /** DecisionGraph's Postgres through the read-only probe pool. */
  readonly sql: pg.Pool;
  readonly recovery: RecoveryConfig;
  readonly runId: string;
  readonly tenantId: string;
  /**
   * The step attempt's key (the engine's `ExecutorCall.idempotencyKey`): host actions send it, so a receiver
   * recognises a redelivered job of the same attempt. `undefined` outside a step (status probes, triage).
   */
  readonly idempotencyKey: string | undefined;
  /** A child logger carrying the run id (never tokens, bodies or config). */
  readonly logger: Logger;
  /** Aborts the step: HTTP calls end as aborted timeouts, a running host command is killed. */
  readonly signal: AbortSignal | undefined;
  readonly clock: Clock;
  /** The known trace and workflow of the deployment, used when a step's parameters name none. */
  readonly known: { readonly traceId: string; readonly workflowId: string | undefined };
}

/** What the executors are built from; each piece can be replaced in tests. */
export interface ExecutorDeps {
  readonly logger: Logger;
  /** @defaultValue `() => new Date()` */
  readonly clock?: Clock;
  /** Dispatcher shared by the per-tenant clients; the caller closes it. @defaultValue an own agent, closed on `close()` */
  readonly dispatcher?: Dispatcher;
  /** @defaultValue DecisionGraph client defaults (connect 3 s, headers 10 s, body 30 s) */
  readonly dgTimeouts?: Partial<DgHttpTimeouts>;
  /**
   * Budget shared by every tenant's client, mirroring DecisionGraph's limiter.
   * @defaultValue a fresh {@link RateBudget} with DecisionGraph's default limits
   */
  readonly rateBudget?: CallBudget | null;
  /** Told of every DecisionGraph call (metrics). @defaultValue none */
  readonly onDgCall?: DgCallObserver;
  /** Probe pool to use; the caller closes it. @defaultValue an own pool on `DG_DATABASE_URL`, closed on `close()` */
  readonly sqlPool?: pg.Pool;
  /** Options for the own probe pool. @defaultValue the probe pool's defaults */
  readonly sqlPoolOptions?: Omit<ProbePoolOptions, 'connectionString' | 'logger'>;
  /**
   * Checks the probe role once, at the first connection that succeeds, and makes every SQL probe refuse with
   * `UnsafeDatabaseRoleError` if the role can write to DecisionGraph's tables (safety rule 1). Only tests that
   * probe a database as its superuser turn it off.
   * @defaultValue true
   */
  readonly requireReadOnlyRole?: boolean;
}

/** Per step attempt: which run, which tenant, and the signal that cancels it. */
export interface StepScope {
  readonly runId: string;
  /** @defaultValue the configured `DG_TENANT_ID` */
  readonly tenantId?: string;
  /** The engine's key for this step attempt. @defaultValue none: host actions fall back to run id and action */
  readonly idempotencyKey?: string;
  readonly signal?: AbortSignal;
  /** @defaultValue the process logger */
  readonly logger?: Logger;
}

/** Built once per process: hands out a context per step attempt and owns the connections behind them. */
export interface ExecutorContextFactory {
  forStep(scope: StepScope): ExecutorContext;
  /** Closes the connections this factory opened (not injected ones). */
  close(): Promise<void>;
}

/**
 * Builds the executors' connections once per process: one HTTP agent and rate budget shared by a DecisionGraph
 * client per tenant (created on first use), and one read-only probe pool, guarded by the role check unless
 * `requireReadOnlyRole` is false.
 */
export function createExecutorContext(
  config: Config,
  recovery: RecoveryConfig,
  deps: ExecutorDeps,
): ExecutorContextFactory {
  const dg = config.decisionGraph;
  const clock = deps.clock ?? (() => new Date());
  const ownsDispatcher = deps.dispatcher === undefined;
  const dispatcher = deps.dispatcher ?? createDgAgent(deps.dgTimeouts);
  const rateBudget = deps.rateBudget === undefined ? new RateBudget() : deps.rateBudget;
  const ownsPool = deps.sqlPool === undefined;
  const pool =
    deps.sqlPool ?? createProbePool({ ...deps.sqlPoolOptions, connectionString: dg.databaseUrl, logger: deps.logger });
  const sql = deps.requireReadOnlyRole === false ? pool : guardReadOnlyRole(pool, deps.logger);
  const clients = new Map<string, DgHttpClient>();
  let closed = false;

  const clientFor = (tenantId: string): DgHttpClient => {
    let client = clients.get(tenantId);
    if (client === undefined) {
      client = new DgHttpClient({
        baseUrl: dg.baseUrl,
        tenantId,
        apiToken: dg.apiToken,
        adminToken: dg.adminToken,
        dispatcher,
        ...(deps.dgTimeouts ? { timeouts: deps.dgTimeouts } : {}),
        rateBudget,
        ...(deps.onDgCall ? { onCall: deps.onDgCall } : {}),
        now: () => clock().getTime(),
        logger: deps.logger,
      });
      clients.set(tenantId, client);
    }
    return client;
  };

  return {
    forStep(scope) {
      if (closed) throw new Error('the executor context factory is closed');
      const tenantId = scope.tenantId ?? dg.tenantId;
      return {
        dg: clientFor(tenantId),
        sql,
        recovery,
        runId: scope.runId,
        tenantId,
        idempotencyKey: scope.idempotencyKey,
        // A step's own logger already names the run.
        logger: scope.logger ?? lazyChild(deps.logger, { runId: scope.runId }),
        signal: scope.signal,
        clock,
        known: { traceId: dg.knownTraceId, workflowId: dg.knownWorkflowId },
      };
    },
    async close() {
      if (closed) return;
      closed = true;
      await Promise.all([...clients.values()].map((c) => c.close()));
      clients.clear();
      if (ownsDispatcher) await dispatcher.close();
      if (ownsPool) await pool.end();
    },
  };
}
