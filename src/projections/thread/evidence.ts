import type { Evidence, EvidenceSource } from '../../runbook/index.js';
import { formatDuration } from '../../runbook/time-format.js';
import { code, esc, value } from './format.js';

/** Evidence items shown in one message; the rest is counted and left to the incident summary. */
export const MAX_EVIDENCE_ITEMS = 12;

function mark(item: Evidence): string {
  if (item.ok === true) return ':white_check_mark:';
  if (item.ok === false) return ':x:';
  return ':small_blue_diamond:';
}

/** What was called: method and path, HTTP status, DecisionGraph's request id, latency; or the SQL or host action. */
export function sourceLine(source: EvidenceSource): string | undefined {
  const parts: string[] = [];
  switch (source.kind) {
    case 'http': {
      const call = `${source.method ?? 'GET'} ${source.path ?? ''}`.trim();
      parts.push(code(call, 100));
      parts.push(source.status === null || source.status === undefined ? 'no answer' : `HTTP ${source.status}`);
      if (source.requestId) parts.push(`request_id ${code(source.requestId, 60)}`);
      break;
    }
    case 'sql':
      parts.push(source.sql ? `SQL ${code(source.sql.replace(/\s+/g, ' '), 100)}` : 'SQL probe');
      break;
    case 'host':
      parts.push(`host action ${code(source.path ?? '?', 60)}`);
      if (source.status !== null && source.status !== undefined) parts.push(`status ${source.status}`);
      break;
    case 'engine':
      return undefined;
  }
  if (source.latencyMs !== undefined) parts.push(formatDuration(source.latencyMs));
  return parts.join(' · ');
}

/** One item; the call it came from is left out when the item before came from the same call. */
export function evidenceLine(item: Evidence, previousSource?: string): string {
  const expected = item.expected !== undefined ? ` (expected ${value(item.expected, 80)})` : '';
  const lines = [`${mark(item)} ${esc(item.label, 120)}: ${value(item.measured)}${expected}`];
  const source = sourceLine(item.source);
  if (source && source !== previousSource) lines.push(`      ${source}`);
  if (item.detail) lines.push(`      _${esc(item.detail, 300)}_`);
  return lines.join('\n');
}

/** The evidence as mrkdwn lines, failing items first, at most {@link MAX_EVIDENCE_ITEMS}. */
export function evidenceText(items: readonly Evidence[], max = MAX_EVIDENCE_ITEMS): string | undefined {
  if (items.length === 0) return undefined;
  const ordered = [...items.filter((i) => i.ok === false), ...items.filter((i) => i.ok !== false)];
  const shown = ordered
    .slice(0, max)
    .map((item, i, list) => evidenceLine(item, i > 0 ? sourceLine((list[i - 1] as Evidence).source) : undefined));
  const hidden = ordered.length - shown.length;
  if (hidden > 0) shown.push(`_…and ${hidden} more in the incident summary_`);
  return shown.join('\n');
}
