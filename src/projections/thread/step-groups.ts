import { isExecutorStep, type Step, stepState } from '../../runbook/index.js';
import type { MessageBlock } from '../../slack/blocks/validate.js';
import { renderApprovalStep } from './approval-message.js';
import { renderDecisionStep } from './decision-message.js';
import type { MessageDraft } from './draft.js';
import type { ThreadModel } from './model.js';
import { isHiddenSkip, renderExecutorStep } from './step-message.js';

// The thread holds one message per question a person must answer, with the steps that ran after it folded in as
// lines; the steps before the first question share one message. Steps skipped without running have none.

/** A question gets a message of its own: an update of an earlier message notifies nobody. */
function asksSomeone(model: ThreadModel, step: Step): boolean {
  if (!isExecutorStep(step)) return true;
  return step.executor === 'manual' || (model.decisionRequests.get(step.id) ?? []).length > 0;
}

function stepParts(model: ThreadModel, step: Step, anchor: number): MessageDraft[] {
  if (isExecutorStep(step)) {
    return isHiddenSkip(stepState(model.state, step.id)) ? [] : [renderExecutorStep(model, step, anchor)];
  }
  // A question never asked (its step was skipped) has no message.
  if (step.kind === 'decision')
    return model.decisionRequests.has(step.id) ? renderDecisionStep(model, step, anchor) : [];
  const draft = model.approvalRequests.has(step.id) ? renderApprovalStep(model, step, anchor) : undefined;
  return draft ? [draft] : [];
}

interface Group {
  readonly first: MessageDraft;
  readonly blocks: MessageBlock[];
  last: MessageDraft;
}

function groupDraft(group: Group): MessageDraft {
  const text = group.last === group.first ? group.first.text : `${group.first.text}; then ${group.last.text}`;
  return { key: group.first.key, anchor: group.first.anchor, text, blocks: group.blocks };
}

/** The step messages in thread order, each a question with what followed it, or the steps before the first. */
export function stepDrafts(model: ThreadModel): MessageDraft[] {
  const reached = model.scenario.steps
    .filter((step) => model.firstSeq.has(step.id))
    .sort((a, b) => (model.firstSeq.get(a.id) ?? 0) - (model.firstSeq.get(b.id) ?? 0));
  const drafts: MessageDraft[] = [];
  let group: Group | undefined;
  const close = () => {
    if (group) drafts.push(groupDraft(group));
    group = undefined;
  };
  for (const step of reached) {
    const parts = stepParts(model, step, model.firstSeq.get(step.id) ?? 0);
    const [part] = parts;
    if (part === undefined) continue;
    if (parts.length > 1) {
      // A question per item: each item keeps its own message, and the steps after them start a new one.
      close();
      drafts.push(...parts);
      continue;
    }
    if (group === undefined || asksSomeone(model, step)) {
      close();
      group = { first: part, last: part, blocks: [...part.blocks] };
    } else {
      group.blocks.push(...part.blocks);
      group.last = part;
    }
  }
  close();
  return drafts;
}
