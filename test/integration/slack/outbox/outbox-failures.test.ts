import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../../src/errors.js';
import { createSlackOutbox, type OutboxMessageStatus, type SlackOutbox } from '../../../../src/slack/outbox/index.js';
import { CHANNEL, headerMessage, outboxHarness, slackClientFor, stepMessage, threadAt } from './fixtures.js';

const h = outboxHarness();

/** Resolves once the run's status satisfies `predicate` (the outbox has seen the failure it is waiting out). */
async function statusUntil(
  outbox: SlackOutbox,
  runId: string,
  predicate: (status: OutboxMessageStatus[]) => boolean,
  timeoutMs = 10_000,
): Promise<OutboxMessageStatus[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await outbox.status(runId);
    if (predicate(status)) return status;
    if (Date.now() > deadline) throw new Error(`status never matched: ${JSON.stringify(status)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('Slack rate limits', () => {
  it('waits out a 429 storm for its Retry-After, loses nothing and keeps the order', async () => {
    const outbox = h.open();
    const runId = 'run-r1';
    h.fake.queueRateLimit('chat.postMessage', 1, 3);
    const started = Date.now();
    await outbox.publish(runId, headerMessage(1));
    for (let step = 1; step <= 5; step++) await outbox.publish(runId, stepMessage(step, 1, step + 1));
    const status = await outbox.drain(runId, 15_000);

    const calls = h.fake.calls('chat.postMessage');
    const limited = calls.filter((c) => c.status === 429);
    expect(limited).toHaveLength(3);
    // The call after each 429 came no sooner than Retry-After allowed.
    for (const hit of limited) {
      const next = calls.find((c) => c.at > hit.at);
      expect(next).toBeDefined();
      expect((next?.at ?? 0) - hit.at).toBeGreaterThanOrEqual(950);
    }
    expect(Date.now() - started).toBeGreaterThanOrEqual(2900);
    expect(calls.filter((c) => c.ok)).toHaveLength(6);
    expect(h.threadTexts(status[0]?.ts ?? '')).toEqual(threadAt(1, 5));
    expect(status.every((s) => s.state === 'delivered')).toBe(true);
  });

  it('waits out a 429 on an update too', async () => {
    const outbox = h.open();
    const runId = 'run-r2';
    await outbox.publish(runId, headerMessage(1));
    await outbox.drain(runId, 10_000);
    h.fake.queueRateLimit('chat.update', 1, 1);
    await outbox.publish(runId, headerMessage(2));
    const status = await outbox.drain(runId, 10_000);
    expect(h.fake.calls('chat.update').map((c) => c.status)).toEqual([429, 200]);
    expect(h.fake.message(CHANNEL, status[0]?.ts ?? '')?.text).toBe('Recovery run: restart (v2)');
  });
});

describe('Slack down', () => {
  it('keeps publishing fast while Slack refuses connections, then catches the thread up in order', async () => {
    const outbox = h.open();
    const runId = 'run-s1';
    await outbox.publish(runId, headerMessage(1));
    await outbox.publish(runId, stepMessage(1, 1, 2));
    await outbox.publish(runId, stepMessage(2, 1, 3));
    const before = await outbox.drain(runId, 10_000);
    const headerTs = before[0]?.ts ?? '';

    await h.fake.goDown('refuse');
    const publishStarted = Date.now();
    await outbox.publish(runId, headerMessage(2));
    await outbox.publish(runId, stepMessage(2, 2, 3));
    for (let step = 3; step <= 5; step++) await outbox.publish(runId, stepMessage(step, 1, step + 1));
    await outbox.publish(runId, headerMessage(3));
    await outbox.publish(runId, stepMessage(3, 2, 4));
    // Publishing only writes to Redis: all eight returned while Slack still refuses (waiting on it would never
    // end), and nothing of what they wrote has gone out.
    expect(h.fake.calls().filter((c) => c.at >= publishStarted && c.ok)).toEqual([]);

    // Several failed attempts while down, each waited out with backoff.
    await statusUntil(outbox, runId, () => h.logLines().filter((l) => l.msg === 'delivery postponed').length >= 3);
    const during = await statusUntil(outbox, runId, (s) => s.some((m) => m.lastError === 'request_failed'));
    expect(during.filter((m) => m.state === 'pending').map((m) => m.key)).toEqual([
      'header',
      'step-2',
      'step-3',
      'step-4',
      'step-5',
    ]);

    await h.fake.goUp();
    const after = await outbox.drain(runId, 10_000);
    expect(after.every((s) => s.state === 'delivered')).toBe(true);
    expect(h.threadTexts(headerTs)).toEqual([
      'Recovery run: restart (v3)',
      'Step 1: v1',
      'Step 2: v2',
      'Step 3: v2',
      'Step 4: v1',
      'Step 5: v1',
    ]);
    // Each message posted once; the header went straight from v1 to v3.
    expect(h.fake.calls('chat.postMessage').filter((c) => c.ok)).toHaveLength(6);
    const headerUpdates = h.fake.calls('chat.update').filter((c) => c.ok && c.params.ts === headerTs);
    expect(headerUpdates).toHaveLength(1);
    // Replies caught up in order: each posted after the previous one.
    const replyTs = h.fake
      .thread(CHANNEL, headerTs)
      .slice(1)
      .map((m) => m.ts);
    expect([...replyTs].sort()).toEqual(replyTs);
    expect(h.fake.unexpectedCalls()).toEqual([]);
  });

  it('retries 5xx answers with backoff until Slack answers again', async () => {
    const outbox = h.open();
    const runId = 'run-s2';
    h.fake.queueHttpError('chat.postMessage', 503, 2);
    h.fake.queueHttpError('chat.postMessage', 500, 1);
    await outbox.publish(runId, headerMessage(1));
    await outbox.publish(runId, stepMessage(1, 1, 2));
    const status = await outbox.drain(runId, 10_000);
    expect(h.fake.calls('chat.postMessage').map((c) => c.status)).toEqual([503, 503, 500, 200, 200]);
    expect(h.threadTexts(status[0]?.ts ?? '')).toEqual(threadAt(1, 1));
    const postponed = h.logLines().filter((l) => l.msg === 'delivery postponed');
    expect(postponed.map((l) => l.code)).toEqual(['http_503', 'http_503', 'http_500']);
    // Exponential: each wait at least as long as the previous one's lower bound.
    const waits = postponed.map((l) => Number(l.waitMs));
    expect(waits[2]).toBeGreaterThan(waits[0] ?? 0);
  });
});

describe('permanent refusals', () => {
  it('records a message Slack refuses for good and delivers the rest', async () => {
    const outbox = h.open();
    const runId = 'run-p1';
    await outbox.publish(runId, headerMessage(1));
    await outbox.publish(runId, stepMessage(1, 1, 2));
    await outbox.drain(runId, 10_000);

    h.fake.queueError('chat.postMessage', 'not_in_channel');
    await outbox.publish(runId, { ...headerMessage(1, 3), key: 'alert', channel: 'C0ELSEWHERE', text: 'Heads-up' });
    await outbox.publish(runId, stepMessage(2, 1, 4));
    const status = await outbox.drain(runId, 10_000);

    const alert = status.find((s) => s.key === 'alert');
    expect(alert).toMatchObject({ state: 'failed', lastError: 'not_in_channel', ts: undefined, deliveredVersion: 0 });
    expect(status.find((s) => s.key === 'step-2')?.state).toBe('delivered');
    expect(h.fake.calls('chat.postMessage').filter((c) => c.error === 'not_in_channel')).toHaveLength(1);
    const logged = h.logLines().find((l) => l.msg === 'Slack refused the message; recorded as a failed delivery');
    expect(logged).toMatchObject({ key: 'alert', code: 'not_in_channel', runId });

    // A newer version of the refused message is tried again.
    await outbox.publish(runId, { ...headerMessage(2, 5), key: 'alert', channel: 'C0ELSEWHERE', text: 'Heads-up 2' });
    const retried = await outbox.drain(runId, 10_000);
    expect(retried.find((s) => s.key === 'alert')).toMatchObject({ state: 'delivered', desiredVersion: 2 });
  });

  it('records replies whose thread parent was refused, without calling Slack for them', async () => {
    const outbox = h.open();
    const runId = 'run-p2';
    h.fake.queueError('chat.postMessage', 'channel_not_found');
    await outbox.publish(runId, headerMessage(1));
    await outbox.publish(runId, stepMessage(1, 1, 2));
    await outbox.publish(runId, stepMessage(2, 1, 3));
    const status = await outbox.drain(runId, 10_000);
    expect(status.map((s) => [s.key, s.state, s.lastError])).toEqual([
      ['header', 'failed', 'channel_not_found'],
      ['step-1', 'failed', 'parent_failed'],
      ['step-2', 'failed', 'parent_failed'],
    ]);
    expect(h.fake.calls('chat.postMessage')).toHaveLength(1);
  });

  it('falls back to text only once when Slack refuses the blocks', async () => {
    const outbox = h.open();
    const runId = 'run-p3';
    await outbox.publish(runId, headerMessage(1));
    await outbox.drain(runId, 10_000);
    h.fake.queueError('chat.postMessage', 'invalid_blocks');
    await outbox.publish(runId, stepMessage(1, 1, 2));
    let status = await outbox.drain(runId, 10_000);

    const step = status.find((s) => s.key === 'step-1');
    expect(step).toMatchObject({ state: 'delivered', textOnly: true, lastError: 'invalid_blocks' });
    const posted = h.fake.message(CHANNEL, step?.ts ?? '');
    expect(posted?.text).toBe('Step 1: v1');
    expect(posted?.blocks).toBeUndefined();
    expect(h.fake.calls('chat.postMessage').map((c) => c.error ?? 'ok')).toEqual(['ok', 'invalid_blocks', 'ok']);

    // An update refused for length is sent as text only too; refused again, it is recorded as failed.
    h.fake.queueError('chat.update', 'msg_too_long', 2);
    await outbox.publish(runId, stepMessage(1, 2, 2));
    status = await outbox.drain(runId, 10_000);
    expect(status.find((s) => s.key === 'step-1')).toMatchObject({
      state: 'failed',
      lastError: 'msg_too_long',
      deliveredVersion: 1,
      desiredVersion: 2,
    });
    expect(h.fake.calls('chat.update').map((c) => c.params.blocks)).toEqual([
      [{ type: 'section', text: { type: 'mrkdwn', text: '*Step 1* v2' } }],
      [],
    ]);
  });

  it("names the message's step in its log lines, without the step counting as content", async () => {
    const outbox = h.open();
    const runId = 'run-p5';
    await outbox.publish(runId, headerMessage(1));
    await outbox.drain(runId, 10_000);
    h.fake.queueError('chat.postMessage', 'invalid_blocks');
    expect((await outbox.publish(runId, { ...stepMessage(1, 1, 2), stepId: 'check_healthz' })).outcome).toBe('changed');
    await outbox.drain(runId, 10_000);
    const logged = h
      .logLines()
      .find((l) => l.msg === 'Slack refused the blocks; posting the text alone' && l.runId === runId);
    expect(logged).toMatchObject({ runId, key: 'step-1', stepId: 'check_healthz', code: 'invalid_blocks' });
    // The same content without the step id is the same message: Slack is not asked to update it.
    expect((await outbox.publish(runId, stepMessage(1, 1, 3))).outcome).toBe('unchanged');
    await expect(outbox.publish(runId, { ...stepMessage(1, 1, 3), stepId: 'Bad-Id' })).rejects.toMatchObject({
      code: ErrorCode.OutboxMessageInvalid,
    });
  });

  it('refuses a malformed message at publish, by code', async () => {
    const outbox = h.open({ worker: false });
    await expect(outbox.publish('run-p4', { ...stepMessage(1, 1, 1), parentKey: 'step-1' })).rejects.toMatchObject({
      code: ErrorCode.OutboxMessageInvalid,
    });
    await expect(outbox.publish('bad run id', headerMessage(1))).rejects.toMatchObject({
      code: ErrorCode.OutboxMessageInvalid,
    });
    await expect(outbox.publish('run-p4', { ...headerMessage(1), order: Number.NaN })).rejects.toMatchObject({
      code: ErrorCode.OutboxMessageInvalid,
    });
    expect(await outbox.status('run-p4')).toEqual([]);
  });

  it('fails publish by code, and fast, when Redis does not answer', async () => {
    const outbox = createSlackOutbox({
      // Nothing listens on port 1.
      redis: { host: '127.0.0.1', port: 1, maxRetriesPerRequest: 0, enableOfflineQueue: false, lazyConnect: true },
      prefix: h.prefix,
      queueName: h.queueName,
      slack: slackClientFor(h.fake),
      logger: h.logger,
      worker: false,
    });
    h.closeAfter(outbox);
    const started = Date.now();
    await expect(outbox.publish('run-p6', headerMessage(1))).rejects.toMatchObject({
      code: ErrorCode.OutboxUnavailable,
    });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(h.fake.calls()).toEqual([]);
  });

  it('names the keys still pending when a drain times out', async () => {
    const outbox = h.open();
    await h.fake.goDown('503');
    await outbox.publish('run-p5', headerMessage(1));
    await expect(outbox.drain('run-p5', 300)).rejects.toMatchObject({
      code: ErrorCode.OutboxDrainTimeout,
      pendingKeys: ['header'],
    });
    await h.fake.goUp();
  });
});
