import { z } from 'zod';
import { BLOCK_LIMITS as L } from './limits.js';

/**
 * zod schemas for the Block Kit shapes the bot emits (header, section, context, actions with buttons, divider, and
 * input blocks with a plain-text input in modals), enforcing Slack's limits. Objects are strict: a misspelt key is
 * a violation here rather than an `invalid_blocks` from Slack. Arrays report their size alongside their items'
 * problems, so one pass lists everything that is wrong.
 */

const lengthOf = (input: unknown): number => (typeof input === 'string' ? input.length : 0);

/** A non-empty string of at most `max` characters, with a message that gives the actual length. */
const str = (max: number) =>
  z
    .string()
    .min(1, 'must not be empty')
    .max(max, { error: (issue) => `has ${lengthOf(issue.input)} characters; the limit is ${max}` });

/** An array of at most `max` items (and at least `min`), checked even when some items are invalid. */
function list<T extends z.ZodType>(item: T, max: number, min = 0) {
  return z.array(item).superRefine(
    (items, ctx) => {
      if (!Array.isArray(items)) return;
      if (items.length > max)
        ctx.addIssue({ code: 'custom', message: `has ${items.length} items; the limit is ${max}` });
      if (items.length < min) ctx.addIssue({ code: 'custom', message: `needs at least ${min} item(s)` });
    },
    { when: () => true },
  );
}

export const plainTextSchema = (max: number = L.textObject) =>
  z.strictObject({ type: z.literal('plain_text'), text: str(max), emoji: z.boolean().optional() });

export const mrkdwnSchema = (max: number = L.textObject) =>
  z.strictObject({ type: z.literal('mrkdwn'), text: str(max), verbatim: z.boolean().optional() });

export const textSchema = (max: number = L.textObject) =>
  z.discriminatedUnion('type', [plainTextSchema(max), mrkdwnSchema(max)]);

export const ConfirmDialogSchema = z.strictObject({
  title: plainTextSchema(L.confirmTitle),
  text: textSchema(L.confirmText),
  confirm: plainTextSchema(L.confirmConfirm),
  deny: plainTextSchema(L.confirmDeny),
  style: z.enum(['primary', 'danger']).optional(),
});

/** Every button carries an `action_id`, because listeners route on it. */
export const ButtonSchema = z.strictObject({
  type: z.literal('button'),
  text: plainTextSchema(L.buttonText),
  action_id: str(L.actionId),
  value: str(L.buttonValue).optional(),
  url: str(L.buttonUrl).optional(),
  style: z.enum(['primary', 'danger']).optional(),
  confirm: ConfirmDialogSchema.optional(),
  accessibility_label: str(L.buttonAccessibilityLabel).optional(),
});

const blockId = str(L.blockId).optional();

export const HeaderBlockSchema = z.strictObject({
  type: z.literal('header'),
  block_id: blockId,
  text: plainTextSchema(L.headerText),
});

export const SectionBlockSchema = z
  .strictObject({
    type: z.literal('section'),
    block_id: blockId,
    text: textSchema(L.sectionText).optional(),
    fields: list(textSchema(L.sectionFieldText), L.sectionFields, 1).optional(),
    accessory: ButtonSchema.optional(),
    expand: z.boolean().optional(),
  })
  .superRefine(
    (block, ctx) => {
      if (block && typeof block === 'object' && block.text === undefined && block.fields === undefined) {
        ctx.addIssue({ code: 'custom', message: 'a section needs `text` or `fields`' });
      }
    },
    { when: () => true },
  );

export const ContextBlockSchema = z.strictObject({
  type: z.literal('context'),
  block_id: blockId,
  elements: list(textSchema(L.textObject), L.contextElements, 1),
});

export const ActionsBlockSchema = z.strictObject({
  type: z.literal('actions'),
  block_id: blockId,
  elements: list(ButtonSchema, L.actionsElements, 1),
});

export const DividerBlockSchema = z.strictObject({ type: z.literal('divider'), block_id: blockId });

