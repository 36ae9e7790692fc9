import type { App } from '@slack/bolt';
import { DECIDE_ACTION_PATTERN, decideKindOf } from '../slack/action-values.js';
import { reasonModal } from '../slack/views/reason-modal.js';
import { handleButtonCommand } from './button-command.js';
import { askingEvent, type ButtonArgs, type Click, tell } from './button-context.js';
import type { HandlerDeps } from './handler-deps.js';

export const NOT_OPERATOR_DECIDE = ':no_entry: Only recovery operators can decide. Ask one of them in this thread.';

/**
 * A click on a decision option. Options that need a reason or a typed value open a dialog first (before anything
 * is read, while the click's trigger is fresh) and are decided on submission; the others are decided at once.
 * Two people clicking together: the run log's compare-and-append lets one decision in, and the other person is
 * told who was first.
 */
export async function handleDecisionButton(args: ButtonArgs, deps: HandlerDeps): Promise<void> {
  const kind = decideKindOf(args.body.actions[0]?.action_id ?? '') ?? 'direct';
  await handleButtonCommand(args, deps, {
    action: 'decide',
    allowed: 'operator',
    notAllowed: NOT_OPERATOR_DECIDE,
    ...(kind !== 'direct' ? { dialog: (click: Click) => openDecisionDialog(args, deps, click, kind) } : {}),
    find: (run, click) => askingEvent(run.events, click.value.seq, ['decision_requested'], click.value.stepId),
    send: (click, request) =>
      deps.service.decide(click.value.runId, {
        stepId: click.value.stepId,
        optionId: click.value.choice,
        actor: click.actor,
        ...(request.item ? { itemId: request.item.id } : {}),
      }),
  });
}

async function openDecisionDialog(
  args: ButtonArgs,
  deps: HandlerDeps,
  click: Click,
  kind: 'reason' | 'value',
): Promise<void> {
  const meta = {
    purpose: 'decide' as const,
    target: click.value,
    channelId: click.place.channelId,
    threadTs: click.place.threadTs,
  };
  const what = (click.label ?? click.value.choice).replace(/…$/, '').replace(/^★ /, '');
  let opened: { view?: { id?: string; hash?: string } };
  try {
    opened = await args.client.views.open({
      trigger_id: args.body.trigger_id,
      view: reasonModal({
        meta,
        what,
        ...(kind === 'value' ? { value: { label: 'Value', maxLength: 500 }, reasonOptional: true } : {}),
      }),
    });
  } catch (err) {
    deps.logger.warn({ err, runId: click.value.runId }, 'could not open the decision dialog');
    await tell(
      args.client,
      deps,
      click.actor.id,
      click.place,
      ':warning: The dialog could not be opened; click again.',
    );
    return;
  }
  if (kind !== 'value' || !opened.view?.id) return;
  // The dialog is open; now the option's own wording of the value it wants can be read and shown.
  const run = await deps.service.get(click.value.runId).catch(() => null);
  const request = run
    ? askingEvent(run.events, click.value.seq, ['decision_requested'], click.value.stepId)
    : undefined;
  const option = request?.options.find((o) => o.id === click.value.choice);
  if (!option?.needsValue) return;
  await args.client.views
    .update({
      view_id: opened.view.id,
      ...(opened.view.hash ? { hash: opened.view.hash } : {}),
      view: reasonModal({
        meta,
        what: option.label,
        value: { label: option.needsValue.label, maxLength: option.needsValue.maxLength },
        reasonOptional: option.needsReason !== true,
      }),
    })
    .catch((err: unknown) => deps.logger.warn({ err }, 'could not update the decision dialog'));
}

export function register(app: App, deps: HandlerDeps): void {
  app.action(DECIDE_ACTION_PATTERN, async ({ body, ack, client }) => {
    await handleDecisionButton({ body: body as unknown as ButtonArgs['body'], ack, client }, deps);
  });
}
