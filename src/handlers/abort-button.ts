import type { App } from '@slack/bolt';
import { ACTION } from '../slack/action-values.js';
import { acceptClick, type ButtonArgs, refuseAccess } from './button-context.js';
import type { HandlerDeps } from './handler-deps.js';
import { openReasonDialog } from './open-reason-dialog.js';

export const NOT_OPERATOR_ABORT = ':no_entry: Only recovery operators can abort a run.';

/** Abort the run (from the header or a paused step): a reason is required, so the click opens the dialog. */
export async function handleAbortButton(args: ButtonArgs, deps: HandlerDeps): Promise<void> {
  await acceptClick(
    args,
    deps,
    async (click) => {
      if (!click.access.isOperator) {
        return refuseAccess(args, deps, click, 'abort', 'not_operator', NOT_OPERATOR_ABORT);
      }
      await openReasonDialog(args, deps, click, 'abort');
    },
    { urgent: true },
  );
}

export function register(app: App, deps: HandlerDeps): void {
  app.action(ACTION.abort, async ({ body, ack, client }) => {
    await handleAbortButton({ body: body as unknown as ButtonArgs['body'], ack, client }, deps);
  });
}
