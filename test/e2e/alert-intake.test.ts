import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTION } from '../../src/projections/thread/index.js';
import type { StoredMessage } from '../helpers/fake-slack.js';
import { ANA, buttons, CHANNEL, E2E, EVE, textOf, withButton } from './harness.js';

// Alertmanager posts to the bot: a firing alert gets a read-only diagnosis in the alert channel with a button that
// starts the fitting recovery; repeats and the resolution update that one message.

const TOKEN = 'alert-webhook-token-e2e';
let e2e: E2E;

beforeAll(async () => {
  e2e = await E2E.start({
    sim: { faults: ['node-down', 'projections-behind'] },
    env: { ALERT_WEBHOOK_TOKEN: TOKEN, ALERT_CHANNEL: CHANNEL },
  });
});

afterAll(async () => {
  await e2e?.close();
});

const hookUrl = () => `http://127.0.0.1:${e2e.bot.port}/hooks/alertmanager`;

function payload(status: 'firing' | 'resolved', fingerprint = 'a1b2c3d4e5f60718') {
  return {
    version: '4',
    groupKey: '{}:{alertname="DecisionGraphDown"}',
    status,
    receiver: 'dg-recovery',
    groupLabels: { alertname: 'DecisionGraphDown' },
    commonLabels: {},
    commonAnnotations: {},
    externalURL: 'http://alertmanager:9093',
    truncatedAlerts: 0,
    alerts: [
      {
        status,
        labels: { alertname: 'DecisionGraphDown', severity: 'page', instance: 'dg-1:4100' },
        annotations: { summary: 'DecisionGraph healthz has not answered for 2 minutes' },
        startsAt: '2026-03-07T12:00:00Z',
        endsAt: status === 'resolved' ? '2026-03-07T12:30:00Z' : '0001-01-01T00:00:00Z',
        generatorURL: 'http://prometheus:9090/graph',
        fingerprint,
      },
    ],
  };
}

async function post(body: unknown, authorization: string | null = `Bearer ${TOKEN}`) {
  const res = await fetch(hookUrl(), {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as { ok: boolean; error?: { code: string } } };
}

const alertMessages = () => e2e.fake.channelMessages(CHANNEL).filter((m) => textOf(m).includes('DecisionGraphDown'));

describe('POST /hooks/alertmanager', () => {
  it('refuses a request without the token, or with another, and posts nothing', async () => {
    const none = await post(payload('firing'), null);
    expect(none.status).toBe(401);
    expect(none.body.error?.code).toBe('DG_ERR_ALERT_UNAUTHORIZED');
    expect((await post(payload('firing'), 'Bearer not-the-token')).status).toBe(401);
    const malformed = await post({ version: '3', alerts: [] });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error?.code).toBe('DG_ERR_ALERT_PAYLOAD_INVALID');
    expect(e2e.fake.calls('chat.postMessage')).toEqual([]);
  });

  it('posts a firing alert once with its diagnosis, updates it on a repeat and when resolved', async () => {
    expect((await post(payload('firing'))).status).toBe(202);
    const first = await e2e.until(() => alertMessages()[0], 'the alert message');
    expect(textOf(first)).toContain('Alert firing');
    expect(textOf(first)).toContain('DecisionGraph healthz has not answered for 2 minutes');
    expect(textOf(first)).toContain('fits scenario `restart`');
    expect(buttons(first).map((b) => b.text)).toEqual(['Start recovery: restart']);

    expect((await post(payload('firing'))).status).toBe(202);
    await e2e.until(
      () => (textOf(e2e.fake.message(CHANNEL, first.ts)).includes('notified 2 times') ? true : undefined),
      'the repeat noted in the same message',
    );
    expect(alertMessages()).toHaveLength(1);

    expect((await post(payload('resolved'))).status).toBe(202);
    const resolved = await e2e.until(() => {
      const m = e2e.fake.message(CHANNEL, first.ts);
      return textOf(m).includes('Alert resolved') ? m : undefined;
    }, 'the resolution in the same message');
    expect(textOf(resolved)).toContain('Resolved at 2026-03-07 12:30:00 UTC');
    expect(textOf(resolved)).toContain('fits scenario `restart`');
    expect(buttons(resolved as StoredMessage)).toEqual([]);
    expect(alertMessages()).toHaveLength(1);
    expect(await e2e.bot.runtime.service.listActive()).toEqual([]);
  });

  it("starts the recovery from the alert's button for an operator only, in the alert channel", async () => {
    expect((await post(payload('firing', 'ffee0011'))).status).toBe(202);
    const alert = await e2e.until(
      () => withButton(e2e.fake.channelMessages(CHANNEL), ACTION.startRecovery),
      'the alert with its button',
    );

    await e2e.click(EVE, alert, ACTION.startRecovery, 'restart');
    await e2e.until(
      () => e2e.privateTexts(EVE.id).find((t) => t.includes('Only recovery operators')),
      'the refusal to a non-operator',
    );
    expect(await e2e.bot.runtime.service.listActive()).toEqual([]);

    await e2e.click(ANA, alert, ACTION.startRecovery, 'restart');
    await expect.poll(async () => (await e2e.bot.runtime.service.listActive()).length, { timeout: 15_000 }).toBe(1);
    const [run] = await e2e.bot.runtime.service.listActive();
    expect(run?.scenario).toBe('restart');
    const started = await e2e.bot.runtime.service.get(run?.runId ?? '');
    expect(started?.events[0]).toMatchObject({ type: 'run_started', channelId: CHANNEL });
  });
});
