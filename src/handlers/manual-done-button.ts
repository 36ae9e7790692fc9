import type { App } from '@slack/bolt';
import { ACTION } from '../slack/action-values.js';
import { handleButtonCommand } from './button-command.js';
import { askingEvent, type ButtonArgs } from './button-context.js';
import type { HandlerDeps } from './handler-deps.js';

export const NOT_OPERATOR_MANUAL = ':no_entry: Only recovery operators can report a manual action as done.';

/** "Done" on a manual action: the person says they did it; the run goes on and checks the result. */
export async function handleManualDoneButton(args: ButtonArgs, deps: HandlerDeps): Promise<void> {
  await handleButtonCommand(args, deps, {
    action: 'manual_done',
    allowed: 'operator',
    notAllowed: NOT_OPERATOR_MANUAL,
    find: (run, click) => askingEvent(run.events, click.value.seq, ['manual_action_requested'], click.value.stepId),
    send: (click) => deps.service.manualDone(click.value.runId, { stepId: click.value.stepId, actor: click.actor }),
  });
}

export function register(app: App, deps: HandlerDeps): void {
  app.action(ACTION.manualDone, async ({ body, ack, client }) => {
    await handleManualDoneButton({ body: body as unknown as ButtonArgs['body'], ack, client }, deps);
  });
}
