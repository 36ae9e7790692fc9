import {
  type ExecutorStep,
  isExecutorStep,
  type Step,
  type StepState,
  skipNeedsSecondPerson,
  stepState,
} from '../../runbook/index.js';
import { formatDuration, msBetween } from '../../runbook/time-format.js';
import { ACTION, encodeActionValue } from '../../slack/action-values.js';
import { actionsBlocks, type Button, button } from '../../slack/blocks/buttons.js';
import { mrkdwnText } from '../../slack/blocks/limits.js';
import type { MessageBlock } from '../../slack/blocks/validate.js';
import type { MessageDraft } from './draft.js';
import { evidenceText } from './evidence.js';
import { clock, code, esc, escBlock, plural, who } from './format.js';
import { interruptionBlocks } from './interruption-blocks.js';
import { stepNumber, type ThreadModel } from './model.js';
import { renderSkipped, skipLine, statusEmoji, stepKey, stepTitle } from './step-basics.js';
import { callMentions, waitingLine, withMentions } from './waiting-line.js';

function attemptNote(s: StepState): string {
  return s.attempt > 1 ? ` (attempt ${s.attempt})` : '';
}

function executorStatusLine(s: StepState): string {
  switch (s.status) {
    case 'pending':
      return 'Not started';
    case 'running':
      return `Running since ${clock(s.startedAt)}${attemptNote(s)}`;
    case 'waiting': {
      const deadline = s.deadlineAt ? `, gives up at ${clock(s.deadlineAt)}` : '';
      return `Not there yet after ${plural(s.poll, 'check')}${attemptNote(s)}: next check at ${clock(s.nextCheckAt)}${deadline}`;
    }
    case 'passed':
      return `Passed at ${clock(s.finishedAt)}, took ${formatDuration(msBetween(s.firstStartedAt, s.finishedAt))}${attemptNote(s)}`;
    case 'failed': {
      const error = s.error ? `${code(s.error.code, 60)} ${esc(s.error.message, 600)}` : 'no reason recorded';
      const retry = s.nextAttemptAt ? `\nTrying again on its own at ${clock(s.nextAttemptAt)}.` : '';
      return `Failed at ${clock(s.finishedAt)}${attemptNote(s)}: ${error}${retry}`;
    }
    case 'skipped':
      return skipLine(s);
    case 'awaiting_manual':
      return 'Waiting for a person to do this by hand';
    case 'awaiting_decision':
      return s.interrupted
        ? `Interrupted${attemptNote(s)}: the bot stopped while it ran; a person must say whether it finished`
        : 'Waiting for a decision';
    default:
      return s.status;
  }
}

/** Retry / Skip… / Abort… for the step the run is paused at. */
export function pauseButtons(model: ThreadModel, stepId: string, pauseSeq: number, destructive: boolean): Button[] {
  const runId = model.state.runId;
  const options = model.openPause?.options ?? ['retry', 'skip', 'abort'];
  const buttons: Button[] = [];
  if (options.includes('retry')) {
    buttons.push(
      button({
        text: destructive ? 'Retry (needs an approver)' : 'Retry',
        actionId: ACTION.retry,
        value: encodeActionValue({ runId, stepId, choice: 'retry', seq: pauseSeq }),
        style: 'primary',
        ...(destructive
          ? {
              confirm: {
                title: 'Repeat a destructive action?',
                text: 'Retrying runs this destructive step again. It counts as approving it again: an approver other than the person who started the run must click.',
                confirm: 'Retry',
                danger: true,
              },
            }
          : {}),
      }),
    );
  }
  if (options.includes('skip')) {
    const asked = model.state.skipRequest !== null && model.state.skipRequest.stepId === stepId;
    buttons.push(
      button({
        text: asked ? 'Confirm skip…' : 'Skip…',
        actionId: ACTION.skip,
        value: encodeActionValue({ runId, stepId, choice: 'skip', seq: pauseSeq }),
      }),
    );
  }
  if (options.includes('abort')) {
    buttons.push(
      button({
        text: 'Abort run…',
        actionId: ACTION.abort,
        value: encodeActionValue({ runId, stepId, choice: 'abort', seq: pauseSeq }),
        style: 'danger',
      }),
    );
  }
  return buttons;
}

