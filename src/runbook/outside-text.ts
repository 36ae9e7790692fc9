// Outside text (backup labels and paths a host action printed, DecisionGraph's run rows) ends up in labels and
// prompts: the engine bounds its length and keeps it on one line; escaping for Slack is the Slack layer's business.

/** Longest outside value placed into an option or item label. */
export const MAX_LABEL_VALUE = 120;
/** Longest outside value placed into an option's detail or a prompt. */
export const MAX_DETAIL_VALUE = 300;
/** Longest backup label shown in an artifact's one-line description. */
export const MAX_ARTIFACT_LABEL = 60;

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is replaced
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g;

/**
 * One line of at most `max` UTF-16 code units (the unit the event schema counts): control characters and line
 * breaks become spaces, runs of spaces one, and a cut is marked with `…`. A cut never splits a surrogate pair.
 */
export function clipLine(text: string, max: number): string {
  const line = text
    .replace(CONTROL, ' ')
    .replace(/\s{2,}/g, ' ')
    .trim();
  return line.length <= max ? line : cut(line, max);
}

/** `text` cut to at most `max` code units, `…` marking the cut, no surrogate pair split. */
export function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${headOf(text, Math.max(0, max - 1)).trimEnd()}…`;
}

const isHighSurrogate = (code: number) => code >= 0xd800 && code <= 0xdbff;
const isLowSurrogate = (code: number) => code >= 0xdc00 && code <= 0xdfff;

/** The first `max` code units of `text`, one fewer when the last would be half a surrogate pair. */
export function headOf(text: string, max: number): string {
  if (text.length <= max) return text;
  return text.slice(0, isHighSurrogate(text.charCodeAt(max - 1)) ? max - 1 : max);
}

/** The last `max` code units of `text` after `…`, never starting on the second half of a surrogate pair. */
export function tailOf(text: string, max: number): string {
  if (text.length <= max) return text;
  const start = text.length - max;
  return `…${text.slice(isLowSurrogate(text.charCodeAt(start)) ? start + 1 : start)}`;
}
