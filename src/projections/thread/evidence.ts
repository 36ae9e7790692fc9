import type { Evidence } from '../../runbook/index.js';
import { esc, plural, value } from './format.js';

// The thread shows one human line per check: what was measured and, when it is off, against what. The call it
// came from (SQL, request id, latency) and the raw detail stay in the run log and the summary file.

/** Evidence lines shown in one message; the rest is counted and left to the summary file. */
export const MAX_EVIDENCE_ITEMS = 6;

export interface EvidenceTextOptions {
  /** At most this many lines. @defaultValue {@link MAX_EVIDENCE_ITEMS} */
  readonly max?: number;
  /**
   * Add the explanation of every shown item (a step still waiting or failed), or of the failing ones (what a
   * question or a finding rests on). @defaultValue none
   */
  readonly details?: 'all' | 'failing';
  /** Mark failing items as findings (under a passed step) rather than as failures. @defaultValue false */
  readonly symptom?: boolean;
}

function mark(item: Evidence, symptom: boolean): string {
  if (item.ok === false) return symptom ? '•' : ':x:';
  return '•';
}

/** One check in one line: `label: measured`, and what was expected when the check did not hold. */
export function evidenceLine(item: Evidence, options: EvidenceTextOptions = {}): string {
  const against = item.expected !== undefined && item.ok !== true ? `, expected ${value(item.expected, 80)}` : '';
  const explained = options.details === 'all' || (options.details === 'failing' && item.ok === false);
  // DecisionGraph's error messages name their request id: it stays in the run log with the rest of the call.
  const text = item.detail?.replace(/\s*\(request_id [^)]*\)/g, '');
  const detail = explained && text ? ` · _${esc(text, 400)}_` : '';
  return `${mark(item, options.symptom === true)} ${esc(item.label, 120)}: ${value(item.measured, 100)}${against}${detail}`;
}

/**
 * The checks worth reading, one line each: failing ones first, then plain readings; checks that held are only
 * counted. `undefined` when there is nothing to show.
 */
export function evidenceText(items: readonly Evidence[], options: EvidenceTextOptions = {}): string | undefined {
  const max = options.max ?? MAX_EVIDENCE_ITEMS;
  const notable = [...items.filter((i) => i.ok === false), ...items.filter((i) => i.ok === undefined)];
  const held = items.length - notable.length;
  const shown = notable.slice(0, max).map((item) => evidenceLine(item, options));
  const rest = notable.length - shown.length;
  const tail = [
    held > 0 && shown.length > 0
      ? `${plural(held, 'other check')} as expected`
      : held > 0
        ? `${plural(held, 'check')} as expected`
        : '',
    rest > 0 ? `${rest} more in the summary file` : '',
  ].filter((t) => t !== '');
  if (tail.length > 0) shown.push(`_${tail.join('; ')}_`);
  return shown.length > 0 ? shown.join('\n') : undefined;
}
