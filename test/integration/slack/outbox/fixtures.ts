import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { afterEach, beforeEach } from 'vitest';
import { createLogger, type Logger } from '../../../../src/logger.js';
import {
  createOutboxSlackClient,
  createSlackOutbox,
  type OutboxMessage,
  type OutboxSlackClient,
  type SlackOutbox,
  type SlackOutboxOptions,
} from '../../../../src/slack/outbox/index.js';
import { FakeSlack } from '../../../helpers/fake-slack.js';
import { deleteKeysUnder } from '../../../helpers/redis-keys.js';

export const CHANNEL = 'C0INCIDENT';
export const REDIS_URL = 'redis://127.0.0.1:6379';

/** A prefix and queue of the test's own, so parallel files never see each other's keys or jobs. */
export function isolation(): { prefix: string; queueName: string } {
  const id = randomBytes(5).toString('hex');
  return { prefix: `dgrtest-${id}:`, queueName: `slack-outbox-${id}` };
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

/** The texts of a thread whose header and steps 1 to `steps` were all posted at `version`, as a person reads it. */
export function threadAt(version: number, steps: number): string[] {
  return [
    `Recovery run: restart (v${version})`,
    ...Array.from({ length: steps }, (_, i) => `Step ${i + 1}: v${version}`),
  ];
}

export function newRedis(): Redis {
  return new Redis(REDIS_URL, { maxRetriesPerRequest: 3 });
}

/** What each test of an outbox file gets: its own fake Slack, Redis keys, queue and log. */
export interface OutboxHarness {
  readonly fake: FakeSlack;
  readonly redis: Redis;
  readonly prefix: string;
  readonly queueName: string;
  readonly logger: Logger;
  /** The log lines written so far, parsed. */
  logLines(): Array<Record<string, unknown>>;
  /** An outbox on the test's Slack and keys (test settings unless overridden), closed after the test. */
  open(overrides?: Partial<SlackOutboxOptions>): SlackOutbox;
  /** Closes an outbox the test built itself after the test. */
  closeAfter(outbox: SlackOutbox): void;
  /** The thread as a person reads it: the parent's text, then each reply's, in order. */
  threadTexts(headerTs: string): Array<string | undefined>;
}

/** Sets up a fresh harness before each test of the calling file and tears it down after. */
export function outboxHarness(): OutboxHarness {
  let current: { fake: FakeSlack; redis: Redis; prefix: string; queueName: string; logger: Logger } | undefined;
  let lines: () => Array<Record<string, unknown>> = () => [];
  const opened: SlackOutbox[] = [];
  const now = () => {
    if (current === undefined) throw new Error('the outbox harness is only there during a test');
    return current;
  };
  beforeEach(async () => {
    const fake = await FakeSlack.start();
    const captured = capturingLogger();
    lines = captured.lines;
    current = { fake, redis: newRedis(), ...isolation(), logger: captured.logger };
  });
  afterEach(async () => {
    const { fake, redis, prefix } = now();
    await Promise.all(opened.splice(0).map((o) => o.close()));
    await deleteKeysUnder(redis, prefix);
    redis.disconnect();
    await fake.close();
    current = undefined;
  });
  return {
    get fake() {
      return now().fake;
    },
    get redis() {
      return now().redis;
    },
    get prefix() {
      return now().prefix;
    },
    get queueName() {
      return now().queueName;
    },
    get logger() {
      return now().logger;
    },
    logLines: () => lines(),
    open(overrides = {}) {
      const outbox = outboxFor(now().fake, now(), overrides);
      opened.push(outbox);
      return outbox;
    },
    closeAfter: (outbox) => {
      opened.push(outbox);
    },
    threadTexts: (headerTs) =>
      now()
        .fake.thread(CHANNEL, headerTs)
        .map((m) => m.text),
  };
}
