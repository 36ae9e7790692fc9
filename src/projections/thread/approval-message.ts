import { type ApprovalStep, type RunEventOf, stepState } from '../../runbook/index.js';
import { formatDuration } from '../../runbook/time-format.js';
import { ACTION, encodeActionValue } from '../../slack/action-values.js';
import { actionsBlocks, button } from '../../slack/blocks/buttons.js';
import { mrkdwnText } from '../../slack/blocks/limits.js';
import type { MessageBlock } from '../../slack/blocks/validate.js';
import type { MessageDraft } from './draft.js';
import { evidenceText } from './evidence.js';
import { clock, esc, escBlock, principal, who } from './format.js';
import { stepNumber, type ThreadModel } from './model.js';
import { renderSkipped, statusEmoji, stepKey, stepTitle } from './step-basics.js';
import { pauseBlocks } from './step-message.js';

type ApprovalRequest = RunEventOf<'approval_requested'>;

/** Who may approve, in words: the listed people and groups (or anyone), minus the excluded starter. */
export function approversLine(request: ApprovalRequest, starterId: string): string {
  const allowed =
    request.approvers === null || request.approvers.length === 0
      ? 'anyone in this channel'
      : request.approvers.map(principal).join(', ');
  const excluded = request.excluded.map((id) =>
    id === starterId ? `${principal(id)} (started this run: two-person rule)` : principal(id),
  );
  return `*Who may approve:* ${allowed}${excluded.length > 0 ? `, except ${excluded.join(', ')}` : ''}`;
}

function expiredLine(expiry: RunEventOf<'approval_expired'>): string {
  return `Expired at ${clock(expiry.at)}: nobody approved within ${formatDuration(expiry.timeoutMs)}`;
}

function roundLines(model: ThreadModel, stepId: string): string[] {
  const lines = model.state.approvals
    .filter((a) => a.stepId === stepId)
    .map((a) => {
      const granted = `Round ${a.round}: approved by ${who(a.by)} at ${clock(a.at)}`;
      const line = a.voided
        ? `:heavy_multiplication_x: ~${granted}~ *voided* at ${clock(a.voided.at)}: ${esc(a.voided.reason, 400)}`
        : `:ballot_box_with_check: ${granted}`;
      return { round: a.round, line };
    });
  for (const expiry of model.approvalExpiries.get(stepId) ?? []) {
    lines.push({ round: expiry.round, line: `:hourglass: Round ${expiry.round}: ${expiredLine(expiry)}` });
  }
  return lines.sort((a, b) => a.round - b.round).map((l) => l.line);
}

/**
 * An approval: what the approver is asked to let happen, the evidence they approve, who may approve, an Approve
 * button while it is open, and every round (approvals voided because a re-check measured something else stay
 * visible, struck through).
 */
