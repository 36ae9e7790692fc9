import {
  encodeReasonMetadata,
  REASON_INPUT,
  REASON_MODAL,
  type ReasonModalMetadata,
  VALUE_INPUT,
} from '../action-values.js';
import { BLOCK_LIMITS, mrkdwnText, plainText } from '../blocks/limits.js';
import type { ModalView } from '../blocks/validate.js';
import { userText } from '../slack-text.js';

/** Longest reason a person may type (the engine's limit). */
export const REASON_MAX = 500;

export interface ReasonModalSpec {
  readonly meta: ReasonModalMetadata;
  /** What the person is about to do, e.g. the option's label (plain text from the bot or the button). */
  readonly what: string;
  /** Ask for a typed value too (a backup path, a release), with this label. */
  readonly value?: { readonly label: string; readonly maxLength: number; readonly hint?: string };
  /** The reason may be left empty. @defaultValue false */
  readonly reasonOptional?: boolean;
  /** A decision: the question being decided, as the thread asked it. @defaultValue not shown */
  readonly question?: string;
  /** A decision: every option with what it does, the chosen one marked. @defaultValue not shown */
  readonly options?: readonly { readonly label: string; readonly detail?: string; readonly chosen: boolean }[];
}

/** What is being decided and what each option does, so the reason is written knowing both. */
function decisionContext(spec: ReasonModalSpec): string {
  const question = spec.question ? `*Deciding:* ${userText(spec.question, 600)}\n` : '';
  const options = (spec.options ?? []).map(
    (o) =>
      `• *${userText(o.label, 150)}*${o.chosen ? ' (your choice)' : ''}` +
      (o.detail ? `: ${userText(o.detail, 250, { keepNewlines: false })}` : ''),
  );
  return `${question}*You chose:* ${userText(spec.what, 300)}${options.length > 0 ? `\n${options.join('\n')}` : ''}`;
}

const TITLES = { decide: 'Decide', skip: 'Skip this step', abort: 'Abort the run' } as const;
const SUBMITS = { decide: 'Decide', skip: 'Skip', abort: 'Abort run' } as const;

/**
 * The dialog that asks why (and, for some options, which value). It carries only ids in `private_metadata`; the
 * submission is checked again by the engine.
 */
export function reasonModal(spec: ReasonModalSpec): ModalView {
  const purpose = spec.meta.purpose;
  const intro =
    purpose === 'abort'
      ? `*Abort the run* ${userText(spec.meta.target.runId, 80)}: it stops now and nothing already done is undone.`
      : purpose === 'skip'
        ? '*Skip the failed step* and go on without it. A skipped checklist step means the run cannot end as recovered.'
        : decisionContext(spec);
  const blocks: ModalView['blocks'] = [
    { type: 'section', block_id: 'intro', text: mrkdwnText(intro, BLOCK_LIMITS.sectionText) },
  ];
  if (spec.value) {
    blocks.push({
      type: 'input',
      block_id: VALUE_INPUT.block,
      label: plainText(spec.value.label, BLOCK_LIMITS.inputLabel),
      element: {
        type: 'plain_text_input',
        action_id: VALUE_INPUT.action,
        max_length: Math.min(spec.value.maxLength, BLOCK_LIMITS.plainTextInputLength),
      },
      ...(spec.value.hint ? { hint: plainText(spec.value.hint, BLOCK_LIMITS.inputHint) } : {}),
    });
  }
  blocks.push({
    type: 'input',
    block_id: REASON_INPUT.block,
    label: plainText('Reason (goes into the incident record)', BLOCK_LIMITS.inputLabel),
    element: {
      type: 'plain_text_input',
      action_id: REASON_INPUT.action,
      multiline: true,
      max_length: REASON_MAX,
    },
    ...(spec.reasonOptional ? { optional: true } : {}),
  });
  return {
    type: 'modal',
    callback_id: REASON_MODAL,
    title: plainText(TITLES[purpose], BLOCK_LIMITS.modalTitle),
    submit: plainText(SUBMITS[purpose], BLOCK_LIMITS.modalSubmit),
    close: plainText('Cancel', BLOCK_LIMITS.modalClose),
    private_metadata: encodeReasonMetadata(spec.meta),
    blocks,
  };
}
