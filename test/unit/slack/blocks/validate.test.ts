import { describe, expect, it } from 'vitest';
import { BLOCK_LIMITS, fitMrkdwn, fitPlainText, mrkdwnText, plainText } from '../../../../src/slack/blocks/limits.js';
import { assertModalWithinLimits, assertWithinLimits, jsonPointer } from '../../../../src/slack/blocks/validate.js';

const section = (text: string, extra: Record<string, unknown> = {}) => ({
  type: 'section',
  text: { type: 'mrkdwn', text },
  ...extra,
});

const button = (actionId: string, extra: Record<string, unknown> = {}) => ({
  type: 'button',
  text: { type: 'plain_text', text: 'Retry' },
  action_id: actionId,
  ...extra,
});

const confirm = {
  title: { type: 'plain_text', text: 'Abort the run?' },
  text: { type: 'mrkdwn', text: 'This stops the recovery.' },
  confirm: { type: 'plain_text', text: 'Abort' },
  deny: { type: 'plain_text', text: 'Cancel' },
  style: 'danger',
};

/** A realistic step message: header, evidence, fields, context, decision buttons. */
const stepMessage = () => ({
  channel: 'C1',
  thread_ts: '1700000000.000100',
  text: 'Step 3 of 8 failed: wait until healthz is 200',
  blocks: [
    { type: 'header', text: { type: 'plain_text', text: 'Step 3 of 8: wait until healthz is 200', emoji: true } },
    section('*Failed* after 5 min', { block_id: 'summary', accessory: button('dg.step.details', { value: 'r1|3' }) }),
    {
      type: 'section',
      fields: [
        { type: 'mrkdwn', text: '*HTTP status*\n503' },
        { type: 'mrkdwn', text: '*request_id*\n`req-1`' },
      ],
    },
    { type: 'context', elements: [{ type: 'mrkdwn', text: 'run-abcdef12 · restart · tenant acme' }] },
    { type: 'divider' },
    {
      type: 'actions',
      block_id: 'decision',
      elements: [
        button('dg.step.retry', { style: 'primary', value: 'r1|3|retry' }),
        button('dg.step.skip', { value: 'r1|3|skip' }),
        button('dg.step.abort', { style: 'danger', value: 'r1|3|abort', confirm }),
      ],
    },
  ],
  metadata: { event_type: 'dg_step', event_payload: { run: 'run-abcdef12', step: 3 } },
});

const pointers = (violations: { pointer: string }[]) => violations.map((v) => v.pointer);

describe('assertWithinLimits (messages)', () => {
  it('accepts a realistic step message', () => {
    expect(assertWithinLimits(stepMessage())).toEqual([]);
  });

  it('locates an over-long section text with a JSON pointer and the actual length', () => {
    const m = stepMessage();
    m.blocks[1] = section('x'.repeat(3001));
    const violations = assertWithinLimits(m);
    expect(violations).toEqual([{ pointer: '/blocks/1/text/text', message: 'has 3001 characters; the limit is 3000' }]);
  });

  it('enforces header, field, button and confirm limits', () => {
    const m = {
      text: 'x',
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: 'h'.repeat(151) } },
        { type: 'section', fields: Array.from({ length: 11 }, () => ({ type: 'mrkdwn', text: 'f'.repeat(2001) })) },
        {
          type: 'actions',
          elements: [
            button('a'.repeat(256), {
              text: { type: 'plain_text', text: 'b'.repeat(76) },
              value: 'v'.repeat(2001),
              style: 'warning',
              confirm: {
                ...confirm,
                title: { type: 'plain_text', text: 't'.repeat(101) },
                text: { type: 'plain_text', text: 'x'.repeat(301) },
                confirm: { type: 'plain_text', text: 'c'.repeat(31) },
                deny: { type: 'plain_text', text: 'd'.repeat(31) },
              },
            }),
          ],
        },
      ],
    };
    const found = pointers(assertWithinLimits(m));
    expect(found).toEqual(
      expect.arrayContaining([
        '/blocks/0/text/text',
        '/blocks/1/fields',
        '/blocks/1/fields/0/text',
        '/blocks/1/fields/10/text',
        '/blocks/2/elements/0/text/text',
        '/blocks/2/elements/0/action_id',
        '/blocks/2/elements/0/value',
        '/blocks/2/elements/0/style',
        '/blocks/2/elements/0/confirm/title/text',
        '/blocks/2/elements/0/confirm/text/text',
        '/blocks/2/elements/0/confirm/confirm/text',
        '/blocks/2/elements/0/confirm/deny/text',
      ]),
    );
  });

  it('caps a message at 50 blocks and its text at 4000', () => {
    const blocks = Array.from({ length: 51 }, () => ({ type: 'divider' }));
    const violations = assertWithinLimits({ text: 't'.repeat(4001), blocks });
    expect(violations).toEqual(
      expect.arrayContaining([
        { pointer: '/blocks', message: 'has 51 items; the limit is 50' },
        { pointer: '/text', message: 'has 4001 characters; the limit is 4000' },
      ]),
    );
  });

  it('requires a text fallback', () => {
    expect(pointers(assertWithinLimits({ blocks: [{ type: 'divider' }] }))).toEqual(['/text']);
  });

  it('requires block_id and action_id to be unique within the message', () => {
    const m = stepMessage();
    m.blocks.push({ type: 'actions', block_id: 'decision', elements: [button('dg.step.retry')] });
    const violations = assertWithinLimits(m);
    expect(pointers(violations)).toEqual(['/blocks/6/block_id', '/blocks/6/elements/0/action_id']);
    expect(violations[0]?.message).toContain('/blocks/5/block_id');
  });

  it('rejects input blocks, unknown keys and empty sections in messages', () => {
    const m = {
      text: 'x',
      blocks: [
        {
          type: 'input',
          label: { type: 'plain_text', text: 'Reason' },
          element: { type: 'plain_text_input', action_id: 'r' },
        },
        { type: 'section', text: { type: 'mrkdwn', text: 'ok' }, colour: 'red' },
        { type: 'section' },
        { type: 'actions', elements: [] },
      ],
    };
    const violations = assertWithinLimits(m);
    expect(violations[0]).toMatchObject({ pointer: '/blocks/0/type', message: expect.stringContaining('not allowed') });
    expect(pointers(violations)).toEqual(
      expect.arrayContaining(['/blocks/0/type', '/blocks/1', '/blocks/2', '/blocks/3/elements']),
    );
  });

  it('flags messages whose blocks hold more text together than Slack accepts', () => {
    const blocks = Array.from({ length: 4 }, () => section('x'.repeat(2900)));
    expect(assertWithinLimits({ text: 'x', blocks })).toEqual([
      { pointer: '/blocks', message: expect.stringContaining('11600 characters') },
    ]);
  });

  it('does not throw on garbage', () => {
    for (const garbage of [null, 42, 'text', [], { blocks: 'no' }, { text: 'x', blocks: [null, 1, 'a'] }]) {
      expect(Array.isArray(assertWithinLimits(garbage))).toBe(true);
    }
  });
});

