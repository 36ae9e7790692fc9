import type { Diagnosis } from '../runbook/diagnose.js';
import { formatInstant } from '../runbook/time-format.js';
import { mrkdwnText } from '../slack/blocks/limits.js';
import type { MessageBlock } from '../slack/blocks/validate.js';
import { codeSpan, userText } from '../slack/slack-text.js';
import type { Alert } from './alertmanager-payload.js';
import { diagnosisBlocks } from './diagnose-reply.js';

/** Labels shown first when an alert has many. */
const KEY_LABELS = ['severity', 'instance', 'job', 'service', 'namespace', 'tenant'];
const MAX_LABELS = 8;

export interface FiringAlertMessage {
  readonly alert: Alert;
  /** The read-only diagnosis run for this notification, or why it could not run. */
  readonly diagnosis: Diagnosis | { readonly failed: string };
  /** How many notifications of this alert have arrived, this one included. */
  readonly notifications: number;
  readonly receivedAt: Date;
}

/**
 * A firing alert as a channel message: the alert, the diagnosis with the rules and facts behind it, and a
 * "Start recovery" button when a scenario fits (operators only, checked at the click like `/dg recover`).
 */
export function firingAlertMessage(m: FiringAlertMessage): { text: string; blocks: MessageBlock[] } {
  const name = m.alert.labels.alertname ?? 'alert';
  const seen =
    m.notifications > 1
      ? `Firing since ${formatInstant(m.alert.startsAt)}; notified ${m.notifications} times, last at ${formatInstant(m.receivedAt)}.`
      : `Firing since ${formatInstant(m.alert.startsAt)}.`;
  const blocks: MessageBlock[] = [
    ...alertBlocks(m.alert, `:rotating_light: *Alert firing*: ${codeSpan(name, 100)}`),
    { type: 'context', block_id: 'alert-seen', elements: [mrkdwnText(seen)] },
  ];
  if ('failed' in m.diagnosis) {
    blocks.push({
      type: 'section',
      block_id: 'diag-verdict',
      text: mrkdwnText(`:warning: *Diagnosis could not run*: ${userText(m.diagnosis.failed, 500)}`),
    });
  } else {
    blocks.push(...diagnosisBlocks(m.diagnosis, true));
  }
  return { text: `Alert firing: ${name}`, blocks };
}

/** The same message once the alert resolved: marked resolved, the diagnosis kept, the button gone. */
export function resolvedAlertMessage(
  alert: Alert,
  posted: readonly MessageBlock[],
): { text: string; blocks: MessageBlock[] } {
  const name = alert.labels.alertname ?? 'alert';
  const kept = posted.filter((b) => b.type !== 'actions' && !String(b.block_id ?? '').startsWith('alert-'));
  const resolved = `Resolved at ${formatInstant(alert.endsAt ?? null)}; fired since ${formatInstant(alert.startsAt)}.`;
  return {
    text: `Alert resolved: ${name}`,
    blocks: [
      ...alertBlocks(alert, `:white_check_mark: *Alert resolved*: ${codeSpan(name, 100)}`),
      { type: 'context', block_id: 'alert-seen', elements: [mrkdwnText(resolved)] },
      ...kept,
    ],
  };
}

function alertBlocks(alert: Alert, headline: string): MessageBlock[] {
  const about = [alert.annotations.summary, alert.annotations.description]
    .filter((t): t is string => typeof t === 'string' && t.length > 0)
    .map((t) => userText(t, 1200));
  const labelNames = Object.keys(alert.labels)
    .filter((l) => l !== 'alertname')
    .sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  const shown = labelNames.slice(0, MAX_LABELS).map((l) => `${codeSpan(l, 40)}=${codeSpan(alert.labels[l] ?? '', 80)}`);
  if (labelNames.length > MAX_LABELS) shown.push(`_…and ${labelNames.length - MAX_LABELS} more_`);
  const lines = [headline, ...about, ...(shown.length > 0 ? [shown.join(' ')] : [])];
  return [{ type: 'section', block_id: 'alert-about', text: mrkdwnText(lines.join('\n')) }];
}

function rank(label: string): number {
  const i = KEY_LABELS.indexOf(label);
  return i === -1 ? KEY_LABELS.length : i;
}
