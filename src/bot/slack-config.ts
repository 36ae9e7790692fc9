import { type Config, slackProblems } from '../config/env.js';
import { ConfigInvalidError } from '../errors.js';
import type { SlackCredentials } from './app.js';

/**
 * The Slack values the front end cannot run without (see `slackProblems`; `main` checks them together with the
 * rest of the environment). The rest of the bot runs without them, so the environment schema leaves them optional.
 */
export function requireSlackCredentials(config: Config): SlackCredentials {
  const { botToken, signingSecret, appToken, apiUrl } = config.slack;
  const problems = slackProblems(config.slack);
  if (problems.length > 0 || botToken === undefined || signingSecret === undefined) {
    throw new ConfigInvalidError(problems);
  }
  return { botToken, signingSecret, ...(appToken ? { appToken } : {}), ...(apiUrl ? { apiUrl } : {}) };
}
