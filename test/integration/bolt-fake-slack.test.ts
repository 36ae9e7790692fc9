import { EventEmitter, once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { App, type BlockButtonAction, HTTPReceiver, LogLevel, webApi } from '@slack/bolt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertWithinLimits } from '../../src/slack/blocks/validate.js';
import { userText } from '../../src/slack/slack-text.js';
import { FakeSlack } from '../helpers/fake-slack.js';
import {
  clickButtonPayload,
  interactionFields,
  newTriggerId,
  postSignedForm,
  slashCommandFields,
  viewSubmissionPayload,
} from '../helpers/slack-requests.js';

/**
 * The fake Slack Web API against the real Bolt 5 `App` and `HTTPReceiver`: signed requests in, Web API calls out,
 * the way the bot will run in production.
 */

const SIGNING_SECRET = 'fake-signing-secret';
const CHANNEL = 'C0INCIDENT';

let fake: FakeSlack;
let app: App;
let eventsUrl: string;
/** Command texts that reached the listener, in order. */
const seen: string[] = [];
/** Emits `done` with the error (or undefined) once a command listener has finished its Web API calls. */
const outcomes = new EventEmitter();

beforeAll(async () => {
  fake = await FakeSlack.start();
  app = new App({
    token: fake.token,
    receiver: new HTTPReceiver({ signingSecret: SIGNING_SECRET, logLevel: LogLevel.ERROR }),
    logLevel: LogLevel.ERROR,
    clientOptions: { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 }, rejectRateLimitedCalls: true },
  });

  app.command('/dg', async ({ command, ack, client, respond }) => {
    await ack();
    seen.push(command.text);
    try {
      const parent = await client.chat.postMessage({
        channel: command.channel_id,
        text: `Recovery run for ${command.text}`,
        blocks: [
          { type: 'section', text: { type: 'mrkdwn', text: `*Recovery run* \`${command.text}\`` } },
          {
            type: 'actions',
            block_id: 'decision',
            elements: [
              {
                type: 'button',
                text: { type: 'plain_text', text: 'Approve' },
                action_id: 'dg.test.approve',
                value: 'run-abcdef12|approve',
                style: 'primary',
              },
              {
                type: 'button',
                text: { type: 'plain_text', text: 'Skip…' },
                action_id: 'dg.test.reason',
                value: 'run-abcdef12|skip',
              },
            ],
          },
        ],
      });
      await client.chat.postMessage({
        channel: command.channel_id,
        thread_ts: parent.ts,
        text: 'Step 1 of 8: running',
      });
      await respond({ response_type: 'ephemeral', text: 'Started run-abcdef12' });
      outcomes.emit('done', undefined);
    } catch (error) {
      outcomes.emit('done', error);
    }
  });

  app.action<BlockButtonAction>('dg.test.approve', async ({ ack, body, client }) => {
    await ack();
    await client.chat.update({
      channel: body.channel?.id ?? '',
      ts: body.message?.ts ?? '',
      text: `Approved by <@${body.user.id}>`,
      blocks: [{ type: 'section', text: { type: 'mrkdwn', text: `Approved by <@${body.user.id}>` } }],
    });
  });

  app.action<BlockButtonAction>('dg.test.reason', async ({ ack, body, client }) => {
    await ack();
    await client.views.open({
      trigger_id: body.trigger_id,
      view: {
        type: 'modal',
        callback_id: 'dg.test.reason-modal',
        private_metadata: `${body.channel?.id}|${body.message?.ts}`,
        title: { type: 'plain_text', text: 'Skip this step' },
        submit: { type: 'plain_text', text: 'Skip' },
        blocks: [
          {
            type: 'input',
            block_id: 'reason',
            label: { type: 'plain_text', text: 'Reason' },
            element: { type: 'plain_text_input', action_id: 'value', max_length: 500 },
          },
        ],
      },
    });
  });

  app.view('dg.test.reason-modal', async ({ ack, view, body, client }) => {
    await ack();
    const [channel = '', ts = ''] = view.private_metadata.split('|');
    const reason = view.state.values.reason?.value?.value ?? '';
    await client.chat.postMessage({
      channel,
      thread_ts: ts,
      text: `Skipped by <@${body.user.id}>: ${userText(reason, 500)}`,
    });
  });

  const server = (await app.start(0)) as { address(): AddressInfo | string | null };
  eventsUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`;
});

afterAll(async () => {
  await app?.stop();
  await fake?.close();
});

async function runCommand(text: string, responseUrl = fake.responseUrl()) {
  const done = once(outcomes, 'done');
  const res = await postSignedForm(eventsUrl, SIGNING_SECRET, slashCommandFields({ text, responseUrl }));
  expect(res.status).toBe(200);
  const [error] = (await done) as [unknown];
  return error;
}

function parentOf(commandText: string) {
  const parent = fake.channelMessages(CHANNEL).find((m) => m.text === `Recovery run for ${commandText}`);
  if (!parent) throw new Error(`no message for ${commandText}`);
  return parent;
}

describe('Bolt against the fake Slack', () => {
  it('runs auth.test against the fake when the app starts', async () => {
    await expect(fake.waitForCall('auth.test')).resolves.toMatchObject({ ok: true, token: fake.token });
  });

  it('delivers a signed slash command to the listener, which posts a thread and responds', async () => {
    const responseUrl = fake.responseUrl('cmd-1');
    const error = await runCommand('recover restart', responseUrl);
    expect(error).toBeUndefined();
    expect(seen).toContain('recover restart');

    const parent = parentOf('recover restart');
    expect(fake.thread(CHANNEL, parent.ts).map((m) => m.text)).toEqual([
      'Recovery run for recover restart',
      'Step 1 of 8: running',
    ]);
    expect(fake.responses('cmd-1').map((r) => r.body)).toEqual([
      { response_type: 'ephemeral', text: 'Started run-abcdef12' },
    ]);
    expect(fake.calls('chat.postMessage').find((c) => c.params.text === parent.text)?.params.channel).toBe(CHANNEL);
  });

  it('routes a click on a posted button, the way Slack sends it', async () => {
    await runCommand('recover pg');
    const parent = parentOf('recover pg');
    const click = clickButtonPayload(parent, 'dg.test.approve', { responseUrl: fake.responseUrl() });
    const updated = fake.waitForCall('chat.update', (c) => c.params.ts === parent.ts);
    const res = await postSignedForm(eventsUrl, SIGNING_SECRET, interactionFields(click));
    expect(res.status).toBe(200);
    await updated;
    expect(fake.thread(CHANNEL, parent.ts)[0]?.text).toBe('Approved by <@U0APPROVER>');
  });

  it('opens a reason dialog from a click and takes its submission', async () => {
    await runCommand('recover projections');
    const parent = parentOf('recover projections');
    const triggerId = newTriggerId();
    const opened = fake.waitForCall('views.open', (c) => c.params.trigger_id === triggerId);
    await postSignedForm(
      eventsUrl,
      SIGNING_SECRET,
      interactionFields(clickButtonPayload(parent, 'dg.test.reason', { responseUrl: fake.responseUrl(), triggerId })),
    );
    const openCall = await opened;
    expect(openCall.ok).toBe(true);
    const view = fake.views().find((v) => v.trigger_id === triggerId);
    expect(view?.view).toMatchObject({ callback_id: 'dg.test.reason-modal' });

    const posted = fake.waitForCall(
      'chat.postMessage',
      (c) => c.params.thread_ts === parent.ts && String(c.params.text).startsWith('Skipped'),
    );
    const submission = viewSubmissionPayload({
      viewId: view?.id ?? '',
      callbackId: 'dg.test.reason-modal',
      privateMetadata: `${CHANNEL}|${parent.ts}`,
      values: { reason: { value: '<!channel> stale since 09:00' } },
      view: view?.view ?? {},
    });
    const res = await postSignedForm(eventsUrl, SIGNING_SECRET, interactionFields(submission));
    expect(res.status).toBe(200);
    await posted;
    const thread = fake.thread(CHANNEL, parent.ts);
    expect(thread.at(-1)?.text).toBe('Skipped by <@U0APPROVER>: &lt;!channel&gt; stale since 09:00');
  });

  it('answers 401 to a wrong signature, a stale timestamp or no signature, and runs no listener', async () => {
    const before = { seen: seen.length, posts: fake.calls('chat.postMessage').length };
    const fields = slashCommandFields({ text: 'recover upgrade', responseUrl: fake.responseUrl() });
    const now = Math.floor(Date.now() / 1000);

    expect((await postSignedForm(eventsUrl, 'not-the-secret', fields)).status).toBe(401);
    expect((await postSignedForm(eventsUrl, SIGNING_SECRET, fields, now - 301)).status).toBe(401);
    expect((await postSignedForm(eventsUrl, SIGNING_SECRET, fields, now, { signature: 'v0=00' })).status).toBe(401);
    expect((await postSignedForm(eventsUrl, SIGNING_SECRET, fields, now, { signature: 'v1=abc' })).status).toBe(401);

    // A request just inside the five-minute window is still accepted.
    const done = once(outcomes, 'done');
    expect((await postSignedForm(eventsUrl, SIGNING_SECRET, fields, now - 290)).status).toBe(200);
    await done;
    expect(seen.length).toBe(before.seen + 1);
    expect(fake.calls('chat.postMessage').length).toBe(before.posts + 2);
  });

  it('surfaces a 429 as a rate-limit error carrying retryAfter', async () => {
    fake.queueRateLimit('chat.postMessage', 3);
    const error = await runCommand('recover event-log');
    expect(error).toMatchObject({ code: webApi.ErrorCode.RateLimitedError, retryAfter: 3 });
    expect(fake.calls('chat.postMessage').at(-1)).toMatchObject({ status: 429, ok: false });
  });

  it('keeps every message the app posted within Block Kit limits', () => {
    const messages = fake.allMessages();
    expect(messages.length).toBeGreaterThan(5);
    for (const m of messages) {
      expect(assertWithinLimits({ text: m.text, ...(m.blocks ? { blocks: m.blocks } : {}) })).toEqual([]);
    }
    expect(fake.unexpectedCalls()).toEqual([]);
  });

  it('flags a call to a method outside the allow-list', async () => {
    await expect(app.client.apiCall('chat.scheduleMessage', { channel: CHANNEL, text: 'x' })).rejects.toMatchObject({
      code: webApi.ErrorCode.HTTPError,
      statusCode: 404,
    });
    expect(fake.unexpectedCalls()).toEqual([
      { method: 'POST', path: '/api/chat.scheduleMessage', reason: 'method chat.scheduleMessage is not supported' },
    ]);
  });
});
