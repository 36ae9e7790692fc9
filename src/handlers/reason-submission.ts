import type { App, ViewResponseAction, ViewSubmitAction } from '@slack/bolt';
import type { CommandOutcome, RunActor } from '../jobs/run-service-port.js';
import { checkPersonText } from '../runbook/index.js';
import {
  parseReasonMetadata,
  REASON_INPUT,
  REASON_MODAL,
  type ReasonModalMetadata,
  VALUE_INPUT,
} from '../slack/action-values.js';
import { REASON_MAX } from '../slack/views/reason-modal.js';
import { afterAck } from './after-ack-queue.js';
import { accessRefusal, authorise, authoriseNow, channelRefusal, runChannelRefusal } from './authorise.js';
import {
  askingEvent,
  type InteractionClient,
  reportOutcome,
  STALE_BUTTON,
  stalePause,
  tell,
} from './button-context.js';
import type { HandlerDeps } from './handler-deps.js';
import { recordRefusal } from './refusals.js';

/** A `view_submission` payload, as far as the listener reads it. */
export interface SubmissionBody {
  readonly user: { readonly id: string; readonly username?: string; readonly name?: string };
  readonly view: {
    readonly callback_id: string;
    readonly private_metadata: string;
    readonly state: { readonly values: Record<string, Record<string, { value?: string | null }>> };
  };
}

export interface SubmissionArgs {
  readonly body: SubmissionBody;
  readonly ack: (response?: ViewResponseAction) => Promise<void>;
  readonly client: InteractionClient;
}

function inputValue(body: SubmissionBody, input: { block: string; action: string }): string | undefined {
  return body.view.state.values[input.block]?.[input.action]?.value ?? undefined;
}

/**
 * Engine refusals shown on a field, with the dialog left open: those about what was typed, and a correction of a
 * decision already made (the person reads who decided what where they typed the other choice).
 */
function fieldOf(code: string, hasValue: boolean): string | undefined {
  if (code.startsWith('reason_')) return REASON_INPUT.block;
  if (code.startsWith('value_')) return VALUE_INPUT.block;
  if (code === 'already_decided') return hasValue ? VALUE_INPUT.block : REASON_INPUT.block;
  return undefined;
}

type Settled = { kind: 'done'; outcome: CommandOutcome } | { kind: 'late' };

/**
 * The reason dialog's submission (decide with a reason or value, skip, abort). What was typed is checked here
 * first and problems are shown on the field. Then the run service is asked, for at most `submitBudgetMs`: an
 * answer in time closes the dialog or shows the engine's objection on the field; a slow one closes the dialog at
 * once (Slack waits 3 s) and the outcome follows as an ephemeral message. This is the one acknowledgement that
 * waits for the run service, on purpose: an objection to what was typed belongs on the field, and a dialog is
 * submitted by one person at a time, not in bursts. A person whose user groups are not cached is not kept
 * waiting for Slack: the dialog closes and every answer follows as an ephemeral message.
 */
