import type { App } from '@slack/bolt';
import { findScenario } from '../runbook/index.js';
import { ACTION } from '../slack/action-values.js';
import { codeSpan } from '../slack/slack-text.js';
import { afterAck } from './after-ack-queue.js';
import { accessRefusal, authorise, isChannelAllowed } from './authorise.js';
import { type ButtonArgs, clickPlace, STALE_BUTTON, tell } from './button-context.js';
import type { HandlerDeps } from './handler-deps.js';
import { recordRefusal, refusalText } from './refusals.js';

/** "Start recovery" under a `/dg diagnose` verdict: the same start as `/dg recover <scenario>`, same checks. */
export async function handleStartRecoveryButton(args: ButtonArgs, deps: HandlerDeps): Promise<void> {
  await args.ack();
  await afterAck(deps.afterAck, () => startRecovery(args, deps));
}

async function startRecovery(args: ButtonArgs, deps: HandlerDeps): Promise<void> {
  const { body } = args;
  const place = clickPlace(body);
  const auth = await authorise(deps, body.user);
  const { actor } = auth;
  const scenario = findScenario(body.actions[0]?.value ?? '');
  const refuse = async (code: string, text: string) => {
    recordRefusal(deps.logger, {
      userId: actor.id,
      action: 'recover',
      code,
      ...(place.channelId ? { channelId: place.channelId } : {}),
    });
    await tell(args.client, deps, actor.id, place, text);
  };
  if (!scenario) return refuse('invalid_value', STALE_BUTTON);
  if (!auth.isOperator) {
    const refusal = accessRefusal(auth, 'not_operator', ':no_entry: Only recovery operators can start a recovery run.');
    return refuse(refusal.code, refusal.text);
  }
  if (!place.channelId || !isChannelAllowed(deps.access, place.channelId)) {
    return refuse('channel_not_allowed', refusalText('channel_not_allowed', ''));
  }
  const started = await deps.service.start({ scenario: scenario.name, actor, channelId: place.channelId });
  if (!started.ok) return refuse(started.code, refusalText(started.code, started.message));
  await tell(
    args.client,
    deps,
    actor.id,
    { channelId: place.channelId, threadTs: undefined },
    `:rocket: Started run ${codeSpan(started.runId, 80)}; its thread opens in this channel.`,
  );
}

export function register(app: App, deps: HandlerDeps): void {
  app.action(ACTION.startRecovery, async ({ body, ack, client }) => {
    await handleStartRecoveryButton({ body: body as unknown as ButtonArgs['body'], ack, client }, deps);
  });
}
