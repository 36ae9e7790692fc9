import { DgError, ErrorCode } from '../errors.js';
import { formatDuration } from '../runbook/time-format.js';

/**
 * A diagnose sweep did not finish: its deadline passed or the caller cancelled it. Cut-off calls read like a node
 * that does not answer, so no diagnosis is made from them.
 */
export class DiagnoseCutOffError extends DgError {
  readonly code = ErrorCode.DiagnoseCutOff;
  constructor(
    readonly reason: 'deadline' | 'cancelled',
    readonly timeoutMs: number,
  ) {
    super(
      reason === 'deadline'
        ? `the read-only probes did not all answer within ${formatDuration(timeoutMs)}, so no scenario is recommended; ` +
            'DecisionGraph or its Postgres may be slow or hanging, and diagnose can be run again'
        : 'diagnose was cancelled before every probe answered',
    );
  }
}
