import type { DecideKind, ReasonPurpose } from '../slack/action-values.js';
import { reasonModal } from '../slack/views/reason-modal.js';
import { askingEvent, type ButtonArgs, type Click, tell } from './button-context.js';
import type { HandlerDeps } from './handler-deps.js';

// The dialogs a click opens, first thing after the acknowledgement (a trigger lives 3 s, once). The command is
// sent on the dialog's submission (`reason-submission.ts`).

const NOT_OPENED = ':warning: The dialog could not be opened; click again.';

/** The reason dialog of Skip and Abort. */
export async function openReasonDialog(
  args: ButtonArgs,
  deps: HandlerDeps,
  click: Click,
  purpose: Exclude<ReasonPurpose, 'decide'>,
): Promise<void> {
  try {
    await args.client.views.open({
      trigger_id: args.body.trigger_id,
      view: reasonModal({
        meta: { purpose, target: click.value, channelId: click.place.channelId, threadTs: click.place.threadTs },
        what: purpose === 'skip' ? 'Skip this step' : 'Abort the run',
      }),
    });
  } catch (err) {
    deps.logger.warn({ err, runId: click.value.runId, purpose }, 'could not open the reason dialog');
    await tell(args.client, deps, click.actor.id, click.place, NOT_OPENED);
  }
}

/** The dialog of a decision option that needs a reason, or a typed value and a reason. */
export async function openDecisionDialog(
  args: ButtonArgs,
  deps: HandlerDeps,
  click: Click,
  kind: Exclude<DecideKind, 'direct'>,
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
    await tell(args.client, deps, click.actor.id, click.place, NOT_OPENED);
    return;
  }
  if (!opened.view?.id) return;
  // The dialog is open; now the question, what each option does and the value's own wording can be read and shown.
  const run = await deps.service.get(click.value.runId).catch(() => null);
  const request = run
    ? askingEvent(run.events, click.value.seq, ['decision_requested'], click.value.stepId)
    : undefined;
  const option = request?.options.find((o) => o.id === click.value.choice);
  if (!request || !option) return;
  const needsValue = kind === 'value' ? option.needsValue : undefined;
  await args.client.views
    .update({
      view_id: opened.view.id,
      ...(opened.view.hash ? { hash: opened.view.hash } : {}),
      view: reasonModal({
        meta,
        what: option.label,
        question: request.prompt,
        options: request.options.map((o) => ({
          label: o.label,
          ...(o.detail ? { detail: o.detail } : {}),
          chosen: o.id === option.id,
        })),
        ...(needsValue
          ? {
              value: { label: needsValue.label, maxLength: needsValue.maxLength },
              reasonOptional: option.needsReason !== true,
            }
          : kind === 'value'
            ? { value: { label: 'Value', maxLength: 500 }, reasonOptional: true }
            : {}),
      }),
    })
    .catch((err: unknown) => deps.logger.warn({ err }, 'could not update the decision dialog'));
}
