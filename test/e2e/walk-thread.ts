import { ACTION, REASON_INPUT, VALUE_INPUT } from '../../src/projections/thread/index.js';
import type { StoredMessage } from '../helpers/fake-slack.js';
import { newTriggerId } from '../helpers/slack-requests.js';
import { BO, buttons, type E2E } from './harness.js';

// People in the channel taking a run to its end: at each decision Bo clicks the recommended option (or the one the
// test names), types a reason where a dialog asks for one, approves as the second person and reports manual steps
// done. A pause is never clicked away: the walk stops there and says so.

type Button = ReturnType<typeof buttons>[number];

export interface Walk {
  /** `step:option` for every click, in order. */
  readonly clicks: readonly string[];
  /** The text of the message offering Retry, when the run paused instead of ending. */
  readonly pausedAt?: string;
}

/** The options to take instead of the recommended one: decision step id → option id. */
export type Choices = Readonly<Record<string, string>>;

type Next =
  | { readonly kind: 'end' }
  | { readonly kind: 'paused'; readonly message: StoredMessage }
  | { readonly kind: 'act'; readonly message: StoredMessage; readonly button: Button };

/** The value's parts: `<run>|<step>|<choice>|v<seq>`. */
function parts(value: string | undefined): { step: string; choice: string; request: string } {
  const [, step = '', choice = '', seq = ''] = (value ?? '').split('|');
  return { step, choice, request: `${step}|${seq}` };
}

function pick(offered: readonly Button[], choices: Choices): Button | undefined {
  const step = parts(offered[0]?.value).step;
  const named = choices[step];
  if (named !== undefined) return offered.find((b) => parts(b.value).choice === named);
  return offered.find((b) => b.text.startsWith('★')) ?? offered.find((b) => !b.actionId.startsWith(ACTION.decide));
}

function nextStep(e2e: E2E, runId: string, answered: ReadonlySet<string>, choices: Choices): Next | undefined {
  const thread = e2e.thread(runId);
  if (thread.some((m) => m.text?.startsWith('Incident summary'))) return { kind: 'end' };
  const paused = thread.find((m) => buttons(m).some((b) => b.actionId === ACTION.retry));
  if (paused) return { kind: 'paused', message: paused };
  for (const message of thread) {
    const offered = buttons(message).filter(
      (b) => b.actionId !== ACTION.abort && b.value !== undefined && !answered.has(parts(b.value).request),
    );
    const button = offered.length > 0 ? pick(offered, choices) : undefined;
    if (button) return { kind: 'act', message, button };
  }
  return undefined;
}

async function press(e2e: E2E, message: StoredMessage, button: Button): Promise<void> {
  const dialog =
    button.actionId.startsWith(ACTION.decideWithReason) || button.actionId.startsWith(ACTION.decideWithValue);
  const trigger = newTriggerId();
  await e2e.click(BO, message, button.actionId, button.value, trigger);
  if (!dialog) return;
  await e2e.until(() => e2e.fake.views().find((v) => v.trigger_id === trigger), 'the reason dialog');
  const values: Record<string, string> = { [REASON_INPUT.block]: 'drill: the recommended way on' };
  if (button.actionId.startsWith(ACTION.decideWithValue)) values[VALUE_INPUT.block] = 'v1';
  await e2e.submit(BO, trigger, values);
}

/** Clicks through the run's thread until it ends or pauses. */
export async function walkThread(e2e: E2E, runId: string, choices: Choices = {}, timeoutMs = 60_000): Promise<Walk> {
  const answered = new Set<string>();
  const clicks: string[] = [];
  for (;;) {
    const next = await e2e.until(
      () => nextStep(e2e, runId, answered, choices),
      'a button to click or the end of the run',
      timeoutMs,
    );
    if (next.kind === 'end') return { clicks };
    if (next.kind === 'paused') return { clicks, pausedAt: next.message.text ?? '' };
    const { step, choice, request } = parts(next.button.value);
    answered.add(request);
    clicks.push(`${step}:${choice}`);
    await press(e2e, next.message, next.button);
  }
}
