import { type RunOutcome, type RunState, skippedFailures } from '../../runbook/index.js';
import { formatDuration, msBetween } from '../../runbook/time-format.js';
import { ACTION, encodeActionValue, NO_STEP } from '../../slack/action-values.js';
import { actionsBlocks, button } from '../../slack/blocks/buttons.js';
import { BLOCK_LIMITS, mrkdwnText, plainText } from '../../slack/blocks/limits.js';
import type { MessageBlock } from '../../slack/blocks/validate.js';
import { HEADER_KEY, type MessageDraft } from './draft.js';
import { code, esc, when, who } from './format.js';
import { stepNumber, type ThreadModel } from './model.js';
import { skippedStepsText, stepCountsText } from './progress.js';
import { pauseButtons } from './step-message.js';
import { awaitedText } from './waiting-line.js';

export const OUTCOME_TEXT: Readonly<Record<RunOutcome, string>> = {
  recovered: ':white_check_mark: Recovered',
  recovered_with_exceptions: ':warning: Recovered with exceptions',
  failed: ':x: Failed',
  aborted: ':no_entry_sign: Aborted',
  switched: ':twisted_rightwards_arrows: Switched scenario',
};

/** The run's state in a few words, with its emoji. */
export function statusText(state: RunState): string {
  switch (state.status) {
    case 'running':
      return ':arrows_counterclockwise: Running';
    case 'waiting_decision':
      return ':question: Waiting for a decision';
    case 'waiting_approval':
      return ':lock: Waiting for an approval';
    case 'waiting_manual':
      return ':raising_hand: Waiting for a manual action';
    case 'paused':
      return ':double_vertical_bar: Paused';
    case 'finished':
      return state.outcome ? OUTCOME_TEXT[state.outcome.outcome] : 'Finished';
  }
}

/** `Step 3 of 16 · 2 passed, 0 skipped` while a step is current, the counts of all steps otherwise. */
export function progressText(model: ThreadModel): string {
  const { view, state } = model;
  const current = state.outcome === null && view.current ? stepNumber(model, view.current.id) : 0;
  const counts = stepCountsText(model);
  return current > 0 ? `Step ${current} of ${view.total} · ${counts}` : `${counts} (${view.total} steps)`;
}

function field(label: string, text: string) {
  return mrkdwnText(`*${label}*\n${text}`, 300);
}

function outcomeLine(model: ThreadModel): string | undefined {
  const { state, aborted, finished } = model;
  if (!state.outcome) return undefined;
  if (state.outcome.outcome === 'aborted' && aborted) {
    return `*Aborted* by ${who(aborted.by)} at ${when(aborted.at)}: ${esc(aborted.reason, 500)}`;
  }
  if (state.outcome.outcome === 'switched') {
    const to = state.outcome.switchTo ? code(state.outcome.switchTo, 40) : 'another scenario';
    return `*Switched* to ${to}: a new run of that scenario continues the recovery in its own thread.`;
  }
  const gate = finished?.gate;
  if (state.outcome.outcome === 'recovered') return '*Recovered*: the recovery checklist passed.';
  if (state.outcome.outcome === 'recovered_with_exceptions') {
    return `*Recovered with exceptions*. ${exceptionsText(model)}`;
  }
  const failing = gate?.failing.map((f) => code(f.condition, 60)).join(', ');
  const reason = state.outcome.reason ? esc(state.outcome.reason, 500) : undefined;
  return `*Failed*${reason ? `: ${reason}` : ''}${failing ? `\nChecklist conditions not met: ${failing}` : ''}`;
}

/** Each failed step the run went past: who skipped it, who confirmed it, and why. */
export function exceptionsText(model: ThreadModel): string {
  const lines = skippedFailures(model.state, model.scenario).map((e) => {
    const confirmed = e.confirmedBy
      ? `, confirmed by ${who(e.confirmedBy)}${e.confirmReason ? ` (${esc(e.confirmReason, 200)})` : ''}`
      : '';
    return `• ${esc(e.title, 150)}: skipped by ${who(e.by)}${confirmed}: ${esc(e.reason, 300)}`;
  });
  return `The recovery checklist passed, but failed steps were skipped:\n${lines.join('\n')}`;
}

