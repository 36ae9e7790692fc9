import { cut, safeText } from '../../outside-text.js';
import type { Evidence } from '../../runbook/events.js';
import type { Json } from '../../runbook/json.js';
import { formatDuration, formatInstant, formatOffset, msBetween } from '../../runbook/time-format.js';
import { type actorText, formatJson, OUTCOME_LABEL, okMark, viaText } from './format.js';
import { clockTime, impactLines, plainTimeline } from './postmortem.js';
import type {
  ApprovalSummary,
  DecisionSummary,
  IncidentSummary,
  InterruptionSummary,
  ManualActionStatus,
  RichText,
  StepSummary,
} from './types.js';

// The incident summary as a Markdown document, for a `.md` file and for the terminal. Every value that came from
// outside the bot's own wording (names, reasons, ids, DecisionGraph's messages) is escaped or shown as code, so
// nothing typed into a reason can turn into a heading, a link or a table cell of its own.

const MAX_INLINE = 600;
const MAX_EVIDENCE = 12;

/** One line of outside text (the outside-text rule, on one line), trimmed, cut, Markdown punctuation escaped. */
export function mdText(text: string, max = MAX_INLINE): string {
  return escapeMarkdown(cut(safeText(text, 'one').trim(), max));
}

/** Like {@link mdText} without trimming: for pieces of a sentence that carry their own spaces. */
function mdEscape(text: string, max: number): string {
  return escapeMarkdown(cut(safeText(text, 'one'), max));
}

/** A backslash before every character CommonMark (and a GFM table cell) would read as markup. */
function escapeMarkdown(text: string): string {
  return text
    .replace(/[\\`*[\]<>|~]/g, (c) => `\\${c}`)
    .replace(/&(?=#?[A-Za-z0-9]+;)/g, '\\&')
    .replace(/(^|[^A-Za-z0-9])_|_(?=$|[^A-Za-z0-9])/g, (m) => m.replace('_', '\\_'));
}

/** Inline code that holds any text, backticks included (CommonMark: a longer fence, padded). */
export function mdCode(text: string, max = 300): string {
  const shown = cut(safeText(text, 'one').trim(), max);
  if (shown === '') return '` `';
  const longest = Math.max(0, ...(shown.match(/`+/g) ?? []).map((r) => r.length));
  const fence = '`'.repeat(longest + 1);
  const pad = shown.startsWith('`') || shown.endsWith('`') || longest > 0 ? ' ' : '';
  // A table cell ends at a pipe even inside code, so pipes are escaped there too.
  return `${fence}${pad}${shown.replace(/\|/g, '\\|')}${pad}${fence}`;
}

export function mdRich(parts: RichText): string {
  return parts
    .map((p) => (typeof p === 'string' ? mdEscape(p, 2000) : mdCode(p.code)))
    .join('')
    .trim();
}

function mdActor(actor: Parameters<typeof actorText>[0]): string {
  if (!actor) return 'the bot';
  return actor.name && actor.name !== actor.id ? `${mdText(actor.name, 120)} (${mdCode(actor.id)})` : mdCode(actor.id);
}

const value = (v: Json | undefined) => mdCode(formatJson(v, 200));

export function evidenceLine(item: Evidence): string {
  const mark = okMark(item);
  const expected = item.expected !== undefined ? ` (expected ${value(item.expected)})` : '';
  const detail = item.detail ? `: ${mdText(safeText(item.detail).replace(/\s*\n\s*/g, '; '), 300)}` : '';
  return `${mark ? `${mark} ` : ''}${mdText(item.label, 200)}: ${value(item.measured)}${expected}${detail}`;
}

function evidenceList(items: readonly Evidence[], indent: string, max = MAX_EVIDENCE): string[] {
  const lines = items.slice(0, max).map((i) => `${indent}- ${evidenceLine(i)}`);
  if (items.length > max) lines.push(`${indent}- … ${items.length - max} more item(s)`);
  return lines;
}

const at = (s: IncidentSummary, iso: string | null) => formatOffset(msBetween(s.times.startedAt, iso));

const STEP_OUTCOME: Readonly<Record<StepSummary['outcome'], string>> = {
  passed: 'passed',
  failed: 'failed',
  skipped: 'skipped',
  not_reached: 'not reached',
  in_progress: 'in progress',
  interrupted: 'interrupted (the run ended here)',
};

const RAN_AS: Readonly<Record<string, string>> = {
  command: 'run as a command',
  http: 'sent as a webhook',
  manual: 'done by hand',
};

