import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCode } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Alert } from './alertmanager-payload.js';
import { acceptHook, checkedHookBody, readHookBody, refuseHook } from './hook-http.js';
import { parsePagerDutyWebhook, validPagerDutySignature } from './pagerduty-payload.js';

export const PAGERDUTY_PATH = '/hooks/pagerduty';

export interface PagerDutyIntakeDeps {
  /** `PAGERDUTY_WEBHOOK_SECRET`: the subscription's signing secret. */
  readonly secret: string;
  /** The alert intake's `receive`: the same diagnosis post and grouping as a firing Alertmanager alert. */
  readonly receive: (alert: Alert) => void;
  readonly logger: Logger;
}

/**
 * `POST /hooks/pagerduty`: checks the signature over the raw body, answers 202 at once, and hands a triggered or
 * resolved incident to the alert intake; other event types (acknowledged, `pagey.ping`…) are answered and ignored.
 */
export function createPagerDutyHandler(deps: PagerDutyIntakeDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const logger = deps.logger.child({ component: 'pagerduty-intake' });
  return (req, res) => {
    readHookBody(req)
      .then((text) => {
        if (text === null) return refuseHook(res, 413, ErrorCode.AlertPayloadInvalid, 'body larger than 1 MiB');
        const signature = req.headers['x-pagerduty-signature'];
        if (!validPagerDutySignature(text, Array.isArray(signature) ? signature.join(',') : signature, deps.secret)) {
          return refuseHook(res, 401, ErrorCode.AlertUnauthorized, 'missing or wrong X-PagerDuty-Signature');
        }
        const parsed = checkedHookBody(res, text, parsePagerDutyWebhook);
        if (parsed === undefined) return;
        if (parsed.alert) deps.receive(parsed.alert);
        acceptHook(res, { alerts: parsed.alert ? 1 : 0 });
      })
      .catch((err: unknown) => {
        logger.warn({ err }, 'PagerDuty request not read');
        if (!res.headersSent) refuseHook(res, 400, ErrorCode.AlertPayloadInvalid, 'body could not be read');
      });
  };
}
