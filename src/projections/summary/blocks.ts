import type { Actor, Evidence } from '../../runbook/events.js';
import { formatDuration, formatInstant, formatOffset, msBetween } from '../../runbook/time-format.js';
import { BLOCK_LIMITS, mrkdwnText, plainText } from '../../slack/blocks/limits.js';
import type { MessageBlock } from '../../slack/blocks/validate.js';
import { codeSpan, userText } from '../../slack/slack-text.js';
import { formatJson, OUTCOME_LABEL, viaText } from './format.js';
import type { IncidentSummary, ManualActionStatus, RichText, StepSummary, SummaryOutcome } from './types.js';

// The incident summary as one Slack message. Slack caps a message at 50 blocks and rejects one whose blocks hold
// much more than 10,000 characters together, so each section is fitted line by line (whole lines are dropped, with
// a pointer to the Markdown file) and the largest sections give way first. Everything not written by the bot is
// escaped (`userText`) or shown as code (`codeSpan`), so a reason cannot mention `@channel` or forge a link.

/** What the blocks' text may add up to: below `messageBlocksTextTotal`, leaving room for Slack's own counting. */
const TOTAL_BUDGET = BLOCK_LIMITS.messageBlocksTextTotal - 600;
const FIELD_MAX = 150;
const MIN_SECTION = 200;

const t = (text: string, max = 300) => userText(text, max, { keepNewlines: false });
const c = (text: string, max = 80) => codeSpan(text, max);

function rich(parts: RichText, max = 400): string {
  let out = '';
  for (const p of parts) {
    const room = max - out.length;
    if (room <= 1) break;
    out += typeof p === 'string' ? t(p, room) : c(p.code, Math.min(room, 120));
  }
  return out;
}

function who(actor: Actor | undefined | null): string {
  if (!actor) return 'the bot';
  return actor.name ? t(actor.name, 80) : c(actor.id, 40);
}

const MARK: Readonly<Record<StepSummary['outcome'], string>> = {
  passed: '✓',
  failed: '✗',
  skipped: '–',
  not_reached: '·',
  in_progress: '…',
  interrupted: '■',
};

const OUTCOME_EMOJI: Readonly<Record<SummaryOutcome, string>> = {
  recovered: ':white_check_mark:',
  recovered_with_exceptions: ':warning:',
  failed: ':x:',
  aborted: ':no_entry_sign:',
  switched: ':twisted_rightwards_arrows:',
  in_progress: ':hourglass_flowing_sand:',
};

const MANUAL_STATUS: Readonly<Record<ManualActionStatus, string>> = {
  decided: 'decided',
  open: '*OPEN*',
  not_needed: 'not needed',
  not_checked: 'not checked',
  not_applicable: 'not in this scenario',
  reminder: '*reminder*',
};

function miss(items: readonly Evidence[]): string | undefined {
  const m = items.find((i) => i.ok === false);
  if (m === undefined) return undefined;
  const expected = m.expected !== undefined ? ` (expected ${c(formatJson(m.expected, 60), 64)})` : '';
  return `${t(m.label, 80)}: ${c(formatJson(m.measured, 60), 64)}${expected}`;
}

interface Part {
  readonly id: string;
  readonly heading: string;
  readonly lines: readonly string[];
  /** Most characters this section may take. */
  readonly cap: number;
}

/** Heading plus as many whole lines as fit in `max`, then a pointer to the file for the rest. */
function fitPart(part: Part, max: number): string {
  const budget = Math.min(max, part.cap, BLOCK_LIMITS.sectionText);
  let text = `*${part.heading}*`;
  if (part.lines.length === 0) return `${text}\nNone.`;
  for (let i = 0; i < part.lines.length; i++) {
    const line = part.lines[i] as string;
    const more = part.lines.length - i;
    const tail = `\n… ${more} more in the Markdown file`;
    const next = `${text}\n${line}`;
    const room = i === part.lines.length - 1 ? budget : budget - tail.length;
    if (next.length > room) return `${text}${tail}`;
    text = next;
  }
  return text;
}

function stepLines(s: IncidentSummary): string[] {
  return s.steps.map((step) => {
    const duration = step.durationMs !== null ? `, ${formatDuration(step.durationMs)}` : '';
    const attempts = step.attempts > 1 ? `, ${step.attempts} attempts` : '';
    const interrupted = step.interruptions.length > 0 ? ', interrupted' : '';
    let line = `${MARK[step.outcome]} ${step.index}. ${t(step.title, 120)}: ${step.outcome.replace('_', ' ')}${duration}${attempts}${interrupted}`;
    if (step.outcome === 'failed' || step.outcome === 'interrupted' || step.outcome === 'in_progress') {
      const why = step.error ? `${c(step.error.code, 40)} ${t(step.error.message, 160)}` : miss(step.evidence);
      if (why) line += `\n      ↳ ${why}`;
    } else if (step.outcome === 'passed' && step.kind !== 'decision' && step.kind !== 'approval') {
      const m = miss(step.evidence);
      if (m) line += `\n      ↳ ${m}`;
    }
    return line;
  });
}

