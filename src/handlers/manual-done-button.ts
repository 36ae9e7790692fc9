import type { App } from '@slack/bolt';
import { ACTION } from '../bot/thread/action-values.js';
import {
  acceptClick,
  askingEvent,
  type ButtonArgs,
  type Click,
  refuseAccess,
  refuseClick,
  reportOutcome,
  STALE_BUTTON,
} from './button-context.js';
import type { HandlerDeps } from './handler-deps.js';

export const NOT_OPERATOR_MANUAL = ':no_entry: Only recovery operators can report a manual action as done.';

/** "Done" on a manual action: the person says they did it; the run goes on and checks the result. */
export async function handleManualDoneButton(args: ButtonArgs, deps: HandlerDeps): Promise<void> {
  await acceptClick(args, deps, (click) => manualDone(args, deps, click));
}

async function manualDone(args: ButtonArgs, deps: HandlerDeps, click: Click): Promise<void> {
  if (!click.access.isOperator) {
    return refuseAccess(args, deps, click, 'manual_done', 'not_operator', NOT_OPERATOR_MANUAL);
  }
  const run = await deps.service.get(click.value.runId);
  const request = run
    ? askingEvent(run.events, click.value.seq, ['manual_action_requested'], click.value.stepId)
    : undefined;
  if (!request) return refuseClick(args, deps, click, 'manual_done', 'stale_button', STALE_BUTTON);
  const outcome = await deps.service.manualDone(click.value.runId, { stepId: click.value.stepId, actor: click.actor });
  await reportOutcome(args, deps, click, 'manual_done', outcome);
}

export function register(app: App, deps: HandlerDeps): void {
  app.action(ACTION.manualDone, async ({ body, ack, client }) => {
    await handleManualDoneButton({ body: body as unknown as ButtonArgs['body'], ack, client }, deps);
  });
}
