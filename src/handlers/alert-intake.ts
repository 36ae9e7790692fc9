import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCode } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Diagnosis } from '../runbook/diagnose.js';
import type { AlertMessages } from '../slack/alert-messages.js';
import type { MessageBlock } from '../slack/blocks/validate.js';
import { firingAlertMessage, resolvedAlertMessage } from './alert-message.js';
import { type Alert, parseAlertmanagerPayload } from './alertmanager-payload.js';
import { acceptHook, checkedHookBody, readHookBody, refuseHook } from './hook-http.js';

export const ALERTMANAGER_PATH = '/hooks/alertmanager';

/** The two Web API calls the intake makes. */
export interface AlertSlackClient {
  readonly chat: {
    postMessage(args: { channel: string; text: string; blocks: MessageBlock[] }): Promise<{ ts?: string }>;
    update(args: { channel: string; ts: string; text: string; blocks: MessageBlock[] }): Promise<unknown>;
  };
}

export interface AlertIntakeDeps {
  /** `ALERT_WEBHOOK_TOKEN`: Alertmanager sends it as `Authorization: Bearer …`; unset, every request is refused. */
  readonly token: string | undefined;
  /** `ALERT_CHANNEL` */
  readonly channel: string;
  readonly diagnose: () => Promise<Diagnosis>;
  readonly messages: AlertMessages;
  readonly slack: AlertSlackClient;
  readonly logger: Logger;
  /** @defaultValue `() => new Date()` */
  readonly now?: () => Date;
}

export interface AlertIntake {
  readonly handler: (req: IncomingMessage, res: ServerResponse) => void;
  /** Posts or updates the message of one alert from another source (PagerDuty), in order per fingerprint. */
  receive(alert: Alert): void;
  /** Resolves once every alert received so far is posted or updated (tests, shutdown). */
  settled(): Promise<void>;
}

/**
 * `POST /hooks/alertmanager`: checks the token and the payload, answers 202 at once (Alertmanager's timeout is
 * short, a diagnosis is not), then per alert runs the read-only diagnosis and posts it in the alert channel, or
 * updates the message already posted for that fingerprint. Alerts of one fingerprint are handled in order.
 */
export function createAlertIntake(deps: AlertIntakeDeps): AlertIntake {
  const logger = deps.logger.child({ component: 'alert-intake' });
  const expected = deps.token === undefined ? undefined : digest(`Bearer ${deps.token}`);
  const chains = new Map<string, Promise<void>>();
  const now = deps.now ?? (() => new Date());

  const handleAlert = async (alert: Alert): Promise<void> => {
    const fp = alert.fingerprint;
    const posted = await deps.messages.get(fp);
    if (alert.status === 'resolved') {
      if (!posted) return logger.info({ fingerprint: fp }, 'resolved alert was never posted; nothing to update');
      const message = resolvedAlertMessage(alert, posted.blocks);
      await deps.slack.chat.update({ channel: posted.channel, ts: posted.ts, ...message });
      await deps.messages.save(fp, { ...posted, blocks: message.blocks, status: 'resolved' });
      return;
    }
    if (!posted && !(await deps.messages.claim(fp))) {
      // Another process is posting this alert's first message right now.
      return logger.info({ fingerprint: fp }, 'alert already being posted elsewhere');
    }
    const diagnosis = await deps.diagnose().catch((err: unknown) => ({
      failed: err instanceof Error ? err.message : String(err),
    }));
    const notifications = (posted?.status === 'firing' ? posted.notifications : 0) + 1;
    const message = firingAlertMessage({ alert, diagnosis, notifications, receivedAt: now() });
    if (posted) {
      await deps.slack.chat.update({ channel: posted.channel, ts: posted.ts, ...message });
      await deps.messages.save(fp, { ...posted, blocks: message.blocks, notifications, status: 'firing' });
      return;
    }
    try {
      const sent = await deps.slack.chat.postMessage({ channel: deps.channel, ...message });
      if (!sent.ts) throw new Error('chat.postMessage returned no ts');
      await deps.messages.save(fp, {
        channel: deps.channel,
        ts: sent.ts,
        blocks: message.blocks,
        notifications,
        status: 'firing',
      });
    } finally {
      await deps.messages.release(fp);
    }
  };

  const enqueue = (alert: Alert) => {
    const previous = chains.get(alert.fingerprint) ?? Promise.resolve();
    const next = previous
      .then(() => handleAlert(alert))
      .catch((err: unknown) => logger.warn({ err, fingerprint: alert.fingerprint }, 'alert not posted'))
      .finally(() => {
        if (chains.get(alert.fingerprint) === next) chains.delete(alert.fingerprint);
      });
    chains.set(alert.fingerprint, next);
  };

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const sent = req.headers.authorization ?? '';
    if (expected === undefined || !timingSafeEqual(digest(sent), expected)) {
      req.resume();
      return refuseHook(res, 401, ErrorCode.AlertUnauthorized, 'missing or wrong bearer token');
    }
    readHookBody(req)
      .then((text) => {
        if (text === null) return refuseHook(res, 413, ErrorCode.AlertPayloadInvalid, 'body larger than 1 MiB');
        const parsed = checkedHookBody(res, text, parseAlertmanagerPayload);
        if (parsed === undefined) return;
        for (const alert of parsed.payload.alerts) enqueue(alert);
        acceptHook(res, { alerts: parsed.payload.alerts.length });
      })
      .catch((err: unknown) => {
        logger.warn({ err }, 'alert request not read');
        if (!res.headersSent) refuseHook(res, 400, ErrorCode.AlertPayloadInvalid, 'body could not be read');
      });
  };

  return {
    handler,
    receive: enqueue,
    async settled() {
      while (chains.size > 0) await Promise.all([...chains.values()]);
    },
  };
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