export function renderApprovalStep(model: ThreadModel, step: ApprovalStep, anchor: number): MessageDraft | undefined {
  const requests = model.approvalRequests.get(step.id) ?? [];
  const s = stepState(model.state, step.id);
  const request = requests.at(-1);
  if (request === undefined) return s.status === 'skipped' ? renderSkipped(model, step, anchor) : undefined;
  const guarded = model.scenario.steps.find((x) => x.id === step.guards);
  const pending = model.state.pendingApproval;
  const open = pending !== null && pending.stepId === step.id && pending.round === request.round;
  const waiting = open && pending.grantedBy === null;
  // An expired round has no Approve button: the request is closed, and Retry in the pause below asks again.
  const expiry = model.approvalExpiries.get(step.id)?.find((e) => e.round === request.round);
  const status = waiting
    ? `Approval needed (round ${request.round})`
    : open
      ? `Approved by ${who(pending.grantedBy)}: re-checking before the step runs`
      : expiry
        ? expiredLine(expiry)
        : s.status === 'passed'
          ? 'Approved; the re-check confirmed what was approved'
          : s.status === 'skipped'
            ? 'Skipped'
            : s.status === 'failed'
              ? 'The re-check failed'
              : 'Not approved';
  const heading = `${statusEmoji(waiting ? 'awaiting_approval' : s.status)} *${stepTitle(model, step)}* · ${status}`;
  const rounds = roundLines(model, step.id);
  const text = `Step ${stepNumber(model, step.id)}, ${esc(step.title, 150)}: ${waiting ? 'approval needed' : expiry && s.status === 'pending' ? 'approval expired' : s.status}`;
  // Once approved and re-checked, the request folds to who approved: what was asked stays in the summary file.
  if (s.status === 'passed' && !open) {
    return {
      key: stepKey(step.id),
      anchor,
      text,
      blocks: [{ type: 'section', block_id: `ap-${request.seq}`, text: mrkdwnText([heading, ...rounds].join('\n')) }],
    };
  }
  const blocks: MessageBlock[] = [
    {
      type: 'section',
      block_id: `ap-${request.seq}`,
      text: mrkdwnText(`${heading}\n${escBlock(request.prompt, 1800)}`),
    },
  ];
  const evidence = evidenceText(request.evidence, { max: 4, details: 'failing' });
  if (evidence) blocks.push({ type: 'section', block_id: `apev-${request.seq}`, text: mrkdwnText(evidence) });
  const people = approversLine(request, model.state.startedBy.id);
  blocks.push({
    type: 'section',
    block_id: `apwho-${request.seq}`,
    text: mrkdwnText([people, ...rounds].join('\n')),
  });
  if (waiting) {
    const what = guarded ? esc(guarded.title, 150) : esc(step.guards, 60);
    blocks.push(
      ...actionsBlocks(`apact-${request.seq}`, [
        button({
          text: 'Approve',
          actionId: ACTION.approve,
          value: encodeActionValue({ runId: model.state.runId, stepId: step.id, choice: 'approve', seq: request.seq }),
          style: 'primary',
          confirm: {
            title: 'Approve a destructive step?',
            text: `This lets *${what}* run. It is re-checked first: if the state differs from what is shown here, the approval is void and asked again.`,
            confirm: 'Approve',
            danger: true,
          },
        }),
      ]),
    );
  }
  blocks.push(...pauseBlocks(model, step));
  if (step.why) {
    blocks.push({
      type: 'context',
      block_id: `apwhy-${request.seq}`,
      elements: [mrkdwnText(`Why: ${esc(step.why, 600)}`)],
    });
  }
  return { key: stepKey(step.id), anchor, text, blocks };
}

/** `remind-<step>-r<round>`: one reminder per approval round. */
export function reminderKey(stepId: string, round: number): string {
  return `remind-${stepId}-r${round}`;
}

/** When the open approval's reminder is due, if it has not been given an answer; `undefined` otherwise. */
export function reminderDueAt(model: ThreadModel, afterMs: number): number | undefined {
  const pending = model.state.pendingApproval;
  if (!pending || pending.grantedBy !== null || model.state.outcome !== null) return undefined;
  return Date.parse(pending.requestedAt) + afterMs;
}

/**
 * A reminder posted in the thread once an approval has waited `afterMs`, mentioning the people who may approve
 * (the starter excluded under the two-person rule), so the request does not sit unseen. A reminder already posted
 * stays in the thread after the approval, saying it was answered.
 */
export function renderReminders(model: ThreadModel, now: Date, afterMs: number): MessageDraft[] {
  const drafts: MessageDraft[] = [];
  for (const [stepId, requests] of model.approvalRequests) {
    for (const request of requests) {
      const dueAt = Date.parse(request.at) + afterMs;
      const answered = model.state.approvals.find((a) => a.stepId === stepId && a.round === request.round);
      const stillOpen =
        model.state.pendingApproval?.stepId === stepId &&
        model.state.pendingApproval.round === request.round &&
        model.state.pendingApproval.grantedBy === null &&
        model.state.outcome === null;
      // Only a request that was still open when the reminder came due gets one.
      const due = now.getTime() >= dueAt && (stillOpen || (answered !== undefined && Date.parse(answered.at) >= dueAt));
      if (!due) continue;
      const step = model.scenario.steps.find((s) => s.id === stepId);
      const guarded = model.scenario.steps.find((s) => s.id === request.guards);
      const named =
        request.approvers === null || request.approvers.length === 0
          ? 'Anyone in this channel'
          : request.approvers
              .filter((id) => !request.excluded.includes(id))
              .map(principal)
              .join(', ');
      const approvers = named === '' ? 'An approver' : named;
      const status = answered
        ? `Answered: approved by ${who(answered.by)} at ${clock(answered.at)}.`
        : 'Please look at the request above.';
      drafts.push({
        key: reminderKey(stepId, request.round),
        anchor: request.seq + 0.5,
        text: esc(`Still waiting for an approval: ${guarded?.title ?? step?.title ?? stepId}`, 300),
        blocks: [
          {
            type: 'section',
            block_id: `remind-${request.seq}`,
            text: mrkdwnText(
              `:bell: Still waiting since ${clock(request.at)} for an approval of *${esc(guarded?.title ?? stepId, 150)}*.\n` +
                `${approvers}: ${status}`,
            ),
          },
        ],
      });
    }
  }
  return drafts;
}
