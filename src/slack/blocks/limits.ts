import { safeText } from '../../outside-text.js';
import { truncate, truncateMrkdwn } from '../slack-text.js';

/**
 * Block Kit limits for the shapes the bot emits, from Slack's Block Kit reference (and the TSDoc of
 * `@slack/types`). Lengths are in characters as Slack counts them; we count UTF-16 units, which is never fewer.
 */
export const BLOCK_LIMITS = Object.freeze({
  /** Blocks in one message. */
  messageBlocks: 50,
  /** Blocks in one modal (or Home tab). */
  modalBlocks: 100,
  /** Any text object (`plain_text` or `mrkdwn`) unless a smaller limit applies. */
  textObject: 3000,
  /** Section `text`. */
  sectionText: 3000,
  /** Number of section `fields`. */
  sectionFields: 10,
  /** Text of each section field. */
  sectionFieldText: 2000,
  /** Header text (plain text). */
  headerText: 150,
  /** A `markdown` block. */
  markdownBlockText: 12_000,
  /** Elements in one actions block. */
  actionsElements: 25,
  /** Elements in one context block. */
  contextElements: 10,
  buttonText: 75,
  buttonValue: 2000,
  buttonUrl: 3000,
  buttonAccessibilityLabel: 75,
  actionId: 255,
  blockId: 255,
  confirmTitle: 100,
  confirmText: 300,
  confirmConfirm: 30,
  confirmDeny: 30,
  optionText: 75,
  optionValue: 75,
  optionDescription: 75,
  staticSelectOptions: 100,
  inputLabel: 2000,
  inputHint: 2000,
  inputPlaceholder: 150,
  /** Upper bound of a plain-text input's `min_length` / `max_length`. */
  plainTextInputLength: 3000,
  modalTitle: 24,
  modalSubmit: 24,
  modalClose: 24,
  callbackId: 255,
  privateMetadata: 3000,
  externalId: 255,
  /**
   * Top-level message `text`. Slack truncates beyond 40,000 and advises staying under 4,000; we keep to the advice.
   */
  messageText: 4000,
  /**
   * All text in one message's blocks together. Slack rejects long messages with `msg_blocks_too_long` somewhere
   * between about 11,000 and 13,300 characters although each block is within its own limit (the threshold is not
   * documented; see slackapi/bolt-js#2509 and #2867), so we stay well below it.
   */
  messageBlocksTextTotal: 10_000,
});

export type BlockLimitName = keyof typeof BLOCK_LIMITS;

/**
 * Plain text cut to a limit: the outside-text rule applied (on one line when `singleLine`), then an ellipsis if it
 * was too long. Plain-text objects are not parsed by Slack, so nothing is escaped.
 */
export function fitPlainText(text: string, limit: number, singleLine = false): string {
  return truncate(safeText(text, singleLine ? 'one' : 'many'), limit);
}

/**
 * Bot-composed mrkdwn cut to a limit without splitting an entity, mention or link, and with an open code block
 * closed. User text inside it must already be escaped (`userText`).
 */
export function fitMrkdwn(text: string, limit: number): string {
  return truncateMrkdwn(safeText(text), limit);
}

/** A `plain_text` object whose text fits `limit` (never empty: Slack rejects empty text objects, so nothing becomes `-`). */
export function plainText(text: string, limit: number = BLOCK_LIMITS.textObject) {
  return { type: 'plain_text', text: fitPlainText(text, limit, true) || '-', emoji: true } as const;
}

/** A `mrkdwn` object whose text fits `limit` (never empty: nothing becomes `-`). */
export function mrkdwnText(text: string, limit: number = BLOCK_LIMITS.textObject) {
  return { type: 'mrkdwn', text: fitMrkdwn(text, limit) || '-' } as const;
}