/** What became of an interrupted attempt, as one sentence. */
function interruptionLine(s: IncidentSummary, i: InterruptionSummary): string {
  const how = i.actionMode !== undefined ? `, ${RAN_AS[i.actionMode] ?? i.actionMode}` : '';
  const head = `  - Interrupted at ${at(s, i.at)} (attempt ${i.attempt}${how}): the bot stopped while it ran`;
  switch (i.handling) {
    case 'recheck':
      return `${head}; its effect was checked before repeating it${
        i.alreadyDone === undefined
          ? ''
          : i.alreadyDone
            ? ': found, so it was not repeated'
            : ': not found, so it ran again'
      }.`;
    case 'repeat':
      return `${head}; ${
        i.actionMode === 'http'
          ? 'the webhook was sent again under the same Idempotency-Key'
          : i.actionMode === 'manual'
            ? 'the instructions were shown again'
            : 'it was sent again (safe to repeat)'
      }.`;
    case 'ask': {
      const a = i.answer;
      const unsure = `${head} and could not tell whether it finished`;
      if (a === undefined) {
        return `${unsure}; ${s.outcome === 'in_progress' ? 'nobody has answered yet' : 'nobody answered'}.`;
      }
      return (
        `${unsure}; ${mdActor(a.by)} answered "${mdText(a.optionLabel, 200)}" at ${at(s, a.at)}` +
        `${a.reason !== undefined ? `, reason: ${mdText(a.reason)}` : ''}.`
      );
    }
  }
}

function stepLines(s: IncidentSummary, step: StepSummary): string[] {
  const kind = step.kind === 'unknown' ? 'not in the scenario definition' : `${step.kind}, ${step.risk}`;
  const parts: string[] = [STEP_OUTCOME[step.outcome]];
  if (step.durationMs !== null) parts[0] = `${parts[0]} in ${formatDuration(step.durationMs)}`;
  if (step.attempts > 1) parts.push(`${step.attempts} attempts`);
  if (step.checks > 0) parts.push(`${step.checks} check(s) not yet satisfied`);
  if (step.alreadyDone) parts.push('already done before, not repeated');
  if (step.startedAt !== null) parts.push(`started ${at(s, step.startedAt)}`);
  const head = `- **${step.index}. ${mdText(step.title, 200)}** (${mdCode(step.id)}, ${kind}): ${parts.join(', ')}`;
  const lines = [head];
  if (step.skip)
    lines.push(
      `  - Skipped${step.skip.by ? ` by ${mdActor(step.skip.by)}` : ''}: ${mdText(step.skip.reason)}` +
        (step.skip.confirmedBy
          ? `; confirmed by ${mdActor(step.skip.confirmedBy)}: ${mdText(step.skip.confirmReason ?? '')}`
          : ''),
    );
  if (step.error) lines.push(`  - Error ${mdCode(step.error.code)}: ${mdText(step.error.message)}`);
  for (const i of step.interruptions) lines.push(interruptionLine(s, i));
  if (step.outcome === 'skipped' || step.outcome === 'not_reached') return lines;
  if (step.kind === 'gate' && step.evidence.length > 0) lines.push('  - Its last reading is under Final health.');
  else if (step.kind === 'decision' || step.kind === 'approval') {
    // What the person saw is listed with the decision or approval; the step keeps the outcome and the re-check.
    lines.push(
      ...evidenceList(
        step.evidence.filter((e) => e.source.kind === 'engine'),
        '  ',
      ),
    );
  } else lines.push(...evidenceList(step.evidence, '  '));
  return lines;
}

function decisionLines(s: IncidentSummary, d: DecisionSummary, n: number): string[] {
  const item =
    d.interruptedAttempt !== undefined
      ? `, interrupted attempt ${d.interruptedAttempt}`
      : d.item
        ? ` for ${mdCode(d.item.id)}`
        : '';
  const waited = d.waitedMs !== null ? `, ${formatDuration(d.waitedMs)} after it was asked` : '';
  const lines = [
    `- **${n}. ${mdText(d.stepTitle, 200)}**${item}: "${mdText(d.optionLabel, 300)}"` +
      `${d.value !== undefined ? ` with value ${mdCode(d.value)}` : ''} by ${mdActor(d.by)} at ${at(s, d.at)}${waited}`,
  ];
  if (d.reason !== undefined) lines.push(`  - Reason: ${mdText(d.reason)}`);
  if (d.interruptedAttempt !== undefined) {
    lines.push(
      '  - The bot stopped while the action ran and could not tell whether it finished, so it recommended nothing: ' +
        'a person looked and chose.',
    );
  } else if (d.followedRecommendation) lines.push('  - This was the recommended option.');
  else if (d.recommendedLabel !== undefined) {
    lines.push(`  - Recommended was "${mdText(d.recommendedLabel, 300)}"; a different option was chosen.`);
  }
  if (d.offered.length > 0) {
    lines.push(
      `  - Offered: ${d.offered.map((o) => `"${mdText(o.label, 200)}"${o.recommended ? ' (recommended)' : ''}`).join(', ')}`,
    );
  }
  if (d.prompt !== null) lines.push(`  - Question: ${mdText(d.prompt, 1000)}`);
  return lines;
}

