import type { ReasonPurpose } from '../slack/action-values.js';
import { reasonModal } from '../slack/views/reason-modal.js';
import { type ButtonArgs, type Click, tell } from './button-context.js';
import type { HandlerDeps } from './handler-deps.js';

/** Opens the reason dialog for a click, first thing after the acknowledgement (a trigger lives 3 s, once). */
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
    await tell(
      args.client,
      deps,
      click.actor.id,
      click.place,
      ':warning: The dialog could not be opened; click again.',
    );
  }
}
