import type { CommandOutcome, RunActor } from '../jobs/run-service-port.js';
import type { RunEvent, RunState } from '../runbook/index.js';
import { type ActionValue, parseActionValue } from '../slack/action-values.js';
import type { ModalView } from '../slack/blocks/validate.js';
import { type AfterAckTaskOptions, afterAck } from './after-ack-queue.js';
import { type Authorisation, accessRefusal, authorise, channelRefusal } from './authorise.js';
import type { HandlerDeps } from './handler-deps.js';
import { recordRefusal, refusalText } from './refusals.js';

/** The parts of Slack's Web API client the interactive listeners call. */
export interface InteractionClient {
  readonly chat: {
    postEphemeral(args: { channel: string; user: string; text: string; thread_ts?: string }): Promise<unknown>;
  };
  readonly views: {
    open(args: { trigger_id: string; view: ModalView }): Promise<{ view?: { id?: string; hash?: string } }>;
    update(args: { view_id: string; hash?: string; view: ModalView }): Promise<unknown>;
  };
}

/** A `block_actions` payload, as far as the listeners read it. */
export interface ButtonBody {
  readonly user: { readonly id: string; readonly username?: string; readonly name?: string };
  readonly trigger_id: string;
  readonly channel?: { readonly id: string };
  readonly container?: { readonly channel_id?: string; readonly message_ts?: string; readonly thread_ts?: string };
  readonly message?: { readonly ts: string; readonly thread_ts?: string };
  readonly actions: ReadonlyArray<{
    readonly action_id: string;
    readonly value?: string;
    readonly text?: { text: string };
  }>;
}

export interface ButtonArgs {
  readonly body: ButtonBody;
  readonly ack: () => Promise<void>;
  readonly client: InteractionClient;
}

/** Where a click happened: for ephemeral answers in the same thread. */
export interface ClickPlace {
  readonly channelId: string | undefined;
  readonly threadTs: string | undefined;
}

export function clickPlace(body: ButtonBody): ClickPlace {
  return {
    channelId: body.channel?.id ?? body.container?.channel_id,
    // A reply's thread is its parent; a click on the parent itself answers in its thread too.
    threadTs: body.message?.thread_ts ?? body.container?.thread_ts ?? body.message?.ts ?? body.container?.message_ts,
  };
}

/** Tells one person something only they see, in the thread they clicked in; never throws. */
export async function tell(
  client: InteractionClient,
  deps: HandlerDeps,
  userId: string,
  place: ClickPlace,
  text: string,
): Promise<void> {
  if (!place.channelId) {
    deps.logger.warn({ userId }, 'no channel to answer a click in');
    return;
  }
  try {
    await client.chat.postEphemeral({
      channel: place.channelId,
      user: userId,
      text,
      ...(place.threadTs ? { thread_ts: place.threadTs } : {}),
    });
  } catch (err) {
    deps.logger.warn({ err, userId }, 'could not post an ephemeral answer');
  }
}

/** The click's first action and the ids in its value; `undefined` when it is not one of ours. */
export function clickedValue(body: ButtonBody): { actionId: string; value: ActionValue; label?: string } | undefined {
  const action = body.actions[0];
  if (!action) return undefined;
  const value = parseActionValue(action.value);
  if (!value) return undefined;
  return { actionId: action.action_id, value, ...(action.text?.text ? { label: action.text.text } : {}) };
}

export const STALE_BUTTON =
  ':grey_question: This button is out of date or not one of the bot’s; use the latest message in the thread.';

/** A person's click, ready to act on: who (with what they may do), where, which ids. */
export interface Click {
  readonly actor: RunActor;
  readonly access: Authorisation;
  readonly place: ClickPlace;
  readonly actionId: string;
  readonly value: ActionValue;
  readonly label: string | undefined;
}

/**
 * Acknowledges first (Slack wants it within 3 s and nothing below may delay it), then, in its turn in
 * `deps.afterAck`, reads the click and who clicked (user groups included) and hands it to `work`. An unreadable
 * value, or a click in a channel the allow-list leaves out, is answered there and then. Clicks that open a dialog are `urgent`: the click's trigger lives 3 s.
 */
