// How every front end (Slack thread, incident summary, terminal, replies) and every message the engine writes
// into a run's events shows a span of time and a moment. Pure: the text depends only on its input, never on the
// clock or the locale, so the same events always read the same.

/** Shown for a duration that is missing or not a number. */
const UNKNOWN_DURATION = 'unknown';
/** Shown for a moment that is missing or does not parse. */
const UNKNOWN_MOMENT = 'unknown time';

/** A moment as an ISO 8601 string (as events carry it) or a `Date` (as a clock gives it). */
export type Moment = string | Date;

function epochMs(at: Moment): number {
  return typeof at === 'string' ? Date.parse(at) : at.getTime();
}

/**
 * Milliseconds from `from` to `to`, never below 0 (a clock that stepped back is not a negative wait); `null` when
 * either is missing or does not parse.
 */
export function msBetween(from: Moment | null | undefined, to: Moment | null | undefined): number | null {
  if (from === null || from === undefined || to === null || to === undefined) return null;
  const a = epochMs(from);
  const b = epochMs(to);
  return Number.isFinite(a) && Number.isFinite(b) ? Math.max(0, b - a) : null;
}

/**
 * A duration as an on-call engineer reads it, to what matters at its size: `850 ms`, `2.5 s`, `12 s`, `1 min`,
 * `1 min 5 s`, `2 h`, `2 h 3 min`. Cut, not rounded, like the offsets and clock times beside it (68.9 s is
 * `1 min 8 s`, as `+00:01:08` is). Below 0 counts as 0; missing or not a number is `unknown`.
 */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return UNKNOWN_DURATION;
  const t = Math.max(0, ms);
  if (t < 1000) return `${Math.floor(t)} ms`;
  if (t < 10_000) return `${Math.floor(t / 100) / 10} s`;
  const seconds = Math.floor(t / 1000);
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return withRest(Math.floor(seconds / 60), 'min', seconds % 60, 's');
  const minutes = Math.floor(seconds / 60);
  return withRest(Math.floor(minutes / 60), 'h', minutes % 60, 'min');
}

function withRest(whole: number, unit: string, rest: number, restUnit: string): string {
  return rest === 0 ? `${whole} ${unit}` : `${whole} ${unit} ${rest} ${restUnit}`;
}

/** A span in its one largest unit, cut: `40 s`, `12 min`, `3 h`, `2 days`. */
function coarseSpan(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 48 * 3600) return `${Math.floor(s / 3600)} h`;
  return `${Math.floor(s / 86_400)} days`;
}

/**
 * `3 h before the run`, `2 min into the run`: a moment against the run's start, as a person choosing a backup
 * weighs it; `time unknown` when either is missing or unparsable.
 */
export function formatAgainstRunStart(at: Moment | null | undefined, runStart: Moment | null | undefined): string {
  const a = at === null || at === undefined ? Number.NaN : epochMs(at);
  const b = runStart === null || runStart === undefined ? Number.NaN : epochMs(runStart);
  if (!Number.isFinite(a) || !Number.isFinite(b)) return UNKNOWN_MOMENT;
  if (Math.abs(a - b) < 1000) return a < b ? 'just before the run' : 'as the run started';
  return a < b ? `${coarseSpan(b - a)} before the run` : `${coarseSpan(a - b)} into the run`;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** `+00:04:05`: how long after the run's start something happened, for timelines; `+?` when unknown. */
export function formatOffset(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '+?';
  const s = Math.max(0, Math.floor(ms / 1000));
  return `+${pad(Math.floor(s / 3600))}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}`;
}

/** `2026-03-07 12:00:01 UTC`: a moment, to the second, in UTC; `unknown time` when missing or unparsable. */
export function formatInstant(at: Moment | null | undefined): string {
  if (at === null || at === undefined) return UNKNOWN_MOMENT;
  const t = epochMs(at);
  if (!Number.isFinite(t)) return UNKNOWN_MOMENT;
  return `${new Date(t).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}
