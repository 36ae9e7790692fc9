import { webApi } from '@slack/bolt';
import { Queue } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { assertWithinLimits } from '../../../../src/slack/blocks/validate.js';
import { OUTBOX_METADATA_EVENT, type OutboxSlackClient } from '../../../../src/slack/outbox/index.js';
import { CHANNEL, headerMessage, outboxHarness, slackClientFor, stepMessage, threadAt } from './fixtures.js';

const h = outboxHarness();

function postsOf(key: string) {
  return h.fake
    .calls('chat.postMessage')
    .filter((c) => (c.params.metadata as { event_payload?: { key?: string } } | undefined)?.event_payload?.key === key);
}

describe('posting a run thread', () => {
  it('posts the header and five steps once each, in order, as one thread', async () => {
    const outbox = h.open();
    const runId = 'run-a1';
    await outbox.publish(runId, headerMessage(1));
    for (let step = 1; step <= 5; step++) await outbox.publish(runId, stepMessage(step, 1, step + 1));

    const status = await outbox.drain(runId, 10_000);

    expect(status.map((s) => s.key)).toEqual(['header', 'step-1', 'step-2', 'step-3', 'step-4', 'step-5']);
    expect(status.every((s) => s.state === 'delivered' && s.deliveredVersion === 1 && s.ts !== undefined)).toBe(true);
    const headerTs = status[0]?.ts ?? '';
    expect(h.threadTexts(headerTs)).toEqual(threadAt(1, 5));
    expect(h.fake.calls('chat.postMessage')).toHaveLength(6);
    expect(h.fake.calls('chat.update')).toHaveLength(0);
    // Replies name the header's ts, never another reply's.
    for (const call of h.fake.calls('chat.postMessage').slice(1)) expect(call.params.thread_ts).toBe(headerTs);
    // Every post carries the ids that let a lost post be found again, and nothing else.
    expect(h.fake.calls('chat.postMessage')[1]?.params.metadata).toEqual({
      event_type: OUTBOX_METADATA_EVENT,
      event_payload: { run_id: runId, key: 'step-1' },
    });
    expect(h.fake.unexpectedCalls()).toEqual([]);
  });

  it('posts a parent published after its reply before the reply', async () => {
    const outbox = h.open();
    const runId = 'run-a2';
    // The reply comes first with a smaller order; the thread still needs its parent first.
    await outbox.publish(runId, stepMessage(1, 1, 1));
    await outbox.publish(runId, headerMessage(1, 2));
    const status = await outbox.drain(runId, 10_000);
    const header = status.find((s) => s.key === 'header');
    expect(h.threadTexts(header?.ts ?? '')).toEqual(threadAt(1, 1));
    expect(h.fake.unexpectedCalls()).toEqual([]);
  });

  it('collapses many updates of one message into one post, or one update per delivery', async () => {
    const runId = 'run-b1';
    // A publishing process without a worker, so nothing is delivered until a worker starts.
    const publisher = h.open({ worker: false });
    await publisher.publish(runId, headerMessage(1));
    for (let version = 1; version <= 10; version++) {
      await publisher.publish(runId, headerMessage(version, 1));
      for (let step = 1; step <= 3; step++) await publisher.publish(runId, stepMessage(step, version, step + 1));
    }
    expect((await publisher.status(runId)).map((s) => [s.key, s.desiredVersion, s.state])).toEqual([
      ['header', 10, 'pending'],
      ['step-1', 10, 'pending'],
      ['step-2', 10, 'pending'],
      ['step-3', 10, 'pending'],
    ]);

    const worker = h.open();
    const status = await worker.drain(runId, 10_000);
    expect(h.fake.calls('chat.postMessage')).toHaveLength(4);
    expect(h.fake.calls('chat.update')).toHaveLength(0);
    const headerTs = status[0]?.ts ?? '';
    expect(h.threadTexts(headerTs)).toEqual(threadAt(10, 3));

    // Five more versions published back to back while the worker runs: at most five updates, ending at the last.
    for (let version = 11; version <= 15; version++) await worker.publish(runId, stepMessage(2, version, 3));
    await worker.drain(runId, 10_000);
    const updates = h.fake.calls('chat.update');
    expect(updates.length).toBeGreaterThanOrEqual(1);
    expect(updates.length).toBeLessThanOrEqual(5);
    expect(h.threadTexts(headerTs)[2]).toBe('Step 2: v15');
    expect(postsOf('step-2')).toHaveLength(1);

    // The same content again, or an older one, changes nothing in Slack.
    const before = h.fake.calls().length;
    expect(await worker.publish(runId, stepMessage(2, 15, 3))).toEqual({ outcome: 'unchanged', version: 15 });
    expect(await worker.publish(runId, stepMessage(2, 3, 2))).toEqual({ outcome: 'stale', version: 15 });
    await worker.drain(runId, 10_000);
    expect(h.fake.calls().length).toBe(before);
    expect(h.threadTexts(headerTs)[2]).toBe('Step 2: v15');
  });

  it('does not post twice when delivery jobs for the run are duplicated', async () => {
    const runId = 'run-c1';
    const outbox = h.open({ concurrency: 4 });
    const extraConnection = h.redis.duplicate();
    const extra = new Queue(h.queueName, { connection: extraConnection, prefix: h.prefix.slice(0, -1) });
    try {
      await outbox.publish(runId, headerMessage(1));
      for (let step = 1; step <= 5; step++) await outbox.publish(runId, stepMessage(step, 1, step + 1));
      // Jobs for the same run outside the deduplication, as a stalled-and-retaken or re-added job would be.
      await Promise.all([
        extra.add('deliver-run', { runId }),
        extra.add('deliver-run', { runId }),
        extra.add('deliver-run', { runId }),
        outbox.flush(runId),
      ]);
      const status = await outbox.drain(runId, 10_000);
      await extra.add('deliver-run', { runId });
      await outbox.drain(runId, 10_000);
      // Let the extra jobs finish before counting: one still running could post after the count and go unseen.
      const deadline = Date.now() + 10_000;
      while ((await extra.getJobCountByTypes('wait', 'active', 'delayed')) > 0) {
        if (Date.now() > deadline) throw new Error('the extra delivery jobs did not finish');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }

      expect(h.fake.calls('chat.postMessage')).toHaveLength(6);
      for (const key of ['header', 'step-1', 'step-2', 'step-3', 'step-4', 'step-5'])
        expect(postsOf(key)).toHaveLength(1);
      expect(h.threadTexts(status[0]?.ts ?? '')).toHaveLength(6);
    } finally {
      await extra.close();
      await extraConnection.quit();
    }
  });

  it('re-queues a run whose delivery job was lost when a worker starts', async () => {
    const runId = 'run-c2';
    const publisher = h.open({ worker: false });
    await publisher.publish(runId, headerMessage(1));
    await publisher.publish(runId, stepMessage(1, 1, 2));
    // The job vanishes (a crash between the write and the enqueue, a flushed queue): only the outbox rows remain.
    const connection = h.redis.duplicate();
    const queue = new Queue(h.queueName, { connection, prefix: h.prefix.slice(0, -1) });
    await queue.obliterate({ force: true });
    await queue.close();
    await connection.quit();

    h.open();
    await h.fake.waitForCall('chat.postMessage', (c) => c.params.text === 'Step 1: v1', 10_000);
    expect(h.fake.calls('chat.postMessage').map((c) => c.params.text)).toEqual(threadAt(1, 1));
  });

  it('finds a reply whose answer was lost instead of posting it again', async () => {
    const runId = 'run-d1';
    const real = slackClientFor(h.fake);
    let lost = 0;
    // Slack takes the post, but the answer never arrives: as if the connection dropped after the request.
    const flaky: OutboxSlackClient = {
      chat: {
        async postMessage(args: webApi.ChatPostMessageArguments) {
          const response = await real.chat.postMessage(args);
          const key = (args.metadata as { event_payload?: { key?: string } } | undefined)?.event_payload?.key;
          if (key === 'step-2' && lost === 0) {
            lost += 1;
            throw new webApi.WebAPIRequestError(new Error('socket hang up'));
          }
          return response;
        },
        update: (args) => real.chat.update(args),
      },
      conversations: { replies: (args) => real.conversations.replies(args) },
    };
    const outbox = h.open({ slack: flaky });
    await outbox.publish(runId, headerMessage(1));
    for (let step = 1; step <= 3; step++) await outbox.publish(runId, stepMessage(step, 1, step + 1));
    const status = await outbox.drain(runId, 10_000);

    expect(lost).toBe(1);
    expect(postsOf('step-2')).toHaveLength(1);
    expect(h.fake.calls('conversations.replies').length).toBeGreaterThanOrEqual(1);
    expect(status.find((s) => s.key === 'step-2')?.ts).toBe(h.fake.thread(CHANNEL, status[0]?.ts ?? '')[2]?.ts);
    expect(h.threadTexts(status[0]?.ts ?? '')).toEqual(threadAt(1, 3));
    expect(h.fake.unexpectedCalls()).toEqual([]);
  });
});