/** What Skip does here: a safety check or the checklist needs a second person, as an approval does. */
function skipChoice(model: ThreadModel, step: Step): string {
  if (!skipNeedsSecondPerson(model.scenario, step)) return 'Skip (with a reason) goes on without it';
  const request = model.state.skipRequest;
  const starter = who(model.state.startedBy);
  if (request === null || request.stepId !== step.id) {
    return (
      'Skip (with a reason) asks to go on without this safety check: a second person who may approve, not ' +
      `${starter}, must then confirm it`
    );
  }
  const excluded = request.by.id === model.state.startedBy.id ? starter : `${starter}, not ${who(request.by)}`;
  return (
    `:hourglass: ${who(request.by)} asks to skip it: ${esc(request.reason, 300)}. It goes on without this safety ` +
    `check only once a second person who may approve (not ${excluded}) clicks Confirm skip`
  );
}

/** The blocks a step's message ends with while the run is paused at it. */
export function pauseBlocks(model: ThreadModel, step: Step): MessageBlock[] {
  const pause = model.openPause;
  if (!pause || pause.stepId !== step.id) return [];
  const destructive = isExecutorStep(step) && step.risk === 'destructive';
  const choices = [
    pause.options.includes('retry')
      ? step.kind === 'approval'
        ? 'Retry asks again'
        : 'Retry runs the step again'
      : '',
    pause.options.includes('skip') ? skipChoice(model, step) : '',
    pause.options.includes('abort') ? 'Abort ends the run' : '',
  ].filter((c) => c !== '');
  return [
    {
      type: 'section',
      block_id: `pause-${pause.seq}`,
      text: mrkdwnText(
        `:double_vertical_bar: *The run is paused here*: ${esc(pause.reason, 800)}` +
          (choices.length > 0 ? `\n${choices.join('; ')}.` : '') +
          `\n${waitingLine(model, 'pause')}`,
      ),
    },
    ...actionsBlocks(`pause-actions-${pause.seq}`, pauseButtons(model, step.id, pause.seq, destructive)),
  ];
}

function manualBlocks(model: ThreadModel, step: ExecutorStep): MessageBlock[] {
  const blocks: MessageBlock[] = [];
  const runId = model.state.runId;
  const pending = model.state.pendingManual;
  const request = model.manualRequests.get(step.id)?.at(-1);
  if (pending && pending.stepId === step.id && request) {
    blocks.push({
      type: 'section',
      block_id: `manual-${request.seq}`,
      text: mrkdwnText(
        `:raising_hand: *Please do this by hand*, then click Done:\n${escBlock(pending.instructions, 2500)}\n${waitingLine(model, 'manual')}`,
      ),
    });
    blocks.push(
      ...actionsBlocks(`manual-actions-${request.seq}`, [
        button({
          text: 'Done',
          actionId: ACTION.manualDone,
          value: encodeActionValue({ runId, stepId: step.id, choice: 'done', seq: request.seq }),
          style: 'primary',
          confirm: {
            title: 'Is it done?',
            text: `Confirm that you did this yourself: *${esc(step.title, 150)}*. The run continues and checks the result.`,
            confirm: 'It is done',
            deny: 'Not yet',
          },
        }),
      ]),
    );
  }
  for (const done of model.manualDone.get(step.id) ?? []) {
    const note = done.note ? `: ${esc(done.note, 500)}` : '';
    blocks.push({
      type: 'context',
      block_id: `manual-done-${done.seq}`,
      elements: [
        mrkdwnText(`:ballot_box_with_check: Done by hand, reported by ${who(done.by)} at ${clock(done.at)}${note}`),
      ],
    });
  }
  return blocks;
}

function riskNote(step: ExecutorStep): string {
  return step.risk === 'destructive' ? ' :warning: destructive' : step.risk === 'safe_write' ? ' · writes' : '';
}

/** Whether the step reads as one line: it passed (or a person skipped it) and nothing on it waits for anyone. */
function isCompact(model: ThreadModel, step: ExecutorStep, s: StepState): boolean {
  if (s.status !== 'passed' && s.status !== 'skipped') return false;
  if (model.openPause?.stepId === step.id || s.held !== null) return false;
  return (model.decisionRequests.get(step.id) ?? []).length === 0;
}