export async function handleReasonSubmission(args: SubmissionArgs, deps: HandlerDeps): Promise<void> {
  const { body, ack } = args;
  const meta = parseReasonMetadata(body.view.private_metadata);
  const userId = body.user.id;
  if (!meta) {
    recordRefusal(deps.logger, { userId, action: 'dialog', code: 'invalid_value' });
    await ack({ response_action: 'errors', errors: { [REASON_INPUT.block]: 'This dialog is out of date; close it.' } });
    return;
  }
  const place = { channelId: meta.channelId, threadTs: meta.threadTs };
  const action = meta.purpose;
  const reasonRequired = meta.purpose !== 'decide';
  const reason = checkPersonText(inputValue(body, REASON_INPUT), reasonRequired, REASON_MAX);
  if (!reason.ok) {
    const why =
      reason.problem === 'required'
        ? 'Please say why: it goes into the incident record.'
        : reason.problem === 'too_long'
          ? `Keep it to ${REASON_MAX} characters.`
          : 'Remove the control characters.';
    await ack({ response_action: 'errors', errors: { [REASON_INPUT.block]: why } });
    return;
  }
  const typedValue = inputValue(body, VALUE_INPUT);
  const known = authoriseNow(deps, body.user);
  if (!known) {
    // Slack must be asked about the person's user groups, which may take longer than the dialog can wait: it
    // closes now, and the outcome (a refusal included) follows as an ephemeral message.
    await ack();
    await afterAck(deps.afterAck, async () => {
      const auth = await authorise(deps, body.user);
      const click = { actor: auth.actor, place, value: meta.target };
      if (!auth.isOperator) {
        const refusal = accessRefusal(auth, 'not_operator', ':no_entry: Only recovery operators can do this.');
        recordRefusal(deps.logger, { userId, action, code: refusal.code, runId: meta.target.runId });
        await tell(args.client, deps, userId, place, refusal.text);
        return;
      }
      const outcome = await apply(meta, deps, auth.actor, reason.value, typedValue ?? undefined);
      await reportOutcome(args, deps, click, action, outcome);
    });
    return;
  }
  const auth = known;
  if (!auth.isOperator) {
    const refusal = accessRefusal(auth, 'not_operator', 'Only recovery operators can do this.');
    recordRefusal(deps.logger, { userId, action, code: refusal.code, runId: meta.target.runId });
    await ack({
      response_action: 'errors',
      errors: { [REASON_INPUT.block]: refusal.text.replace(/^:[a-z_]+: /, '').slice(0, 300) },
    });
    return;
  }
  const { actor } = auth;
  const click = { actor, place, value: meta.target };
  const work = apply(meta, deps, actor, reason.value, typedValue ?? undefined);
  const budget = deps.submitBudgetMs ?? 2000;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<Settled>((resolve) => {
    timer = setTimeout(() => resolve({ kind: 'late' }), budget);
  });
  const settled = await Promise.race([work.then((outcome): Settled => ({ kind: 'done', outcome })), late]);
  clearTimeout(timer);
  if (settled.kind === 'late') {
    await ack();
    const outcome = await work;
    await afterAck(deps.afterAck, () => reportOutcome(args, deps, click, action, outcome));
    return;
  }
  const { outcome } = settled;
  const field = outcome.ok ? undefined : fieldOf(outcome.code, typedValue !== undefined);
  if (!outcome.ok && field !== undefined && (field === REASON_INPUT.block || typedValue !== undefined)) {
    recordRefusal(deps.logger, { userId, action, code: outcome.code, runId: meta.target.runId });
    await ack({ response_action: 'errors', errors: { [field]: outcome.message.slice(0, 300) } });
    return;
  }
  await ack();
  await afterAck(deps.afterAck, () => reportOutcome(args, deps, click, action, outcome));
}

async function apply(
  meta: ReasonModalMetadata,
  deps: HandlerDeps,
  actor: RunActor,
  reason: string | undefined,
  value: string | undefined,
): Promise<CommandOutcome> {
  const { target } = meta;
  try {
    const run = await deps.service.get(target.runId);
    if (!run) return { ok: false, code: 'unknown_run', message: `no run ${target.runId}` };
    // The dialog was opened from a click; where that click was is checked again, against the run's own channel.
    const place = channelRefusal(deps.access, meta.channelId) ?? runChannelRefusal(deps, meta.channelId, run.state);
    if (place) return { ok: false, code: place.code, message: place.text.replace(/^:[a-z_]+: /, '') };
    if (meta.purpose === 'abort') return await deps.service.abort(target.runId, { actor, reason: reason ?? '' });
    if (meta.purpose === 'skip') {
      const stale = stalePause(run.events, run.state, target.seq);
      if (stale) return { ok: false, code: 'stale_pause', message: stale.replace(/^:[a-z_]+: /, '') };
      return await deps.service.skip(target.runId, { actor, reason: reason ?? '' });
    }
    const request = askingEvent(run.events, target.seq, ['decision_requested'], target.stepId);
    if (!request) return { ok: false, code: 'stale_button', message: STALE_BUTTON.replace(/^:[a-z_]+: /, '') };
    return await deps.service.decide(target.runId, {
      stepId: target.stepId,
      optionId: target.choice,
      actor,
      ...(request.item ? { itemId: request.item.id } : {}),
      ...(reason !== undefined ? { reason } : {}),
      ...(value !== undefined && value.trim() !== '' ? { value: value.trim() } : {}),
    });
  } catch (err) {
    deps.logger.error({ err, runId: target.runId, purpose: meta.purpose }, 'dialog submission failed');
    return { ok: false, code: 'unavailable', message: 'the run could not be read or written' };
  }
}

export function register(app: App, deps: HandlerDeps): void {
  app.view<ViewSubmitAction>({ callback_id: REASON_MODAL, type: 'view_submission' }, async ({ body, ack, client }) => {
    await handleReasonSubmission({ body: body as unknown as SubmissionBody, ack, client }, deps);
  });
}
