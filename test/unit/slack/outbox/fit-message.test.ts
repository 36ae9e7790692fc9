import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BLOCK_LIMITS } from '../../../../src/slack/blocks/limits.js';
import { assertWithinLimits } from '../../../../src/slack/blocks/validate.js';
import { fitMessageToLimits, textOnlyBody } from '../../../../src/slack/outbox/fit-message.js';

// `size: 'max'` spreads lengths over the whole range; the default bias keeps strings far below any limit.
const text = (max: number) => fc.string({ minLength: 1, maxLength: max, unit: 'grapheme', size: 'max' });
const mrkdwn = (max: number) => fc.record({ type: fc.constant('mrkdwn' as const), text: text(max) });
const plain = (max: number) => fc.record({ type: fc.constant('plain_text' as const), text: text(max) });

const button = fc.record({
  type: fc.constant('button' as const),
  text: plain(120),
  action_id: fc.uuid(),
  value: fc.string({ minLength: 1, maxLength: 40 }),
});

/** The block shapes renderers emit, with texts up to about twice their limits. */
const block = fc.oneof(
  fc.record({ type: fc.constant('header' as const), text: plain(320) }),
  fc.record({ type: fc.constant('section' as const), text: mrkdwn(6500) }),
  fc.record({
    type: fc.constant('section' as const),
    fields: fc.array(mrkdwn(2500), { minLength: 1, maxLength: 14, size: 'max' }),
  }),
  fc.record({
    type: fc.constant('context' as const),
    elements: fc.array(mrkdwn(400), { minLength: 1, maxLength: 14, size: 'max' }),
  }),
  fc.record({ type: fc.constant('actions' as const), elements: fc.array(button, { minLength: 1, maxLength: 4 }) }),
  fc.constant({ type: 'divider' as const }),
);

describe('fitMessageToLimits', () => {
  it('leaves a message within limits untouched', () => {
    const message = { text: 'ok', blocks: [{ type: 'section', text: { type: 'mrkdwn', text: '*fine*' } }] };
    const result = fitMessageToLimits(message);
    expect(result.violations).toEqual([]);
    expect(result.body).toEqual(message);
  });

  it('cuts any message of the emitted shapes to something Slack accepts', () => {
    let broken = 0;
    fc.assert(
      fc.property(
        fc.array(block, { maxLength: 70, size: 'max' }),
        fc.string({ maxLength: 6000, size: 'max' }),
        (blocks, fallback) => {
          const result = fitMessageToLimits({ text: fallback, blocks });
          if (result.violations.length > 0) broken += 1;
          expect(result.remaining).toEqual([]);
          expect(assertWithinLimits(result.body)).toEqual([]);
        },
      ),
      { numRuns: 50 },
    );
    // Most generated messages broke a limit, so the property is about cutting, not about passing through.
    expect(broken).toBeGreaterThan(25);
  });

  it('keeps the start of a long text, ends it with an ellipsis, and does not touch the input', () => {
    const long = `*Output* ${'<@U123> & '.repeat(600)}`;
    const blocks = [{ type: 'section', text: { type: 'mrkdwn', text: long } }];
    const result = fitMessageToLimits({ text: 'fallback', blocks });
    const cut = (result.body.blocks[0] as { text: { text: string } }).text.text;
    expect(result.violations.map((v) => v.pointer)).toContain('/blocks/0/text/text');
    expect(cut.length).toBeLessThanOrEqual(BLOCK_LIMITS.sectionText);
    expect(cut.endsWith('…')).toBe(true);
    // Never half a mention or entity before the ellipsis.
    expect(cut).toMatch(/(> |&amp; |> &amp; |\s)?…$/);
    expect(cut).not.toMatch(/<@U12?…$|&am?p?…$/);
    expect(blocks[0]?.text.text).toBe(long);
  });

  it('shortens the longest texts first when all texts together are too long', () => {
    const blocks = [
      { type: 'section', text: { type: 'mrkdwn', text: 'a'.repeat(2900) } },
      { type: 'section', text: { type: 'mrkdwn', text: 'b'.repeat(2900) } },
      { type: 'section', text: { type: 'mrkdwn', text: 'c'.repeat(2900) } },
      { type: 'section', text: { type: 'mrkdwn', text: 'd'.repeat(2900) } },
      { type: 'section', text: { type: 'mrkdwn', text: 'short and kept' } },
    ];
    const result = fitMessageToLimits({ text: 'fallback', blocks });
    expect(result.remaining).toEqual([]);
    expect(result.body.blocks).toHaveLength(5);
    expect((result.body.blocks[4] as { text: { text: string } }).text.text).toBe('short and kept');
  });

  it('derives a fallback text from the blocks when the text is empty', () => {
    const result = fitMessageToLimits({
      text: '',
      blocks: [{ type: 'header', text: { type: 'plain_text', text: 'Step 3 failed' } }],
    });
    expect(result.body.text).toBe('Step 3 failed');
  });
});

describe('textOnlyBody', () => {
  it('drops the blocks and keeps the text within the limit', () => {
    const body = textOnlyBody({ text: 'x'.repeat(9000), blocks: [{ type: 'divider' }] });
    expect(body.blocks).toEqual([]);
    expect(body.text.length).toBeLessThanOrEqual(BLOCK_LIMITS.messageText);
  });
});
