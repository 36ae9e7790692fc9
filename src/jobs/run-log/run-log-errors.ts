import { DgError, ErrorCode } from '../../errors.js';
import type { RunSlotScope } from './keys.js';

/** Another writer appended first; `currentSeq` is the run's last seq now. */
export class RunLogConflictError extends DgError {
  readonly code = ErrorCode.RunLogConflict;
  constructor(
    readonly runId: string,
    readonly expectedSeq: number,
    readonly currentSeq: number,
  ) {
    super(`run ${runId}: expected to append event ${expectedSeq}, but the log is at ${currentSeq}`);
  }
}

/** A run of the same kind is active; `holderRunId` is the one to point the operator at. */
export class RunSlotTakenError extends DgError {
  readonly code = ErrorCode.RunSlotTaken;
  constructor(
    readonly scope: RunSlotScope,
    readonly tenantId: string | undefined,
    readonly holderRunId: string,
  ) {
    super(
      scope === 'node'
        ? `a node-wide run is already active: ${holderRunId}`
        : `a run for tenant ${tenantId} is already active: ${holderRunId}`,
    );
  }
}

export class RunLogUnavailableError extends DgError {
  readonly code = ErrorCode.RunLogUnavailable;
  constructor(message: string, options?: { cause?: unknown }) {
    super(`run log unavailable: ${message}`, options);
  }
}

export class JournalDrainTimeoutError extends DgError {
  readonly code = ErrorCode.JournalDrainTimeout;
  constructor(readonly pendingRunIds: readonly string[]) {
    super(`the journal is still behind for ${pendingRunIds.length} run(s): ${pendingRunIds.slice(0, 10).join(', ')}`);
  }
}

export type RunLogError = RunLogConflictError | RunSlotTakenError | RunLogUnavailableError | JournalDrainTimeoutError;

export function toRunLogError(error: unknown): DgError {
  if (error instanceof DgError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new RunLogUnavailableError(message, { cause: error });
}
