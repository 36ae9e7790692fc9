import type { HostActionName } from '../../config/recovery-config.js';
import type {
  BackupArtifact,
  HostActionMeasurement,
  HostFailure,
  ListBackupsMeasurement,
  PreserveMeasurement,
} from '../../runbook/measurements.js';
import { type HostActionResult, runHostAction } from '../host-actions/index.js';
import type { ExecutorContext } from './context.js';
import { ExecutorParamsInvalidError } from './errors.js';
import type { StepParams } from './params.js';

/** The step parameters a host action takes; `run_id` comes from the context, the rest is for the judges. */
const HOST_PARAMS = ['artifact', 'release'] as const;

function hostParams(executor: string, params: StepParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of HOST_PARAMS) {
    const value = params[name];
    if (value === undefined || value === null || value === '') continue;
    if (typeof value !== 'string') throw new ExecutorParamsInvalidError(executor, name, 'must be a string');
    out[name] = value;
  }
  return out;
}

function joinTail(parts: readonly (string | undefined)[]): string {
  return parts.filter((p): p is string => p !== undefined && p !== '').join('\n');
}

/** The host-action layer's verdict, so a failure an exit code or status cannot show still fails the step. */
function failureOf(result: HostActionResult): { failure?: HostFailure } {
  return result.error ? { failure: { code: result.error.code, message: result.error.message } } : {};
}

/** A host action's result as the judges read it. */
export function hostMeasurementOf(result: HostActionResult): HostActionMeasurement {
  switch (result.by) {
    case 'manual':
      return { mode: 'manual', instructions: result.evidence.instructions };
    case 'command': {
      const e = result.evidence;
      // A command that could not start, or printed a backup list that does not parse, has no exit code to tell:
      // its error message joins the output the judge shows.
      const unexplained = result.error && (e.exitCode === 0 || (e.exitCode === null && e.signal === null));
      return {
        mode: 'command',
        argv: e.argv,
        exitCode: e.exitCode,
        signal: e.signal,
        timedOut: result.status === 'timeout',
        durationMs: e.durationMs,
        outputTail: joinTail([e.stdoutTail, e.stderrTail, unexplained ? result.error?.message : undefined]),
        ...failureOf(result),
      };
    }
    case 'http': {
      const e = result.evidence;
      return {
        mode: 'http',
        method: e.method,
        url: e.url,
        status: e.status,
        timedOut: result.status === 'timeout',
        durationMs: e.durationMs,
        bodyTail: e.bodyTail,
        ...(result.error ? { error: result.error.message } : {}),
        ...failureOf(result),
      };
    }
  }
}

function artifactsOf(result: HostActionResult): BackupArtifact[] | undefined {
  return result.output?.backups?.map((b) => ({
    id: b.id,
    path: b.path,
    created_at: b.createdAt,
    size_bytes: b.sizeBytes,
    label: b.label ?? '',
    ...(b.lastLogSeq !== undefined ? { last_log_seq: b.lastLogSeq } : {}),
  }));
}

/**
 * Runs one configured host action, under the step attempt's idempotency key when the context has one (a
 * redelivered job repeats it, a new attempt does not). Parameter values a person typed are checked by the
 * host-action layer before anything runs (and refused with its own typed errors); cancelling the step throws
 * `HostActionAbortedError`, because what happened on the host is then unknown.
 */
export async function hostAction(
  action: HostActionName,
  params: StepParams,
  ctx: ExecutorContext,
): Promise<HostActionResult> {
  return runHostAction(action, ctx.recovery, hostParams(`host.${action}`, params), {
    runId: ctx.runId,
    ...(ctx.idempotencyKey ? { idempotencyKey: ctx.idempotencyKey } : {}),
    ...(ctx.signal ? { signal: ctx.signal } : {}),
    logger: ctx.logger,
  });
}

export function hostExecutor(action: Exclude<HostActionName, 'list_backups' | 'preserve_database'>) {
  return async (params: StepParams, ctx: ExecutorContext): Promise<HostActionMeasurement> =>
    hostMeasurementOf(await hostAction(action, params, ctx));
}

/** `list_backups`: the action's outcome plus the artifacts it reported (none when manual or unparseable). */
export async function hostListBackups(params: StepParams, ctx: ExecutorContext): Promise<ListBackupsMeasurement> {
  const result = await hostAction('list_backups', params, ctx);
  const artifacts = artifactsOf(result);
  return { ...hostMeasurementOf(result), ...(artifacts ? { artifacts } : {}) };
}

/** `preserve_database`: the action's outcome plus the copy it named (its id or path), when it named one. */
export async function hostPreserveDatabase(params: StepParams, ctx: ExecutorContext): Promise<PreserveMeasurement> {
  const result = await hostAction('preserve_database', params, ctx);
  const preserved = result.output?.preserved;
  return { ...hostMeasurementOf(result), ...(preserved ? { preserved: { ...preserved } } : {}) };
}
