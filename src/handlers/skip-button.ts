import type { App } from '@slack/bolt';
import { ACTION } from '../slack/action-values.js';
import { acceptClick, type ButtonArgs, refuseAccess } from './button-context.js';
import type { HandlerDeps } from './handler-deps.js';
import { openReasonDialog } from './open-reason-dialog.js';

export const NOT_OPERATOR_SKIP = ':no_entry: Only recovery operators can skip a step.';

/** Skip the failed step: a reason is required, so the click opens the reason dialog (see `reason-submission`). */
export async function handleSkipButton(args: ButtonArgs, deps: HandlerDeps): Promise<void> {
  await acceptClick(
    args,
    deps,
    async (click) => {
      if (!click.access.isOperator) {
        return refuseAccess(args, deps, click, 'skip', 'not_operator', NOT_OPERATOR_SKIP);
      }
      await openReasonDialog(args, deps, click, 'skip');
    },
    { urgent: true },
  );
}

export function register(app: App, deps: HandlerDeps): void {
  app.action(ACTION.skip, async ({ body, ack, client }) => {
    await handleSkipButton({ body: body as unknown as ButtonArgs['body'], ack, client }, deps);
  });
}
