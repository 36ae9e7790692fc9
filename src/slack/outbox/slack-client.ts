import { webApi } from '@slack/bolt';

export interface OutboxSlackClientOptions {
  /** The bot token (`xoxb-…`). */
  readonly token: string;
  /** Web API base URL, for a local fake. @defaultValue Slack's own (`https://slack.com/api/`) */
  readonly slackApiUrl?: string;
  /** Per-request timeout. @defaultValue 10000 */
  readonly timeoutMs?: number;
}

/**
 * A `WebClient` for the outbox: no retries and a 429 thrown at once, since the outbox reschedules the run itself;
 * a finite timeout, since none would let a hung connection hold a delivery forever (docs/internals.md#slack-outbox).
 */
export function createOutboxSlackClient(options: OutboxSlackClientOptions): webApi.WebClient {
  return new webApi.WebClient(options.token, {
    ...(options.slackApiUrl !== undefined ? { slackApiUrl: options.slackApiUrl } : {}),
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    timeout: options.timeoutMs ?? 10_000,
    // The library would print every failed call to the console; the outbox logs failures itself, with their codes.
    logLevel: webApi.LogLevel.ERROR,
  });
}
