import { BLOCK_LIMITS, fitMrkdwn, mrkdwnText } from '../slack/blocks/limits.js';
import type { MessageBlock } from '../slack/blocks/validate.js';

/** An answer to a person: the notification fallback and the blocks Slack shows. */
export interface Reply {
  readonly text: string;
  readonly blocks: MessageBlock[];
}

/**
 * `lines` joined, as many whole lines as fit in `max` characters; when some do not fit, the last line says how
 * many were left out (`overflow(rest)`). A line is never cut in half, except a first line longer than `max`.
 */
export function fitLines(lines: readonly string[], max: number, overflow: (rest: number) => string): string {
  let text = '';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    const next = text === '' ? line : `${text}\n${line}`;
    const last = i === lines.length - 1;
    const tail = last ? '' : `\n${overflow(lines.length - i - 1)}`;
    if (next.length + tail.length > max) {
      if (text === '') return fitMrkdwn(next, max - tail.length) + tail;
      return `${text}\n${overflow(lines.length - i)}`;
    }
    text = next;
  }
  return text;
}

/** A section of bot-composed mrkdwn, fitted to Slack's section limit. */
export function section(blockId: string, text: string): MessageBlock {
  return { type: 'section', block_id: blockId, text: mrkdwnText(text, BLOCK_LIMITS.sectionText) };
}

/** A context line of bot-composed mrkdwn. */
export function context(blockId: string, text: string): MessageBlock {
  return { type: 'context', block_id: blockId, elements: [mrkdwnText(text, BLOCK_LIMITS.textObject)] };
}

/** Fallback text cut to what Slack advises for a message's `text`. */
export function fallbackText(lines: readonly string[]): string {
  return fitMrkdwn(lines.join('\n'), BLOCK_LIMITS.messageText - 100);
}
