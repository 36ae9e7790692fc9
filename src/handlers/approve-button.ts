import type { App } from '@slack/bolt';
import { ACTION } from '../slack/action-values.js';
import { handleButtonCommand } from './button-command.js';
import { askingEvent, type ButtonArgs } from './button-context.js';
import type { HandlerDeps } from './handler-deps.js';

export const NOT_APPROVER = ':no_entry: Only the approvers named in the message can approve a destructive step.';

/**
 * Approve. The approval is bound to the request the button was posted with: its fingerprint goes to the engine,
 * which refuses it if the measurement was taken again since (the person is told to approve the new one). The
 * two-person rule is the engine's: it knows who started the run.
 */
export async function handleApproveButton(args: ButtonArgs, deps: HandlerDeps): Promise<void> {
  await handleButtonCommand(args, deps, {
    action: 'approve',
    allowed: 'approver',
    notAllowed: NOT_APPROVER,
    find: (run, click) => askingEvent(run.events, click.value.seq, ['approval_requested'], click.value.stepId),
    send: (click, request) =>
      deps.service.approve(click.value.runId, {
        stepId: click.value.stepId,
        actor: click.actor,
        fingerprint: request.fingerprint,
      }),
  });
}

export function register(app: App, deps: HandlerDeps): void {
  app.action(ACTION.approve, async ({ body, ack, client }) => {
    await handleApproveButton({ body: body as unknown as ButtonArgs['body'], ack, client }, deps);
  });
}