/** The run's top-level message: what, who, when, where it stands; updated in place as the run moves. */
export function renderHeader(model: ThreadModel): MessageDraft {
  const { state, view } = model;
  const running = state.outcome === null;
  const currentTitle = running && view.current ? esc(view.current.title, 200) : '-';
  const fields = [
    field('Run', code(state.runId, 80)),
    field('Scenario', `${code(state.scenario, 40)} v${state.scenarioVersion}`),
    field('Tenant', code(state.tenantId, 80)),
    field('Started by', `${who(state.startedBy)} at ${when(state.startedAt)}`),
    field('State', statusText(state)),
    field('Progress', progressText(model)),
  ];
  if (running) fields.push(field('Current step', currentTitle));
  const awaited = running ? awaitedText(model) : undefined;
  if (awaited) fields.push(field('Waiting for', awaited));
  else fields.push(field('Duration', formatDuration(msBetween(state.startedAt, state.outcome?.at))));
  const params = Object.entries(state.params)
    .filter(([, v]) => typeof v === 'string' && v.length > 0)
    .map(([k, v]) => `${esc(k, 40)} ${code(String(v), 80)}`);
  if (params.length > 0) fields.push(field('Parameters', params.join(', ')));

  const blocks: MessageBlock[] = [
    { type: 'header', block_id: 'hdr-title', text: plainText(`Recovery: ${view.title}`, BLOCK_LIMITS.headerText) },
    { type: 'section', block_id: 'hdr-fields', fields },
  ];
  if (state.pause) {
    const at = state.pause.stepId ? model.scenario.steps.find((s) => s.id === state.pause?.stepId) : undefined;
    const where = at ? ` at *${esc(at.title, 150)}*` : '';
    blocks.push({
      type: 'section',
      block_id: 'hdr-pause',
      text: mrkdwnText(
        `:double_vertical_bar: *Paused*${where}: ${esc(state.pause.reason, 800)}\nRetry, skip or abort in the step's message below.`,
      ),
    });
  }
  const outcome = outcomeLine(model);
  if (outcome) blocks.push({ type: 'section', block_id: 'hdr-outcome', text: mrkdwnText(outcome) });
  const skipped = skippedStepsText(model);
  if (skipped) blocks.push({ type: 'context', block_id: 'hdr-skipped', elements: [mrkdwnText(skipped)] });
  blocks.push({
    type: 'context',
    block_id: 'hdr-help',
    elements: [
      mrkdwnText(
        running
          ? `Questions and steps are posted in this thread. ${code(`/dg status ${state.runId}`, 100)} · ${code(`/dg abort ${state.runId} <reason>`, 120)}`
          : `Finished at ${when(state.outcome?.at)}. The incident summary is in this thread.`,
        BLOCK_LIMITS.textObject,
      ),
    ],
  });
  const runPause = model.openPause;
  if (runPause && runPause.stepId === undefined) {
    // A pause that belongs to no step is answered from the header itself.
    blocks.push(...actionsBlocks(`hdr-pause-${runPause.seq}`, pauseButtons(model, NO_STEP, runPause.seq, false)));
  } else if (running) {
    blocks.push(
      ...actionsBlocks('hdr-actions', [
        button({
          text: 'Abort run…',
          actionId: ACTION.abort,
          value: encodeActionValue({ runId: state.runId, stepId: NO_STEP, choice: 'abort', seq: 1 }),
          style: 'danger',
        }),
      ]),
    );
  }
  const text =
    `Recovery run ${state.runId} (${state.scenario}, tenant ${state.tenantId}): ` +
    `${statusText(state).replace(/^:[a-z_]+: /, '')}, ${progressText(model)}` +
    (running && view.current ? `: ${view.current.title}` : '');
  return { key: HEADER_KEY, anchor: 1, text: esc(text, 500), blocks, inThread: false };
}
