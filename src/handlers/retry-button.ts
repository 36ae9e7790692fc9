import type { App } from '@slack/bolt';
import { ACTION } from '../bot/thread/action-values.js';
import {
  acceptClick,
  type ButtonArgs,
  type Click,
  refuseAccess,
  refuseClick,
  reportOutcome,
  STALE_BUTTON,
  stalePause,
} from './button-context.js';
import type { HandlerDeps } from './handler-deps.js';

export const NOT_OPERATOR_RETRY = ':no_entry: Only recovery operators can retry a step.';

/**
 * Retry the step the run is paused at. The button belongs to one pause: once that pause ended (someone retried
 * or skipped), a late or second click is refused with who was first, so a step is never retried twice by one
 * double click. Retrying a destructive step needs an approver other than the starter: the engine checks that.
 */
export async function handleRetryButton(args: ButtonArgs, deps: HandlerDeps): Promise<void> {
  await acceptClick(args, deps, (click) => retry(args, deps, click));
}

async function retry(args: ButtonArgs, deps: HandlerDeps, click: Click): Promise<void> {
  if (!click.access.isOperator) {
    return refuseAccess(args, deps, click, 'retry', 'not_operator', NOT_OPERATOR_RETRY);
  }
  const run = await deps.service.get(click.value.runId);
  if (!run) return refuseClick(args, deps, click, 'retry', 'stale_button', STALE_BUTTON);
  const stale = stalePause(run.events, run.state, click.value.seq);
  if (stale) return refuseClick(args, deps, click, 'retry', 'stale_pause', stale);
  const outcome = await deps.service.retry(click.value.runId, { actor: click.actor });
  await reportOutcome(args, deps, click, 'retry', outcome);
}

export function register(app: App, deps: HandlerDeps): void {
  app.action(ACTION.retry, async ({ body, ack, client }) => {
    await handleRetryButton({ body: body as unknown as ButtonArgs['body'], ack, client }, deps);
  });
}
