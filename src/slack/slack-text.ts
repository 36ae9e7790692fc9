import { safeText } from '../outside-text.js';

/**
 * Making text that people typed safe to show in Slack: which characters go is the one rule for outside text
 * (`safeText`); then `&`, `<` and `>` become entities. Lengths are UTF-16 code units, as Slack's limits count them;
 * text is cut between code points (docs/internals.md#slack-text).
 */

/** The ellipsis appended to text that was cut. */
export const ELLIPSIS = '…';

/** Options for {@link userText}. */
export interface UserTextOptions {
  /**
   * Keep line breaks and tabs; when false they become a space, for one-line places such as headers and buttons.
   * @defaultValue true
   */
  keepNewlines?: boolean;
}

/** Turns the three characters Slack parses in mrkdwn into entities, so the text is shown, never interpreted. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Undoes Slack's own escaping of `&`, `<` and `>` in text it sends us (slash command text, input values), so the
 * text can be validated and stored as the user typed it and escaped once, on the way out.
 */
export function decodeSlackEntities(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/** Index just past the last whole code point that fits in `budget` UTF-16 units. */
function codePointCut(text: string, budget: number): number {
  if (budget <= 0) return 0;
  if (budget >= text.length) return text.length;
  const code = text.charCodeAt(budget - 1);
  // A high surrogate at the edge would be split from its low half: leave the pair out.
  return code >= 0xd800 && code <= 0xdbff ? budget - 1 : budget;
}

/**
 * Cuts `text` to at most `max` UTF-16 units, ending in {@link ELLIPSIS} when anything was removed, never splitting a
 * surrogate pair. Text that fits is returned unchanged.
 */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max <= 0) return '';
  if (max < ELLIPSIS.length + 1) return text.slice(0, codePointCut(text, max));
  return text.slice(0, codePointCut(text, max - ELLIPSIS.length)) + ELLIPSIS;
}

/**
 * Text a user typed, ready for a mrkdwn field of at most `max` units: the outside-text rule applied, `&<>` escaped,
 * and cut with an ellipsis so that no entity is split (the limit applies to the escaped text, as Slack counts it).
 */
export function userText(text: string, max: number, options: UserTextOptions = {}): string {
  const clean = safeText(text, options.keepNewlines === false ? 'one' : 'many');
  const escaped = escapeMrkdwn(clean);
  if (escaped.length <= max) return escaped;
  const budget = max - ELLIPSIS.length;
  if (budget <= 0) return '';
  let out = '';
  for (const ch of clean) {
    const piece = escapeMrkdwn(ch);
    if (out.length + piece.length > budget) break;
    out += piece;
  }
  return out + ELLIPSIS;
}

/**
 * User text as an inline code span: escaped, cut to `max` units including the backticks, with backticks inside
 * replaced by `ˋ` (U+02CB) because mrkdwn has no way to escape a backtick inside a code span.
 */
export function codeSpan(text: string, max = 80): string {
  const inner = userText(text.replace(/`/g, 'ˋ'), Math.max(0, max - 2), { keepNewlines: false });
  return `\`${inner}\``;
}

const FENCE = '```';

/**
 * Cuts mrkdwn that the bot composed (and whose user parts are already escaped) to at most `max` units without
 * leaving half an entity (`&am`), half a mention or link (`<@U12`), or an unclosed code block behind.
 */
export function truncateMrkdwn(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max <= ELLIPSIS.length) return truncate(text, max);
  // Reserve room for a closing fence in case the cut lands inside a code block.
  const closing = `\n${FENCE}`;
  let budget = max - ELLIPSIS.length;
  let kept = safeCut(text, budget);
  if (countFences(kept) % 2 === 1) {
    budget = max - ELLIPSIS.length - closing.length;
    kept = safeCut(text, Math.max(0, budget));
    if (countFences(kept) % 2 === 1) return `${kept}${ELLIPSIS}${closing}`;
  }
  return kept + ELLIPSIS;
}

function safeCut(text: string, budget: number): string {
  let kept = text.slice(0, codePointCut(text, budget));
  const lastOpen = kept.lastIndexOf('<');
  if (lastOpen > kept.lastIndexOf('>')) kept = kept.slice(0, lastOpen);
  const lastAmp = kept.lastIndexOf('&');
  if (lastAmp >= 0 && !kept.slice(lastAmp).includes(';') && kept.length - lastAmp <= 5) kept = kept.slice(0, lastAmp);
  // A cut inside a fence marker itself (one or two backticks of three) would open a stray span.
  const trailingTicks = /`{1,2}$/.exec(kept);
  if (trailingTicks && text.slice(trailingTicks.index, trailingTicks.index + 3) === FENCE) {
    kept = kept.slice(0, trailingTicks.index);
  }
  return kept;
}

function countFences(text: string): number {
  return text.split(FENCE).length - 1;
}
