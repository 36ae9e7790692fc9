import { formatDuration, msBetween } from '../../runbook/time-format.js';
import { BLOCK_LIMITS, mrkdwnText } from '../../slack/blocks/limits.js';
import type { MessageBlock } from '../../slack/blocks/validate.js';
import type { RichText, RunGist } from '../summary/index.js';
import type { MessageDraft } from './draft.js';
import { clock, code, esc, who } from './format.js';
import { exceptionsText, OUTCOME_TEXT } from './header.js';
import { expiryBefore, pauseEnd, type ThreadModel } from './model.js';
import { stepCountsText } from './progress.js';

// Replies also shown in the channel. Slack broadcasts a reply only when it is first posted, so each piece of news
// gets a key of its own instead of flipping `broadcast` on a message that already exists.

export const RESULT_KEY = 'result';

/** `alert-<step>-<seq>`, keyed by the first pause of a stretch, so a step that keeps failing alerts once. */
export function alertKey(stepId: string | undefined, pauseSeq: number): string {
  return `alert-${stepId ?? 'run'}-${pauseSeq}`;
}

type Pause = ThreadModel['pauses'][number];

/**
 * Pauses grouped into what people see as one pause: a Retry of the paused step that fails again continues the
 * same pause, so the channel gets one alert, updated, instead of one message per attempt.
 */
export function pauseStretches(model: ThreadModel): Pause[][] {
  const stretches: Pause[][] = [];
  for (const pause of model.pauses) {
    const current = stretches.at(-1);
    const previous = current?.at(-1);
    const end = previous ? pauseEnd(model, previous.seq) : undefined;
    const retriedAgain =
      previous?.stepId !== undefined &&
      previous.stepId === pause.stepId &&
      end?.kind === 'resumed' &&
      end.event.action === 'retry';
    if (current && retriedAgain) current.push(pause);
    else stretches.push([pause]);
  }
  return stretches;
}

/** What people may do about a pause, in the words of its own options: `Retry or abort in the thread.` */
function offeredLine(options: readonly string[]): string {
  const words = ['retry', 'skip', 'abort'].filter((o) => options.includes(o));
  if (words.length === 0) return 'See the thread.';
  const last = words.pop() as string;
  const list = words.length > 0 ? `${words.join(', ')} or ${last}` : last;
  return `${list.charAt(0).toUpperCase()}${list.slice(1)} in the thread.`;
}

/** `3 Retries failed, the last by @bo at 12:04.` for a stretch of more than one pause. */
function retriesLine(model: ThreadModel, stretch: readonly Pause[]): string {
  const retries = stretch.length - 1;
  if (retries === 0) return '';
  const lastRetry = pauseEnd(model, (stretch.at(-2) as Pause).seq);
  const by =
    lastRetry?.kind === 'resumed' ? `, the last by ${who(lastRetry.event.by)} at ${clock(lastRetry.event.at)}` : '';
  return `${retries} ${retries === 1 ? 'Retry' : 'Retries'} failed${by}.\n`;
}

/** The channel is told when the run stops for people after a failure; the alert says later how it ended. */
export function renderPauseAlerts(model: ThreadModel): MessageDraft[] {
  const { state } = model;
  return pauseStretches(model).map((stretch): MessageDraft => {
    const first = stretch[0] as Pause;
    const pause = stretch.at(-1) as Pause;
    const step = pause.stepId ? model.scenario.steps.find((s) => s.id === pause.stepId) : undefined;
    const where = step ? `*${esc(step.title, 150)}*` : 'the run';
    const end = pauseEnd(model, pause.seq);
    const expired = expiryBefore(model, pause) !== undefined;
    const rejected = model.approvalRejections.get(pause.stepId ?? '')?.some((r) => r.seq === pause.seq - 1);
    const what = expired ? 'nobody approved' : rejected ? 'was rejected' : 'failed';
    let outcome = offeredLine(pause.options);
    if (end?.kind === 'resumed') {
      const how = end.event.action === 'retry' ? 'retried' : 'skipped';
      outcome = `Resolved: ${how} by ${who(end.event.by)} at ${clock(end.event.at)}.`;
    } else if (end?.kind === 'ended') {
      outcome = `The run ended at ${clock(end.at)}.`;
    } else if (state.skipRequest !== null && state.skipRequest.stepId === pause.stepId) {
      // Said in the channel too: the second person who must confirm may not be following the thread.
      outcome = `${who(state.skipRequest.by)} asks to skip it: a second person who may approve must confirm in the thread.`;
    }
    return {
      key: alertKey(first.stepId, first.seq),
      anchor: first.seq,
      broadcast: true,
      text: esc(`Recovery run ${state.runId} is paused: ${step?.title ?? 'run'} ${what}`, 400),
      blocks: [
        {
          type: 'section',
          block_id: `alert-${first.seq}`,
          text: mrkdwnText(
            `:warning: Recovery run ${code(state.runId, 80)} (${code(state.scenario, 40)}) is *paused*: ${where} ${what}.\n` +
              `${retriesLine(model, stretch)}${esc(pause.reason, 800)}\n${outcome}`,
          ),
        },
      ],
    };
  });
}

