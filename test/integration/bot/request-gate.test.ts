import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { gateSlackRequests, SIGNATURE_WINDOW_SEC } from '../../../src/bot/request-gate.js';
import type { SeenRequests } from '../../../src/bot/seen-requests.js';
import { ErrorCode } from '../../../src/errors.js';
import { createLogger } from '../../../src/logger.js';
import {
  blockActionsPayload,
  interactionFields,
  postSignedForm,
  slashCommandFields,
} from '../../helpers/slack-requests.js';

// The gate in front of Bolt, on a plain HTTP server: how long a request is remembered, and what happens when the
// memory (Redis) cannot answer. Nothing reaches the listener that the gate did not let through.

const SECRET = 'gate-signing-secret';
const NOW_MS = Date.UTC(2026, 11, 7, 22, 0, 0);
const NOW_SEC = NOW_MS / 1000;

let server: Server | undefined;

afterEach(async () => {
  const open = server;
  server = undefined;
  if (open) await new Promise((done) => open.close(done));
});

async function gated(seen: SeenRequests): Promise<{ url: string; passed: () => number }> {
  let passed = 0;
  const listener = gateSlackRequests(
    (_req, res) => {
      passed += 1;
      res.writeHead(200);
      res.end();
    },
    {
      signingSecret: SECRET,
      path: '/slack/events',
      seen,
      logger: createLogger({ level: 'silent' }),
      now: () => NOW_MS,
    },
  );
  server = createServer(listener);
  await new Promise<void>((done) => server?.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/slack/events`, passed: () => passed };
}

const command = slashCommandFields({ text: 'recover restart', responseUrl: 'http://127.0.0.1:1/r' });
const click = interactionFields(
  blockActionsPayload({
    action: { actionId: 'dg.retry', blockId: 'b', value: 'run-1|s|retry|v2' },
    channelId: 'C1',
    messageTs: '1.2',
    responseUrl: 'http://127.0.0.1:1/r',
  }),
);

describe('the Slack request gate', () => {
  it('remembers a request until its signature could no longer be accepted', async () => {
    const ttls: number[] = [];
    const { url, passed } = await gated({
      firstSight: async (_id, ttlSec) => {
        ttls.push(ttlSec);
        return true;
      },
    });
    expect((await postSignedForm(url, SECRET, command, NOW_SEC - 100)).status).toBe(200);
    expect((await postSignedForm(url, SECRET, command, NOW_SEC + 60)).status).toBe(200);
    expect(ttls).toEqual([SIGNATURE_WINDOW_SEC - 100 + 1, SIGNATURE_WINDOW_SEC + 60 + 1]);
    expect(passed()).toBe(2);
  });

  it('applies nothing when Redis cannot say whether a request is new', async () => {
    const { url, passed } = await gated({
      firstSight: async () => {
        throw new Error('Redis did not answer within 1000 ms');
      },
    });
    const typed = await postSignedForm(url, SECRET, command, NOW_SEC);
    expect(typed.status).toBe(200);
    expect(JSON.parse(typed.text)).toMatchObject({
      response_type: 'ephemeral',
      text: expect.stringContaining('nothing was done'),
    });
    const clicked = await postSignedForm(url, SECRET, click, NOW_SEC);
    expect(clicked.status).toBe(503);
    expect(clicked.text).toContain(ErrorCode.SlackRequestUncheckable);
    expect(passed()).toBe(0);
  });
});
