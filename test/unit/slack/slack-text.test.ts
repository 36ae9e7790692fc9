import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  codeSpan,
  decodeSlackEntities,
  ELLIPSIS,
  escapeMrkdwn,
  truncate,
  truncateMrkdwn,
  userText,
} from '../../../src/slack/slack-text.js';

const isWellFormed = (s: string) => !/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(s);

describe('escapeMrkdwn', () => {
  it('neutralises mentions, channel pings and disguised links', () => {
    expect(escapeMrkdwn('<!channel> hi <@U123> <https://evil.test|docs> a&b')).toBe(
      '&lt;!channel&gt; hi &lt;@U123&gt; &lt;https://evil.test|docs&gt; a&amp;b',
    );
  });

  it('escapes an already escaped entity again, so it shows as typed', () => {
    expect(escapeMrkdwn('&lt;')).toBe('&amp;lt;');
  });

  it('round-trips with decodeSlackEntities', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (s) => decodeSlackEntities(escapeMrkdwn(s)) === s),
    );
  });

  it('never leaves a raw angle bracket', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (s) => !/[<>]/.test(escapeMrkdwn(s))));
  });
});

describe('truncate', () => {
  it('leaves short text alone', () => {
    expect(truncate('hello', 5)).toBe('hello');
  });

  it('cuts to the limit with an ellipsis', () => {
    expect(truncate('hello world', 6)).toBe(`hello${ELLIPSIS}`);
  });

  it('never splits a surrogate pair', () => {
    expect(truncate('ab🔥🔥', 4)).toBe(`ab${ELLIPSIS}`);
  });

  it('always fits and stays well-formed', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), fc.integer({ min: 0, max: 250 }), (s, max) => {
        const out = truncate(s, max);
        expect(out.length).toBeLessThanOrEqual(max);
        expect(isWellFormed(out)).toBe(true);
        if (s.length <= max) expect(out).toBe(s);
        else if (max >= 2) expect(out.endsWith(ELLIPSIS)).toBe(true);
      }),
    );
  });
});

describe('userText', () => {
  it('escapes, strips and cuts without splitting an entity', () => {
    expect(userText('<!channel>', 100)).toBe('&lt;!channel&gt;');
    expect(userText('ab<cd', 5)).toBe(`ab${ELLIPSIS}`);
    expect(userText('bell\u0007', 100)).toBe('bell');
  });

  it('fits the limit after escaping and never yields a raw bracket or half an entity', () => {
    fc.assert(
      fc.property(
        fc.string({
          unit: fc.oneof(fc.constantFrom('<', '>', '&', '<!here>'), fc.string({ unit: 'binary', maxLength: 1 })),
        }),
        fc.integer({ min: 0, max: 120 }),
        (s, max) => {
          const out = userText(s, max);
          expect(out.length).toBeLessThanOrEqual(max);
          expect(out).not.toMatch(/[<>]/);
          expect(out.replace(/&(amp|lt|gt);/g, '')).not.toContain('&');
          expect(isWellFormed(out)).toBe(true);
        },
      ),
    );
  });
});

describe('codeSpan', () => {
  it('wraps user text in backticks it cannot break out of', () => {
    expect(codeSpan('a`b<@U1>')).toBe('`aˋb&lt;@U1&gt;`');
    expect(codeSpan('x'.repeat(200), 20)).toHaveLength(20);
  });
});

describe('truncateMrkdwn', () => {
  it('does not cut inside an entity or a mention', () => {
    expect(truncateMrkdwn('abc &amp; def', 7)).toBe(`abc ${ELLIPSIS}`);
    expect(truncateMrkdwn('hi <@U12345> there', 8)).toBe(`hi ${ELLIPSIS}`);
  });

  it('closes a code block it cut open', () => {
    const out = truncateMrkdwn(`log:\n\`\`\`\n${'line\n'.repeat(50)}\`\`\``, 60);
    expect(out.length).toBeLessThanOrEqual(60);
    expect(out.split('```').length - 1).toBe(2);
    expect(out.endsWith('```')).toBe(true);
  });

  it('always fits', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom('a', ' ', '&amp;', '<@U1>', '```', '\n', '🔥') }),
        fc.integer({ min: 0, max: 80 }),
        (s, max) => {
          const out = truncateMrkdwn(s, max);
          expect(out.length).toBeLessThanOrEqual(max);
          expect(isWellFormed(out)).toBe(true);
        },
      ),
    );
  });
});
