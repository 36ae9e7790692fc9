import {
  type DecisionOption,
  type DecisionRecord,
  type DecisionStep,
  type Evidence,
  type RunEventOf,
  stepState,
} from '../../runbook/index.js';
import { decideActionId, encodeActionValue } from '../../slack/action-values.js';
import { actionsBlocks, type Button, button, type ConfirmSpec } from '../../slack/blocks/buttons.js';
import { mrkdwnText } from '../../slack/blocks/limits.js';
import type { MessageBlock } from '../../slack/blocks/validate.js';
import type { MessageDraft } from './draft.js';
import { evidenceText } from './evidence.js';
import { clock, code, esc, escBlock, who } from './format.js';
import { stepNumber, type ThreadModel } from './model.js';
import { renderSkipped, statusEmoji, stepKey, stepTitle } from './step-basics.js';
import { callMentions, waitingLine, withMentions } from './waiting-line.js';

type DecisionRequest = RunEventOf<'decision_requested'>;

/** Per-item decisions get one message per item: `step-<id>.<n>`, numbered in the order they were asked. */
export function itemKey(stepId: string, index: number): string {
  return `${stepKey(stepId)}.${index + 1}`;
}

/** Options that end the run or hand it to another scenario: a click must be confirmed. */
function confirmFor(option: DecisionOption): ConfirmSpec | undefined {
  if (option.effect === 'abort') {
    return {
      title: 'Abort the run?',
      text: 'This ends the recovery run now. Nothing already done is undone.',
      confirm: 'Abort the run',
      danger: true,
    };
  }
  if (option.effect.startsWith('end:switched:')) {
    const to = option.effect.slice('end:switched:'.length);
    return {
      title: 'Switch scenario?',
      text: `This run ends and a new ${code(to, 40)} run continues the recovery in its own thread.`,
      confirm: 'Switch',
    };
  }
  return undefined;
}

/** A confirm dialog for an option beyond the ones every decision gets (abort, switch). */
export type ExtraConfirm = (option: DecisionOption) => ConfirmSpec | undefined;

/** One button per option; the recommended one primary, abort red, reasons asked in a dialog (`…`). */
export function optionButtons(runId: string, request: DecisionRequest, extraConfirm?: ExtraConfirm): Button[] {
  return request.options.map((option, i) => {
    const asks = option.needsReason || option.needsValue ? '…' : '';
    const star = option.recommended ? '★ ' : '';
    const confirm = asks ? undefined : (confirmFor(option) ?? extraConfirm?.(option));
    return button({
      text: `${star}${option.label}${asks}`,
      actionId: decideActionId(i, option.needsValue ? 'value' : option.needsReason ? 'reason' : 'direct'),
      value: encodeActionValue({ runId, stepId: request.stepId, choice: option.id, seq: request.seq }),
      ...(option.recommended
        ? { style: 'primary' as const }
        : option.effect === 'abort'
          ? { style: 'danger' as const }
          : {}),
      ...(confirm ? { confirm } : {}),
      label: option.label,
    });
  });
}

/** The evidence of a question, without explanations that list the options again: the buttons say them. */
function evidenceBeside(request: DecisionRequest): Evidence[] {
  const labels = request.options.map((o) => o.label).filter((label) => label.length > 0);
  return request.evidence.map((item) => {
    if (!item.detail || !labels.some((label) => item.detail?.includes(label))) return item;
    const { detail: _listed, ...rest } = item;
    return rest;
  });
}

/** What the options with a consequence to tell do, one line each; the buttons carry the labels. */
function consequenceLines(request: DecisionRequest): string | undefined {
  const lines = request.options
    .filter((o) => o.detail)
    .map((o) => `• *${esc(o.label, 80)}*: ${esc(o.detail ?? '', 300)}`);
  return lines.length > 0 ? lines.join('\n') : undefined;
}

export function decidedLine(record: DecisionRecord): string {
  const label = record.option?.label ?? record.optionId;
  const lines = [`:ballot_box_with_check: *Decided* by ${who(record.by)} at ${clock(record.at)}: *${esc(label, 300)}*`];
  if (record.value !== undefined) lines.push(`Value: ${code(record.value, 200)}`);
  if (record.reason) lines.push(`Reason: ${esc(record.reason, 500)}`);
  return lines.join('\n');
}

export function decisionFor(model: ThreadModel, request: DecisionRequest): DecisionRecord | undefined {
  return model.state.decisions.find(
    (d) => d.stepId === request.stepId && d.item?.id === request.item?.id && d.seq > request.seq,
  );
}

function isPending(model: ThreadModel, request: DecisionRequest): boolean {
  const pending = model.state.pendingDecision;
  return (
    pending !== null &&
    pending.stepId === request.stepId &&
    pending.item?.id === request.item?.id &&
    pending.requestedAt === request.at &&
    decisionFor(model, request) === undefined
  );
}

export interface RequestBlocksOptions {
  /** The step's `why`, shown under the question. */
  readonly why?: string | undefined;
  readonly extraConfirm?: ExtraConfirm;
}

