import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clipLine, isSafeText, MAX_LABEL_VALUE, MAX_LISTED_OPTIONS, safeText } from '../../src/runbook/index.js';
import { eventsOf, run, start } from './runbook/driver.js';
import { openRun } from './runbook/fixtures.js';
import { World } from './runbook/world.js';

// Text from outside (backup labels, DecisionGraph's rows) reaches option and item labels bounded and on one line;
// escaping it for Slack is left to the Slack layer.

/** Any text, with the characters the rule is about drawn often. */
const outsideText = fc.string({
  unit: fc.oneof(
    fc.constantFrom('\u0000', '\t', '\n', '\r', '\u001b', '\u007f', '\u0085', '\u2028', '\u202e', '\u2066', ' '),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
  ),
  maxLength: 80,
});

describe('the outside-text rule', () => {
  it('removes controls and bidi overrides, keeps tabs, line breaks and emoji', () => {
    expect(safeText('a\u0000b\u0007c\u001bd\u007fe\u0085f\u202eg\u2066h\ti\nj 🔥')).toBe('abcdefgh\ti\nj 🔥');
  });

  it('writes every line break as \\n, and a carriage return never survives to overwrite a terminal line', () => {
    expect(safeText('a\r\nb\rc\u2028d\u2029e')).toBe('a\nb\nc\nd\ne');
  });

  it('turns tabs and line breaks into spaces for one-line text', () => {
    expect(safeText('a\nb\tc\r\nd', 'one')).toBe('a b c d');
  });

  it('accepts typed text exactly when it would show it unchanged', () => {
    expect(isSafeText('stopped writes\n\tbecause of INC-7', 'many')).toBe(true);
    expect(isSafeText('stopped writes\nbecause', 'one')).toBe(false);
    expect(isSafeText('evil\u001b[2J', 'many')).toBe(false);
    expect(isSafeText('\u202eevil', 'one')).toBe(false);
    fc.assert(
      fc.property(outsideText, fc.constantFrom('one', 'many'), (text, lines) => {
        const shown = safeText(text, lines);
        expect(safeText(shown, lines)).toBe(shown);
        expect(isSafeText(shown, lines)).toBe(true);
        const asTyped = lines === 'many' ? text.replace(/\r\n?|[\u2028\u2029]/g, '\n') : text;
        expect(isSafeText(text, lines)).toBe(shown === asTyped);
      }),
    );
  });
});

describe('clipLine', () => {
  it('keeps any text within the limit, on one line, without splitting a character', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), fc.integer({ min: 1, max: 200 }), (text, max) => {
        const line = clipLine(text, max);
        expect(line.length).toBeLessThanOrEqual(max);
        // biome-ignore lint/suspicious/noControlCharactersInRegex: checking that none are left
        expect(line).not.toMatch(/[\u0000-\u001f\u007f\u2028\u2029]/);
        expect(line).not.toMatch(/[\ud800-\udbff]$/);
      }),
    );
  });

  it('leaves short text alone and marks a cut', () => {
    expect(clipLine('nightly', 60)).toBe('nightly');
    expect(clipLine('pre-upgrade\r\n\tv1.4', 60)).toBe('pre-upgrade v1.4');
    expect(clipLine('abcdefghij', 5)).toBe('abcd…');
  });
});

describe('options built from outside data', () => {
  const damaged = () => {
    const w = new World();
    w.integrity = { payload_hash_drift: 1 };
    return w;
  };

  it('offers at most a bounded number of listed backups, always with the recommended one', () => {
    // Thirty hourly backups; the upgrade prefers the one labelled pre-upgrade, an old one.
    const w = new World();
    w.smokeFailing = ['trace_read'];
    w.backups = Array.from({ length: 30 }, (_, i) => ({
      id: `bk-${String(i).padStart(2, '0')}`,
      path: `/backups/bk-${i}.dump`,
      created_at: new Date(Date.UTC(2026, 2, 1) + i * 3_600_000).toISOString(),
      size_bytes: 4096,
      label: i === 2 ? 'pre-upgrade' : 'hourly',
    }));
    const d = run(start(w, 'upgrade', { traceId: 'trace-demo', previousRelease: 'v1.4.2' }), {
      decide: (cmd) => (cmd.stepId === 'choose_backup' ? { optionId: 'abort', reason: 'seen enough' } : undefined),
    });
    const asked = eventsOf(d, 'decision_requested').find((e) => e.stepId === 'choose_backup');
    const listed = asked?.options.filter((o) => o.id.startsWith('bk-')) ?? [];
    expect(listed).toHaveLength(MAX_LISTED_OPTIONS);
    // The recommended one first, then the newest.
    expect(listed.slice(0, 2).map((o) => [o.id, o.recommended === true])).toEqual([
      ['bk-02', true],
      ['bk-29', false],
    ]);
    expect(asked?.options.slice(-2).map((o) => o.id)).toEqual(['other', 'abort']);
    expect(d.state.outcome?.outcome).toBe('aborted');
  });

  it('bounds a long backup label in the option a person clicks', () => {
    const w = damaged();
    w.backups = [
      {
        id: 'bk-1',
        path: '/backups/bk-1.dump',
        created_at: '2026-03-07T02:00:00Z',
        size_bytes: 2048,
        label: `nightly <!channel>\n${'a'.repeat(190)}`,
      },
    ];
    const d = run(start(w, 'event-log'));
    const option = eventsOf(d, 'decision_requested')
      .find((e) => e.stepId === 'choose_backup')
      ?.options.find((o) => o.id === 'bk-1');
    expect(option?.label).toMatch(/^nightly <!channel> a+… · 10 h before the run · 2.0 KiB$/);
    expect(option?.label.length).toBeLessThanOrEqual(MAX_LABEL_VALUE);
    expect(d.state.outcome?.outcome).toBe('recovered');
  });

  it('bounds what a replay row puts into the label of a per-item decision', () => {
    const w = new World();
    w.runtimeUp = false;
    w.openRuns = [openRun({ job_id: 'replay-17', projection_name: `p${'x'.repeat(400)}\nsecond line` })];
    const d = run(start(w, 'restart'));
    const item = eventsOf(d, 'decision_requested').find((e) => e.stepId === 'orphan_runs')?.item;
    expect(item?.id).toBe('replay-17');
    expect(item?.label).not.toContain('\n');
    expect(item?.label).toContain(`p${'x'.repeat(MAX_LABEL_VALUE - 2)}…`);
    expect(item?.label.length).toBeLessThanOrEqual(500);
  });
});
