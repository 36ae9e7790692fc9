import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type InjectedFault,
  injectBrokenOrdering,
  injectCursorAhead,
  injectEventAfterFinish,
  injectHashDrift,
  injectMisplacedTraceStart,
  injectOpenFailures,
  injectOrphanRun,
  truncateEventLogTail,
} from '../../../sim/db/faults.js';
import { applySchema, type SeedResult, seedHistory } from '../../../sim/db/seed.js';
import {
  checkCursorAheadOfTail,
  checkEventsAfterFinish,
  checkOpenFailures,
  checkOpenRuns,
  checkPayloadHashDrift,
  checkRestoreParity,
  checkTraceSeqContinuity,
  checkTraceSeqOrdering,
  checkTraceStartMismatch,
  compareParity,
  type IntegrityScanResult,
  runIntegrityChecks,
  runIntegrityScan,
  takeParitySnapshot,
} from '../../../src/executors/dg-sql/index.js';
import { createTempDatabase, type TempDatabase } from '../../helpers/pg.js';

// One tenant per fault, so each check must report exactly its own injector's rows and nothing else.
const TENANTS = ['default', 'acme', 'globex', 'initech', 'umbrella'];

let db: TempDatabase;
let pool: pg.Pool;
let seed: SeedResult;

beforeAll(async () => {
  db = await createTempDatabase('dgsqlchk');
  pool = new pg.Pool({ connectionString: db.url, max: 3 });
  await applySchema(pool);
  seed = await seedHistory(pool, { tenants: TENANTS, tracesPerTenant: 80, seed: 7 });
});

afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

describe('on a clean seeded history', () => {
  it('the seed is realistic: interleaved tenants, 3-12 events per trace, exceptions and approvals', async () => {
    expect(seed.eventCount).toBeGreaterThan(5 * 80 * 3);
    const shape = await pool.query<{ min: number; max: number; types: number; tenants_in_first_100: number }>(
      `SELECT (SELECT MIN(n) FROM (SELECT COUNT(*) n FROM dg_event_log GROUP BY tenant_id, trace_id) a)::int AS min,
              (SELECT MAX(n) FROM (SELECT COUNT(*) n FROM dg_event_log GROUP BY tenant_id, trace_id) a)::int AS max,
              (SELECT COUNT(DISTINCT event_type) FROM dg_event_log)::int AS types,
              (SELECT COUNT(DISTINCT tenant_id) FROM (SELECT tenant_id FROM dg_event_log ORDER BY log_seq LIMIT 100) f)::int
                AS tenants_in_first_100`,
    );
    expect(shape.rows[0]).toEqual({ min: 3, max: 12, types: 10, tenants_in_first_100: 5 });
    const known = await pool.query<{ event_type: string }>(
      `SELECT event_type FROM dg_event_log WHERE tenant_id = 'default' AND trace_id = $1 ORDER BY trace_seq`,
      [seed.knownTraceId],
    );
    expect(known.rows[0]?.event_type).toBe('TraceStarted');
    expect(known.rows.at(-1)?.event_type).toBe('TraceFinished');
    const wf = await pool.query(
      `SELECT 1 FROM dg_event_log WHERE tenant_id = 'default' AND trace_id = $1 AND event_type = 'ExceptionRequested'`,
      [seed.knownWorkflowTraceId],
    );
    expect(wf.rowCount).toBe(1);
  });

  it('the same seed gives the same rows', async () => {
    const other = await createTempDatabase('dgsqlchk');
    const otherPool = new pg.Pool({ connectionString: other.url, max: 1 });
    try {
      await applySchema(otherPool);
      await seedHistory(otherPool, { tenants: TENANTS, tracesPerTenant: 80, seed: 7 });
      const digest = (p: pg.Pool) =>
        p.query<{ d: string }>(
          `SELECT md5(string_agg(event_id || payload_hash || recorded_at, ',' ORDER BY log_seq)) AS d FROM dg_event_log`,
        );
      expect((await digest(otherPool)).rows[0]?.d).toBe((await digest(pool)).rows[0]?.d);
    } finally {
      await otherPool.end();
      await other.drop();
    }
  });

  it('every check finds nothing, single-query and chunked alike', async () => {
    const single = await runIntegrityChecks(pool, { activeReplayJobs: 0 });
    const chunked = await runIntegrityScan(pool, { chunkSize: 500, activeReplayJobs: 0 });
    for (const result of [single, chunked]) {
      expect(result.failed).toEqual([]);
      expect(result.ok).toBe(true);
      expect(result.scanned).toBe(seed.eventCount);
    }
    expect(chunked.parity.tenants).toEqual(single.parity.tenants);
    expect(chunked.chunks).toBe(Math.ceil(seed.eventCount / 500));
  });
});

