import { z } from 'zod';

const labels = z.record(z.string().max(200), z.string().max(4000));

const AlertSchema = z.object({
  status: z.enum(['firing', 'resolved']),
  labels,
  annotations: labels.default({}),
  startsAt: z.string().max(64),
  endsAt: z.string().max(64).optional(),
  generatorURL: z.string().max(2000).optional(),
  fingerprint: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be Alertmanager’s hexadecimal fingerprint'),
});
export type Alert = z.infer<typeof AlertSchema>;

/** Alertmanager's webhook body, version 4 (fields the bot does not read pass through unchecked). */
export const AlertmanagerPayloadSchema = z.object({
  version: z.literal('4'),
  status: z.enum(['firing', 'resolved']),
  receiver: z.string().max(500).optional(),
  alerts: z.array(AlertSchema).max(500),
});
export type AlertmanagerPayload = z.infer<typeof AlertmanagerPayloadSchema>;

/** The payload, or the first problem with its path (never the value sent). */
export function parseAlertmanagerPayload(
  body: unknown,
): { ok: true; payload: AlertmanagerPayload } | { ok: false; problem: string } {
  const parsed = AlertmanagerPayloadSchema.safeParse(body);
  if (parsed.success) return { ok: true, payload: parsed.data };
  const issue = parsed.error.issues[0];
  const where = issue?.path.join('.') || '(body)';
  return { ok: false, problem: `${where}: ${issue?.message ?? 'invalid'}` };
}
