import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../../src/errors.js';
import { TraceBloom } from '../../../../src/executors/dg-sql/integrity-scan.js';
import { compareParity } from '../../../../src/executors/dg-sql/parity.js';
import { describeConnection } from '../../../../src/executors/dg-sql/pool.js';
import { toSqlError } from '../../../../src/executors/dg-sql/sql-errors.js';

const ctx = { target: '127.0.0.1:5432/dg as reader', sqlName: 'dg_sql.test', timeoutMs: 100 };

describe('trace Bloom filter', () => {
  it('never forgets a trace it was given (so skipping a lookup is always safe)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.string(), fc.string()), { maxLength: 300 }), (keys) => {
        const bloom = new TraceBloom(16);
        for (const [tenant, trace] of keys) bloom.add(tenant, trace);
        return keys.every(([tenant, trace]) => bloom.mightContain(tenant, trace));
      }),
    );
  });

  it('tells tenant and trace apart and rarely answers "maybe" for unseen traces', () => {
    const bloom = new TraceBloom(20_000);
    for (let i = 0; i < 20_000; i++) bloom.add('default', `trace-${i}`);
    expect(bloom.mightContain('defaul', 't\u0000trace-1')).toBe(false);
    let falsePositives = 0;
    for (let i = 20_000; i < 40_000; i++) if (bloom.mightContain('default', `trace-${i}`)) falsePositives += 1;
    expect(falsePositives).toBeLessThan(200);
  });

  it('stays within its memory bound however many traces are expected', () => {
    expect(new TraceBloom(1e9).byteLength).toBeLessThanOrEqual(8 * 1024 * 1024);
  });
});

describe('probe errors', () => {
  it('maps connection, login, timeout and query failures to their codes', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    expect(toSqlError(refused, ctx).code).toBe(ErrorCode.SqlUnreachable);
    expect(toSqlError(Object.assign(new Error('password authentication failed'), { code: '28P01' }), ctx).code).toBe(
      ErrorCode.SqlUnreachable,
    );
    expect(toSqlError(new Error('timeout exceeded when trying to connect'), ctx).code).toBe(ErrorCode.SqlUnreachable);
    expect(toSqlError(new Error('Connection terminated unexpectedly'), ctx).code).toBe(ErrorCode.SqlUnreachable);
    const cancelled = toSqlError(Object.assign(new Error('canceling statement'), { code: '57014' }), ctx);
    expect(cancelled).toMatchObject({ code: ErrorCode.SqlTimeout, timeoutMs: 100 });
    const failed = toSqlError(Object.assign(new Error('relation does not exist'), { code: '42P01' }), ctx);
    expect(failed).toMatchObject({ code: ErrorCode.SqlQueryFailed, sqlState: '42P01' });
  });

  it('never repeats a password that appears in a driver message', () => {
    const err = new Error('could not connect to postgres://reader:hunter2@db:5432/dg');
    expect(toSqlError(err, ctx).message).not.toContain('hunter2');
  });

  it('describes a connection without its password', () => {
    expect(describeConnection('postgres://reader:hunter2@db.internal:6543/decisiongraph')).toBe(
      'db.internal:6543/decisiongraph as reader',
    );
  });
});

describe('restore parity comparison', () => {
  const source = [
    { tenantId: 'acme', eventCount: 10, tailLogSeq: 40 },
    { tenantId: 'default', eventCount: 30, tailLogSeq: 42 },
  ];

  it('is empty for equal snapshots and names every difference otherwise', () => {
    expect(compareParity(source, source)).toEqual([]);
    expect(
      compareParity(source, [
        { tenantId: 'default', eventCount: 28, tailLogSeq: 42 },
        { tenantId: 'globex', eventCount: 1, tailLogSeq: 43 },
      ]),
    ).toEqual([
      { tenantId: 'acme', field: 'tenant', expected: 10, actual: null },
      { tenantId: 'default', field: 'eventCount', expected: 30, actual: 28 },
      { tenantId: 'globex', field: 'tenant', expected: null, actual: 1 },
    ]);
  });

  it('can ignore tenants the expectation does not cover', () => {
    expect(compareParity([source[1] as (typeof source)[number]], source, { onlyExpectedTenants: true })).toEqual([]);
  });
});
