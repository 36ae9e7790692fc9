import type { RespondArguments } from '@slack/bolt';
import type { Diagnosis } from '../runbook/diagnose.js';
import { ACTION } from '../slack/action-values.js';
import { actionsBlocks, button } from '../slack/blocks/buttons.js';
import { mrkdwnText } from '../slack/blocks/limits.js';
import type { MessageBlock } from '../slack/blocks/validate.js';
import { codeSpan, userText } from '../slack/slack-text.js';

const MAX_RULES = 12;

/**
 * The verdict of `/dg diagnose` as an ephemeral reply: what fits and why, the rules that matched with the facts
 * they read, and, for operators, a button that starts the recovery the verdict names. The button carries only the
 * scenario's name; starting is checked again like `/dg recover`.
 */
export function diagnosisReply(d: Diagnosis, isOperator: boolean): [string, Partial<RespondArguments>] {
  return [`Diagnosis: ${verdictText(d)}`, { blocks: diagnosisBlocks(d, isOperator) }];
}

function verdictText(d: Diagnosis): string {
  return d.verdict === 'scenario' && d.scenario
    ? `fits scenario ${codeSpan(d.scenario, 40)}`
    : d.verdict === 'healthy'
      ? 'no runbook scenario fits: DecisionGraph looks healthy'
      : 'unclear: no scenario can be recommended';
}

/** The verdict, the rules that matched with their facts, and the start button for operators; also under alerts. */
export function diagnosisBlocks(d: Diagnosis, isOperator: boolean): MessageBlock[] {
  const verdict = verdictText(d);
  const matched = d.rules.filter((r) => r.matched);
  const lines = matched
    .slice(0, MAX_RULES)
    .map(
      (r) =>
        `• ${codeSpan(r.id, 60)}${r.scenario ? ` → ${codeSpan(r.scenario, 40)}` : ''}: ${userText(r.because, 300)}`,
    );
  if (matched.length > MAX_RULES) lines.push(`_…and ${matched.length - MAX_RULES} more_`);
  const blocks: MessageBlock[] = [
    { type: 'section', block_id: 'diag-verdict', text: mrkdwnText(`:stethoscope: *Diagnosis*: ${verdict}`) },
    { type: 'section', block_id: 'diag-why', text: mrkdwnText(userText(d.explanation, 2500)) },
  ];
  if (lines.length > 0) {
    blocks.push({
      type: 'section',
      block_id: 'diag-rules',
      text: mrkdwnText(`*Rules that matched*\n${lines.join('\n')}`),
    });
  }
  if (d.verdict === 'scenario' && d.scenario && isOperator) {
    blocks.push(
      ...actionsBlocks('diag-actions', [
        button({
          text: `Start recovery: ${d.scenario}`,
          actionId: ACTION.startRecovery,
          value: d.scenario,
          style: 'primary',
          confirm: {
            title: 'Start a recovery run?',
            text: `This starts a ${codeSpan(d.scenario, 40)} run in this channel, as \`/dg recover ${d.scenario}\` would.`,
            confirm: 'Start',
          },
        }),
      ]),
    );
  }
  blocks.push({
    type: 'context',
    block_id: 'diag-note',
    elements: [mrkdwnText('Advice from fixed rules over what the probes measured. Nothing was changed.')],
  });
  return blocks;
}
