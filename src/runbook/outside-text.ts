// Text the bot did not write (backup labels and paths a host action printed, run rows DecisionGraph returned)
// ends up in option labels, item labels and prompts. The engine bounds its length and keeps it on one line;
// escaping for Slack is the Slack layer's business.

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
  let end = Math.max(0, max - 1);
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${text.slice(0, end).trimEnd()}…`;
}
