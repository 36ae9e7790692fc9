import { fitMessageToLimits } from '../../slack/outbox/fit-message.js';
import type { MessageDraft } from './draft.js';

/**
 * A draft cut to Slack's limits before it leaves the renderer, so what the outbox stores is what Slack shows
 * (the outbox would cut it too, but then the stored content and the posted one would differ).
 */
export function fitMessageText(draft: MessageDraft): { text: string; blocks: unknown[] } {
  return fitMessageToLimits({ text: draft.text || '-', blocks: draft.blocks }).body;
}
