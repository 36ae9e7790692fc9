import {
  type CommandAction,
  type HostActionName,
  type HttpAction,
  isHostActionName,
  type ManualAction,
  type RecoveryConfig,
} from '../../config/recovery-config.js';
import { ErrorCode } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { formatDuration } from '../../runbook/time-format.js';
import { parseBackupList } from './backup-list.js';
import { HostActionAbortedError, UnknownHostActionError } from './errors.js';
import { scrubText } from './output-tail.js';
import { checkParameters, type HostActionParameters, substitute, substituteJson } from './parameters.js';
import { parsePreservedCopy } from './preserved-copy.js';
import { runCommand } from './run-command.js';
import { runHttp } from './run-http.js';
import type { CommandEvidence, HostActionFailure, HostActionOutput, HostActionResult, HttpEvidence } from './types.js';

export interface RunHostActionOptions {
  /** The run the action belongs to: `{run_id}`, and part of the default idempotency key. */
  readonly runId: string;
  /**
   * Sent as the webhook's `Idempotency-Key` and given to a command as `DG_RECOVERY_IDEMPOTENCY_KEY`. The job layer
   * passes one per step attempt, so a redelivered job repeats the key (the receiver answers without acting again)
   * and a deliberate retry does not. 1 to 255 visible ASCII characters.
   * @defaultValue `${runId}-${action}`
   */
  readonly idempotencyKey?: string;
  /** Aborting kills a running command's process group or cancels the request; the call then throws. */
  readonly signal?: AbortSignal;
  /** Receives one line when the action starts and one when it ends; never argv, URLs, headers or output. */
  readonly logger?: Logger;
  /** Time between SIGTERM and SIGKILL for a command that overran. @defaultValue 5000 */
  readonly killGraceMs?: number;
}

const DEFAULT_KILL_GRACE_MS = 5000;

// Visible ASCII only: the key becomes a header value and an environment variable as it is.
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

function idempotencyKeyOf(action: HostActionName, opts: RunHostActionOptions): string {
  const key = opts.idempotencyKey ?? `${opts.runId}-${action}`;
  // A key comes from the job layer, never from a person: a bad one is a bug, refused before anything runs.
  if (!IDEMPOTENCY_KEY.test(key)) throw new TypeError('idempotencyKey must be 1 to 255 visible ASCII characters');
  return key;
}

/**
 * Performs one host action as the recovery config says: a command (no shell), a webhook, or a manual step.
 * Everything that can be checked is checked before anything runs: the action name, every parameter value, and
 * every placeholder the action uses.
 *
 * @param params - `artifact` and `release` as the step supplies them; `run_id` comes from `opts.runId`.
 * @throws UnknownHostActionError, HostActionParameterInvalidError, HostActionParameterMissingError (nothing ran)
 * @throws TypeError when `opts.idempotencyKey` is not a usable key (nothing ran)
 * @throws HostActionAbortedError when `opts.signal` aborts
 */
export async function runHostAction(
  action: string,
  config: RecoveryConfig,
  params: Readonly<Record<string, string>>,
  opts: RunHostActionOptions,
): Promise<HostActionResult> {
  if (!isHostActionName(action)) throw new UnknownHostActionError(action);
  const values = checkParameters(params, opts.runId);
  const idempotencyKey = idempotencyKeyOf(action, opts);
  const configured = config.actions[action];
  const log = opts.logger?.child({ hostAction: action, by: configured.type });

  if (configured.type === 'manual') return manual(action, configured, values);

  // Substitution happens here, before the abort check and the start line, so a bad template never half-runs.
  let run: () => Promise<Executed<CommandEvidence> | Executed<HttpEvidence>>;
  if (configured.type === 'command') {
    const argv = prepareCommand(action, configured, values);
    run = () => executeCommand(action, configured, argv, idempotencyKey, config, opts);
  } else {
    const prepared = prepareHttp(action, configured, values, idempotencyKey);
    run = () => executeHttp(action, configured, prepared, opts);
  }
  if (opts.signal?.aborted) throw new HostActionAbortedError(action, null);

  log?.info('host action started');
  const result = await run();
  log?.info(
    {
      status: result.status,
      durationMs: result.evidence.durationMs,
      ...(result.error ? { errorCode: result.error.code } : {}),
    },
    'host action finished',
  );
  return result.result;
}