export const PlainTextInputSchema = z
  .strictObject({
    type: z.literal('plain_text_input'),
    action_id: str(L.actionId),
    placeholder: plainTextSchema(L.inputPlaceholder).optional(),
    initial_value: z.string().max(L.plainTextInputLength).optional(),
    multiline: z.boolean().optional(),
    min_length: z.int().min(0).max(L.plainTextInputLength).optional(),
    max_length: z.int().min(1).max(L.plainTextInputLength).optional(),
    focus_on_load: z.boolean().optional(),
  })
  .superRefine((input, ctx) => {
    if (input.min_length !== undefined && input.max_length !== undefined && input.min_length > input.max_length) {
      ctx.addIssue({ code: 'custom', message: 'min_length is greater than max_length', path: ['min_length'] });
    }
  });

export const InputBlockSchema = z.strictObject({
  type: z.literal('input'),
  block_id: blockId,
  label: plainTextSchema(L.inputLabel),
  element: PlainTextInputSchema,
  hint: plainTextSchema(L.inputHint).optional(),
  optional: z.boolean().optional(),
  dispatch_action: z.boolean().optional(),
});

/** Blocks allowed in a message: input blocks belong to modals. */
export const MessageBlockSchema = z.discriminatedUnion('type', [
  HeaderBlockSchema,
  SectionBlockSchema,
  ContextBlockSchema,
  ActionsBlockSchema,
  DividerBlockSchema,
]);

export const ModalBlockSchema = z.discriminatedUnion('type', [
  HeaderBlockSchema,
  SectionBlockSchema,
  ContextBlockSchema,
  ActionsBlockSchema,
  DividerBlockSchema,
  InputBlockSchema,
]);

/**
 * The parts of a `chat.postMessage` / `chat.update` / `respond` payload that Block Kit limits apply to; other keys
 * (`channel`, `thread_ts`, `metadata`, ...) pass through. A `text` fallback is required: it is what notifications
 * and screen readers show.
 */
export const MessageSchema = z.looseObject({
  text: z
    .string()
    .min(1, 'a text fallback is required')
    .max(L.messageText, { error: (issue) => `has ${lengthOf(issue.input)} characters; the limit is ${L.messageText}` }),
  blocks: list(MessageBlockSchema, L.messageBlocks).optional(),
});

export const ModalViewSchema = z
  .strictObject({
    type: z.literal('modal'),
    title: plainTextSchema(L.modalTitle),
    submit: plainTextSchema(L.modalSubmit).optional(),
    close: plainTextSchema(L.modalClose).optional(),
    blocks: list(ModalBlockSchema, L.modalBlocks, 1),
    private_metadata: z.string().max(L.privateMetadata).optional(),
    callback_id: str(L.callbackId).optional(),
    external_id: str(L.externalId).optional(),
    clear_on_close: z.boolean().optional(),
    notify_on_close: z.boolean().optional(),
    submit_disabled: z.boolean().optional(),
  })
  .superRefine(
    (view, ctx) => {
      if (!view || typeof view !== 'object' || !Array.isArray(view.blocks)) return;
      const hasInput = view.blocks.some((b: unknown) => (b as { type?: unknown } | null)?.type === 'input');
      if (hasInput && view.submit === undefined) {
        ctx.addIssue({
          code: 'custom',
          message: 'a modal with input blocks needs a `submit` button',
          path: ['submit'],
        });
      }
    },
    { when: () => true },
  );

export type MessageBlock = z.infer<typeof MessageBlockSchema>;
export type ModalBlock = z.infer<typeof ModalBlockSchema>;
export type MessagePayload = z.infer<typeof MessageSchema>;
export type ModalView = z.infer<typeof ModalViewSchema>;

/** One broken limit or shape, located by an RFC 6901 JSON pointer into the payload. */
export interface LimitViolation {
  readonly pointer: string;
  readonly message: string;
}

