import { openWait, type RunState, type WaitKind } from '../../runbook/index.js';
import { mrkdwnText } from '../../slack/blocks/limits.js';
import type { MessageDraft } from './draft.js';
import { clock, esc, who } from './format.js';
import { pauseEnd, type ThreadModel } from './model.js';
import { callMentions, WAIT_NOUN, withMentions } from './waiting-line.js';

/** One time the run waited for a person: when it began, whether it is still open, and how it was answered. */
interface PastWait {
  readonly key: string;
  readonly kind: WaitKind;
  readonly seq: number;
  readonly at: string;
  readonly stepId: string | undefined;
  readonly open: boolean;
  readonly answered: { readonly line: string; readonly at: string } | undefined;
  readonly approval?: { readonly approvers: readonly string[] | null; readonly excluded: readonly string[] };
}

/** `remind-<step>-r<round>` for an approval round; `remind-<kind>-<step>-<seq>` for every other wait. */
export function reminderKey(stepId: string, round: number): string {
  return `remind-${stepId}-r${round}`;
}

function otherKey(kind: WaitKind, stepId: string | undefined, seq: number): string {
  return `remind-${kind}-${stepId ?? 'run'}-${seq}`;
}

/** When the open wait's reminder is due; `undefined` while nothing waits for a person. */
export function reminderDueAt(state: RunState, afterMs: number): number | undefined {
  const wait = openWait(state);
  return wait === null ? undefined : Date.parse(wait.since) + afterMs;
}

function approvalWaits(model: ThreadModel): PastWait[] {
  const pending = model.state.pendingApproval;
  return [...model.approvalRequests.values()].flat().map((r) => {
    const granted = model.state.approvals.find((a) => a.stepId === r.stepId && a.round === r.round);
    const rejected = model.approvalRejections.get(r.stepId)?.find((x) => x.round === r.round);
    const answer = granted
      ? { line: `approved by ${who(granted.by)} at ${clock(granted.at)}`, at: granted.at }
      : rejected && { line: `rejected by ${who(rejected.by)} at ${clock(rejected.at)}`, at: rejected.at };
    return {
      key: reminderKey(r.stepId, r.round),
      kind: 'approval',
      seq: r.seq,
      at: r.at,
      stepId: r.guards,
      open: pending?.stepId === r.stepId && pending.round === r.round && pending.grantedBy === null,
      answered: answer,
      approval: r,
    };
  });
}

function decisionWaits(model: ThreadModel): PastWait[] {
  const pending = model.state.pendingDecision;
  return [...model.decisionRequests.values()].flat().map((r) => {
    const made = model.state.decisions.find((d) => d.stepId === r.stepId && d.item?.id === r.item?.id && d.seq > r.seq);
    return {
      key: otherKey('decision', r.stepId, r.seq),
      kind: 'decision',
      seq: r.seq,
      at: r.at,
      stepId: r.stepId,
      open: made === undefined && pending?.stepId === r.stepId && pending.requestedAt === r.at,
      answered: made && { line: `decided by ${who(made.by)} at ${clock(made.at)}`, at: made.at },
    };
  });
}

function manualWaits(model: ThreadModel): PastWait[] {
  const pending = model.state.pendingManual;
  return [...model.manualRequests.values()].flat().map((r) => {
    const done = model.manualDone.get(r.stepId)?.find((d) => d.seq > r.seq && d.attempt === r.attempt);
    return {
      key: otherKey('manual', r.stepId, r.seq),
      kind: 'manual',
      seq: r.seq,
      at: r.at,
      stepId: r.stepId,
      open: done === undefined && pending?.stepId === r.stepId && pending.attempt === r.attempt,
      answered: done && { line: `reported done by ${who(done.by)} at ${clock(done.at)}`, at: done.at },
    };
  });
}

function pauseWaits(model: ThreadModel): PastWait[] {
  return model.pauses.map((p) => {
    const end = pauseEnd(model, p.seq);
    const resumed = end?.kind === 'resumed' ? end.event : undefined;
    return {
      key: otherKey('pause', p.stepId, p.seq),
      kind: 'pause',
      seq: p.seq,
      at: p.at,
      stepId: p.stepId,
      open: model.openPause?.seq === p.seq,
      answered: resumed && { line: `${resumed.action} by ${who(resumed.by)} at ${clock(resumed.at)}`, at: resumed.at },
    };
  });
}

/**
 * A reminder posted in the thread once any wait for a person (decision, approval, manual action, pause) has lasted
 * `afterMs`, mentioning who it calls, so the request does not sit unseen. A reminder already posted stays in the
 * thread after the answer, saying who answered.
 */
export function renderReminders(model: ThreadModel, now: Date, afterMs: number): MessageDraft[] {
  const running = model.state.outcome === null;
  const waits = [...approvalWaits(model), ...decisionWaits(model), ...manualWaits(model), ...pauseWaits(model)];
  const drafts: MessageDraft[] = [];
  for (const wait of waits) {
    const dueAt = Date.parse(wait.at) + afterMs;
    // Only a wait that was still open when its reminder came due gets one.
    const stillOpen = wait.open && running;
    const answeredLate = wait.answered !== undefined && Date.parse(wait.answered.at) >= dueAt;
    if (now.getTime() < dueAt || !(stillOpen || answeredLate)) continue;
    const step = wait.stepId ? model.scenario.steps.find((s) => s.id === wait.stepId) : undefined;
    const where = step ? ` at *${esc(step.title, 150)}*` : '';
    const mentions = callMentions(model, wait.kind, wait.approval);
    const status = wait.answered ? `Answered: ${wait.answered.line}.` : 'Please look at the request above.';
    drafts.push({
      key: wait.key,
      anchor: wait.seq + 0.5,
      text: withMentions(esc(`Still waiting for ${WAIT_NOUN[wait.kind]}: ${step?.title ?? 'the run'}`, 300), mentions),
      blocks: [
        {
          type: 'section',
          block_id: `remind-${wait.seq}`,
          text: mrkdwnText(
            `:bell: Still waiting since ${clock(wait.at)} for ${WAIT_NOUN[wait.kind]}${where}.\n` +
              `${mentions === '' ? 'A recovery operator' : mentions}: ${status}`,
          ),
        },
      ],
    });
  }
  return drafts;
}
