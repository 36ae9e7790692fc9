import { describe, expect, it } from 'vitest';
import { parsePreservedCopy } from '../../../../src/executors/host-actions/index.js';

describe('the copy preserve_database names', () => {
  it('is the last JSON line of a command that logs before it', () => {
    const stdout = [
      'pg_dump: dumping contents of table "public.dg_event_log"',
      '{"id":"broken-run-1","path":"/backups/broken-run-1.dump"}',
      '',
    ].join('\n');
    expect(parsePreservedCopy(stdout)).toEqual({ id: 'broken-run-1', path: '/backups/broken-run-1.dump' });
  });

  it('is read under `backup` in a webhook answer, as the simulator answers', () => {
    const body =
      '{"ok":true,"action":"preserve_database","backup":{"id":"decisiongraph-1-3","path":"postgres:/db/bk_3"}}';
    expect(parsePreservedCopy(body)).toEqual({ id: 'decisiongraph-1-3', path: 'postgres:/db/bk_3' });
  });

  it('keeps a path alone, and leaves out a value that could not name an artifact', () => {
    expect(parsePreservedCopy('{"path":"/backups/x.dump"}')).toEqual({ path: '/backups/x.dump' });
    expect(parsePreservedCopy('{"id":"-rf","path":"/backups/x.dump"}')).toEqual({ path: '/backups/x.dump' });
    expect(parsePreservedCopy('{"id":"has space"}')).toBeUndefined();
  });

  it('is undefined when nothing names the copy', () => {
    expect(parsePreservedCopy('')).toBeUndefined();
    expect(parsePreservedCopy('dump written\n{"ok":true}\n{not json')).toBeUndefined();
    expect(parsePreservedCopy('[{"id":"a"}]')).toBeUndefined();
  });
});
