import { fitMrkdwn, fitPlainText, BLOCK_LIMITS as L } from '../blocks/limits.js';
import { assertWithinLimits, type LimitViolation } from '../blocks/validate.js';
import { truncate, truncateMrkdwn } from '../slack-text.js';

/** The part of a message that Block Kit limits apply to. */
export interface MessageBody {
  readonly text: string;
  readonly blocks: readonly unknown[];
}

export interface FitResult {
  /** The body to send: the original when it was within limits, otherwise a cut copy. */
  readonly body: { text: string; blocks: unknown[] };
  /** What the original broke (empty when it was sent as is). */
  readonly violations: readonly LimitViolation[];
  /** What the cut copy still breaks: shapes and ids that cutting cannot fix. Slack decides on those. */
  readonly remaining: readonly LimitViolation[];
}

type Rec = Record<string, unknown>;

const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A text cut down to this is not worth cutting further; whole blocks go instead. */
const MIN_SHRUNK_TEXT = 100;

/**
 * Checks a message against Slack's Block Kit limits and, when it breaks any, returns a copy cut to fit: long texts
 * end in an ellipsis (mrkdwn is cut without splitting an entity, mention or link), lists keep their first items,
 * and when all texts together are too long the longest ones are shortened first. Shapes the limits table does not
 * know are left alone and reported in `remaining`.
 */
export function fitMessageToLimits(message: MessageBody): FitResult {
  const original = { text: message.text, blocks: [...message.blocks] };
  const violations = assertWithinLimits(original);
  if (violations.length === 0) return { body: original, violations, remaining: [] };

  const blocks = fitBlocks(structuredClone(original.blocks) as unknown[]);
  shrinkTotalText(blocks);
  const body = { text: fitFallbackText(original.text, blocks), blocks };
  return { body, violations, remaining: assertWithinLimits(body) };
}

/** The same message as text only, for when Slack refuses its blocks. */
export function textOnlyBody(message: MessageBody, maxLength: number = L.messageText): { text: string; blocks: [] } {
  return { text: truncateMrkdwn(fitFallbackText(message.text, message.blocks), maxLength), blocks: [] };
}

function fitFallbackText(text: string, blocks: readonly unknown[]): string {
  if (text.trim().length > 0) return text.length > L.messageText ? truncateMrkdwn(text, L.messageText) : text;
  // Slack requires a fallback for notifications; the first text in the blocks is the best stand-in.
  const first = textHolders(blocks)[0];
  const derived = first ? String(first.text) : '';
  return derived.trim().length > 0 ? truncateMrkdwn(derived, L.messageText) : 'Update';
}

function fitBlocks(blocks: unknown[]): unknown[] {
  let out = blocks;
  if (out.length > L.messageBlocks) {
    const left = out.length - (L.messageBlocks - 1);
    out = [...out.slice(0, L.messageBlocks - 1), omittedNote(left)];
  }
  for (const block of out) fitBlock(block);
  return out;
}

function omittedNote(count: number): Rec {
  return { type: 'context', elements: [{ type: 'mrkdwn', text: `… ${count} more block(s) not shown` }] };
}

function fitBlock(block: unknown): void {
  if (!isRec(block)) return;
  fitId(block, 'block_id', L.blockId);
  switch (block.type) {
    case 'header':
      fitTextObject(block.text, L.headerText);
      break;
    case 'section':
      fitTextObject(block.text, L.sectionText);
      if (Array.isArray(block.fields)) {
        const fields = block.fields.slice(0, L.sectionFields);
        block.fields = fields;
        for (const field of fields) fitTextObject(field, L.sectionFieldText);
      }
      fitElement(block.accessory);
      break;
    case 'context':
      if (Array.isArray(block.elements)) {
        const elements = block.elements.slice(0, L.contextElements);
        block.elements = elements;
        for (const element of elements) fitTextObject(element, L.textObject);
      }
      break;
    case 'actions':
      if (Array.isArray(block.elements)) {
        const elements = block.elements.slice(0, L.actionsElements);
        block.elements = elements;
        for (const element of elements) fitElement(element);
      }
      break;
    case 'markdown':
      if (typeof block.text === 'string' && block.text.length > L.markdownBlockText) {
        block.text = truncateMrkdwn(block.text, L.markdownBlockText);
      }
      break;
    default:
      break;
  }
}

function fitTextObject(value: unknown, limit: number): void {
  if (!isRec(value) || typeof value.text !== 'string') return;
  let text = value.text;
  if (text.length > limit) text = value.type === 'mrkdwn' ? fitMrkdwn(text, limit) : fitPlainText(text, limit);
  // Slack rejects an empty text object outright.
  value.text = text.length === 0 ? '-' : text;
}

function fitId(record: Rec, field: 'block_id' | 'action_id', limit: number): void {
  const id = record[field];
  if (typeof id === 'string' && id.length > limit) record[field] = id.slice(0, limit);
}

function fitElement(element: unknown): void {
  if (!isRec(element)) return;
  fitId(element, 'action_id', L.actionId);
  fitTextObject(element.text, L.buttonText);
  if (typeof element.value === 'string' && element.value.length > L.buttonValue) {
    element.value = element.value.slice(0, L.buttonValue);
  }
  // A cut URL would lead somewhere else: better no link than a wrong one.
  if (typeof element.url === 'string' && element.url.length > L.buttonUrl) delete element.url;
  if (typeof element.accessibility_label === 'string') {
    element.accessibility_label = truncate(element.accessibility_label, L.buttonAccessibilityLabel);
  }
  const confirm = element.confirm;
  if (isRec(confirm)) {
    fitTextObject(confirm.title, L.confirmTitle);
    fitTextObject(confirm.text, L.confirmText);
    fitTextObject(confirm.confirm, L.confirmConfirm);
    fitTextObject(confirm.deny, L.confirmDeny);
  }
}

/** Every object inside the blocks that carries a `text` string (text objects and markdown blocks). */
function textHolders(value: unknown, found: Rec[] = []): Rec[] {
  if (Array.isArray(value)) {
    for (const item of value) textHolders(item, found);
  } else if (isRec(value)) {
    if (typeof value.text === 'string') found.push(value);
    for (const child of Object.values(value)) textHolders(child, found);
  }
  return found;
}

function totalText(blocks: unknown[]): number {
  return textHolders(blocks).reduce((sum, holder) => sum + String(holder.text).length, 0);
}

/**
 * Slack refuses a message whose texts together are too long even when each is within its own limit, so the longest
 * texts are shortened first (they are the least likely to be read to the end), and whole blocks are dropped from
 * the end only when every text is already short.
 */
function shrinkTotalText(blocks: unknown[]): void {
  for (let total = totalText(blocks); total > L.messageBlocksTextTotal; total = totalText(blocks)) {
    const longest = textHolders(blocks).reduce<Rec | undefined>(
      (best, holder) => (best === undefined || String(holder.text).length > String(best.text).length ? holder : best),
      undefined,
    );
    const length = longest === undefined ? 0 : String(longest.text).length;
    if (longest !== undefined && length > MIN_SHRUNK_TEXT) {
      const target = Math.max(MIN_SHRUNK_TEXT, length - (total - L.messageBlocksTextTotal));
      const text = String(longest.text);
      longest.text = longest.type === 'plain_text' ? fitPlainText(text, target) : truncateMrkdwn(text, target);
    } else if (blocks.length > 1) {
      blocks.splice(blocks.length - 1, 1);
    } else {
      return;
    }
  }
}
