import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { injectEventAfterFinish, injectHashDrift, injectMisplacedTraceStart } from '../../../sim/db/faults.js';
import { applySchema, seedHistory } from '../../../sim/db/seed.js';
import {
  type IntegrityScanResult,
  runIntegrityChecks,
  runIntegrityScan,
  type ScanProgress,
} from '../../../src/executors/dg-sql/index.js';
import { createProbePool } from '../../../src/executors/dg-sql/pool.js';
import { withReadOnly } from '../../../src/executors/dg-sql/read-only.js';
import { withSnapshotHelper } from '../../../src/executors/dg-sql/snapshot-helper.js';
import { createTempDatabase, type TempDatabase } from '../../helpers/pg.js';

let db: TempDatabase;
let pool: pg.Pool;
let tail: number;
let expectedAfterFinish: number;

interface Ev {
  log_seq: number;
  trace_id: string;
  trace_seq: number;
}

async function traceEvents(tenant: string, minEvents: number, skip: number): Promise<Ev[]> {
  const trace = await pool.query<{ trace_id: string }>(
    `SELECT trace_id FROM dg_event_log WHERE tenant_id = $1 GROUP BY trace_id HAVING COUNT(*) >= $2
     ORDER BY MIN(log_seq) LIMIT 1 OFFSET $3`,
    [tenant, minEvents, skip],
  );
  const rows = await pool.query<Ev>(
    `SELECT log_seq::float8 AS log_seq, trace_id, trace_seq FROM dg_event_log
     WHERE tenant_id = $1 AND trace_id = $2 ORDER BY log_seq`,
    [tenant, trace.rows[0]?.trace_id],
  );
  return rows.rows;
}

// Several faults in one trace, faults at both ends of the log, and faults whose evidence lies in an earlier
// chunk: with chunk sizes down to 1, every predecessor lookup crosses a chunk boundary.
beforeAll(async () => {
  db = await createTempDatabase('dgsqlscan');
  pool = new pg.Pool({ connectionString: db.url, max: 3 });
  await applySchema(pool);
  await seedHistory(pool, { tenants: ['default', 'acme'], tracesPerTenant: 25, seed: 99 });
  const ends = await pool.query<{ first: number; last: number }>(
    `SELECT MIN(log_seq)::float8 AS first, MAX(log_seq)::float8 AS last FROM dg_event_log WHERE tenant_id = 'default'`,
  );
  await injectHashDrift(pool, { tenantId: 'default', logSeqs: [ends.rows[0]?.first as number] });
  await injectHashDrift(pool, { tenantId: 'default', logSeqs: [ends.rows[0]?.last as number], variant: 'reserialize' });

  // Two gaps in one trace: two ordering rows, one continuity row.
  const twoGaps = await traceEvents('default', 7, 0);
  await pool.query('DELETE FROM dg_event_log WHERE log_seq = ANY($1::int8[])', [
    [twoGaps[2]?.log_seq, twoGaps[5]?.log_seq],
  ]);
  // Two events swap trace_seq: ordering breaks, continuity holds.
  const swapped = await traceEvents('default', 5, 1);
  const [a, b] = [swapped[2] as Ev, swapped[3] as Ev];
  await pool.query('UPDATE dg_event_log SET trace_seq = 1000000 WHERE log_seq = $1', [a.log_seq]);
  await pool.query('UPDATE dg_event_log SET trace_seq = $2 WHERE log_seq = $1', [b.log_seq, a.trace_seq]);
  await pool.query('UPDATE dg_event_log SET trace_seq = $2 WHERE log_seq = $1', [a.log_seq, b.trace_seq]);
  // A trace that lost its TraceStarted: continuity only (its new first event has no predecessor).
  const headless = await traceEvents('acme', 4, 2);
  await pool.query('DELETE FROM dg_event_log WHERE log_seq = $1', [headless[0]?.log_seq]);
  // A middle event turned into TraceFinished: every later event of the trace is "after finish".
  const early = await traceEvents('acme', 6, 3);
  await pool.query(`UPDATE dg_event_log SET event_type = 'TraceFinished' WHERE log_seq = $1`, [early[2]?.log_seq]);
  expectedAfterFinish = early.length - 3 + 1;
  await injectMisplacedTraceStart(pool, { tenantId: 'acme', variant: 'started-later' });
  await injectEventAfterFinish(pool, { tenantId: 'default' });

  const t = await pool.query<{ tail: number }>('SELECT MAX(log_seq)::float8 AS tail FROM dg_event_log');
  tail = t.rows[0]?.tail as number;
});

afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

function comparable(result: IntegrityScanResult) {
  return Object.fromEntries(
    Object.entries(result.checks).map(([name, check]) => {
      const rows = [...check.rows] as Record<string, unknown>[];
      // Continuity rows come in scan order from the chunked scan and in trace order from the single query.
      if (name === 'traceSeqContinuity')
        rows.sort((x, y) => `${x.tenantId}/${x.traceId}`.localeCompare(`${y.tenantId}/${y.traceId}`));
      return [name, { rows, totalCount: check.totalCount }];
    }),
  );
}

