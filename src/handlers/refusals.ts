import type { Logger } from '../logger.js';
import { codeSpan, userText } from '../slack/slack-text.js';

/** A refusal as it is recorded: who tried what, on which run, and the code that says why. */
export interface RefusalRecord {
  readonly userId: string;
  /** `recover`, `abort`, `decide`, `approve`, `retry`… */
  readonly action: string;
  readonly code: string;
  readonly runId?: string;
  readonly stepId?: string;
  readonly channelId?: string;
}

/**
 * Every refusal is logged with its code (never the text the person typed). The engine records nothing for a
 * command it refuses, so this log line is the record.
 */
export function recordRefusal(logger: Logger, record: RefusalRecord): void {
  logger.info({ refusal: record }, 'request refused');
}

/** The engine's and the job layer's refusal as one line for the person who was refused (escaped). */
export function refusalText(code: string, message: string, runId?: string): string {
  const run = runId ? ` ${codeSpan(runId, 80)}` : '';
  switch (code) {
    case 'run_active':
      return `:no_entry: Not started: ${userText(message, 400)}. Follow it in its thread, or see \`/dg status\`.`;
    case 'unknown_run':
      return `:no_entry: There is no run${run}.`;
    case 'busy':
      return `:hourglass: Run${run} is changing right now; try again in a moment.`;
    case 'unavailable':
      return `:warning: The bot could not read or write its run log (Redis); nothing was changed. Try again shortly.`;
    case 'already_decided':
      return `:no_entry: Too late: ${userText(message, 400)}.`;
    case 'channel_not_allowed':
      return ':no_entry: Recovery runs are not started or operated from this channel.';
    case 'wrong_channel':
      return `:no_entry: Run${run} is operated from its own thread, in another channel; act on it there.`;
    default:
      return `:no_entry: Not done: ${userText(message, 600)} (${codeSpan(code, 40)}).`;
  }
}
