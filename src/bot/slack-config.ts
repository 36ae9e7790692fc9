import type { Config } from '../config/env.js';
import { ConfigInvalidError } from '../errors.js';
import type { SlackCredentials } from './app.js';

/**
 * The Slack values the front end cannot run without. The rest of the bot (workers, the terminal) runs without
 * them, so the environment schema leaves them optional and this check names what is missing, never a value.
 */
export function requireSlackCredentials(config: Config): SlackCredentials {
  const { botToken, signingSecret, appToken, apiUrl } = config.slack;
  const problems: string[] = [];
  if (botToken === undefined) problems.push('SLACK_BOT_TOKEN: is required to run the Slack front end (xoxb-…)');
  else if (!botToken.startsWith('xoxb-')) problems.push('SLACK_BOT_TOKEN: must be a bot token (xoxb-…)');
  if (signingSecret === undefined) {
    problems.push("SLACK_SIGNING_SECRET: is required to run the Slack front end (the app's signing secret)");
  }
  if (appToken !== undefined && !appToken.startsWith('xapp-')) {
    problems.push('SLACK_APP_TOKEN: must be an app-level token (xapp-…) with connections:write');
  }
  if (problems.length > 0 || botToken === undefined || signingSecret === undefined) {
    throw new ConfigInvalidError([...problems, 'start with --workers-only to run the job workers without Slack']);
  }
  return { botToken, signingSecret, ...(appToken ? { appToken } : {}), ...(apiUrl ? { apiUrl } : {}) };
}