function manual(action: HostActionName, configured: ManualAction, values: HostActionParameters): HostActionResult {
  const instructions = substitute(configured.instructions, values, { action, placement: 'instructions' });
  return { action, status: 'manual_required', by: 'manual', evidence: { instructions } };
}

interface PreparedHttp {
  readonly url: string;
  readonly body: string | undefined;
  readonly idempotencyKey: string;
}

export function prepareCommand(
  action: HostActionName,
  configured: CommandAction,
  values: HostActionParameters,
): string[] {
  return configured.argv.map((arg) => substitute(arg, values, { action, placement: 'argv' }));
}

export function prepareHttp(
  action: HostActionName,
  configured: HttpAction,
  values: HostActionParameters,
  idempotencyKey: string,
): PreparedHttp {
  const url = substitute(configured.url, values, { action, placement: 'url' });
  const body =
    configured.body === undefined ? undefined : JSON.stringify(substituteJson(configured.body, values, action));
  return { url, body, idempotencyKey };
}

interface Executed<E> {
  readonly result: HostActionResult;
  readonly status: HostActionResult['status'];
  readonly evidence: E;
  readonly error: HostActionFailure | undefined;
}

async function executeCommand(
  action: HostActionName,
  configured: CommandAction,
  argv: string[],
  idempotencyKey: string,
  config: RecoveryConfig,
  opts: RunHostActionOptions,
): Promise<Executed<CommandEvidence>> {
  const outcome = await runCommand({
    argv,
    timeoutMs: configured.timeoutSeconds * 1000,
    env: {
      ...config.commandEnv,
      DG_RECOVERY_RUN_ID: opts.runId,
      DG_RECOVERY_ACTION: action,
      DG_RECOVERY_IDEMPOTENCY_KEY: idempotencyKey,
    },
    killGraceMs: opts.killGraceMs ?? DEFAULT_KILL_GRACE_MS,
    keepStdout: action === 'list_backups',
    signal: opts.signal,
  });
  const evidence: CommandEvidence = {
    argv: argv.map((a) => scrubText(a)),
    startedAt: outcome.startedAt.toISOString(),
    durationMs: outcome.durationMs,
    timeoutSeconds: configured.timeoutSeconds,
    exitCode: outcome.exitCode,
    signal: outcome.signal,
    killedWith: outcome.killedWith,
    stdoutTail: outcome.stdout.tail(),
    stderrTail: outcome.stderr.tail(),
    stdoutBytes: outcome.stdout.total,
    stderrBytes: outcome.stderr.total,
  };
  if (outcome.aborted) throw new HostActionAbortedError(action, evidence);

  let error: HostActionFailure | undefined;
  let output: HostActionOutput | undefined;
  if (outcome.timedOut) {
    error = {
      code: ErrorCode.HostActionTimeout,
      message: `${action} did not finish within ${formatDuration(configured.timeoutSeconds * 1000)}; its process group got ${outcome.killedWith ?? 'no signal (already gone)'}`,
    };
  } else if (outcome.spawnError !== null) {
    error = { code: ErrorCode.HostActionFailed, message: `${action}: ${scrubText(outcome.spawnError)}` };
  } else if (outcome.exitCode !== 0) {
    const how = outcome.exitCode === null ? `was killed by ${outcome.signal}` : `exited with code ${outcome.exitCode}`;
    error = { code: ErrorCode.HostActionFailed, message: `${action} ${how}` };
  } else if (action === 'list_backups') {
    ({ error, output } = backupsFrom(outcome.stdout.full(), 'stdout'));
  } else if (action === 'preserve_database') {
    output = preservedFrom(evidence.stdoutTail);
  }
  const status = outcome.timedOut ? 'timeout' : error ? 'failed' : 'done';
  const result: HostActionResult = {
    action,
    status,
    by: 'command',
    evidence,
    ...(output ? { output } : {}),
    ...(error ? { error } : {}),
  };
  return { result, status, evidence, error };
}

