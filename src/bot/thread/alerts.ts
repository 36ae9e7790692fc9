import { mrkdwnText } from '../blocks/limits.js';
import type { MessageDraft } from './draft.js';
import { between, clock, code, duration, esc, who } from './format.js';
import { OUTCOME_TEXT } from './header.js';
import { pauseEnd, type ThreadModel } from './model.js';

// Replies also shown in the channel. Slack broadcasts a reply only when it is first posted, so each piece of news
// gets a key of its own instead of flipping `broadcast` on a message that already exists.

export const RESULT_KEY = 'result';

/** `alert-<step>-<seq>`: one per pause, so a step that fails twice alerts twice. */
export function alertKey(stepId: string | undefined, pauseSeq: number): string {
  return `alert-${stepId ?? 'run'}-${pauseSeq}`;
}

/** The channel is told when the run stops for people after a failure; the alert says later how it ended. */
export function renderPauseAlerts(model: ThreadModel): MessageDraft[] {
  const { state } = model;
  return model.pauses.map((pause): MessageDraft => {
    const step = pause.stepId ? model.scenario.steps.find((s) => s.id === pause.stepId) : undefined;
    const where = step ? `*${esc(step.title, 150)}*` : 'the run';
    const end = pauseEnd(model, pause.seq);
    let outcome = 'Retry, skip or abort in the thread.';
    if (end?.kind === 'resumed') {
      const how = end.event.action === 'retry' ? 'retried' : 'skipped';
      outcome = `Resolved: ${how} by ${who(end.event.by)} at ${clock(end.event.at)}.`;
    } else if (end?.kind === 'ended') {
      outcome = `The run ended at ${clock(end.at)}.`;
    }
    return {
      key: alertKey(pause.stepId, pause.seq),
      anchor: pause.seq,
      broadcast: true,
      text: esc(`Recovery run ${state.runId} is paused: ${step?.title ?? 'run'} failed`, 400),
      blocks: [
        {
          type: 'section',
          block_id: `alert-${pause.seq}`,
          text: mrkdwnText(
            `:warning: Recovery run ${code(state.runId, 80)} (${code(state.scenario, 40)}) is *paused*: ${where} failed.\n` +
              `${esc(pause.reason, 800)}\n${outcome}`,
          ),
        },
      ],
    };
  });
}

/** The final result, broadcast once when the run finishes. */
export function renderResult(model: ThreadModel): MessageDraft | undefined {
  const { state, finished, aborted } = model;
  if (!state.outcome || !finished) return undefined;
  const took = duration(between(state.startedAt, state.outcome.at));
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
  } else {
    detail = 'The recovery checklist passed.';
  }
  return {
    key: RESULT_KEY,
    anchor: finished.seq,
    broadcast: true,
    text: esc(`Recovery run ${state.runId} ${state.outcome.outcome} after ${took}`, 400),
    blocks: [
      {
        type: 'section',
        block_id: 'result',
        text: mrkdwnText(`${head}${detail ? `\n${detail}` : ''}\nThe incident summary follows in the thread.`),
      },
    ],
  };
}
