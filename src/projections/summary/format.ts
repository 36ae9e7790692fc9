import type { Actor, Evidence } from '../../runbook/events.js';
import type { Json } from '../../runbook/json.js';
import type { SummaryOutcome } from './types.js';

// Formatting shared by the builder and both renderers. Everything derives from event data (never the clock or the
// locale), so the same events always give the same text.

/** Compact text of a JSON value: objects with sorted keys (journal copies may reorder them), `[]` as `none`. */
export function formatJson(value: Json | undefined, max = 300): string {
  const text = jsonText(value, 0);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function jsonText(value: Json | undefined, depth: number): string {
  if (value === undefined) return '';
  if (value === null) return 'null';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (depth > 4) return '…';
  if (Array.isArray(value)) return value.length === 0 ? 'none' : value.map((v) => jsonText(v, depth + 1)).join(', ');
  const keys = Object.keys(value).sort();
  if (keys.length === 0) return '{}';
  const inner = keys.map((k) => `${k}: ${jsonText(value[k], depth + 1)}`).join(', ');
  return depth === 0 ? inner : `{${inner}}`;
}

/** The name a person is shown by: `Name (id)`, or the id alone. */
export function actorText(actor: Actor | null | undefined): string {
  if (!actor) return 'the bot';
  return actor.name && actor.name !== actor.id ? `${actor.name} (${actor.id})` : actor.id;
}

export function actorShort(actor: Actor | null | undefined): string {
  if (!actor) return 'the bot';
  return actor.name || actor.id;
}

export function viaText(actor: Actor): string {
  return actor.via === 'slack' ? 'Slack' : 'the terminal';
}

/** `✓`, `✗`, or nothing when the item only records a fact. */
export function okMark(item: Evidence): string {
  return item.ok === true ? '✓' : item.ok === false ? '✗' : '';
}

export function sortedBy<T>(items: readonly T[], key: (item: T) => string | number): T[] {
  return [...items].sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });
}

export const OUTCOME_LABEL: Readonly<Record<SummaryOutcome, string>> = {
  recovered: 'recovered',
  recovered_with_exceptions: 'recovered with exceptions',
  failed: 'failed',
  aborted: 'aborted',
  switched: 'switched scenario',
  in_progress: 'in progress',
};
