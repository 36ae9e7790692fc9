// The one rule for text the bot did not write: reasons, notes, names and ids people type, backup labels and output a
// host action printed, rows and messages DecisionGraph returned. Every front end shows such text through
// `safeText` (the Slack layer then escapes `&<>`, the Markdown summary its punctuation; the terminal needs no more),
// and every input check refuses it through `isSafeText`, so what is refused and what is removed are the same set.

/** Longest outside value placed into an option or item label. */
export const MAX_LABEL_VALUE = 120;
/** Longest outside value placed into an option's detail or a prompt. */
export const MAX_DETAIL_VALUE = 300;
/** Longest backup label shown in an artifact's one-line description. */
export const MAX_ARTIFACT_LABEL = 60;

// C0 controls other than tab and line breaks (ESC among them, which would repaint a terminal), DEL, C1 controls,
// and the bidi embedding, override and isolate controls that make text show in an order other than the one typed.
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are the characters the rule removes
const REMOVED = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
/** Every way to break a line: CRLF, a lone CR (it would overwrite a terminal line), LF, the Unicode separators. */
const LINE_BREAK = /\r\n?|[\n\u2028\u2029]/g;
const LAYOUT = /[\t\r\n\u2028\u2029]/;

/** `one`: a place that shows one line (labels, buttons, table cells, code spans); `many`: a block of text. */
export type TextLines = 'one' | 'many';

/**
 * Outside text as it may be shown: the controls above removed; line breaks become `\n` (`many`) or, with tabs,
 * a space (`one`). Nothing else changes: lengths and escaping for a format are the caller's.
 */
export function safeText(text: string, lines: TextLines = 'many'): string {
  if (lines === 'many') return text.replace(LINE_BREAK, '\n').replace(REMOVED, '');
  return text.replace(LINE_BREAK, ' ').replace(/\t/g, ' ').replace(REMOVED, '');
}

/**
 * Whether typed text may be accepted as it is: nothing {@link safeText} would remove, and no line break or tab
 * where one line is wanted. Accepted text is shown as typed (line breaks aside, which every output writes as `\n`).
 */
export function isSafeText(text: string, lines: TextLines = 'many'): boolean {
  return text.search(REMOVED) === -1 && (lines === 'many' || !LAYOUT.test(text));
}

/**
 * One line of at most `max` UTF-16 code units (the unit the event schema counts): {@link safeText} on one line,
 * runs of spaces one, trimmed, and a cut is marked with `…`. A cut never splits a surrogate pair.
 */
export function clipLine(text: string, max: number): string {
  const line = safeText(text, 'one')
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