export function jsonPointer(path: readonly PropertyKey[]): string {
  return path.map((p) => `/${String(p).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

function fromZod(error: z.ZodError): LimitViolation[] {
  return error.issues.map((issue) => {
    const pointer = jsonPointer(issue.path);
    if (issue.code === 'invalid_union' && 'note' in issue && issue.note === 'No matching discriminator') {
      const options = 'options' in issue && Array.isArray(issue.options) ? issue.options.join(', ') : '';
      return { pointer, message: `this type is not allowed here (allowed: ${options})` };
    }
    return { pointer, message: issue.message };
  });
}

interface Node {
  readonly value: unknown;
  readonly path: readonly PropertyKey[];
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function blocksOf(payload: unknown): Node[] {
  if (!isRecord(payload) || !Array.isArray(payload.blocks)) return [];
  return payload.blocks.map((value, i) => ({ value, path: ['blocks', i] }));
}

/** Interactive elements of a block that carry an `action_id`. */
function elementsOf(block: Node): Node[] {
  const b = block.value;
  if (!isRecord(b)) return [];
  const found: Node[] = [];
  if (Array.isArray(b.elements)) {
    b.elements.forEach((value, i) => {
      found.push({ value, path: [...block.path, 'elements', i] });
    });
  }
  if (isRecord(b.accessory)) found.push({ value: b.accessory, path: [...block.path, 'accessory'] });
  if (isRecord(b.element)) found.push({ value: b.element, path: [...block.path, 'element'] });
  return found.filter((n) => isRecord(n.value) && typeof n.value.action_id === 'string');
}

function duplicates(nodes: readonly Node[], key: 'block_id' | 'action_id', scope: string): LimitViolation[] {
  const seen = new Map<string, string>();
  const out: LimitViolation[] = [];
  for (const node of nodes) {
    const id = isRecord(node.value) ? node.value[key] : undefined;
    if (typeof id !== 'string') continue;
    const pointer = jsonPointer([...node.path, key]);
    const first = seen.get(id);
    if (first === undefined) seen.set(id, pointer);
    else
      out.push({ pointer, message: `${key} "${id}" is already used at ${first}; it must be unique within ${scope}` });
  }
  return out;
}

/** Sum of the lengths of every text object inside the blocks. */
function blocksTextLength(value: unknown): number {
  if (Array.isArray(value)) return value.reduce((sum: number, v) => sum + blocksTextLength(v), 0);
  if (!isRecord(value)) return 0;
  let sum = 0;
  for (const [key, v] of Object.entries(value)) {
    if (key === 'text' && typeof v === 'string') sum += v.length;
    else sum += blocksTextLength(v);
  }
  return sum;
}

/**
 * Every Block Kit limit a message breaks, with JSON pointers (`/blocks/3/text/text`); empty when Slack will accept
 * it as far as lengths, counts and ids go. `block_id` and `action_id` must be unique within the message.
 */
export function assertWithinLimits(message: unknown): LimitViolation[] {
  const result = MessageSchema.safeParse(message);
  const violations = result.success ? [] : fromZod(result.error);
  const blocks = blocksOf(message);
  violations.push(...duplicates(blocks, 'block_id', 'the message'));
  violations.push(...duplicates(blocks.flatMap(elementsOf), 'action_id', 'the message'));
  const total = isRecord(message) ? blocksTextLength(message.blocks) : 0;
  if (total > L.messageBlocksTextTotal) {
    violations.push({
      pointer: '/blocks',
      message: `the blocks hold ${total} characters of text together; keep them under ${L.messageBlocksTextTotal}`,
    });
  }
  return violations;
}

/**
 * Every Block Kit limit a modal view breaks. `block_id` must be unique within the view and `action_id` within its
 * block (input values come back keyed by both).
 */
export function assertModalWithinLimits(view: unknown): LimitViolation[] {
  const result = ModalViewSchema.safeParse(view);
  const violations = result.success ? [] : fromZod(result.error);
  const blocks = blocksOf(view);
  violations.push(...duplicates(blocks, 'block_id', 'the view'));
  for (const block of blocks) violations.push(...duplicates(elementsOf(block), 'action_id', 'its block'));
  return violations;
}