function decisionLines(s: IncidentSummary): string[] {
  const at = (iso: string | null) => formatOffset(msBetween(s.times.startedAt, iso));
  const lines: { seq: number; text: string }[] = [];
  for (const d of s.decisions) {
    const item =
      d.interruptedAttempt !== undefined
        ? ` (interrupted attempt ${d.interruptedAttempt})`
        : d.item
          ? ` (${c(d.item.id, 60)})`
          : '';
    const value = d.value !== undefined ? ` ${c(d.value, 80)}` : '';
    const reason = d.reason ? `: _${t(d.reason, 200)}_` : '';
    const rec = d.followedRecommendation ? '' : d.recommendedLabel ? ' (not the recommended option)' : '';
    const saw = miss(d.saw);
    lines.push({
      seq: d.seq,
      text:
        `• ${t(d.stepTitle, 100)}${item}: "${t(d.optionLabel, 120)}"${value}${rec}, ${who(d.by)} at ${at(d.at)}${reason}` +
        (saw ? `\n      saw ${saw}` : ''),
    });
  }
  for (const a of s.approvals) {
    const result =
      a.outcome === 'granted'
        ? `approved by ${who(a.grantedBy)} at ${at(a.grantedAt ?? null)}`
        : a.outcome === 'voided'
          ? `voided: ${t(a.voided?.reason ?? '', 160)}`
          : a.outcome === 'expired'
            ? `expired: nobody approved within ${formatDuration(a.expired?.timeoutMs ?? null)}`
            : a.outcome === 'open'
              ? 'waiting for an approver'
              : 'never given';
    lines.push({
      seq: a.seq,
      text:
        `• Approval for "${t(a.guardsTitle, 100)}" (round ${a.round}): ${result}` +
        (miss(a.saw) ? `\n      saw ${miss(a.saw)}` : ''),
    });
  }
  return lines.sort((x, y) => x.seq - y.seq).map((l) => l.text);
}

function hostLines(s: IncidentSummary): string[] {
  const at = (iso: string | null) => formatOffset(msBetween(s.times.startedAt, iso));
  return s.hostActions.map((h) => {
    const by = h.by ? ` by ${who(h.by)}` : '';
    const chosen = h.chosen ? ` (${t(h.chosen, 120)})` : '';
    const detail = h.detail && h.means !== 'by hand' ? `: ${c(h.detail, 120)}` : '';
    return `• ${t(h.title, 100)}${chosen}: ${h.outcome}, ${h.means}${by}${h.at ? ` at ${at(h.at)}` : ''}${detail}`;
  });
}

function manualLines(s: IncidentSummary): string[] {
  return s.manualActions.map((m) => {
    const items = m.items
      .slice(0, 3)
      .map((i) => `${rich(i.label, 120)}${i.decision !== undefined ? `: "${t(i.decision, 100)}" (${who(i.by)})` : ''}`);
    const more = m.items.length > 3 ? `; +${m.items.length - 3} more` : '';
    const detail = m.status === 'not_applicable' ? '' : rich(m.detail, 260);
    const tail = [detail, items.length > 0 ? `${items.join('; ')}${more}` : ''].filter((x) => x !== '').join(' ');
    return `• ${t(m.title, 100)}: ${MANUAL_STATUS[m.status]}.${tail ? ` ${tail}` : ''}`;
  });
}

function healthLines(s: IncidentSummary): string[] {
  const h = s.finalHealth;
  const lines = [rich(h.note, 300)];
  for (const f of h.failing) lines.push(`✗ ${c(f.condition, 40)} ${t(f.detail, 240)}`);
  if (h.unchecked.length > 0) lines.push(`Not checked: ${h.unchecked.map((u) => c(u, 40)).join(', ')}`);
  if (h.manualChecks.length > 0) lines.push(`Left to people: ${h.manualChecks.map((u) => t(u, 100)).join('; ')}`);
  if (h.acknowledgedRuns.length > 0) {
    lines.push(`Orphaned runs decided by a person: ${h.acknowledgedRuns.map((u) => c(u, 60)).join(', ')}`);
  }
  return lines;
}

function overviewFields(s: IncidentSummary) {
  const at = (iso: string | null) => formatOffset(msBetween(s.times.startedAt, iso));
  const starter = s.trigger.startedBy;
  const field = (name: string, value: string) => mrkdwnText(`*${name}*\n${value}`, FIELD_MAX);
  return [
    field('Outcome', `${OUTCOME_EMOJI[s.outcome] ?? ''} ${OUTCOME_LABEL[s.outcome] ?? s.outcome}`.trim()),
    field('Run', c(s.runId, 100)),
    field('Scenario', `${c(s.scenario.name, 40)} v${s.scenario.version}`),
    field('Tenant', c(s.tenantId, 100)),
    field('Started by', `${who(starter)} (${c(starter.id, 40)}) via ${viaText(starter)}`),
    field('Duration', s.times.durationMs !== null ? formatDuration(s.times.durationMs) : 'still running'),
    field('Started', formatInstant(s.times.startedAt)),
    field('Ended', s.times.endedAt ? formatInstant(s.times.endedAt) : 'not yet'),
    field(
      'Service reachable',
      s.times.reachableAt
        ? `${at(s.times.reachableAt)} (${formatDuration(s.times.timeToReachableMs)})`
        : 'not observed',
    ),
    field(
      'Healthy',
      s.times.healthyAt ? `${at(s.times.healthyAt)} (${formatDuration(s.times.timeToHealthyMs)})` : 'no',
    ),
  ];
}