describe('each check finds exactly what its injector injected', () => {
  const faults: Record<string, InjectedFault> = {};
  let paritySource: Awaited<ReturnType<typeof takeParitySnapshot>>;
  let single: IntegrityScanResult;
  let chunked: IntegrityScanResult;

  beforeAll(async () => {
    paritySource = await takeParitySnapshot(pool);
    faults.drift = await injectHashDrift(pool, { tenantId: 'default', count: 3 });
    const spare = await pool.query<{ log_seq: number }>(
      `SELECT log_seq::float8 AS log_seq FROM dg_event_log WHERE tenant_id = 'default' AND NOT (log_seq = ANY($1::int8[]))
       ORDER BY log_seq LIMIT 1 OFFSET 10`,
      [faults.drift.logSeqs],
    );
    faults.reserialized = await injectHashDrift(pool, {
      tenantId: 'default',
      variant: 'reserialize',
      logSeqs: [spare.rows[0]?.log_seq as number],
    });
    faults.ordering = await injectBrokenOrdering(pool, { tenantId: 'acme' });
    faults.start = await injectMisplacedTraceStart(pool, { tenantId: 'globex' });
    faults.afterFinish = await injectEventAfterFinish(pool, { tenantId: 'initech' });
    faults.cursor = await injectCursorAhead(pool, { tenantId: 'umbrella', by: 25 });
    faults.failures = await injectOpenFailures(pool, { tenantId: 'default', count: 4 });
    faults.orphan = await injectOrphanRun(pool, { tenantId: 'acme' });
    faults.truncated = await truncateEventLogTail(pool, { tenantId: 'umbrella', count: 5 });
    single = await runIntegrityChecks(pool, { activeReplayJobs: 0, cap: 100 });
    chunked = await runIntegrityScan(pool, { chunkSize: 97, activeReplayJobs: 0, cap: 100 });
  });

  it('payload-hash drift: the rewritten events, tampered and merely re-serialised', async () => {
    const drift = await checkPayloadHashDrift(pool);
    const expected = [...(faults.drift?.logSeqs ?? []), ...(faults.reserialized?.logSeqs ?? [])].sort((a, b) => a - b);
    expect(drift.rows.map((r) => r.logSeq)).toEqual(expected);
    expect(drift.totalCount).toBe(4);
    expect(drift.check).toBe('payload_hash_drift');
    expect(drift.sqlName).toMatch(/^dg_sql\./);
    for (const row of drift.rows) expect(row.recomputed).not.toBe(row.payloadHash);
    expect(drift.rows.filter((r) => faults.drift?.eventIds.includes(r.eventId)).map((r) => r.payloadHash)).toEqual(
      faults.drift?.detail?.storedHashes,
    );
  });

  it('broken ordering: the event after the gap, and its trace fails continuity', async () => {
    const fault = faults.ordering as InjectedFault;
    const deleted = fault.detail?.deleted as { traceSeq: number };
    const ordering = await checkTraceSeqOrdering(pool);
    expect(ordering.rows).toEqual([
      {
        tenantId: 'acme',
        traceId: fault.traceIds[0],
        logSeq: fault.logSeqs[0],
        eventId: fault.eventIds[0],
        traceSeq: deleted.traceSeq + 1,
        previousTraceSeq: deleted.traceSeq - 1,
      },
    ]);
    const continuity = await checkTraceSeqContinuity(pool);
    expect(continuity.rows).toEqual([
      {
        tenantId: 'acme',
        traceId: fault.traceIds[0],
        eventCount: fault.detail?.eventCountAfter,
        minTraceSeq: 0,
        maxTraceSeq: fault.detail?.maxTraceSeq,
      },
    ]);
  });

  it('trace_seq 0 without TraceStarted: the changed event', async () => {
    const fault = faults.start as InjectedFault;
    const start = await checkTraceStartMismatch(pool);
    expect(start.rows).toEqual([
      {
        tenantId: 'globex',
        traceId: fault.traceIds[0],
        logSeq: fault.logSeqs[0],
        eventId: fault.eventIds[0],
        traceSeq: 0,
        eventType: 'InputObserved',
      },
    ]);
  });

  it('an event after TraceFinished: the appended event', async () => {
    const fault = faults.afterFinish as InjectedFault;
    const after = await checkEventsAfterFinish(pool);
    expect(after.rows).toEqual([
      {
        tenantId: 'initech',
        traceId: fault.traceIds[0],
        logSeq: fault.logSeqs[0],
        eventId: fault.eventIds[0],
        eventType: 'ActionCommitted',
        finishedLogSeq: fault.detail?.finishedLogSeq,
      },
    ]);
  });

  it('cursor ahead of the tail: all three cursors of the tenant, with the tail they passed', async () => {
    const fault = faults.cursor as InjectedFault;
    const cursors = await checkCursorAheadOfTail(pool);
    // The tail moved back by the truncation injected afterwards.
    const tail = (faults.truncated?.detail?.after as { tailLogSeq: number } | undefined)?.tailLogSeq;
    expect(cursors.rows).toEqual(
      ['context_graph', 'precedent_index', 'trace_summary'].map((projectionName) => ({
        tenantId: 'umbrella',
        projectionName,
        lastLogSeq: fault.detail?.cursor,
        tailLogSeq: tail,
      })),
    );
  });

  it('open failures grouped per tenant, projection, error and event', async () => {
    const fault = faults.failures as InjectedFault;
    const failures = await checkOpenFailures(pool, { tenantId: 'default' });
    expect(failures.openRows).toBe(4);
    expect(
      failures.rows.map((g) => ({
        projectionName: g.projectionName,
        errorCode: g.errorCode,
        eventId: g.eventId,
        logSeq: g.logSeq,
        count: g.count,
      })),
    ).toEqual(
      [...((fault.detail?.groups ?? []) as { projectionName: string }[])].sort((a, b) =>
        a.projectionName.localeCompare(b.projectionName),
      ),
    );
    expect((await checkOpenFailures(pool, { tenantId: 'acme' })).ok).toBe(true);
  });

  it('an orphaned run when the coordinator holds no job; only stuck ones when it holds some', async () => {
    const fault = faults.orphan as InjectedFault;
    const orphaned = await checkOpenRuns(pool, { activeReplayJobs: 0 });
    expect(orphaned.rows.map((r) => [r.jobId, r.tenantId, r.status, r.orphaned, r.stuck])).toEqual([
      [fault.detail?.jobId, 'acme', 'running', true, false],
    ]);
    const live = await checkOpenRuns(pool, { activeReplayJobs: 1 });
    expect(live.ok).toBe(true);
    expect(live.openRuns).toBe(1);
    expect(live.unaccounted).toBe(0);
    const stuck = await checkOpenRuns(pool, { activeReplayJobs: 1, stuckAfterMs: 60_000 });
    expect(stuck.rows.map((r) => [r.jobId, r.orphaned, r.stuck])).toEqual([[fault.detail?.jobId, false, true]]);
    const unknown = await checkOpenRuns(pool, {});
    expect(unknown.unaccounted).toBeNull();
  });

  it('restore parity: the truncated tenant differs in count and tail, the others match', async () => {
    const fault = faults.truncated as InjectedFault;
    const before = fault.detail?.before as { eventCount: number; tailLogSeq: number };
    const after = fault.detail?.after as { eventCount: number; tailLogSeq: number };
    // Other tenants also changed on purpose (appended, deleted events): compare only the truncated one.
    const parity = await checkRestoreParity(pool, paritySource, { tenantId: 'umbrella' });
    expect(parity.rows).toEqual([
      { tenantId: 'umbrella', field: 'eventCount', expected: before.eventCount, actual: after.eventCount },
      { tenantId: 'umbrella', field: 'tailLogSeq', expected: before.tailLogSeq, actual: after.tailLogSeq },
    ]);
    const now = await takeParitySnapshot(pool);
    expect(compareParity(now, now)).toEqual([]);
    expect(compareParity(now, { ...now, tenants: now.tenants.filter((t) => t.tenantId !== 'acme') })).toEqual([
      {
        tenantId: 'acme',
        field: 'tenant',
        expected: now.tenants.find((t) => t.tenantId === 'acme')?.eventCount,
        actual: null,
      },
    ]);
  });

  it('the full scan reports the same findings chunked and single-query, in runbook order', () => {
    expect(single.failed).toEqual([
      'payload_hash_drift',
      'trace_seq_continuity',
      'trace_seq_ordering',
      'trace_start_mismatch',
      'event_after_finish',
      'cursor_ahead_of_tail',
      'open_failures',
      'stuck_or_orphaned_runs',
    ]);
    expect(chunked.failed).toEqual(single.failed);
    const strip = (r: IntegrityScanResult) =>
      Object.fromEntries(Object.entries(r.checks).map(([k, v]) => [k, { rows: v.rows, totalCount: v.totalCount }]));
    expect(strip(chunked)).toEqual(strip(single));
    expect(chunked.parity.tenants).toEqual(single.parity.tenants);
  });
});