/**
 * A settled step in one line. Checks that did not hold under a passed step are what it looked for: "Confirmed: …"
 * (or "Found:") with what was measured, never a failure mark under a pass.
 */
function compactBlocks(model: ThreadModel, step: ExecutorStep, s: StepState): MessageBlock[] {
  const title = stepTitle(model, step);
  const byHand = (model.manualDone.get(step.id) ?? []).map((d) => ` · done by hand, reported by ${who(d.by)}`);
  const notes = `${riskNote(step)}${s.alreadyDone ? ' · already in place, not repeated' : ''}${byHand.join('')}`;
  const found = s.status === 'passed' ? s.evidence.filter((e) => e.ok === false) : [];
  let text: string;
  if (s.status === 'skipped') text = `${statusEmoji('skipped')} ${title} · ${skipLine(s)}`;
  else if (found.length === 0) text = `${statusEmoji('passed')} ${title}${notes}`;
  else {
    // What a passed step found off is a finding (a later step acts on it), not a failure of the step.
    const head = step.confirms
      ? `:mag: ${title} · *Confirmed:* ${esc(step.confirms, 120)}`
      : `:mag: ${title}${notes} · *Found:*`;
    // A confirmed symptom needs no explanation beyond what it confirms; a finding gets its explanation.
    const lines = evidenceText(found, { max: 3, symptom: true, ...(step.confirms ? {} : { details: 'failing' }) });
    text = `${head}\n${lines ?? ''}`.trimEnd();
  }
  return [{ type: 'section', block_id: `st-${step.id}`, text: mrkdwnText(text) }];
}

/** Whether a step has no message at all: the run skipped it without running it (the header lists it). */
export function isHiddenSkip(s: StepState): boolean {
  return s.status === 'skipped' && s.attempt === 0 && s.skip?.cause !== 'operator';
}

/** A probe, action, wait or gate: what it does, where it stands, what was measured, and what people can do. */
export function renderExecutorStep(model: ThreadModel, step: ExecutorStep, anchor: number): MessageDraft {
  const s = stepState(model.state, step.id);
  if (isHiddenSkip(s)) return renderSkipped(model, step, anchor);
  const waits = model.state.pendingManual?.stepId === step.id || model.openPause?.stepId === step.id;
  const text = withMentions(
    `Step ${stepNumber(model, step.id)} of ${model.scenario.steps.length}, ${esc(step.title, 150)}: ${s.status.replace('_', ' ')}`,
    waits ? callMentions(model, model.state.pendingManual ? 'manual' : 'pause') : '',
  );
  if (isCompact(model, step, s)) return { key: stepKey(step.id), anchor, text, blocks: compactBlocks(model, step, s) };
  const lines = [`${statusEmoji(s.status)} *${stepTitle(model, step)}*${riskNote(step)}`, executorStatusLine(s)];
  if (s.alreadyDone) lines.push('_A re-check found the effect already in place: the action was not repeated._');
  else if (s.interrupted && s.status !== 'awaiting_decision') {
    lines.push('_This attempt was interrupted: the bot stopped while it ran._');
  }
  if (s.held !== null) lines.push(`_Held since ${clock(s.held.since)}: ${esc(s.held.reason, 600)}_`);
  const blocks: MessageBlock[] = [{ type: 'section', block_id: `st-${step.id}`, text: mrkdwnText(lines.join('\n')) }];
  const evidence = evidenceText(s.evidence, { details: 'all' });
  if (evidence) blocks.push({ type: 'section', block_id: `ev-${step.id}`, text: mrkdwnText(evidence) });
  blocks.push(...manualBlocks(model, step));
  blocks.push(...interruptionBlocks(model, step));
  blocks.push(...pauseBlocks(model, step));
  if (step.why && s.status !== 'passed' && s.status !== 'skipped') {
    blocks.push({ type: 'context', block_id: `why-${step.id}`, elements: [mrkdwnText(`Why: ${esc(step.why, 600)}`)] });
  }
  return { key: stepKey(step.id), anchor, text, blocks };
}
