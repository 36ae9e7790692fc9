import { DgError, ErrorCode } from '../../errors.js';

/** A message handed to {@link SlackOutbox.publish} is malformed; `problems` names each field. Nothing was stored. */
export class OutboxMessageInvalidError extends DgError {
  readonly code = ErrorCode.OutboxMessageInvalid;
  constructor(readonly problems: readonly string[]) {
    super(`invalid outbox message: ${problems.join('; ')}`);
  }
}

/**
 * Redis did not answer while storing or reading the outbox. The message may or may not be stored; publishing it
 * again is safe (same content is a no-op, and a stored run is swept into delivery anyway).
 */
export class OutboxUnavailableError extends DgError {
  readonly code = ErrorCode.OutboxUnavailable;
  constructor(operation: string, cause: unknown) {
    super(`the Slack outbox could not ${operation}: Redis did not answer`, { cause });
  }
}

/** A run's messages were not all delivered in their latest version within the time allowed. */
export class OutboxDrainTimeoutError extends DgError {
  readonly code = ErrorCode.OutboxDrainTimeout;
  constructor(
    readonly runId: string,
    readonly pendingKeys: readonly string[],
    timeoutMs: number,
  ) {
    super(
      `run ${runId}: ${pendingKeys.length} Slack message(s) still pending after ${timeoutMs} ms (${pendingKeys.join(', ')})`,
    );
  }
}

export type OutboxError = OutboxMessageInvalidError | OutboxUnavailableError | OutboxDrainTimeoutError;
