import { BLOCK_LIMITS, mrkdwnText, plainText } from './limits.js';
import type { MessageBlock } from './validate.js';

type Actions = Extract<MessageBlock, { type: 'actions' }>;
export type Button = Actions['elements'][number];
type Confirm = NonNullable<Button['confirm']>;

export interface ConfirmSpec {
  readonly title: string;
  /** mrkdwn, already escaped where it holds outside text. */
  readonly text: string;
  readonly confirm: string;
  readonly deny?: string;
  readonly danger?: boolean;
}

export function confirmDialog(spec: ConfirmSpec): Confirm {
  return {
    title: plainText(spec.title, BLOCK_LIMITS.confirmTitle),
    text: mrkdwnText(spec.text, BLOCK_LIMITS.confirmText),
    confirm: plainText(spec.confirm, BLOCK_LIMITS.confirmConfirm),
    deny: plainText(spec.deny ?? 'Cancel', BLOCK_LIMITS.confirmDeny),
    ...(spec.danger ? { style: 'danger' as const } : {}),
  };
}

export interface ButtonSpec {
  readonly text: string;
  readonly actionId: string;
  readonly value: string;
  readonly style?: 'primary' | 'danger';
  readonly confirm?: ConfirmSpec;
  /** Read by screen readers instead of the (possibly cut) label. */
  readonly label?: string;
}

export function button(spec: ButtonSpec): Button {
  return {
    type: 'button',
    text: plainText(spec.text, BLOCK_LIMITS.buttonText),
    action_id: spec.actionId,
    value: spec.value,
    ...(spec.style ? { style: spec.style } : {}),
    ...(spec.confirm ? { confirm: confirmDialog(spec.confirm) } : {}),
    ...(spec.label ? { accessibility_label: plainText(spec.label, BLOCK_LIMITS.buttonAccessibilityLabel).text } : {}),
  };
}

/** Buttons in actions blocks of at most 25 each (Slack's limit), with ids unique within the message. */
export function actionsBlocks(blockIdPrefix: string, buttons: readonly Button[]): MessageBlock[] {
  const blocks: MessageBlock[] = [];
  for (let i = 0; i < buttons.length; i += BLOCK_LIMITS.actionsElements) {
    blocks.push({
      type: 'actions',
      block_id: `${blockIdPrefix}-${i / BLOCK_LIMITS.actionsElements}`,
      elements: buttons.slice(i, i + BLOCK_LIMITS.actionsElements),
    });
  }
  return blocks;
}
