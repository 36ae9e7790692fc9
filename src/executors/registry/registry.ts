import { DgError, ErrorCode } from '../../errors.js';
import type { EvidenceSource } from '../../runbook/events.js';
import {
  type ExecutorMeasurements,
  hostActionOf,
  type JobExecutorName,
  type Measurement,
} from '../../runbook/measurements.js';
import type { StepOutcome } from '../../runbook/step-runner.js';
import { gateChecklist } from './checklist.js';
import type { ExecutorContext } from './context.js';
import {
  dgGraphRead,
  dgHealthz,
  dgProjectionHealth,
  dgReplayPoll,
  dgReplayStart,
  dgTraceRead,
  dgWorkflowInbox,
  dgWorkflowRead,
} from './dg-executors.js';
import { ExecutorUnknownError } from './errors.js';
import { hostExecutor, hostListBackups, hostPreserveDatabase } from './host-executors.js';
import type { StepParams } from './params.js';
import { dgReplayInventory } from './replay-inventory.js';
import { smokeChecks } from './smoke-checks.js';
import { sqlCursorAhead, sqlIntegrity, sqlParity, sqlProjectionFailures, sqlReach } from './sql-executors.js';

export type Executor<K extends JobExecutorName> = (
  params: StepParams,
  ctx: ExecutorContext,
) => Promise<ExecutorMeasurements[K]>;

/**
 * One function per executor the scenarios may name. Typed against the engine's catalogue, so an executor added
 * there and missing here fails to compile.
 */
export const EXECUTORS: { readonly [K in JobExecutorName]: Executor<K> } = Object.freeze({
  'dg.healthz': dgHealthz,
  'dg.projection_health': dgProjectionHealth,
  'dg.trace_read': dgTraceRead,
  'dg.graph_read': dgGraphRead,
  'dg.workflow_inbox': dgWorkflowInbox,
  'dg.workflow_read': dgWorkflowRead,
  'dg.replay_start': dgReplayStart,
  'dg.replay_poll': dgReplayPoll,
  'dg.replay_inventory': dgReplayInventory,
  'sql.reach': sqlReach,
  'sql.integrity': sqlIntegrity,
  'sql.parity': sqlParity,
  'sql.projection_failures': sqlProjectionFailures,
  'sql.cursor_ahead': sqlCursorAhead,
  'host.restart_runtime': hostExecutor('restart_runtime'),
  'host.stop_runtime': hostExecutor('stop_runtime'),
  'host.start_runtime': hostExecutor('start_runtime'),
  'host.restore_postgres': hostExecutor('restore_postgres'),
  'host.stop_writes': hostExecutor('stop_writes'),
  'host.preserve_database': hostPreserveDatabase,
  'host.list_backups': hostListBackups,
  'host.restore_backup': hostExecutor('restore_backup'),
  'host.switch_release': hostExecutor('switch_release'),
  'smoke.checks': smokeChecks,
  'gate.checklist': gateChecklist,
});

export function isJobExecutorName(name: string): name is JobExecutorName {
  return Object.hasOwn(EXECUTORS, name);
}

/**
 * Runs the executor a step names and returns its measurement. What DecisionGraph, its Postgres or a host action
 * did (unreachable, timed out, refused, off-contract) is in the measurement, never thrown. It throws only when the
 * step cannot run or its outcome cannot be known:
 * - `ExecutorUnknownError` (unknown name, or `manual`), `ExecutorParamsInvalidError`, and the host-action
 *   parameter errors: nothing ran;
 * - `HostActionAbortedError`: `ctx.signal` cancelled a host action midway;
 * - `UnsafeDatabaseRoleError`: a SQL probe found that the role in `DG_DATABASE_URL` can write (safety rule 1).
 * A SQL probe that cannot reach or query Postgres returns its failure as the measurement's `error`.
 */
export function executeStep<K extends JobExecutorName>(
  executorName: K,
  params: StepParams,
  ctx: ExecutorContext,
): Promise<ExecutorMeasurements[K]>;
export function executeStep(executorName: string, params: StepParams, ctx: ExecutorContext): Promise<Measurement>;
export async function executeStep(
  executorName: string,
  params: StepParams,
  ctx: ExecutorContext,
): Promise<Measurement> {
  if (!isJobExecutorName(executorName)) throw new ExecutorUnknownError(executorName);
  const executor = EXECUTORS[executorName] as Executor<JobExecutorName>;
  return executor(params, ctx);
}

/** A thrown executor error as a step failure: its code, message, and whether trying again later can help. */
export interface ExecutorFailure {
  readonly code: ErrorCode;
  readonly message: string;
  readonly transient: boolean;
}

const TRANSIENT_THROWN: ReadonlySet<string> = new Set([ErrorCode.SqlUnreachable, ErrorCode.SqlTimeout]);

/**
 * What the job layer records when {@link executeStep} throws one of the project's errors: Postgres unreachable or
 * timing out is transient; a refused query, bad parameters, an unknown executor or an aborted host action are
 * not (an aborted action may have half run, so a person or a re-check decides). `undefined` for anything else,
 * which is a bug and should surface as one.
 */
export function executorFailureOf(err: unknown): ExecutorFailure | undefined {
  if (!(err instanceof DgError)) return undefined;
  return { code: err.code, message: err.message, transient: TRANSIENT_THROWN.has(err.code) };
}

function failureSource(executorName: string): EvidenceSource {
  const action = hostActionOf(executorName);
  if (action !== undefined) return { kind: 'host', path: action };
  return executorName.startsWith('sql.') ? { kind: 'sql' } : { kind: 'engine' };
}

/**
 * {@link executeStep} as the engine's step outcome: the measurement, or the project error it threw as a failure
 * with its code and transience (see {@link executorFailureOf}). Anything else is a bug and is rethrown. A job
 * cancelled because its worker is shutting down should not record the outcome: the redelivered job re-probes.
 */
export async function measureStep(
  executorName: string,
  params: StepParams,
  ctx: ExecutorContext,
): Promise<StepOutcome> {
  try {
    return { kind: 'measured', measurement: await executeStep(executorName, params, ctx) };
  } catch (err) {
    const failure = executorFailureOf(err);
    if (failure === undefined) throw err;
    return { kind: 'error', error: failure, source: failureSource(executorName) };
  }
}
