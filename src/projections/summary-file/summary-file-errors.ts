import { DgError, ErrorCode } from '../../errors.js';
import type { SlackFailure } from '../../slack/outbox/slack-failures.js';

/**
 * Slack did not take the incident summary file. `failure` says what it means for a retry, as the outbox reads
 * Slack's failures: wait (`rate_limited`), try again later (`transient`), or give up (`permanent`, `content`).
 */
export class SummaryUploadFailedError extends DgError {
  readonly code = ErrorCode.SummaryUploadFailed;
  constructor(
    /** Which call failed: `getUploadURLExternal`, `upload`, `completeUploadExternal`, `replies`. */
    readonly stage: string,
    readonly failure: SlackFailure,
    cause?: unknown,
  ) {
    super(`the incident summary file was not taken by Slack (${stage}: ${failure.code})`, { cause });
  }
}
