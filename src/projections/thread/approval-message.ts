import { type ApprovalStep, type RunEventOf, rejectionReopens, type Step, stepState } from '../../runbook/index.js';
import { formatDuration } from '../../runbook/time-format.js';
import { ACTION, encodeActionValue } from '../../slack/action-values.js';
import { actionsBlocks, button } from '../../slack/blocks/buttons.js';
import { mrkdwnText } from '../../slack/blocks/limits.js';
import type { MessageBlock } from '../../slack/blocks/validate.js';
import { approvalTarget } from './approval-target.js';
import type { MessageDraft } from './draft.js';
import { evidenceText } from './evidence.js';
import { clock, code, esc, escBlock, who } from './format.js';
import { stepNumber, type ThreadModel } from './model.js';
import { renderSkipped, statusEmoji, stepKey, stepTitle } from './step-basics.js';
import { pauseBlocks } from './step-message.js';
import { approversLine, callMentions, waitingLine, withMentions } from './waiting-line.js';

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
  for (const r of model.approvalRejections.get(stepId) ?? []) {
    lines.push({
      round: r.round,
      line: `:no_entry_sign: Round ${r.round}: rejected by ${who(r.by)} at ${clock(r.at)}${r.reopens ? `, back to ${reopenedTitle(model, r.reopens.decision)}` : ''}`,
    });
  }
  for (const expiry of model.approvalExpiries.get(stepId) ?? []) {
    lines.push({ round: expiry.round, line: `:hourglass: Round ${expiry.round}: ${expiredLine(expiry)}` });
  }
  return lines.sort((a, b) => a.round - b.round).map((l) => l.line);
}

function reopenedTitle(model: ThreadModel, decisionId: string): string {
  return `"${esc(model.scenario.steps.find((s) => s.id === decisionId)?.title ?? decisionId, 150)}"`;
}

/** The exact action the approval lets run and what it acts on, as far as the run knows them now. */
function willRunText(model: ThreadModel, step: ApprovalStep, guarded: Step | undefined): string | undefined {
  const plan = guarded && model.actionPlan?.(model.state, guarded);
  const target = approvalTarget(model, step, guarded);
  const lines = [
    plan ? `*Will run:* ${esc(plan.summary, 400)}${plan.exact ? ` ${code(plan.exact, 600)}` : ''}` : undefined,
    target ? `*On:* ${target}` : undefined,
  ].filter((l) => l !== undefined);
  return lines.length > 0 ? lines.join('\n') : undefined;
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
  const rejected = model.approvalRejections.get(step.id)?.find((e) => e.round === request.round);
  const status = waiting
    ? `Approval needed (round ${request.round})`
    : open
      ? `Approved by ${who(pending.grantedBy)}: re-checking before the step runs`
      : rejected
        ? `Rejected by ${who(rejected.by)}${rejected.reopens ? `: ${reopenedTitle(model, rejected.reopens.decision)} is asked again` : ''}`
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
  const text = withMentions(
    `Step ${stepNumber(model, step.id)}, ${esc(step.title, 150)}: ${waiting ? 'approval needed' : expiry && s.status === 'pending' ? 'approval expired' : s.status}`,
    waiting ? callMentions(model, 'approval', request) : '',
  );
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
  const willRun = waiting ? willRunText(model, step, guarded) : undefined;
  if (willRun) blocks.push({ type: 'section', block_id: `apwill-${request.seq}`, text: mrkdwnText(willRun) });
  const evidence = evidenceText(request.evidence, { max: 4, details: 'failing' });
  if (evidence) blocks.push({ type: 'section', block_id: `apev-${request.seq}`, text: mrkdwnText(evidence) });
  const people = waiting ? waitingLine(model, 'approval', request) : approversLine(model, request);
  blocks.push({
    type: 'section',
    block_id: `apwho-${request.seq}`,
    text: mrkdwnText([people, ...rounds].join('\n')),
  });
  if (waiting) {
    const what = guarded ? esc(guarded.title, 150) : esc(step.guards, 60);
    const reopens = rejectionReopens(model.state, model.scenario, step.id);
    const afterReject = reopens
      ? `the run goes back to ${reopenedTitle(model, reopens.decision)} to choose again.`
      : 'the run pauses: Retry asks for the approval again, Abort ends the run.';
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
        button({
          text: 'Reject',
          actionId: ACTION.reject,
          value: encodeActionValue({ runId: model.state.runId, stepId: step.id, choice: 'reject', seq: request.seq }),
          confirm: {
            title: 'Reject this step?',
            text: `*${what}* does not run and ${afterReject}`,
            confirm: 'Reject',
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
