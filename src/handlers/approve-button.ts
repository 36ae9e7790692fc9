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

export const NOT_APPROVER = ':no_entry: Only the approvers named in the message can approve a destructive step.';

/**
 * Approve. The approval is bound to the request the button was posted with: its fingerprint goes to the engine,
 * which refuses it if the measurement was taken again since (the person is told to approve the new one). The
 * two-person rule is the engine's: it knows who started the run.
 */
export async function handleApproveButton(args: ButtonArgs, deps: HandlerDeps): Promise<void> {
  await acceptClick(args, deps, (click) => approve(args, deps, click));
}

async function approve(args: ButtonArgs, deps: HandlerDeps, click: Click): Promise<void> {
  if (!click.access.isApprover) {
    return refuseAccess(args, deps, click, 'approve', 'not_approver', NOT_APPROVER);
  }
  const run = await deps.service.get(click.value.runId);
  const request = run
    ? askingEvent(run.events, click.value.seq, ['approval_requested'], click.value.stepId)
    : undefined;
  if (!request) return refuseClick(args, deps, click, 'approve', 'stale_button', STALE_BUTTON);
  const outcome = await deps.service.approve(click.value.runId, {
    stepId: click.value.stepId,
    actor: click.actor,
    fingerprint: request.fingerprint,
  });
  await reportOutcome(args, deps, click, 'approve', outcome);
}

export function register(app: App, deps: HandlerDeps): void {
  app.action(ACTION.approve, async ({ body, ack, client }) => {
    await handleApproveButton({ body: body as unknown as ButtonArgs['body'], ack, client }, deps);
  });
}
