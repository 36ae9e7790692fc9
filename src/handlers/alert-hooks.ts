import type { IncomingMessage, ServerResponse } from 'node:http';
import { ALERTMANAGER_PATH, type AlertIntakeDeps, createAlertIntake } from './alert-intake.js';
import { createPagerDutyHandler, PAGERDUTY_PATH } from './pagerduty-intake.js';

export interface AlertHookRoute {
  readonly path: string;
  readonly method: 'POST';
  readonly handler: (req: IncomingMessage, res: ServerResponse) => void;
}

/**
 * The webhook routes that are configured: Alertmanager's with its token, PagerDuty's with its secret. Both feed
 * one intake, so an alert is posted and grouped the same way whichever sent it.
 */
export function alertHookRoutes(
  deps: AlertIntakeDeps & { readonly pagerDutySecret: string | undefined },
): AlertHookRoute[] {
  const intake = createAlertIntake(deps);
  const routes: AlertHookRoute[] = [];
  if (deps.token !== undefined) routes.push({ path: ALERTMANAGER_PATH, method: 'POST', handler: intake.handler });
  if (deps.pagerDutySecret !== undefined) {
    const handler = createPagerDutyHandler({
      secret: deps.pagerDutySecret,
      receive: intake.receive,
      logger: deps.logger,
    });
    routes.push({ path: PAGERDUTY_PATH, method: 'POST', handler });
  }
  return routes;
}