describe('what Slack is sent', () => {
  it('cuts an oversized message to Block Kit limits instead of having it rejected', async () => {
    const runId = 'run-e1';
    const outbox = h.open();
    await outbox.publish(runId, headerMessage(1));
    const blocks: unknown[] = [
      { type: 'header', text: { type: 'plain_text', text: `Evidence ${'x'.repeat(300)}` } },
      { type: 'section', text: { type: 'mrkdwn', text: `*Output* ${'y'.repeat(5000)}` } },
      ...Array.from({ length: 60 }, (_, i) => ({ type: 'context', elements: [{ type: 'mrkdwn', text: `line ${i}` }] })),
    ];
    await outbox.publish(runId, { ...stepMessage(1, 1, 2), text: 'z'.repeat(5000), blocks });
    const status = await outbox.drain(runId, 10_000);

    const step = status.find((s) => s.key === 'step-1');
    expect(step?.state).toBe('delivered');
    expect(step?.textOnly).toBe(false);
    const posted = h.fake.message(CHANNEL, step?.ts ?? '');
    expect(assertWithinLimits({ text: posted?.text, blocks: posted?.blocks })).toEqual([]);
    expect(posted?.blocks).toHaveLength(50);
    const section = posted?.blocks?.[1] as { text: { text: string } };
    expect(section.text.text.endsWith('…')).toBe(true);
    expect(section.text.text.startsWith('*Output* yyy')).toBe(true);
    expect(posted?.text?.length).toBeLessThanOrEqual(4000);
    expect(h.fake.calls('chat.postMessage').every((c) => c.ok)).toBe(true);
    expect(h.fake.unexpectedCalls()).toEqual([]);
    const warning = h.logLines().find((l) => l.msg === 'message broke Block Kit limits; cut to fit');
    expect(warning?.key).toBe('step-1');
    expect(JSON.stringify(warning?.violations)).toContain('/blocks/1/text/text');
  });

  it('broadcasts the replies that ask for it, and only those', async () => {
    const runId = 'run-f1';
    const outbox = h.open();
    await outbox.publish(runId, headerMessage(1));
    await outbox.publish(runId, stepMessage(1, 1, 2));
    await outbox.publish(runId, stepMessage(2, 1, 3, { text: 'Step 2 failed', broadcast: true }));
    await outbox.publish(runId, {
      key: 'summary',
      channel: CHANNEL,
      parentKey: 'header',
      text: 'Run finished: passed',
      blocks: [],
      broadcast: true,
      order: 4,
    });
    const status = await outbox.drain(runId, 10_000);

    expect(h.fake.channelMessages(CHANNEL).map((m) => m.text)).toEqual([
      'Recovery run: restart (v1)',
      'Step 2 failed',
      'Run finished: passed',
    ]);
    const summary = h.fake.message(CHANNEL, status.find((s) => s.key === 'summary')?.ts ?? '');
    expect(summary?.reply_broadcast).toBe(true);
    expect(summary?.thread_ts).toBe(status[0]?.ts);
    expect(status.find((s) => s.key === 'step-2')?.broadcast).toBe(true);
  });
});
