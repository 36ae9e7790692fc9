import { webApi } from '@slack/bolt';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeSlack } from '../helpers/fake-slack.js';

const { WebClient, ErrorCode } = webApi;

let fake: FakeSlack;
let client: InstanceType<typeof WebClient>;

beforeAll(async () => {
  fake = await FakeSlack.start();
  client = new WebClient(fake.token, {
    slackApiUrl: fake.apiUrl,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    logLevel: webApi.LogLevel.ERROR,
  });
});

afterEach(() => {
  fake.clearQueued();
});

afterAll(async () => {
  await fake.close();
});

describe('messages and threads', () => {
  it('stores a thread in order, with each message in its latest version', async () => {
    const parent = await client.chat.postMessage({
      channel: 'C1',
      text: 'Run started',
      blocks: [{ type: 'section', text: { type: 'mrkdwn', text: '*Run* started' } }],
      metadata: { event_type: 'dg_run', event_payload: { run: 'run-abcdef12' } },
    });
    expect(parent.ok).toBe(true);
    expect(parent.ts).toMatch(/^\d{10}\.\d{6}$/);
    const ts = parent.ts as string;
    const step1 = await client.chat.postMessage({ channel: 'C1', thread_ts: ts, text: 'Step 1 running' });
    const step2 = await client.chat.postMessage({ channel: 'C1', thread_ts: ts, text: 'Step 2 running' });
    expect(Number(step2.ts)).toBeGreaterThan(Number(step1.ts));
    await client.chat.update({ channel: 'C1', ts: step1.ts as string, text: 'Step 1 passed' });
    await client.chat.update({ channel: 'C1', ts, text: 'Run: step 2 of 8' });

    const thread = fake.thread('C1', ts);
    expect(thread.map((m) => m.text)).toEqual(['Run: step 2 of 8', 'Step 1 passed', 'Step 2 running']);
    expect(thread[0]?.blocks).toEqual([{ type: 'section', text: { type: 'mrkdwn', text: '*Run* started' } }]);
    expect(thread[0]?.metadata).toEqual({ event_type: 'dg_run', event_payload: { run: 'run-abcdef12' } });
    expect(thread[1]?.updates).toBe(1);

    const replies = await client.conversations.replies({ channel: 'C1', ts, include_all_metadata: true });
    expect(replies.messages?.map((m) => m.text)).toEqual(['Run: step 2 of 8', 'Step 1 passed', 'Step 2 running']);
    expect(replies.messages?.[0]?.metadata).toMatchObject({ event_type: 'dg_run' });

    // The calls themselves are recorded with their JSON fields parsed.
    const first = fake.calls('chat.postMessage')[0];
    expect(first?.params.blocks).toEqual([{ type: 'section', text: { type: 'mrkdwn', text: '*Run* started' } }]);
    expect(first?.token).toBe(fake.token);
  });

  it('shows broadcast replies in the channel and keeps routine ones in the thread', async () => {
    const parent = await client.chat.postMessage({ channel: 'C2', text: 'Run' });
    await client.chat.postMessage({ channel: 'C2', thread_ts: parent.ts as string, text: 'routine' });
    await client.chat.postMessage({
      channel: 'C2',
      thread_ts: parent.ts as string,
      text: 'failed',
      reply_broadcast: true,
    });
    expect(fake.channelMessages('C2').map((m) => m.text)).toEqual(['Run', 'failed']);
  });

  it('refuses a thread_ts that is a reply, and an update of an unknown message', async () => {
    const parent = await client.chat.postMessage({ channel: 'C3', text: 'Run' });
    const reply = await client.chat.postMessage({ channel: 'C3', thread_ts: parent.ts as string, text: 'r' });
    await expect(
      client.chat.postMessage({ channel: 'C3', thread_ts: reply.ts as string, text: 'nested' }),
    ).rejects.toMatchObject({ code: ErrorCode.PlatformError, data: { error: 'thread_not_found' } });
    await expect(client.chat.update({ channel: 'C3', ts: '1.000001', text: 'x' })).rejects.toMatchObject({
      data: { error: 'message_not_found' },
    });
  });

  it('accepts JSON bodies as well as forms', async () => {
    const res = await request(`${fake.apiUrl}chat.postMessage`, {
      method: 'POST',
      headers: { authorization: `Bearer ${fake.token}`, 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ channel: 'C4', text: 'json', blocks: [{ type: 'divider' }] }),
    });
    const body = (await res.body.json()) as { ok: boolean; ts: string; message: { blocks: unknown[] } };
    expect(body.ok).toBe(true);
    expect(body.message.blocks).toEqual([{ type: 'divider' }]);
    expect(fake.message('C4', body.ts)?.text).toBe('json');
  });

  it('checks the token', async () => {
    const stranger = new WebClient('xoxb-wrong', { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 } });
    await expect(stranger.auth.test()).rejects.toMatchObject({ data: { error: 'invalid_auth' } });
    const anonymous = new WebClient(undefined, { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 } });
    await expect(anonymous.auth.test()).rejects.toMatchObject({ data: { error: 'not_authed' } });
    await expect(client.auth.test()).resolves.toMatchObject({ user_id: fake.botUserId, bot_id: fake.botId });
  });

  it('keeps ephemeral messages out of the thread', async () => {
    const parent = await client.chat.postMessage({ channel: 'C5', text: 'Run' });
    await client.chat.postEphemeral({ channel: 'C5', user: 'U1', text: 'only you', thread_ts: parent.ts as string });
    expect(fake.thread('C5', parent.ts as string)).toHaveLength(1);
    expect(fake.ephemerals('C5')).toMatchObject([{ user: 'U1', text: 'only you' }]);
  });
});

