import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createBotApp, SLACK_EVENTS_PATH } from '../../../src/bot/app.js';
import { requireSlackCredentials } from '../../../src/bot/slack-config.js';
import { stateLocation, stateLocationNote } from '../../../src/triage/index.js';

const stateNote = (config: Parameters<typeof stateLocation>[0]) => stateLocationNote(stateLocation(config));

import { loadConfig } from '../../../src/config/env.js';
import { ConfigInvalidError, ErrorCode } from '../../../src/errors.js';
import { createLogger } from '../../../src/logger.js';
import { depsWith, fakeService } from '../handlers/fakes.js';

const BASE = {
  DG_BASE_URL: 'http://127.0.0.1:4100',
  DG_API_TOKEN: 'reader-token-abc',
  DG_DATABASE_URL: 'postgres://ro:pw@dg-db:5432/dg',
  DG_KNOWN_TRACE_ID: 'trace-1',
  DATABASE_URL: 'postgres://bot:pw@bot-db:5432/bot',
};

describe('manifest.yml', () => {
  const manifest = parse(readFileSync(new URL('../../../manifest.yml', import.meta.url), 'utf8'));

  it('declares /dg with a usage hint, interactivity on /slack/events, and the scopes the bot uses', () => {
    const command = manifest.features.slash_commands[0];
    expect(command.command).toBe('/dg');
    expect(command.usage_hint.length).toBeGreaterThan(0);
    expect(command.usage_hint.length).toBeLessThanOrEqual(1000);
    expect(command.url.endsWith(SLACK_EVENTS_PATH)).toBe(true);
    expect(command.should_escape).toBe(false);
    expect(manifest.settings.interactivity).toMatchObject({ is_enabled: true });
    expect(manifest.settings.interactivity.request_url.endsWith(SLACK_EVENTS_PATH)).toBe(true);
    expect(manifest.oauth_config.scopes.bot).toEqual(
      expect.arrayContaining([
        'commands',
        'chat:write',
        'channels:history',
        'groups:history',
        'metadata.message:read',
        'files:write',
        'usergroups:read',
      ]),
    );
    expect(manifest.settings.socket_mode_enabled).toBe(false);
    expect(manifest.display_information.name.length).toBeLessThanOrEqual(35);
  });
});

describe('Slack configuration of the front end', () => {
  it('names every missing Slack value, never a value', () => {
    const config = loadConfig({ ...BASE, SLACK_APP_TOKEN: 'xoxb-wrong-kind-secret' });
    let error: unknown;
    try {
      requireSlackCredentials(config);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigInvalidError);
    expect((error as ConfigInvalidError).code).toBe(ErrorCode.ConfigInvalid);
    const problems = (error as ConfigInvalidError).problems.join('\n');
    expect(problems).toContain('SLACK_BOT_TOKEN: is required');
    expect(problems).toContain('SLACK_SIGNING_SECRET: is required');
    expect(problems).toContain('SLACK_APP_TOKEN: must be an app-level token');
    expect(problems).toContain('--workers-only');
    expect(problems).not.toContain('xoxb-wrong-kind-secret');
  });

  it('uses Socket Mode when an app token is set and the HTTP receiver otherwise', () => {
    const { deps } = depsWith(fakeService().service);
    const logger = createLogger({ level: 'silent' });
    const http = createBotApp({ slack: { botToken: 'xoxb-1', signingSecret: 's' }, deps, logger });
    expect(http.mode).toBe('http');
    const socket = createBotApp({
      slack: { botToken: 'xoxb-1', signingSecret: 's', appToken: 'xapp-1' },
      deps,
      logger,
    });
    expect(socket.mode).toBe('socket');
  });

  it('says where the run state lives, by host only, and warns when the journal shares DecisionGraph’s server', () => {
    const apart = stateNote(loadConfig(BASE));
    expect(apart).toContain('bot-db:5432');
    expect(apart).not.toContain('pw');
    expect(apart).not.toContain('Warning');
    const shared = stateNote(loadConfig({ ...BASE, DATABASE_URL: 'postgres://bot:pw@dg-db:5432/bot' }));
    expect(shared).toContain("shares a server with DecisionGraph's database");
  });
});
