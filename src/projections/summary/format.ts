import type { Actor, Evidence } from '../../runbook/events.js';
import type { Json } from '../../runbook/json.js';
import type { SummaryOutcome } from './types.js';

// Formatting shared by the builder and both renderers. Everything derives from event data (never the clock or the
// locale), so the same events always give the same text.

export function msBetween(from: string | null | undefined, to: string | null | undefined): number | null {
  if (!from || !to) return null;
  const a = Date.parse(from);
  const b = Date.parse(to);
  return Number.isFinite(a) && Number.isFinite(b) ? Math.max(0, b - a) : null;
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** `850 ms`, `12.3 s`, `4 min 05 s`, `2 h 03 min`. */
export function formatDuration(ms: number | null): string {
  if (ms === null) return 'unknown';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${Math.round(ms / 100) / 10} s`;
  const totalSeconds = Math.floor(ms / 1000);
  if (ms < 3_600_000) return `${Math.floor(totalSeconds / 60)} min ${pad(totalSeconds % 60)} s`;
  const minutes = Math.floor(totalSeconds / 60);
  return `${Math.floor(minutes / 60)} h ${pad(minutes % 60)} min`;
}

/** `+00:04:05`: time since the run started, for timelines. */
export function formatOffset(ms: number | null): string {
  if (ms === null) return '+?';
  const s = Math.floor(ms / 1000);
  return `+${pad(Math.floor(s / 3600))}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}`;
}

/** `2026-03-07 12:00:01 UTC` from an ISO instant; the input unchanged when it does not parse. */
export function formatInstant(iso: string | null): string {
  if (iso === null) return 'not yet';
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return iso;
  const d = new Date(t);
  return (
    `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} UTC`
  );
}

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
