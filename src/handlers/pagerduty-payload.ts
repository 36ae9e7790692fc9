import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { Alert } from './alertmanager-payload.js';

// PagerDuty's v3 webhook: `{ event: { event_type, occurred_at, data } }`, where `data` is the incident for
// `incident.*` events. Only triggered and resolved incidents become alert messages.

const IncidentSchema = z.object({
  id: z.string().regex(/^[A-Za-z0-9]{1,40}$/, 'must be a PagerDuty incident id'),
  number: z.number().int().optional(),
  title: z.string().max(1000).optional(),
  html_url: z.string().max(2000).optional(),
  created_at: z.string().max(64).optional(),
  urgency: z.string().max(40).optional(),
  service: z.object({ summary: z.string().max(500).optional() }).nullish(),
});

export const PagerDutyWebhookSchema = z.object({
  event: z.object({
    event_type: z.string().max(100),
    occurred_at: z.string().max(64),
    data: z.unknown(),
  }),
});

/** What one PagerDuty event means here: an alert to post or update, or nothing (other event types). */
export type PagerDutyEvent = { ok: true; alert: Alert | undefined } | { ok: false; problem: string };

export function parsePagerDutyWebhook(body: unknown): PagerDutyEvent {
  const parsed = PagerDutyWebhookSchema.safeParse(body);
  if (!parsed.success) return { ok: false, problem: problemOf(parsed.error) };
  const { event_type: type, occurred_at: at, data } = parsed.data.event;
  if (type !== 'incident.triggered' && type !== 'incident.resolved') return { ok: true, alert: undefined };
  const incident = IncidentSchema.safeParse(data);
  if (!incident.success) return { ok: false, problem: `event.data.${problemOf(incident.error)}` };
  const i = incident.data;
  const resolved = type === 'incident.resolved';
  const labels: Record<string, string> = { alertname: i.title ?? `PagerDuty incident ${i.id}`, incident: i.id };
  if (i.service?.summary) labels.service = i.service.summary;
  if (i.urgency) labels.urgency = i.urgency;
  return {
    ok: true,
    alert: {
      status: resolved ? 'resolved' : 'firing',
      labels,
      annotations: i.html_url ? { summary: `PagerDuty incident${i.number ? ` #${i.number}` : ''}: ${i.html_url}` } : {},
      startsAt: resolved ? (i.created_at ?? at) : at,
      ...(resolved ? { endsAt: at } : {}),
      // One message per incident, apart from Alertmanager's fingerprints.
      fingerprint: `pd-${i.id}`,
    },
  };
}

/**
 * Whether `X-PagerDuty-Signature` holds `v1=<hex HMAC-SHA256 of the raw body>` for `secret`. PagerDuty sends one
 * signature per active secret, comma-separated, while a secret is being rotated.
 */
export function validPagerDutySignature(rawBody: string, header: string | undefined, secret: string): boolean {
  const expected = Buffer.from(createHmac('sha256', secret).update(rawBody, 'utf8').digest('hex'));
  return (header ?? '').split(',').some((part) => {
    const sent = Buffer.from(part.trim().replace(/^v1=/, ''));
    return part.trim().startsWith('v1=') && sent.length === expected.length && timingSafeEqual(sent, expected);
  });
}

function problemOf(error: z.ZodError): string {
  const issue = error.issues[0];
  return `${issue?.path.join('.') || '(body)'}: ${issue?.message ?? 'invalid'}`;
}