async function executeHttp(
  action: HostActionName,
  configured: HttpAction,
  prepared: PreparedHttp,
  opts: RunHostActionOptions,
): Promise<Executed<HttpEvidence>> {
  const headers: Record<string, string> = {
    'user-agent': 'dg-recovery',
    ...configured.headers,
    'idempotency-key': prepared.idempotencyKey,
  };
  if (prepared.body !== undefined) headers['content-type'] = 'application/json';
  const outcome = await runHttp({
    method: configured.method,
    url: prepared.url,
    headers,
    body: prepared.body,
    timeoutMs: configured.timeoutSeconds * 1000,
    keepBody: action === 'list_backups',
    signal: opts.signal,
  });
  const secrets = configured.secretValues;
  const evidence: HttpEvidence = {
    method: configured.method,
    url: scrubText(prepared.url, secrets),
    idempotencyKey: prepared.idempotencyKey,
    startedAt: outcome.startedAt.toISOString(),
    durationMs: outcome.durationMs,
    timeoutSeconds: configured.timeoutSeconds,
    status: outcome.status,
    bodyTail: outcome.body.tail(secrets),
    bodyBytes: outcome.body.total,
  };
  if (outcome.failure?.kind === 'aborted') throw new HostActionAbortedError(action, evidence);

  let error: HostActionFailure | undefined;
  let output: HostActionOutput | undefined;
  const failure = outcome.failure;
  if (failure?.kind === 'not_sent') {
    error = {
      code: ErrorCode.HostActionUnreachable,
      message: `${action}: webhook could not be reached (${failure.detail}); nothing was sent`,
    };
  } else if (failure?.kind === 'no_answer') {
    // The request left: whatever happened on the host is unknown, so the code says which way the answer was lost.
    error = {
      code: failure.timedOut ? ErrorCode.HostActionTimeout : ErrorCode.HostActionNoAnswer,
      message: `${action}: sent; no answer ${failure.timedOut ? `within ${formatDuration(configured.timeoutSeconds * 1000)}` : 'before the connection closed'} (${failure.detail}); the outcome on the host is unknown`,
    };
  } else if (outcome.status === null || outcome.status < 200 || outcome.status > 299) {
    error = { code: ErrorCode.HostActionFailed, message: `${action}: webhook answered ${outcome.status}` };
  } else if (action === 'list_backups') {
    ({ error, output } = backupsFrom(outcome.body.full(), 'response body'));
  } else if (action === 'preserve_database') {
    output = preservedFrom(evidence.bodyTail);
  }
  const status = failure?.kind === 'no_answer' && failure.timedOut ? 'timeout' : error ? 'failed' : 'done';
  const result: HostActionResult = {
    action,
    status,
    by: 'http',
    evidence,
    ...(output ? { output } : {}),
    ...(error ? { error } : {}),
  };
  return { result, status, evidence, error };
}

function preservedFrom(text: string): HostActionOutput | undefined {
  const preserved = parsePreservedCopy(text);
  return preserved ? { preserved } : undefined;
}

function backupsFrom(
  text: string | null,
  source: string,
): { error: HostActionFailure | undefined; output: HostActionOutput | undefined } {
  if (text === null) {
    return {
      error: { code: ErrorCode.HostActionBadOutput, message: `list_backups: ${source} is larger than 1 MiB` },
      output: undefined,
    };
  }
  const parsed = parseBackupList(text);
  if (!parsed.ok) {
    return {
      error: {
        code: ErrorCode.HostActionBadOutput,
        message: `list_backups: line ${parsed.line} of the ${source} ${parsed.problem}`,
      },
      output: undefined,
    };
  }
  return { error: undefined, output: { backups: parsed.backups } };
}
