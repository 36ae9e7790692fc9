import type { App } from '@slack/bolt';
import { ACTION } from '../slack/action-values.js';
import { handleButtonCommand, OutdatedClick } from './button-command.js';
import { type ButtonArgs, stalePause } from './button-context.js';
import type { HandlerDeps } from './handler-deps.js';

export const NOT_OPERATOR_RETRY = ':no_entry: Only recovery operators can retry a step.';

/**
 * Retry the step the run is paused at. The button belongs to one pause: once that pause ended (someone retried
 * or skipped), a late or second click is refused with who was first, so a step is never retried twice by one
 * double click. Retrying a destructive step needs an approver other than the starter: the engine checks that.
 */
export async function handleRetryButton(args: ButtonArgs, deps: HandlerDeps): Promise<void> {
  await handleButtonCommand(args, deps, {
    action: 'retry',
    allowed: 'operator',
    notAllowed: NOT_OPERATOR_RETRY,
    find: (run, click) => {
      const stale = stalePause(run.events, run.state, click.value.seq);
      return stale ? new OutdatedClick('stale_pause', stale) : run;
    },
    send: (click) => deps.service.retry(click.value.runId, { actor: click.actor }),
  });
}

export function register(app: App, deps: HandlerDeps): void {
  app.action(ACTION.retry, async ({ body, ack, client }) => {
    await handleRetryButton({ body: body as unknown as ButtonArgs['body'], ack, client }, deps);
  });
}
