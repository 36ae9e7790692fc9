import type { HistoryEntry } from '../projections/run-history.js';
import type { RichText } from '../projections/summary/index.js';
import { when } from '../projections/thread/format.js';
import { formatDuration, msBetween } from '../runbook/time-format.js';
import { BLOCK_LIMITS } from '../slack/blocks/limits.js';
import type { MessageBlock } from '../slack/blocks/validate.js';
import { codeSpan, userText } from '../slack/slack-text.js';
import { context, fallbackText, type Reply, section } from './reply-blocks.js';

const OUTCOME_EMOJI: Readonly<Record<string, string>> = {
  recovered: ':white_check_mark:',
  recovered_with_exceptions: ':warning:',
  failed: ':x:',
  aborted: ':no_entry_sign:',
  switched: ':twisted_rightwards_arrows:',
  running: ':arrows_counterclockwise:',
};

/** What the blocks' text may add up to, below Slack's total for one message. */
const TOTAL_BUDGET = BLOCK_LIMITS.messageBlocksTextTotal - 1000;
const SECTION_MAX = 2900;

function richText(parts: RichText, max: number): string {
  let out = '';
  for (const p of parts) {
    const room = max - out.length;
    if (room <= 1) break;
    out += typeof p === 'string' ? userText(p, room, { keepNewlines: false }) : codeSpan(p.code, Math.min(room, 80));
  }
  return out;
}

function outcomeOf(e: HistoryEntry): string {
  return e.outcome ?? (e.status === 'running' ? 'running' : e.status);
}

/** `, took 4 min`, or nothing while the run is going. */
function took(e: HistoryEntry): string {
  return e.finishedAt !== null ? `, took ${formatDuration(msBetween(e.startedAt, e.finishedAt))}` : '';
}

/** Two lines per run: what, how it ended and how long it took; then the summary's gist and how to get it all. */
function entryLines(e: HistoryEntry): string {
  const outcome = outcomeOf(e);
  const head =
    `${OUTCOME_EMOJI[outcome] ?? '•'} ${codeSpan(e.runId, 80)} ${codeSpan(e.scenario ?? '?', 40)} ` +
    `tenant ${codeSpan(e.tenantId ?? '?', 80)}: *${userText(outcome, 40)}*${took(e)}, started ${when(e.startedAt)}`;
  const healthy =
    e.gist?.timeToHealthyMs !== null && e.gist?.timeToHealthyMs !== undefined
      ? `healthy ${formatDuration(e.gist.timeToHealthyMs)} in; `
      : '';
  const gist = e.gist ? `${healthy}${richText(e.gist.line, 300)} · ` : '';
  return `${head}\n      ${gist}${codeSpan(`/dg summary ${e.runId}`, 100)}`;
}

/**
 * `/dg history`: the newest runs from the journal, each with its outcome and duration, the gist of its incident
 * summary and the command that posts the whole summary. Runs that do not fit one message are counted, not cut.
 */
export function historyReply(entries: readonly HistoryEntry[]): Reply {
  if (entries.length === 0)
    return { text: 'No runs recorded yet.', blocks: [section('history-none', 'No runs recorded yet.')] };
  const n = entries.length;
  const head = `*The last ${n === 1 ? 'run' : `${n} runs`}*, newest first:`;
  const blocks: MessageBlock[] = [section('history-head', head)];
  const lines = entries.map(entryLines);
  // Whole runs per section, sections up to Slack's limit, the message within its total.
  let used = head.length;
  let current: string[] = [];
  let shown = 0;
  const flush = () => {
    if (current.length > 0) blocks.push(section(`history-${shown - current.length}`, current.join('\n')));
    current = [];
  };
  for (const line of lines) {
    if (used + line.length > TOTAL_BUDGET || blocks.length >= BLOCK_LIMITS.messageBlocks - 2) break;
    if ([...current, line].join('\n').length > SECTION_MAX) flush();
    current.push(line);
    used += line.length + 1;
    shown++;
  }
  flush();
  if (shown < lines.length) {
    blocks.push(
      context(
        'history-more',
        `… ${lines.length - shown} older run(s) did not fit in one message: \`dg-recovery history <n>\` in a terminal lists them.`,
      ),
    );
  }
  const text = entries.map(
    (e) => `${codeSpan(e.runId, 80)} ${codeSpan(e.scenario ?? '?', 40)}: ${userText(outcomeOf(e), 40)}${took(e)}`,
  );
  return { text: fallbackText([`The last ${n === 1 ? 'run' : `${n} runs`}:`, ...text]), blocks };
}
