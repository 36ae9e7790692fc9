import type { RunEvent, Scenario } from '../../runbook/index.js';
import type { OutboxMessage } from '../../slack/outbox/types.js';
import { renderPauseAlerts, renderResult } from './alerts.js';
import { HEADER_KEY, type MessageDraft } from './draft.js';
import { fitMessageText } from './fit.js';
import { renderHeader } from './header.js';
import { type ActionPlanOf, buildThreadModel } from './model.js';
import { renderReminders } from './reminders.js';
import { stepDrafts } from './step-groups.js';
import { SUMMARY_KEY, type SummaryContent } from './summary-message.js';

export interface RenderThreadOptions {
  /** Channel of a run started without one (from the terminal). No channel at all: nothing is rendered. */
  readonly defaultChannel?: string;
  /**
   * Builds the incident summary posted when the run has finished; left out, the thread ends with the result.
   * @defaultValue no summary message
   */
  readonly summary?: (events: readonly RunEvent[], scenario: Scenario) => SummaryContent | undefined;
  /** The time of the render, for reminders. @defaultValue no reminders are rendered */
  readonly now?: Date;
  /**
   * A wait for a person (decision, approval, manual action, pause) left this long gets a reminder mentioning who
   * it calls. @defaultValue 600000 (10 min)
   */
  readonly reminderMs?: number;
  /** The access config's operators, called when a run started from the terminal waits. @defaultValue `null` (anyone) */
  readonly operators?: readonly string[] | null;
  /** The exact action an approval lets run. @defaultValue approvals do not quote the action */
  readonly actionPlan?: ActionPlanOf;
}

export const DEFAULT_REMINDER_MS = 10 * 60_000;

/**
 * Orders must grow with every render and keep messages apart within one: the log's last seq, plus the message's
 * anchor as a fraction. A key's first order fixes its place, so messages first published in the same render land
 * in the order of the events that brought them in.
 */
const ANCHOR_SCALE = 1_000_000;

export function orderOf(lastSeq: number, anchor: number): number {
  return lastSeq + Math.min(anchor, ANCHOR_SCALE - 1) / ANCHOR_SCALE;
}

/**
 * The run's Slack thread as it should look now: a header (top-level, updated in place), a message per question
 * with the steps that followed it as lines (see step-groups), the pause alerts and the final result (broadcast to the channel, with the summary's gist), and
 * the incident summary.
 * Pure: the same log always gives the same messages, so a repeated or late render changes nothing.
 *
 * @param events the run's whole log, in order.
 * @returns messages in thread order; empty when the run has no channel to post in.
 */
export function renderThread(
  events: readonly RunEvent[],
  scenario: Scenario,
  options: RenderThreadOptions = {},
): OutboxMessage[] {
  const model = buildThreadModel(events, scenario, {
    operators: options.operators ?? null,
    ...(options.actionPlan ? { actionPlan: options.actionPlan } : {}),
  });
  const channel = model.state.channelId ?? options.defaultChannel;
  if (channel === undefined || channel === '') return [];
  const drafts: MessageDraft[] = [renderHeader(model), ...stepDrafts(model), ...renderPauseAlerts(model)];
  if (options.now) {
    drafts.push(...renderReminders(model, options.now, options.reminderMs ?? DEFAULT_REMINDER_MS));
  }
  const summary = model.finished && options.summary ? options.summary(events, scenario) : undefined;
  const result = renderResult(model, summary?.gist);
  if (result) drafts.push(result);
  if (result && summary) {
    drafts.push({ key: SUMMARY_KEY, anchor: result.anchor + 0.5, text: summary.text, blocks: summary.blocks });
  }
  const lastSeq = model.state.lastSeq;
  return drafts
    .sort((a, b) => a.anchor - b.anchor)
    .map((draft) => {
      const fitted = fitMessageText(draft);
      return {
        key: draft.key,
        channel,
        ...(draft.inThread === false ? {} : { parentKey: HEADER_KEY }),
        text: fitted.text,
        blocks: fitted.blocks,
        ...(draft.broadcast ? { broadcast: true } : {}),
        order: orderOf(lastSeq, draft.anchor),
      };
    });
}
