import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_SLACK_BODY_BYTES } from '../../src/bot/request-gate.js';
import { ErrorCode } from '../../src/errors.js';
import {
  blockActionsPayload,
  formBody,
  interactionFields,
  postSignedForm,
  slackSignature,
  slashCommandFields,
} from '../helpers/slack-requests.js';
import { ANA, CHANNEL, E2E, SIGNING_SECRET } from './harness.js';

// What reaches the listeners at all: a signed request is applied once however often it is resent within Slack's
// signature window, a body too large is refused before it is read or verified, and a signed payload that is not a
// JSON object is answered 400 instead of being left hanging.

let e2e: E2E;

beforeAll(async () => {
  e2e = await E2E.start({ sim: { faults: ['node-down'] } });
});

afterAll(async () => {
  await e2e?.close();
});

/** Sends the very bytes, timestamp and signature Slack sent once: a captured request, replayed. */
function replayable(fields: Record<string, string>) {
  const sentAt = Math.floor(Date.now() / 1000);
  return () => postSignedForm(e2e.url, SIGNING_SECRET, fields, sentAt);
}

describe('a signed request sent twice', () => {
  it('starts one run and one restart, even when resent after the run ended', async () => {
    const responseId = `cmd-${randomBytes(4).toString('hex')}`;
    const send = replayable(
      slashCommandFields({
        text: 'recover restart',
        responseUrl: e2e.fake.responseUrl(responseId),
        userId: ANA.id,
        userName: ANA.name,
        channelId: CHANNEL,
      }),
    );
    const first = await send();
    expect(first.status).toBe(200);
    const runId = await e2e.startedRunId(responseId);
    const state = await e2e.runFinished(runId, 30_000);
    expect(state.outcome?.outcome).toBe('recovered');
    expect(e2e.sim.hostActionCounts().restart).toBe(1);

    const again = await send();
    expect(again.status).toBe(200);
    expect(JSON.parse(again.text)).toMatchObject({
      response_type: 'ephemeral',
      text: expect.stringContaining('already received'),
    });
    // Anything the repeat started would have announced itself through the response URL; a later command's answer
    // arriving there first shows the repeat sent nothing.
    const later = await e2e.command(ANA, 'status');
    await e2e.until(() => e2e.fake.responses(later.responseId)[0], 'the answer to a later command');
    expect(e2e.fake.responses(responseId).filter((r) => String(r.body.text).includes('Started run'))).toHaveLength(1);
    expect(await e2e.bot.runtime.service.listActive()).toEqual([]);
    expect(e2e.sim.hostActionCounts().restart).toBe(1);
  });

  it('answers a resent click 409 without passing it on', async () => {
    const payload = blockActionsPayload({
      action: { actionId: 'dg.retry', blockId: 'b1', value: 'run-nosuchrun|read_trace|retry|v9' },
      channelId: CHANNEL,
      messageTs: '1700000000.000100',
      responseUrl: e2e.fake.responseUrl(),
      userId: ANA.id,
    });
    const send = replayable(interactionFields(payload));
    expect((await send()).status).toBe(200);
    // The first click is answered ("out of date"); the resent one never reaches the listener.
    await e2e.until(() => e2e.privateTexts(ANA.id).find((t) => t.includes('out of date')), 'the first answer');
    const again = await send();
    expect(again.status).toBe(409);
    expect(again.text).toContain(ErrorCode.SlackRequestRepeated);
    const status = await e2e.command(ANA, 'status');
    await e2e.until(() => e2e.fake.responses(status.responseId)[0], 'a later answer');
    expect(e2e.privateTexts(ANA.id).filter((t) => t.includes('out of date'))).toHaveLength(1);
  });
});

describe('requests refused before any listener runs', () => {
  it('answers 413 to a body over the cap, declared or streamed, before checking its signature', async () => {
    const declared = await request(e2e.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'content-length': String(MAX_SLACK_BODY_BYTES + 1),
      },
      body: 'x'.repeat(MAX_SLACK_BODY_BYTES + 1),
    });
    expect(declared.statusCode).toBe(413);
    expect(await declared.body.text()).toContain(ErrorCode.SlackRequestTooLarge);

    // Signed and chunked (no length announced): cut off as soon as it passes the cap.
    const fields = slashCommandFields({
      text: `help ${'x'.repeat(MAX_SLACK_BODY_BYTES)}`,
      responseUrl: e2e.fake.responseUrl(),
      userId: ANA.id,
    });
    const body = formBody(fields);
    const now = Math.floor(Date.now() / 1000);
    const streamed = await request(e2e.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-slack-request-timestamp': String(now),
        'x-slack-signature': slackSignature(SIGNING_SECRET, now, body),
      },
      body: Readable.from(
        (function* () {
          for (let i = 0; i < body.length; i += 16_384) yield Buffer.from(body.slice(i, i + 16_384));
        })(),
      ),
    });
    expect(streamed.statusCode).toBe(413);
    await streamed.body.dump();
  });

  it('answers 400 to a signed payload that is null, a number, a list or not JSON', async () => {
    for (const payload of ['null', '5', '[]', '{"type":']) {
      const res = await postSignedForm(e2e.url, SIGNING_SECRET, { payload });
      expect([payload, res.status]).toEqual([payload, 400]);
      expect(res.text).toContain(ErrorCode.SlackRequestMalformed);
    }
  });

  it('answers 401 to a signed timestamp from the future, which Bolt alone would take', async () => {
    const fields = slashCommandFields({ text: 'help', responseUrl: e2e.fake.responseUrl(), userId: ANA.id });
    const ahead = await postSignedForm(e2e.url, SIGNING_SECRET, fields, Math.floor(Date.now() / 1000) + 3600);
    expect(ahead.status).toBe(401);
    expect(ahead.text).toContain(ErrorCode.SlackRequestUnverified);
  });
});
