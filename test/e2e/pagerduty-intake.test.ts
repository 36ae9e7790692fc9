import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredMessage } from '../helpers/fake-slack.js';
import { buttons, CHANNEL, E2E, textOf } from './harness.js';

// PagerDuty's v3 webhook, signed as PagerDuty signs it (`v1=<hex HMAC-SHA256 of the raw body>`): a triggered
// incident gets the same diagnosis post as a firing Alertmanager alert, grouped by incident; resolved updates it.

const SECRET = 'pagerduty-signing-secret-e2e';
let e2e: E2E;

beforeAll(async () => {
  e2e = await E2E.start({
    sim: { faults: ['node-down', 'projections-behind'] },
    env: { PAGERDUTY_WEBHOOK_SECRET: SECRET, ALERT_CHANNEL: CHANNEL },
  });
});

afterAll(async () => {
  await e2e?.close();
});

const TITLE = 'DecisionGraph API not answering';

function event(type: string, occurredAt: string, id = 'PGR0VU2') {
  return {
    event: {
      id: `01DEN${occurredAt.replace(/\D/g, '')}`,
      event_type: type,
      resource_type: 'incident',
      occurred_at: occurredAt,
      agent: null,
      client: null,
      data: {
        id,
        type: 'incident',
        self: `https://api.pagerduty.com/incidents/${id}`,
        html_url: `https://acme.pagerduty.com/incidents/${id}`,
        number: 42,
        status: type === 'incident.resolved' ? 'resolved' : 'triggered',
        incident_key: 'dg-api-down',
        created_at: '2026-03-07T12:00:00Z',
        title: TITLE,
        service: { id: 'PF9KMXH', type: 'service_reference', summary: 'DecisionGraph API' },
        assignees: [],
        urgency: 'high',
      },
    },
  };
}

const sign = (raw: string, secret = SECRET) => `v1=${createHmac('sha256', secret).update(raw).digest('hex')}`;

async function post(body: unknown, signature: (raw: string) => string | null = (raw) => sign(raw)) {
  const raw = JSON.stringify(body);
  const header = signature(raw);
  const res = await fetch(`http://127.0.0.1:${e2e.bot.port}/hooks/pagerduty`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(header ? { 'x-pagerduty-signature': header } : {}) },
    body: raw,
  });
  return { status: res.status, body: (await res.json()) as { ok: boolean; error?: { code: string } } };
}

const incidentMessages = () => e2e.fake.channelMessages(CHANNEL).filter((m) => textOf(m).includes(TITLE));

describe('POST /hooks/pagerduty', () => {
  it('refuses a missing, wrong or foreign signature and posts nothing', async () => {
    const body = event('incident.triggered', '2026-03-07T12:00:05Z');
    const none = await post(body, () => null);
    expect(none.status).toBe(401);
    expect(none.body.error?.code).toBe('DG_ERR_ALERT_UNAUTHORIZED');
    expect((await post(body, (raw) => sign(raw, 'another-secret'))).status).toBe(401);
    expect((await post(body, (raw) => sign(`${raw} `))).status).toBe(401);
    expect((await post(body, (raw) => sign(raw).replace('v1=', 'v0='))).status).toBe(401);
    const malformed = await post({ event: { event_type: 'incident.triggered' } });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error?.code).toBe('DG_ERR_ALERT_PAYLOAD_INVALID');
    expect(e2e.fake.calls('chat.postMessage')).toEqual([]);
  });

  it('posts a triggered incident once with its diagnosis, updates it on a repeat and when resolved', async () => {
    // Two signatures while a secret is rotated: the one that matches is enough.
    const rotated = (raw: string) => `${sign(raw, 'old-secret')}, ${sign(raw)}`;
    expect((await post(event('incident.triggered', '2026-03-07T12:00:05Z'), rotated)).status).toBe(202);
    const first = await e2e.until(() => incidentMessages()[0], 'the incident message');
    expect(textOf(first)).toContain('Alert firing');
    expect(textOf(first)).toContain('https://acme.pagerduty.com/incidents/PGR0VU2');
    expect(textOf(first)).toContain('fits scenario `restart`');
    expect(buttons(first).map((b) => b.text)).toEqual(['Start recovery: restart']);

    expect((await post(event('incident.triggered', '2026-03-07T12:05:00Z'))).status).toBe(202);
    await e2e.until(
      () => (textOf(e2e.fake.message(CHANNEL, first.ts)).includes('notified 2 times') ? true : undefined),
      'the repeat noted in the same message',
    );

    const acknowledged = await post(event('incident.acknowledged', '2026-03-07T12:06:00Z'));
    expect(acknowledged).toEqual({ status: 202, body: { ok: true, alerts: 0 } });

    expect((await post(event('incident.resolved', '2026-03-07T12:30:00Z'))).status).toBe(202);
    const resolved = await e2e.until(() => {
      const m = e2e.fake.message(CHANNEL, first.ts);
      return textOf(m).includes('Alert resolved') ? m : undefined;
    }, 'the resolution in the same message');
    expect(textOf(resolved)).toContain('Resolved at 2026-03-07 12:30:00 UTC');
    expect(buttons(resolved as StoredMessage)).toEqual([]);
    expect(incidentMessages()).toHaveLength(1);
    expect(e2e.fake.calls('chat.postMessage')).toHaveLength(1);
  });

  it('is off for Alertmanager while only the PagerDuty secret is set', async () => {
    const res = await fetch(`http://127.0.0.1:${e2e.bot.port}/hooks/alertmanager`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(404);
  });
});
