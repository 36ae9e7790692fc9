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
 * A `WebClient` for the outbox. Its retries are off and a 429 is thrown at once (`rejectRateLimitedCalls`), because
 * the client's own retrying would pause every call of the process for the whole `Retry-After` and stack under the
 * outbox's retries; the outbox reads `retryAfter` from the error and reschedules the run's delivery instead. Its
 * timeout is finite, because the library's default (none) would hold a delivery forever on a hung connection.
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
