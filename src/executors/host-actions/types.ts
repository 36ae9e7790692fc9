import type { HostActionName, HttpMethod } from '../../config/recovery-config.js';
import type { ErrorCode } from '../../errors.js';

/**
 * `done`: the action ran and succeeded. `failed`: it ran (or tried to) and did not succeed. `timeout`: it exceeded
 * `timeout_s` and was stopped. `manual_required`: a person must do it and click Done.
 */
export type HostActionStatus = 'done' | 'failed' | 'timeout' | 'manual_required';

/** Why a host action did not succeed, with a code from the registry. */
export interface HostActionFailure {
  readonly code: ErrorCode;
  readonly message: string;
}

export interface CommandEvidence {
  /** The argv after substitution, secrets scrubbed. */
  readonly argv: readonly string[];
  readonly startedAt: string;
  readonly durationMs: number;
  readonly timeoutSeconds: number;
  /** `null` when the process was killed by a signal or never started. */
  readonly exitCode: number | null;
  readonly signal: string | null;
  /** The signal the bot sent to the process group on timeout or abort; `null` when it ended on its own. */
  readonly killedWith: 'SIGTERM' | 'SIGKILL' | null;
  /** The last {@link OUTPUT_TAIL_BYTES} bytes of output, secrets scrubbed. */
  readonly stdoutTail: string;
  readonly stderrTail: string;
  /** Total bytes written, so a reader sees how much the tail left out. */
  readonly stdoutBytes: number;
  readonly stderrBytes: number;
}

export interface HttpEvidence {
  readonly method: HttpMethod;
  /** The URL after substitution, secrets scrubbed. Header values are never recorded. */
  readonly url: string;
  readonly idempotencyKey: string;
  readonly startedAt: string;
  readonly durationMs: number;
  readonly timeoutSeconds: number;
  /** `null` when no response arrived. */
  readonly status: number | null;
  /** The last {@link OUTPUT_TAIL_BYTES} bytes of the response body, secrets scrubbed. */
  readonly bodyTail: string;
  readonly bodyBytes: number;
}

export interface ManualEvidence {
  /** What the operator is asked to do, parameters filled in. */
  readonly instructions: string;
}

/** One artifact `list_backups` reported. */
export interface Backup {
  readonly id: string;
  readonly path: string;
  /** ISO 8601 as reported. */
  readonly createdAt: string;
  readonly sizeBytes: number;
  readonly label: string | null;
  /** The last event-log position (log_seq) the backup holds, when the listing says. */
  readonly lastLogSeq?: number;
}

/** The copy of the broken database `preserve_database` made, as it reported it. */
export interface PreservedCopy {
  readonly id?: string;
  readonly path?: string;
}

export interface HostActionOutput {
  /** Only for `list_backups`, in the order the action reported them. */
  readonly backups?: readonly Backup[];
  /** Only for `preserve_database`, when its output named the copy. */
  readonly preserved?: PreservedCopy;
}

interface ResultBase {
  readonly action: HostActionName;
  readonly status: HostActionStatus;
  readonly output?: HostActionOutput;
  /** Present exactly when `status` is `failed` or `timeout`. */
  readonly error?: HostActionFailure;
}

/** Plain JSON: safe to store as an event, put in job data or render in Slack. */
export type HostActionResult =
  | (ResultBase & { readonly by: 'command'; readonly evidence: CommandEvidence })
  | (ResultBase & { readonly by: 'http'; readonly evidence: HttpEvidence })
  | (ResultBase & { readonly by: 'manual'; readonly evidence: ManualEvidence });

/** How much output is kept as evidence. */
export const OUTPUT_TAIL_BYTES = 4096;

/** How much output `list_backups` may produce; all of it is parsed, so it is capped. */
export const BACKUP_LIST_MAX_BYTES = 1024 * 1024;
