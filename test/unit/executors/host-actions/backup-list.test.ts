import { describe, expect, it } from 'vitest';
import { parseBackupList } from '../../../../src/executors/host-actions/backup-list.js';

// The backup listing's optional event-log position: kept as given (even impossible, so the approval can say so),
// refused by line number when it is not a whole number, absent when the host does not report it.

const line = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    id: 'nightly-0307',
    path: '/var/backups/dg/dg-20260307-0200.dump',
    created_at: '2026-03-07T02:00:00Z',
    size_bytes: 1024,
    label: 'nightly',
    ...extra,
  });

describe('parseBackupList last_log_seq', () => {
  it('keeps the position a line gives, a negative one included, and leaves it out when absent or null', () => {
    const parsed = parseBackupList(
      [
        line({ last_log_seq: 2032 }),
        line({ id: 'b', last_log_seq: -4 }),
        line({ id: 'c' }),
        line({ id: 'd', last_log_seq: null }),
      ].join('\n'),
    );
    if (!parsed.ok) throw new Error(parsed.problem);
    expect(parsed.backups.map((b) => [b.id, b.lastLogSeq])).toEqual([
      ['nightly-0307', 2032],
      ['b', -4],
      ['c', undefined],
      ['d', undefined],
    ]);
  });

  it('refuses a position that is not a whole number, naming the line and the field', () => {
    expect(parseBackupList(`${line()}\n${line({ id: 'b', last_log_seq: 1.5 })}`)).toEqual({
      ok: false,
      line: 2,
      problem: 'last_log_seq must be a whole number',
    });
    expect(parseBackupList(line({ last_log_seq: '12' }))).toEqual({
      ok: false,
      line: 1,
      problem: 'last_log_seq must be a number',
    });
  });
});
