import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatDuration, formatInstant, formatOffset, msBetween } from '../../../src/runbook/time-format.js';

describe('formatDuration', () => {
  it('reads the way an on-call engineer says it', () => {
    expect(formatDuration(0)).toBe('0 ms');
    expect(formatDuration(850)).toBe('850 ms');
    expect(formatDuration(999.9)).toBe('999 ms');
    expect(formatDuration(1000)).toBe('1 s');
    expect(formatDuration(2500)).toBe('2.5 s');
    expect(formatDuration(9_999)).toBe('9.9 s');
    expect(formatDuration(12_400)).toBe('12 s');
    expect(formatDuration(59_999)).toBe('59 s');
    expect(formatDuration(60_000)).toBe('1 min');
    expect(formatDuration(65_000)).toBe('1 min 5 s');
    expect(formatDuration(3_599_999)).toBe('59 min 59 s');
    expect(formatDuration(3_600_000)).toBe('1 h');
    expect(formatDuration(7_380_000)).toBe('2 h 3 min');
    expect(formatDuration(30 * 3_600_000)).toBe('30 h');
  });

  it('cuts like the offset beside it: 68.9 s is 1 min 8 s, as +00:01:08', () => {
    expect(formatDuration(68_900)).toBe('1 min 8 s');
    expect(formatOffset(68_900)).toBe('+00:01:08');
  });

  it('says unknown for what is missing and 0 for what went backwards', () => {
    expect(formatDuration(null)).toBe('unknown');
    expect(formatDuration(undefined)).toBe('unknown');
    expect(formatDuration(Number.NaN)).toBe('unknown');
    expect(formatDuration(-5)).toBe('0 ms');
  });

  it('never goes down as the duration grows, and always names a unit', () => {
    const weight = (text: string): number => {
      let total = 0;
      for (const [, n, unit] of text.matchAll(/([\d.]+) (ms|s|min|h)/g)) {
        total += Number(n) * { ms: 1, s: 1000, min: 60_000, h: 3_600_000 }[unit as 'ms' | 's' | 'min' | 'h'];
      }
      return total;
    };
    fc.assert(
      fc.property(fc.nat(200_000_000), fc.nat(200_000_000), (a, b) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        expect(formatDuration(lo)).toMatch(/^\d+(\.\d)? (ms|s|min|h)( \d+ (s|min))?$/);
        expect(weight(formatDuration(lo))).toBeLessThanOrEqual(weight(formatDuration(hi)));
        expect(weight(formatDuration(lo))).toBeLessThanOrEqual(lo);
      }),
    );
  });
});

describe('formatInstant and formatOffset', () => {
  it('show one moment format, to the second, in UTC', () => {
    expect(formatInstant('2026-03-07T12:00:01.750Z')).toBe('2026-03-07 12:00:01 UTC');
    expect(formatInstant('2026-03-07T14:00:01+02:00')).toBe('2026-03-07 12:00:01 UTC');
    expect(formatInstant(new Date(Date.UTC(2026, 2, 7, 12)))).toBe('2026-03-07 12:00:00 UTC');
    expect(formatInstant('yesterday')).toBe('unknown time');
    expect(formatInstant(null)).toBe('unknown time');
  });

  it('give offsets from the run start as +hh:mm:ss', () => {
    expect(formatOffset(0)).toBe('+00:00:00');
    expect(formatOffset(3_725_000)).toBe('+01:02:05');
    expect(formatOffset(null)).toBe('+?');
  });
});

describe('msBetween', () => {
  it('measures from one moment to the next, never below 0, null when either is unknown', () => {
    expect(msBetween('2026-03-07T12:00:00Z', '2026-03-07T12:01:05.5Z')).toBe(65_500);
    expect(msBetween(new Date('2026-03-07T12:00:00Z'), '2026-03-07T12:00:01Z')).toBe(1000);
    expect(msBetween('2026-03-07T12:00:01Z', '2026-03-07T12:00:00Z')).toBe(0);
    expect(msBetween(null, '2026-03-07T12:00:00Z')).toBeNull();
    expect(msBetween('2026-03-07T12:00:00Z', undefined)).toBeNull();
    expect(msBetween('soon', '2026-03-07T12:00:00Z')).toBeNull();
  });
});
