import { type ExecutorStep, INTERRUPTION_OPTIONS, type RunEventOf } from '../../runbook/index.js';
import type { ConfirmSpec } from '../../slack/blocks/buttons.js';
import { mrkdwnText } from '../../slack/blocks/limits.js';
import type { MessageBlock } from '../../slack/blocks/validate.js';
import { decisionFor, requestBlocks } from './decision-message.js';
import { clock, esc, who } from './format.js';
import type { ThreadModel } from './model.js';

type DecisionRequest = RunEventOf<'decision_requested'>;

/** Earlier questions of the same step, one line each; more than this are counted, not listed. */
const MAX_EARLIER_SHOWN = 5;

function runAgainConfirm(step: ExecutorStep): (option: { id: string }) => ConfirmSpec | undefined {
  return (option) =>
    option.id === INTERRUPTION_OPTIONS.runAgain && step.risk === 'destructive'
      ? {
          title: 'Repeat a destructive action?',
          text: `This runs *${esc(step.title, 150)}* again as a new attempt although the interrupted one may have finished. An approver other than the person who started the run must choose this.`,
          confirm: 'Run it again',
          danger: true,
        }
      : undefined;
}

function earlierLine(model: ThreadModel, request: DecisionRequest): string {
  const record = decisionFor(model, request);
  const what = esc(request.item?.label ?? 'interrupted attempt', 200);
  if (!record) return `• ${what}: not decided`;
  const note = record.reason ? `: ${esc(record.reason, 200)}` : '';
  return `• ${what}: *${esc(record.option?.label ?? record.optionId, 200)}*, chosen by ${who(record.by)} at ${clock(record.at)}${note}`;
}

/**
 * The question asked on an action step whose attempt was interrupted (the bot stopped while a command ran): the
 * prompt says what to check, and the buttons let a person say it finished (with a reason), run it again or abort.
 * Earlier questions about the same step stay visible as one line each.
 */
export function interruptionBlocks(model: ThreadModel, step: ExecutorStep): MessageBlock[] {
  const requests = model.decisionRequests.get(step.id) ?? [];
  const latest = requests.at(-1);
  if (latest === undefined) return [];
  const blocks: MessageBlock[] = [];
  const earlier = requests.slice(0, -1);
  if (earlier.length > 0) {
    const shown = earlier.slice(-MAX_EARLIER_SHOWN).map((r) => earlierLine(model, r));
    const hidden = earlier.length - shown.length;
    blocks.push({
      type: 'context',
      block_id: `intr-earlier-${step.id}`,
      elements: [mrkdwnText([...(hidden > 0 ? [`${hidden} earlier not shown`] : []), ...shown].join('\n'))],
    });
  }
  const title = `Interrupted: ${esc(latest.item?.label ?? 'an attempt', 200)}`;
  blocks.push(...requestBlocks(model, latest, title, { extraConfirm: runAgainConfirm(step) }));
  return blocks;
}
