import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBot } from '../../../src/bot/bot.js';
import { loadConfig } from '../../../src/config/env.js';
import { defaultRecoveryConfig } from '../../../src/config/recovery-config.js';
import { ErrorCode } from '../../../src/errors.js';
import { createLogger } from '../../../src/logger.js';
import { FakeSlack } from '../../helpers/fake-slack.js';
import { createTempDatabase, type TempDatabase } from '../../helpers/pg.js';
import { deleteKeysUnder } from '../../helpers/redis-keys.js';

// The front end asks Slack about its bot token before it starts: a token Slack refuses stops start-up with a
// line that says so, instead of a bot that acknowledges every request and can never post.

let fake: FakeSlack;
let db: TempDatabase;
const PREFIX = `dgtoken-${randomBytes(4).toString('hex')}:`;

beforeAll(async () => {
  [fake, db] = await Promise.all([FakeSlack.start(), createTempDatabase('dgtoken')]);
});

afterAll(async () => {
  const redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: 3 });
  await deleteKeysUnder(redis, PREFIX).finally(() => redis.disconnect());
  await fake?.close();
  await db?.drop();
});

function configWith(token: string) {
  return loadConfig({
    DG_BASE_URL: 'http://127.0.0.1:1',
    DG_API_TOKEN: 'reader-token',
    DG_DATABASE_URL: 'postgres://dg_ro@127.0.0.1:1/decisiongraph',
    DG_KNOWN_TRACE_ID: 'trace-1',
    DATABASE_URL: db.url,
    SLACK_BOT_TOKEN: token,
    SLACK_SIGNING_SECRET: 'signing-secret',
    SLACK_API_URL: fake.apiUrl,
  });
}

function start(token: string) {
  return startBot(configWith(token), defaultRecoveryConfig(), {
    logger: createLogger({ level: 'silent' }),
    role: 'front-end',
    port: 0,
    prefix: PREFIX,
  });
}

describe('the bot token at start-up', () => {
  it('stops start-up when Slack refuses the token, and posts nothing', async () => {
    const err = await start('xoxb-not-the-token').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ErrorCode.SlackAuthFailed, slackCode: 'invalid_auth' });
    expect((err as Error).message).toContain('SLACK_BOT_TOKEN');
    expect(fake.calls('auth.test').map((c) => c.error)).toEqual(['invalid_auth']);
    expect(fake.calls().filter((c) => c.endpoint !== 'auth.test')).toEqual([]);
  });

  it('stops as well for a token Slack has revoked', async () => {
    fake.queueError('auth.test', 'token_revoked');
    await expect(start(fake.token)).rejects.toMatchObject({ slackCode: 'token_revoked' });
  });

  it('starts with a token Slack accepts, or when Slack cannot answer just now', async () => {
    for (const slackDown of [false, true]) {
      if (slackDown) fake.queueHttpError('auth.test', 503);
      const bot = await start(fake.token);
      try {
        expect(bot.port).toBeGreaterThan(0);
        expect(fake.calls('auth.test').at(-1)?.status).toBe(slackDown ? 503 : 200);
      } finally {
        await bot.stop();
      }
    }
  });
});