const reasonModal = () => ({
  type: 'modal',
  callback_id: 'dg.reason',
  private_metadata: 'run:run-abcdef12|step:3|action:skip',
  title: { type: 'plain_text', text: 'Skip this step' },
  submit: { type: 'plain_text', text: 'Skip' },
  close: { type: 'plain_text', text: 'Cancel' },
  blocks: [
    section('Why skip *wait until healthz is 200*?'),
    {
      type: 'input',
      block_id: 'reason',
      label: { type: 'plain_text', text: 'Reason' },
      element: {
        type: 'plain_text_input',
        action_id: 'value',
        multiline: true,
        min_length: 1,
        max_length: 500,
        placeholder: { type: 'plain_text', text: 'What you saw' },
      },
    },
  ],
});

describe('assertModalWithinLimits', () => {
  it('accepts a reason dialog', () => {
    expect(assertModalWithinLimits(reasonModal())).toEqual([]);
  });

  it('enforces title, submit, close, private_metadata and input limits', () => {
    const v = reasonModal();
    v.title.text = 'A title that is much too long';
    v.submit.text = 's'.repeat(25);
    v.close.text = 'c'.repeat(25);
    v.private_metadata = 'm'.repeat(3001);
    (v.blocks[1] as { element: { max_length: number } }).element.max_length = 3001;
    expect(pointers(assertModalWithinLimits(v))).toEqual(
      expect.arrayContaining([
        '/title/text',
        '/submit/text',
        '/close/text',
        '/private_metadata',
        '/blocks/1/element/max_length',
      ]),
    );
  });

  it('needs a submit button when it has inputs, and allows 100 blocks', () => {
    const { submit: _, ...noSubmit } = reasonModal();
    expect(pointers(assertModalWithinLimits(noSubmit))).toEqual(['/submit']);
    const big = { ...reasonModal(), blocks: Array.from({ length: 100 }, () => ({ type: 'divider' })) };
    expect(assertModalWithinLimits(big)).toEqual([]);
    big.blocks.push({ type: 'divider' });
    expect(pointers(assertModalWithinLimits(big))).toEqual(['/blocks']);
  });

  it('allows the same action_id in different blocks but not twice in one', () => {
    const v = reasonModal();
    v.blocks.push({ ...(v.blocks[1] as object), block_id: 'note' } as never);
    expect(assertModalWithinLimits(v)).toEqual([]);
    v.blocks.push({ type: 'actions', elements: [button('x'), button('x')] } as never);
    expect(pointers(assertModalWithinLimits(v))).toEqual(['/blocks/3/elements/1/action_id']);
  });
});

describe('helpers', () => {
  it('escapes JSON pointer segments', () => {
    expect(jsonPointer(['a/b', 'c~d', 0])).toBe('/a~1b/c~0d/0');
  });

  it('builds text objects that always satisfy their limits', () => {
    const header = plainText(`Run\n${'x'.repeat(500)}`, BLOCK_LIMITS.headerText);
    expect(header.text.length).toBe(BLOCK_LIMITS.headerText);
    expect(header.text).not.toContain('\n');
    expect(plainText('', 10).text).toBe('-');
    const body = mrkdwnText(`\`\`\`\n${'log line\n'.repeat(1000)}\`\`\``, BLOCK_LIMITS.sectionText);
    expect(body.text.length).toBeLessThanOrEqual(BLOCK_LIMITS.sectionText);
    const m = {
      text: 'x',
      blocks: [
        { type: 'header', text: header },
        { type: 'section', text: body },
      ],
    };
    expect(assertWithinLimits(m)).toEqual([]);
    expect(fitPlainText('a\u0000b', 10)).toBe('ab');
    expect(fitMrkdwn('a &amp; b', 5)).toBe('a …');
  });
});