describe('views', () => {
  it('opens a view once per trigger and updates it by id', async () => {
    const view = {
      type: 'modal' as const,
      title: { type: 'plain_text' as const, text: 'Reason' },
      blocks: [{ type: 'divider' as const }],
    };
    const opened = await client.views.open({ trigger_id: '1.2.abc', view });
    const id = opened.view?.id as string;
    await expect(client.views.open({ trigger_id: '1.2.abc', view })).rejects.toMatchObject({
      data: { error: 'expired_trigger_id' },
    });
    await client.views.update({ view_id: id, view: { ...view, title: { type: 'plain_text', text: 'Done' } } });
    expect(fake.views()).toMatchObject([{ id, updates: 1, view: { title: { text: 'Done' } } }]);
  });
});

describe('failures on demand', () => {
  it('answers a queued rate limit with 429 and retry-after, once', async () => {
    fake.queueRateLimit('chat.postMessage', 7);
    const error = await client.chat.postMessage({ channel: 'C6', text: 'x' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: ErrorCode.RateLimitedError, retryAfter: 7 });
    await expect(client.chat.postMessage({ channel: 'C6', text: 'x' })).resolves.toMatchObject({ ok: true });
    expect(
      fake
        .calls('chat.postMessage')
        .filter((c) => c.params.channel === 'C6')
        .map((c) => c.status),
    ).toEqual([429, 200]);
  });

  it('answers queued platform and HTTP errors', async () => {
    fake.queueError('chat.update', 'channel_not_found');
    fake.queueHttpError('chat.postMessage', 503);
    await expect(client.chat.update({ channel: 'C7', ts: '1.1', text: 'x' })).rejects.toMatchObject({
      code: ErrorCode.PlatformError,
      data: { ok: false, error: 'channel_not_found' },
    });
    await expect(client.chat.postMessage({ channel: 'C7', text: 'x' })).rejects.toMatchObject({
      code: ErrorCode.HTTPError,
      statusCode: 503,
    });
  });

  it('goes down (refusing connections or answering 503) and comes back with its store intact', async () => {
    const before = await client.chat.postMessage({ channel: 'C8', text: 'before' });
    const { url } = fake;
    await fake.goDown('refuse');
    await expect(client.chat.postMessage({ channel: 'C8', text: 'lost' })).rejects.toMatchObject({
      code: ErrorCode.RequestError,
    });
    await fake.goUp();
    expect(fake.url).toBe(url);
    await fake.goDown('503');
    await expect(client.chat.postMessage({ channel: 'C8', text: 'lost' })).rejects.toMatchObject({ statusCode: 503 });
    await fake.goUp();
    await client.chat.postMessage({ channel: 'C8', text: 'after' });
    expect(fake.channelMessages('C8').map((m) => m.text)).toEqual(['before', 'after']);
    expect(fake.message('C8', before.ts as string)?.text).toBe('before');
  });
});

describe('uploads and response URLs', () => {
  it('serves files.uploadV2 end to end and shows the file in the thread', async () => {
    const parent = await client.chat.postMessage({ channel: 'C9', text: 'Run' });
    await client.filesUploadV2({
      channel_id: 'C9',
      thread_ts: parent.ts as string,
      filename: 'summary.md',
      content: '# Incident summary\n',
      initial_comment: 'Summary attached',
    });
    expect(fake.uploads()).toMatchObject([{ filename: 'summary.md', completed: true }]);
    expect(fake.uploads()[0]?.content?.toString('utf8')).toBe('# Incident summary\n');
    const thread = fake.thread('C9', parent.ts as string);
    expect(thread[1]).toMatchObject({ text: 'Summary attached', files: [{ name: 'summary.md' }] });
  });

  it('records response_url posts and flags a sixth one', async () => {
    const url = fake.responseUrl('r-1');
    for (let i = 0; i < 5; i++) {
      const res = await request(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text: `reply ${i}`, response_type: 'ephemeral' }),
      });
      expect(res.statusCode).toBe(200);
      await res.body.dump();
    }
    expect(fake.responses('r-1').map((r) => r.body.text)).toEqual([0, 1, 2, 3, 4].map((i) => `reply ${i}`));
    expect(fake.unexpectedCalls()).toEqual([]);
    const sixth = await request(url, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    await sixth.body.dump();
    expect(sixth.statusCode).toBe(404);
    expect(fake.unexpectedCalls()).toMatchObject([{ path: '/response/r-1' }]);
  });
});