export async function acceptClick(
  args: ButtonArgs,
  deps: HandlerDeps,
  work: (click: Click) => Promise<void>,
  options: AfterAckTaskOptions = {},
): Promise<void> {
  await args.ack();
  await afterAck(
    deps.afterAck,
    async () => {
      const click = await readClick(args, deps);
      if (!click) return;
      // Before any dialog opens: buttons are operated only where the allow-list takes commands.
      const place = channelRefusal(deps.access, click.place.channelId);
      if (place) return refuseClick(args, deps, click, 'click', place.code, place.text);
      await work(click);
    },
    options,
  );
}

async function readClick(args: ButtonArgs, deps: HandlerDeps): Promise<Click | undefined> {
  const place = clickPlace(args.body);
  const clicked = clickedValue(args.body);
  if (!clicked) {
    recordRefusal(deps.logger, { userId: args.body.user.id, action: 'click', code: 'invalid_value' });
    await tell(args.client, deps, args.body.user.id, place, STALE_BUTTON);
    return undefined;
  }
  const access = await authorise(deps, args.body.user);
  return {
    actor: access.actor,
    access,
    place,
    actionId: clicked.actionId,
    value: clicked.value,
    label: clicked.label,
  };
}

/** Refuses a click before anything is read: recorded, and told to the person. */
export async function refuseClick(
  args: ButtonArgs,
  deps: HandlerDeps,
  click: Click,
  action: string,
  code: string,
  text: string,
): Promise<void> {
  recordRefusal(deps.logger, {
    userId: click.actor.id,
    action,
    code,
    runId: click.value.runId,
    stepId: click.value.stepId,
    ...(click.place.channelId ? { channelId: click.place.channelId } : {}),
  });
  await tell(args.client, deps, click.actor.id, click.place, text);
}

/**
 * Refuses a click by someone the needed list does not name; when one of their user groups could not be checked,
 * the answer says so instead (code `group_lookup_failed`).
 */
export async function refuseAccess(
  args: ButtonArgs,
  deps: HandlerDeps,
  click: Click,
  action: string,
  code: 'not_operator' | 'not_approver',
  text: string,
): Promise<void> {
  const refusal = accessRefusal(click.access, code, text);
  await refuseClick(args, deps, click, action, refusal.code, refusal.text);
}

/** The event with this seq, if it is of one of `types` (and, when given, about `stepId`). */
export function askingEvent<T extends RunEvent['type']>(
  events: readonly RunEvent[],
  seq: number,
  types: readonly T[],
  stepId?: string,
): Extract<RunEvent, { type: T }> | undefined {
  const event = events.find((e) => e.seq === seq);
  if (!event || !(types as readonly string[]).includes(event.type)) return undefined;
  if (stepId !== undefined && (!('stepId' in event) || event.stepId !== stepId)) return undefined;
  return event as Extract<RunEvent, { type: T }>;
}

/**
 * Whether the pause a Retry or Skip button was posted for is still the open one. A double click would otherwise
 * retry twice when the step failed again in between; the answer names who resumed it.
 */
export function stalePause(events: readonly RunEvent[], state: RunState, pauseSeq: number): string | undefined {
  const paused = askingEvent(events, pauseSeq, ['run_paused']);
  if (!paused) return STALE_BUTTON;
  const later = events.find((e) => e.seq > pauseSeq && (e.type === 'run_resumed' || e.type === 'run_finished'));
  if (later?.type === 'run_resumed') {
    const how = later.action === 'retry' ? 'retried' : 'skipped';
    return `:no_entry: Too late: this step was already ${how} by ${later.by.name ?? later.by.id}.`;
  }
  if (later?.type === 'run_finished' || state.outcome !== null) return ':no_entry: The run has already finished.';
  return undefined;
}

/** Reports a refused command to the person and records it; says nothing when it went through. */
export async function reportOutcome(
  args: { client: InteractionClient },
  deps: HandlerDeps,
  click: Pick<Click, 'actor' | 'place' | 'value'>,
  action: string,
  outcome: CommandOutcome,
): Promise<void> {
  if (outcome.ok) return;
  recordRefusal(deps.logger, {
    userId: click.actor.id,
    action,
    code: outcome.code,
    runId: click.value.runId,
    stepId: click.value.stepId,
  });
  await tell(
    args.client,
    deps,
    click.actor.id,
    click.place,
    refusalText(outcome.code, outcome.message, click.value.runId),
  );
}