/** mrkdwn of the summary's rich text: strings escaped, `{ code }` as inline code, cut to about `max`. */
function richMrkdwn(parts: RichText, max: number): string {
  let out = '';
  for (const p of parts) {
    const room = max - out.length;
    if (room <= 1) break;
    out += typeof p === 'string' ? esc(p, room) : code(p.code, Math.min(room, 80));
  }
  return out;
}

const MAX_MANUAL_SHOWN = 3;

/**
 * What the channel is told next to the outcome: how long it took, when DecisionGraph was healthy again, and what
 * people still owe (manual actions left open, follow-ups in the summary). Four short fields, no wall of text.
 */
function digestFields(gist: RunGist, steps: string) {
  const field = (label: string, text: string) => mrkdwnText(`*${label}*\n${text}`, 300);
  const open = gist.openManualActions;
  const manual =
    open.length === 0
      ? 'None'
      : open
          .slice(0, MAX_MANUAL_SHOWN)
          .map((m) => `• ${esc(m.title, 80)}`)
          .join('\n') + (open.length > MAX_MANUAL_SHOWN ? `\n+${open.length - MAX_MANUAL_SHOWN} more` : '');
  return [
    field('Duration', formatDuration(gist.durationMs)),
    field('Time to healthy', gist.timeToHealthyMs !== null ? formatDuration(gist.timeToHealthyMs) : 'not healthy'),
    field('Open manual actions', manual),
    // The header's words for the same counts, so the two never disagree.
    field(
      'Steps',
      steps + (gist.followUps > 0 ? `, ${gist.followUps} follow-up${gist.followUps === 1 ? '' : 's'}` : ''),
    ),
  ];
}

/**
 * The final result, broadcast once when the run finishes: the outcome and, given the summary's gist, the digest an
 * on-call channel wants (duration, time to healthy, open manual actions, one sentence). Slack shows a broadcast
 * reply in the channel with a link to its thread, where the summary and its Markdown file follow.
 */
export function renderResult(model: ThreadModel, gist?: RunGist): MessageDraft | undefined {
  const { state, finished, aborted } = model;
  if (!state.outcome || !finished) return undefined;
  const took = formatDuration(msBetween(state.startedAt, state.outcome.at));
  const head = `${OUTCOME_TEXT[state.outcome.outcome]}: recovery run ${code(state.runId, 80)} (${code(state.scenario, 40)}, tenant ${code(state.tenantId, 80)}) after ${took}.`;
  let detail = '';
  if (state.outcome.outcome === 'aborted' && aborted) {
    detail = `Aborted by ${who(aborted.by)}: ${esc(aborted.reason, 500)}`;
  } else if (state.outcome.outcome === 'switched') {
    detail = `Continues as a ${code(state.outcome.switchTo ?? '?', 40)} run in its own thread.`;
  } else if (state.outcome.outcome === 'failed') {
    const failing = finished.gate?.failing.map((f) => code(f.condition, 60)).join(', ');
    detail = [state.outcome.reason ? esc(state.outcome.reason, 500) : '', failing ? `Not met: ${failing}` : '']
      .filter((x) => x !== '')
      .join('\n');
  } else if (state.outcome.outcome === 'recovered_with_exceptions') {
    detail = exceptionsText(model);
  } else {
    detail = 'The recovery checklist passed.';
  }
  const blocks: MessageBlock[] = [
    { type: 'section', block_id: 'result', text: mrkdwnText(`${head}${detail ? `\n${detail}` : ''}`) },
  ];
  if (gist) {
    blocks.push({ type: 'section', block_id: 'result-digest', fields: digestFields(gist, stepCountsText(model)) });
  }
  // The gist's sentence, unless the lines above already say it (who aborted and why, the conditions not met).
  const repeats = state.outcome.outcome === 'aborted' || (finished.gate?.failing.length ?? 0) > 0;
  const gistLine = gist && !repeats ? `${richMrkdwn(gist.line, 400)} · ` : '';
  blocks.push({
    type: 'context',
    block_id: 'result-more',
    elements: [
      mrkdwnText(
        `${gistLine}The incident summary and its Markdown file follow in the thread; ` +
          `${code(`/dg summary ${state.runId}`, 100)} posts them again.`,
        BLOCK_LIMITS.textObject,
      ),
    ],
  });
  return {
    key: RESULT_KEY,
    anchor: finished.seq,
    broadcast: true,
    text: esc(`Recovery run ${state.runId} ${state.outcome.outcome} after ${took}`, 400),
    blocks,
  };
}
