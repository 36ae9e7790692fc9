import type { Actor } from '../../runbook/index.js';
import type { Json } from '../../runbook/json.js';
import { formatInstant } from '../../runbook/time-format.js';
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

/** Slack's date token: shown in each reader's own time zone, with the one UTC format as the fallback text. */
function slackDate(iso: string | null | undefined, tokens: string): string {
  const ms = iso ? Date.parse(iso) : Number.NaN;
  const fallback = formatInstant(iso);
  return Number.isFinite(ms) ? `<!date^${Math.floor(ms / 1000)}^${tokens}|${fallback}>` : fallback;
}

/** A moment with its date, for the start and end of a run. */
export function when(iso: string | null | undefined): string {
  return slackDate(iso, '{date_short_pretty} {time_secs}');
}

/** Time of day only, for moments inside a run. */
export function clock(iso: string | null | undefined): string {
  return slackDate(iso, '{time_secs}');
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
