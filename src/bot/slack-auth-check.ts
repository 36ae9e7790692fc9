import { DgError, ErrorCode } from '../errors.js';
import type { Logger } from '../logger.js';
import { classifySlackFailure } from '../slack/outbox/slack-failures.js';

/** Slack refused the bot token at start-up; `slackCode` is Slack's own error (`invalid_auth`, `token_revoked`…). */
export class SlackAuthFailedError extends DgError {
  readonly code = ErrorCode.SlackAuthFailed;
  constructor(
    readonly slackCode: string,
    cause?: unknown,
  ) {
    super(`Slack refused SLACK_BOT_TOKEN (auth.test: ${slackCode}); the Slack front end cannot start`, { cause });
  }
}

/** The part of `WebClient` the check calls. */
export interface AuthTestClient {
  readonly auth: { test(): Promise<{ team?: string; team_id?: string; user_id?: string; bot_id?: string }> };
}

/**
 * Asks Slack who the bot token belongs to before the front end starts. A token Slack refuses stops start-up (the
 * bot would otherwise acknowledge every request and never be able to post); a Slack that cannot be reached just
 * now is logged and start-up goes on, since the outbox waits for Slack anyway.
 */
export async function checkSlackToken(client: AuthTestClient, logger: Logger): Promise<void> {
  try {
    const who = await client.auth.test();
    logger.info({ team: who.team_id, botUserId: who.user_id }, 'Slack accepted the bot token');
  } catch (err) {
    const failure = classifySlackFailure(err);
    if (failure.kind === 'permanent') throw new SlackAuthFailedError(failure.code, err);
    logger.warn({ code: failure.code }, 'could not reach Slack to check the bot token; starting anyway');
  }
}
