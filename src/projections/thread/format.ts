import type { Actor } from '../../runbook/index.js';
import type { Json } from '../../runbook/json.js';
import { codeSpan, userText } from '../../slack/slack-text.js';

// Small mrkdwn pieces the thread messages share. Everything that did not come from the bot's own code (ids,
// names, measured values, reasons, DecisionGraph's messages) goes through `userText` or `codeSpan`.

const SLACK_USER = /^[UW][A-Z0-9]{2,30}$/;
const SLACK_GROUP = /^S[A-Z0-9]{2,30}$/;

/** Plain one-line text from outside the bot, escaped and cut. */
export function esc(text: string, max = 300): string {
  return userText(text, max, { keepNewlines: false });
}

/** Multi-line text from outside the bot (instructions, prompts), escaped and cut. */
export function escBlock(text: string, max = 1500): string {
  return userText(text, max);
}

export function code(text: string, max = 80): string {
  return codeSpan(text, max);
}

/** A person: a mention for a Slack user id, their name (or id) as text otherwise. */
export function who(actor: Actor | null | undefined): string {
  if (!actor) return 'the bot';
  if (actor.via === 'slack' && SLACK_USER.test(actor.id)) return `<@${actor.id}>`;
  return actor.name ? esc(actor.name, 80) : code(actor.id, 40);
}

/** A user or user-group id from the access config as a mention. */
export function principal(id: string): string {
  if (SLACK_USER.test(id)) return `<@${id}>`;
  if (SLACK_GROUP.test(id)) return `<!subteam^${id}>`;
  return code(id, 40);
}

function isoFallback(date: Date): string {
  return `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** A moment, shown in each reader's own time zone by Slack, with UTC as the fallback text. */
export function when(iso: string | null | undefined): string {
  if (!iso) return 'unknown time';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return 'unknown time';
  const seconds = Math.floor(date.getTime() / 1000);
  return `<!date^${seconds}^{date_short_pretty} {time_secs}|${isoFallback(date)}>`;
}

/** Time of day only, for moments inside a run. */
export function clock(iso: string | null | undefined): string {
  if (!iso) return 'unknown time';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return 'unknown time';
  const seconds = Math.floor(date.getTime() / 1000);
  return `<!date^${seconds}^{time_secs}|${isoFallback(date)}>`;
}

export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return '?';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.round(s)} s`;
  const m = Math.floor(s / 60);
  const rest = Math.round(s - m * 60);
  if (m < 60) return rest > 0 ? `${m} min ${rest} s` : `${m} min`;
  const h = Math.floor(m / 60);
  return `${h} h ${m - h * 60} min`;
}

export function between(from: string | null | undefined, to: string | null | undefined): number | null {
  if (!from || !to) return null;
  const ms = Date.parse(to) - Date.parse(from);
  return Number.isFinite(ms) ? ms : null;
}

/** A measured or expected value as inline code: strings bare, everything else as JSON. */
export function value(v: Json | undefined, max = 120): string {
  if (v === undefined) return code('-');
  const text = typeof v === 'string' ? v : JSON.stringify(v);
  return code(text, max);
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