function approvalLines(s: IncidentSummary, a: ApprovalSummary, n: number): string[] {
  const result =
    a.outcome === 'granted'
      ? `granted by ${mdActor(a.grantedBy)} at ${at(s, a.grantedAt ?? null)}`
      : a.outcome === 'voided'
        ? `voided at ${at(s, a.voided?.at ?? null)}${a.grantedBy ? ` (granted by ${mdActor(a.grantedBy)} before)` : ''}`
        : a.outcome === 'expired'
          ? `expired at ${at(s, a.expired?.at ?? null)}, nobody approved within ${formatDuration(a.expired?.timeoutMs ?? null)} ` +
            '(the approval timeout); the run paused'
          : a.outcome === 'open'
            ? 'waiting for an approver'
            : 'never given';
  const lines = [
    `- **${n}. ${mdText(a.stepTitle, 200)}** (round ${a.round}) before "${mdText(a.guardsTitle, 200)}", asked at ` +
      `${at(s, a.requestedAt)}: ${result}`,
  ];
  if (a.voided) lines.push(`  - Voided because: ${mdText(a.voided.reason)}`);
  const who = a.approvers === null ? 'anyone' : a.approvers.map((x) => mdCode(x)).join(', ');
  const except =
    a.excluded.length > 0 ? ` except ${a.excluded.map((x) => mdCode(x)).join(', ')} (two-person rule)` : '';
  lines.push(`  - Could approve: ${who}${except}`);
  lines.push(`  - Bound to what the approver saw (fingerprint ${mdCode(a.fingerprint)}):`);
  lines.push(...evidenceList(a.saw, '    '));
  return lines;
}

const MANUAL_STATUS: Readonly<Record<ManualActionStatus, string>> = {
  decided: 'decided',
  open: 'OPEN',
  not_needed: 'not needed',
  not_checked: 'not checked',
  not_applicable: 'not part of this scenario',
  reminder: 'reminder',
};

function overview(s: IncidentSummary): string[] {
  const rows: [string, string][] = [
    ['Outcome', `**${OUTCOME_LABEL[s.outcome] ?? s.outcome}**`],
    ['Run', mdCode(s.runId)],
    ['Scenario', `${mdCode(s.scenario.name)} v${s.scenario.version}: ${mdText(s.scenario.title)}`],
    ['Tenant', mdCode(s.tenantId)],
    [
      'Started by',
      `${mdActor(s.trigger.startedBy)} via ${viaText(s.trigger.startedBy)}` +
        (s.trigger.channelId ? ` in ${mdCode(s.trigger.channelId)}` : ''),
    ],
  ];
  if (s.trigger.params.length > 0) {
    rows.push(['Parameters', s.trigger.params.map((p) => `${mdText(p.name)} ${mdCode(p.value)}`).join(', ')]);
  }
  if (s.trigger.switchedFrom) rows.push(['Continues run', mdCode(s.trigger.switchedFrom)]);
  rows.push(['Started', formatInstant(s.times.startedAt)]);
  rows.push([
    'Ended',
    s.times.endedAt ? formatInstant(s.times.endedAt) : `not yet (last event ${formatInstant(s.times.lastEventAt)})`,
  ]);
  rows.push(['Duration', formatDuration(s.times.durationMs)]);
  rows.push([
    'Service reachable',
    s.times.reachableAt
      ? `${at(s, s.times.reachableAt)} (${formatDuration(s.times.timeToReachableMs)} after the start)`
      : 'not observed',
  ]);
  rows.push([
    'Healthy (checklist passed)',
    s.times.healthyAt
      ? `${at(s, s.times.healthyAt)} (${formatDuration(s.times.timeToHealthyMs)} after the start)`
      : 'no',
  ]);
  if (s.abort) {
    rows.push([
      'Aborted',
      `by ${mdActor(s.abort.by)} at ${at(s, s.abort.at)}${s.abort.stepId ? ` in ${mdCode(s.abort.stepId)}` : ''}: ` +
        mdText(s.abort.reason),
    ]);
  } else if (s.outcomeReason && s.outcome !== 'recovered') rows.push(['Reason', mdText(s.outcomeReason)]);
  if (s.switchTo) rows.push(['Switched to', mdCode(s.switchTo)]);
  return rows.map(([k, v]) => `- ${k}: ${v}`);
}