/**
 * A question with its evidence and options: a button per option while it is open, then who chose what, when and
 * why. Block ids are built from the request's seq, so several questions can share a message.
 */
export function requestBlocks(
  model: ThreadModel,
  request: DecisionRequest,
  title: string,
  options: RequestBlocksOptions = {},
): MessageBlock[] {
  const record = decisionFor(model, request);
  const pending = isPending(model, request);
  const id = `${request.seq}`;
  // Once answered, the question folds to its answer: the prompt and its evidence stay in the summary file.
  if (record) {
    return [
      {
        type: 'section',
        block_id: `ddone-${id}`,
        text: mrkdwnText(`${statusEmoji('passed')} *${title}*\n${decidedLine(record)}`),
      },
    ];
  }
  const status = pending ? 'Decision needed' : 'Not decided';
  const blocks: MessageBlock[] = [
    {
      type: 'section',
      block_id: `dq-${id}`,
      text: mrkdwnText(`${statusEmoji('awaiting_decision')} *${title}* · ${status}\n${escBlock(request.prompt, 1800)}`),
    },
  ];
  if (pending) {
    const evidence = evidenceText(evidenceBeside(request), { max: 4, details: 'all' });
    if (evidence) blocks.push({ type: 'section', block_id: `dev-${id}`, text: mrkdwnText(evidence) });
    const consequences = consequenceLines(request);
    if (consequences) blocks.push({ type: 'section', block_id: `dopt-${id}`, text: mrkdwnText(consequences) });
    blocks.push(...actionsBlocks(`dact-${id}`, optionButtons(model.state.runId, request, options.extraConfirm)));
    blocks.push({
      type: 'section',
      block_id: `dhint-${id}`,
      text: mrkdwnText(`${waitingLine(model, 'decision')} The first click counts.`),
    });
  } else {
    blocks.push({
      type: 'context',
      block_id: `dgone-${id}`,
      elements: [mrkdwnText('Not decided: the run moved on or ended before anyone chose.')],
    });
  }
  if (options.why && pending) {
    blocks.push({ type: 'context', block_id: `dwhy-${id}`, elements: [mrkdwnText(`Why: ${esc(options.why, 600)}`)] });
  }
  return blocks;
}

function draftText(model: ThreadModel, step: DecisionStep, request: DecisionRequest): string {
  const record = decisionFor(model, request);
  const what = request.item ? ` (${esc(request.item.label, 200)})` : '';
  const state = record
    ? `decided by ${record.by.name ?? record.by.id}: ${record.option?.label ?? record.optionId}`
    : 'decision needed';
  const text = `Step ${stepNumber(model, step.id)}, ${esc(step.title, 150)}${what}: ${esc(state, 400)}`;
  return isPending(model, request) ? withMentions(text, callMentions(model, 'decision')) : text;
}

/**
 * A decision step: the question with its evidence and a button per option while it is open, then who chose what,
 * when and why. A per-item decision adds one message per item after an overview.
 */
export function renderDecisionStep(model: ThreadModel, step: DecisionStep, anchor: number): MessageDraft[] {
  const requests = model.decisionRequests.get(step.id) ?? [];
  const s = stepState(model.state, step.id);
  if (requests.length === 0) return s.status === 'skipped' ? [renderSkipped(model, step, anchor)] : [];
  const title = stepTitle(model, step);
  if (step.forEach === undefined) {
    const request = requests.at(-1) as DecisionRequest;
    return [
      {
        key: stepKey(step.id),
        anchor,
        text: draftText(model, step, request),
        blocks: requestBlocks(model, request, title, { why: step.why }),
      },
    ];
  }
  // Each item is asked once; a repeated request for an item (after a retry) replaces the earlier one.
  const byItem = new Map<string, DecisionRequest>();
  const order: string[] = [];
  for (const r of requests) {
    const id = r.item?.id ?? '';
    if (!byItem.has(id)) order.push(id);
    byItem.set(id, r);
  }
  const decided = order.filter((id) => {
    const r = byItem.get(id);
    return r !== undefined && decisionFor(model, r) !== undefined;
  }).length;
  const overview: MessageDraft = {
    key: stepKey(step.id),
    anchor,
    text: `Step ${stepNumber(model, step.id)}, ${esc(step.title, 150)}: ${decided} of ${order.length} decided`,
    blocks: [
      {
        type: 'section',
        block_id: `dover-${step.id}`,
        text: mrkdwnText(
          `${statusEmoji(decided === order.length ? 'passed' : 'awaiting_decision')} *${title}* · ${decided} of ${order.length} decided, one message per item below`,
        ),
      },
    ],
  };
  const items = order.map((id, index): MessageDraft => {
    const request = byItem.get(id) as DecisionRequest;
    const itemTitle = `${title} · ${esc(request.item?.label ?? id, 300)}`;
    return {
      key: itemKey(step.id, index),
      anchor: (requests.find((r) => (r.item?.id ?? '') === id) as DecisionRequest).seq,
      text: draftText(model, step, request),
      blocks: requestBlocks(model, request, itemTitle, { why: step.why }),
    };
  });
  return [overview, ...items];
}
