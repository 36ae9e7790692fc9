import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import {
  createOutboxSlackClient,
  createSlackOutbox,
  type OutboxMessage,
  type OutboxSlackClient,
  type SlackOutbox,
  type SlackOutboxOptions,
} from '../../../src/jobs/slack-outbox/index.js';
import { createLogger, type Logger } from '../../../src/logger.js';
import type { FakeSlack } from '../../helpers/fake-slack.js';

export const CHANNEL = 'C0INCIDENT';
export const REDIS_URL = 'redis://127.0.0.1:6379';

/** A prefix and queue of the test's own, so parallel files never see each other's keys or jobs. */
export function isolation(): { prefix: string; queueName: string } {
  const id = randomBytes(5).toString('hex');
  return { prefix: `dgrtest-${id}:`, queueName: `slack-outbox-${id}` };
}

/** Removes every key under the prefix (the outbox rows and the BullMQ queue, which shares the prefix). */
export async function deletePrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
}

/** A logger whose JSON lines the test can read. */
export function capturingLogger(): { logger: Logger; lines: () => Array<Record<string, unknown>> } {
  const raw: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, callback) {
      raw.push(...String(chunk).split('\n').filter(Boolean));
      callback();
    },
  });
  return {
    logger: createLogger({ level: 'debug' }, sink),
    lines: () => raw.map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

export function slackClientFor(fake: FakeSlack): OutboxSlackClient {
  return createOutboxSlackClient({ token: fake.token, slackApiUrl: fake.apiUrl, timeoutMs: 3000 });
}

/** Test settings: short backoff and lock waits, no periodic sweep. */
export function outboxFor(
  fake: FakeSlack,
  base: { redis: Redis; prefix: string; queueName: string; logger: Logger },
  overrides: Partial<SlackOutboxOptions> = {},
): SlackOutbox {
  return createSlackOutbox({
    redis: base.redis,
    prefix: base.prefix,
    queueName: base.queueName,
    slack: slackClientFor(fake),
    logger: base.logger,
    backoffBaseMs: 50,
    backoffMaxMs: 400,
    lockRetryMs: 50,
    sweepIntervalMs: 0,
    ...overrides,
  });
}

export function headerMessage(version: number, order = 1): OutboxMessage {
  return {
    key: 'header',
    channel: CHANNEL,
    text: `Recovery run: restart (v${version})`,
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: 'Recovery run: restart' } },
      { type: 'section', text: { type: 'mrkdwn', text: `*State* running, header v${version}` } },
    ],
    order,
  };
}

export function stepMessage(
  step: number,
  version: number,
  order: number,
  extra: Partial<OutboxMessage> = {},
): OutboxMessage {
  return {
    key: `step-${step}`,
    channel: CHANNEL,
    parentKey: 'header',
    text: `Step ${step}: v${version}`,
    blocks: [{ type: 'section', text: { type: 'mrkdwn', text: `*Step ${step}* v${version}` } }],
    order,
    ...extra,
  };
}

export function newRedis(): Redis {
  return new Redis(REDIS_URL, { maxRetriesPerRequest: 3 });
}