/** The whole summary as Markdown, ending in a newline; the same summary always gives the same text. */
export function renderSummaryMarkdown(s: IncidentSummary): string {
  const out: string[] = [];
  out.push(`# Postmortem draft: ${mdText(s.scenario.title)} — ${OUTCOME_LABEL[s.outcome] ?? s.outcome}`, '');
  out.push('## Overview', '');
  out.push(...overview(s), '');

  out.push('## Impact', '');
  for (const line of impactLines(s)) out.push(`- ${mdRich(line)}`);
  out.push('');

  out.push(`## Timeline (UTC, ${formatInstant(s.times.startedAt).slice(0, 10)})`, '');
  for (const m of plainTimeline(s)) out.push(`- ${clockTime(m.at)} ${mdRich(m.text)}`);
  out.push('');

  out.push('## Decisions', '');
  if (s.decisions.length === 0) out.push('None.');
  s.decisions.forEach((d, i) => {
    out.push(...decisionLines(s, d, i + 1));
  });
  out.push('');

  out.push('## Approvals', '');
  if (s.approvals.length === 0) out.push('None.');
  s.approvals.forEach((a, i) => {
    out.push(...approvalLines(s, a, i + 1));
  });
  out.push('');

  out.push('## Follow-ups', '');
  if (s.followUps.length === 0) out.push('None found by the run.');
  for (const f of s.followUps) out.push(`- [ ] ${mdRich(f.text)} Owner: _to be named_`);
  out.push('');

  out.push('## Root cause', '', '_To be written by the incident owner: what failed first, and why._', '');
  out.push('## Lessons', '', '_What went well, what did not, what to change in the system or the runbook._', '');

  out.push('## Details', '', 'What the run measured, as recorded: raw checks, SQL, request ids and latencies.', '');
  out.push('### Steps and their evidence', '');
  for (const step of s.steps) out.push(...stepLines(s, step));
  out.push('');

  out.push('### Host actions', '');
  if (s.hostActions.length === 0) out.push('None performed.');
  for (const h of s.hostActions) {
    const by = h.by ? ` by ${mdActor(h.by)}` : '';
    const when = h.at ? ` at ${at(s, h.at)}` : '';
    out.push(`- **${mdText(h.title, 200)}** (${mdCode(h.action)}, ${h.risk}): ${h.outcome}, ${h.means}${by}${when}`);
    if (h.chosen) out.push(`  - Chosen by people: ${mdText(h.chosen)}`);
    if (h.detail) out.push(`  - ${h.means === 'by hand' ? 'Instructions' : 'Ran'}: ${mdText(h.detail, 600)}`);
    if (h.note) out.push(`  - Note: ${mdText(h.note)}`);
    if (h.error) out.push(`  - Error ${mdCode(h.error.code)}: ${mdText(h.error.message)}`);
  }
  out.push('');

  out.push('### Manual actions the runbook leaves to people', '');
  for (const m of s.manualActions) {
    out.push(`- **${mdText(m.title)}**: ${MANUAL_STATUS[m.status]}. ${mdRich(m.detail)}`.trimEnd());
    for (const item of m.items) {
      const when = item.at ? at(s, item.at) : '';
      const tail =
        item.decision !== undefined
          ? `: "${mdText(item.decision, 300)}"${item.by ? ` by ${mdActor(item.by)}` : ''}${when ? ` at ${when}` : ''}` +
            (item.reason ? `, reason: ${mdText(item.reason)}` : '')
          : when
            ? ` (${when})`
            : '';
      out.push(`  - ${mdRich(item.label)}${tail}`);
    }
  }
  out.push('');

  out.push('### Final health (recovery checklist)', '');
  const h = s.finalHealth;
  out.push(mdRich(h.note));
  if (h.failing.length > 0) {
    out.push('', 'Failing conditions:', '');
    for (const f of h.failing) {
      out.push(
        `- ${mdCode(f.condition)}: ${mdText(f.detail)} (measured ${value(f.measured)}, expected ${value(f.expected)})`,
      );
    }
  }
  if (h.evidence.length > 0) {
    out.push('', 'Last reading:', '');
    out.push(...evidenceList(h.evidence, '', 30));
  }
  if (h.unchecked.length > 0) out.push('', `Not checked (no input): ${h.unchecked.map((u) => mdCode(u)).join(', ')}`);
  if (h.manualChecks.length > 0) {
    out.push('', `Left to people (no API or table shows them): ${h.manualChecks.map((u) => mdText(u)).join('; ')}`);
  }
  out.push('');

  out.push('### Event log', '');
  for (const t of s.timeline) out.push(`- \`${formatOffset(t.offsetMs)}\` #${t.seq} ${mdRich(t.text)}`);
  out.push('');
  out.push(
    `Generated from ${s.eventCount} run events; the last at ${formatInstant(s.times.lastEventAt)}. ` +
      `Times are offsets from the start, ${formatInstant(s.times.startedAt)}.`,
    '',
  );
  return out.join('\n');
}