function outcomeLine(s: IncidentSummary): string | undefined {
  if (s.abort) return `*Aborted* by ${who(s.abort.by)}: ${t(s.abort.reason, 400)}`;
  if (s.outcome === 'switched')
    return `*Switched* to ${c(s.switchTo ?? '?', 40)}${s.outcomeReason ? `: ${t(s.outcomeReason, 300)}` : ''}`;
  if (s.outcome === 'failed' && s.outcomeReason) return `*Failed*: ${t(s.outcomeReason, 400)}`;
  if (s.outcome === 'recovered_with_exceptions' && s.outcomeReason) {
    return `*Recovered with exceptions*: ${t(s.outcomeReason, 400)}`;
  }
  return undefined;
}

/**
 * The summary as a Slack message: a `text` fallback for notifications and Block Kit blocks within Slack's limits
 * (checked by `assertWithinLimits`). The full evidence and the timeline go in the Markdown file.
 */
export function renderSummaryBlocks(s: IncidentSummary): { text: string; blocks: MessageBlock[] } {
  const outcome = OUTCOME_LABEL[s.outcome] ?? s.outcome;
  const duration = s.times.durationMs !== null ? ` after ${formatDuration(s.times.durationMs)}` : '';
  const text = `Incident summary: ${t(s.scenario.title, 200)} run ${c(s.runId, 80)} ${outcome}${duration}`;
  const blocks: MessageBlock[] = [
    {
      type: 'header',
      block_id: 'summary-header',
      text: plainText(`Incident summary: ${s.scenario.title}`, BLOCK_LIMITS.headerText),
    },
    { type: 'section', block_id: 'summary-overview', fields: overviewFields(s) },
  ];
  const reason = outcomeLine(s);
  if (reason) blocks.push({ type: 'section', block_id: 'summary-outcome', text: mrkdwnText(reason, 600) });
  const parts: Part[] = [
    { id: 'steps', heading: 'Steps', lines: stepLines(s), cap: 2600 },
    { id: 'decisions', heading: 'Decisions and approvals', lines: decisionLines(s), cap: 1600 },
    { id: 'host', heading: 'Host actions', lines: hostLines(s), cap: 900 },
    { id: 'manual', heading: 'Manual actions the runbook leaves to people', lines: manualLines(s), cap: 1200 },
    { id: 'health', heading: 'Final health (recovery checklist)', lines: healthLines(s), cap: 900 },
    { id: 'followups', heading: 'Follow-ups', lines: s.followUps.map((f) => `• ${rich(f.text, 400)}`), cap: 1200 },
  ];
  const context =
    `Run ${c(s.runId, 80)} · ${s.eventCount} events · the postmortem draft with every step's evidence is ` +
    `${c(`incident-${s.runId}.md`, 100)}, the run as data ${c(`incident-${s.runId}.json`, 100)}, ` +
    `its chart ${c(`incident-${s.runId}.png`, 100)}`;
  const fixed = blocks.reduce((n, b) => n + textLength(b), 0) + context.length;
  const budgets = new Map(parts.map((p) => [p.id, p.cap]));
  let rendered = parts.map((p) => fitPart(p, budgets.get(p.id) ?? p.cap));
  // The largest section gives way until the message fits; whole lines go, never half an entity.
  for (let round = 0; round < 20; round++) {
    const total = fixed + rendered.reduce((n, r) => n + r.length, 0);
    if (total <= TOTAL_BUDGET) break;
    let largest = 0;
    rendered.forEach((r, i) => {
      if (r.length > (rendered[largest] as string).length) largest = i;
    });
    const part = parts[largest] as Part;
    const next = Math.max(MIN_SECTION, (rendered[largest] as string).length - (total - TOTAL_BUDGET) - 1);
    budgets.set(part.id, next);
    rendered = parts.map((p) => fitPart(p, budgets.get(p.id) ?? p.cap));
  }
  blocks.push({ type: 'divider', block_id: 'summary-divider' });
  parts.forEach((p, i) => {
    blocks.push({ type: 'section', block_id: `summary-${p.id}`, text: mrkdwnText(rendered[i] as string) });
  });
  blocks.push({ type: 'context', block_id: 'summary-context', elements: [mrkdwnText(context, 300)] });
  return { text, blocks };
}

function textLength(value: unknown): number {
  if (Array.isArray(value)) return value.reduce((n: number, v) => n + textLength(v), 0);
  if (value === null || typeof value !== 'object') return 0;
  let n = 0;
  for (const [k, v] of Object.entries(value)) n += k === 'text' && typeof v === 'string' ? v.length : textLength(v);
  return n;
}