describe('chunked integrity scan', () => {
  it('finds the planted faults in the single-query reference', async () => {
    const single = await runIntegrityChecks(pool, { cap: 1000 });
    expect(single.checks.payloadHashDrift.totalCount).toBe(2);
    expect(single.checks.traceSeqOrdering.totalCount).toBe(2 + 3);
    expect(single.checks.traceSeqContinuity.totalCount).toBe(2);
    expect(single.checks.traceStartMismatch.totalCount).toBe(1);
    expect(single.checks.eventAfterFinish.totalCount).toBe(expectedAfterFinish);
  });

  it.each([1, 2, 3, 5, 8, 13, 34, 89, 1000])('equals the single-query result with chunks of %i', async (chunkSize) => {
    const single = await runIntegrityChecks(pool, { cap: 1000 });
    const chunked = await runIntegrityScan(pool, { chunkSize, cap: 1000 });
    expect(comparable(chunked)).toEqual(comparable(single));
    expect(chunked.parity.tenants).toEqual(single.parity.tenants);
    expect(chunked.scanned).toBe(single.scanned);
  });

  it.each([1, 7, 1000])(
    'equals the single-query result with every payload hashed on its own connection, chunks of %i',
    async (chunkSize) => {
      const single = await runIntegrityChecks(pool, { cap: 1000 });
      const chunked = await runIntegrityScan(pool, { chunkSize, cap: 1000, hashOnHelper: false });
      expect(comparable(chunked)).toEqual(comparable(single));
      expect(chunked.scanned).toBe(single.scanned);
    },
  );

  it('scans with its helper connection from a pool of one, and closes the helper after', async () => {
    const one = createProbePool({ connectionString: db.url, max: 1, applicationName: 'dg-scan-pool-of-one' });
    try {
      const single = await runIntegrityChecks(pool, { cap: 1000 });
      const chunked = await runIntegrityScan(one, { chunkSize: 9, cap: 1000 });
      expect(comparable(chunked)).toEqual(comparable(single));
      await expect
        .poll(async () => {
          const open = await pool.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'dg-scan-pool-of-one'`,
          );
          return open.rows[0]?.n;
        })
        .toBeLessThanOrEqual(1);
    } finally {
      await one.end();
    }
  });

  it('hashes in the scan snapshot: a payload rewritten after the scan began is read as it was', async () => {
    const target = await pool.query<{ log_seq: number; payload_json: string }>(
      'SELECT log_seq::float8 AS log_seq, payload_json FROM dg_event_log ORDER BY log_seq DESC LIMIT 1 OFFSET 3',
    );
    const { log_seq: logSeq, payload_json: before } = target.rows[0] as { log_seq: number; payload_json: string };
    const read = 'SELECT payload_json FROM dg_event_log WHERE log_seq = $1';
    try {
      const seen = await withReadOnly(pool, { snapshot: true }, async (s) => {
        await s.query('test.first_read', read, [logSeq]); // the snapshot is taken here
        await pool.query('UPDATE dg_event_log SET payload_json = $2 WHERE log_seq = $1', [logSeq, '{"rewritten":1}']);
        return withSnapshotHelper(pool, s, async (helper) => {
          if (!helper) throw new Error('no helper connection');
          return (await helper.query<{ payload_json: string }>('test.helper_read', read, [logSeq])).rows[0];
        });
      });
      expect(seen?.payload_json).toBe(before);
    } finally {
      await pool.query('UPDATE dg_event_log SET payload_json = $2 WHERE log_seq = $1', [logSeq, before]);
    }
  });

  it('equals the single-query result for one tenant', async () => {
    for (const tenantId of ['default', 'acme']) {
      const single = await runIntegrityChecks(pool, { tenantId, cap: 1000 });
      const chunked = await runIntegrityScan(pool, { tenantId, chunkSize: 4, cap: 1000 });
      expect(comparable(chunked)).toEqual(comparable(single));
      expect(chunked.parity.tenants.map((t) => t.tenantId)).toEqual([tenantId]);
    }
  });

  it('keeps the first rows up to the cap and still counts them all', async () => {
    const single = await runIntegrityChecks(pool, { cap: 1000 });
    const capped = await runIntegrityScan(pool, { chunkSize: 3, cap: 2 });
    const ordering = capped.checks.traceSeqOrdering;
    expect(ordering.rows).toEqual(single.checks.traceSeqOrdering.rows.slice(0, 2));
    expect(ordering.totalCount).toBe(single.checks.traceSeqOrdering.totalCount);
    expect(ordering.truncated).toBe(true);
  });

  it('reports progress after each chunk up to the tail', async () => {
    const seen: ScanProgress[] = [];
    const result = await runIntegrityScan(pool, { chunkSize: 100, onProgress: (p) => seen.push({ ...p }) });
    expect(seen).toHaveLength(result.chunks);
    expect(seen.map((p) => p.scanned)).toEqual([...seen.map((p) => p.scanned)].sort((x, y) => x - y));
    const lastSeen = seen.at(-1) as ScanProgress;
    expect(lastSeen.scanned).toBe(lastSeen.total);
    expect(lastSeen.lastLogSeq).toBe(tail);
  });

  it('stops between chunks when aborted', async () => {
    const controller = new AbortController();
    const seen: number[] = [];
    const scan = runIntegrityScan(pool, {
      chunkSize: 50,
      signal: controller.signal,
      onProgress: (p) => {
        seen.push(p.chunks);
        controller.abort();
      },
    });
    await expect(scan).rejects.toMatchObject({ name: 'AbortError' });
    expect(seen).toEqual([1]);
  });
});
