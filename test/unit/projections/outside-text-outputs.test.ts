import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mdCode, mdText } from '../../../src/projections/summary/index.js';
import { clean, oneLine } from '../../../src/projections/terminal/render.js';
import { isSafeText, safeText } from '../../../src/runbook/index.js';
import { decodeSlackEntities, userText } from '../../../src/slack/slack-text.js';

// One rule decides which characters of outside text (reasons, trace ids, notes, names, DecisionGraph's messages)
// reach a reader; each output only adds its own escaping on top. Undoing that escaping must give back exactly what
// the rule leaves, whatever was typed, in Slack, in the Markdown summary and in the terminal alike.

const NO_LIMIT = Number.POSITIVE_INFINITY;

/** Any text, with the characters the rule is about and those each format escapes drawn often. */
const outsideText = fc.string({
  unit: fc.oneof(
    fc.constantFrom('\u0000', '\t', '\n', '\r', '\u001b', '\u007f', '\u0085', '\u2028', '\u202e', '\u2066'),
    fc.constantFrom('<!channel>', '<@U123>', '&amp;', '&', '*', '_', '`', '|', '\\', '[x](y)', '~', ' '),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
  ),
  maxLength: 60,
});

/** What a CommonMark reader sees of `mdText`: each backslash escape read as the character it escapes. */
const readMarkdown = (md: string) => md.replace(/\\([\\`*[\]<>|~&_])/g, '$1');

describe('the outside-text rule in every output', () => {
  it('one line: Slack, Markdown and the terminal show what the rule leaves, and nothing else', () => {
    fc.assert(
      fc.property(outsideText, (typed) => {
        const rule = safeText(typed, 'one');
        const slack = userText(typed, NO_LIMIT, { keepNewlines: false });
        expect(decodeSlackEntities(slack)).toBe(rule);
        expect(slack).not.toMatch(/[<>]/);
        expect(readMarkdown(mdText(typed, NO_LIMIT))).toBe(rule.trim());
        expect(oneLine(typed, NO_LIMIT)).toBe(rule);
        for (const shown of [decodeSlackEntities(slack), readMarkdown(mdText(typed, NO_LIMIT)), oneLine(typed)]) {
          expect(isSafeText(shown, 'one')).toBe(true);
        }
      }),
    );
  });

  it('many lines: Slack and the terminal keep the same line breaks and drop the same characters', () => {
    fc.assert(
      fc.property(outsideText, (typed) => {
        const rule = safeText(typed, 'many');
        expect(decodeSlackEntities(userText(typed, NO_LIMIT))).toBe(rule);
        expect(clean(typed)).toBe(rule);
        expect(isSafeText(clean(typed), 'many')).toBe(true);
      }),
    );
  });

  it('code: a Markdown code span holds what the rule leaves, on one line', () => {
    fc.assert(
      fc.property(outsideText, (typed) => {
        const rule = safeText(typed, 'one').trim();
        const span = mdCode(typed, NO_LIMIT);
        const inner = span
          .replace(/^(`+) ?/, '')
          .replace(/ ?`+$/, '')
          .replace(/\\\|/g, '|');
        expect(inner).toBe(rule);
        expect(isSafeText(span, 'one')).toBe(true);
      }),
    );
  });

  it('text accepted from a person reads the same in every output as it was typed', () => {
    fc.assert(
      fc.property(
        outsideText.filter((t) => isSafeText(t, 'one')),
        (typed) => {
          expect(decodeSlackEntities(userText(typed, NO_LIMIT, { keepNewlines: false }))).toBe(typed);
          expect(readMarkdown(mdText(typed, NO_LIMIT))).toBe(typed.trim());
          expect(oneLine(typed, NO_LIMIT)).toBe(typed);
        },
      ),
    );
  });
});
