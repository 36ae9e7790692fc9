import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { injectOrphanRun } from '../../../sim/db/faults.js';
import { applySchema, seedHistory } from '../../../sim/db/seed.js';
import { ErrorCode, UnsafeDatabaseRoleError } from '../../../src/errors.js';
import {
  assertReadOnlyRole,
  checkCursorAheadOfTail,
  checkEventsAfterFinish,
  checkOpenFailures,
  checkOpenRuns,
  checkPayloadHashDrift,
  checkRestoreParity,
  checkTraceSeqContinuity,
  checkTraceSeqOrdering,
  checkTraceStartMismatch,
  createProbePool,
  inspectRole,
  probeConnectivity,
  runIntegrityChecks,
  runIntegrityScan,
  SqlQueryFailedError,
  SqlTimeoutError,
  SqlUnreachableError,
  takeParitySnapshot,
  withReadOnly,
} from '../../../src/executors/dg-sql/index.js';
import { ADMIN_URL, createTempDatabase, type TempDatabase } from '../../helpers/pg.js';

// Roles are cluster-wide: random names, dropped after the file.
const suffix = randomBytes(4).toString('hex');
const READER = `dgro_reader_${suffix}`;
const WRITER = `dgro_writer_${suffix}`;
const WRITER_GROUP = `dgro_wgroup_${suffix}`;
const MEMBER = `dgro_member_${suffix}`;

let db: TempDatabase;
let admin: pg.Pool;
const pools: pg.Pool[] = [];

function urlAs(role: string, database = db.name): string {
  const url = new URL(ADMIN_URL);
  url.username = role;
  url.pathname = `/${database}`;
  return url.toString();
}

function probePool(connectionString: string, extra: Partial<Parameters<typeof createProbePool>[0]> = {}): pg.Pool {
  const pool = createProbePool({ connectionString, connectTimeoutMs: 2000, ...extra });
  pools.push(pool);
  return pool;
}

beforeAll(async () => {
  db = await createTempDatabase('dgsqlrole');
  admin = new pg.Pool({ connectionString: db.url, max: 2 });
  await applySchema(admin);
  await seedHistory(admin, { tenants: ['default', 'acme'], tracesPerTenant: 20 });
  await injectOrphanRun(admin, { tenantId: 'default' });
  await admin.query(`CREATE ROLE ${READER} LOGIN`);
  await admin.query(`CREATE ROLE ${WRITER} LOGIN`);
  await admin.query(`CREATE ROLE ${WRITER_GROUP} NOLOGIN`);
  await admin.query(`CREATE ROLE ${MEMBER} LOGIN NOINHERIT IN ROLE ${WRITER_GROUP}`);
  for (const role of [READER, WRITER, MEMBER]) {
    await admin.query(`GRANT CONNECT ON DATABASE ${db.name} TO ${role}`);
    await admin.query(`GRANT USAGE ON SCHEMA public TO ${role}`);
    await admin.query(`GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${role}`);
  }
  await admin.query(`GRANT INSERT ON dg_event_log TO ${WRITER}`);
  await admin.query(`GRANT UPDATE ON dg_projection_runs TO ${WRITER}`);
  await admin.query(`GRANT INSERT, DELETE ON dg_workflow_actions TO ${WRITER_GROUP}`);
});

afterAll(async () => {
  await Promise.all(pools.map((p) => p.end().catch(() => undefined)));
  await admin?.end();
  await db?.drop();
  // Dropping the database removed every grant inside it; the roles themselves are cluster-wide.
  const c = new pg.Client({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    for (const role of [MEMBER, WRITER, WRITER_GROUP, READER]) await c.query(`DROP ROLE IF EXISTS ${role}`);
  } finally {
    await c.end();
  }
});

describe('role safety', () => {
  it('a SELECT-only role passes, and every probe works through it', async () => {
    const pool = probePool(urlAs(READER));
    const report = await assertReadOnlyRole(pool);
    expect(report).toMatchObject({
      role: READER,
      superuser: false,
      writable: [],
      unreadable: [],
      missing: [],
      safe: true,
    });

    const connectivity = await probeConnectivity(pool);
    expect(connectivity.user).toBe(READER);
    for (const check of [
      checkPayloadHashDrift,
      checkTraceSeqContinuity,
      checkTraceSeqOrdering,
      checkTraceStartMismatch,
      checkEventsAfterFinish,
      checkCursorAheadOfTail,
      checkOpenFailures,
    ]) {
      expect((await check(pool)).ok).toBe(true);
    }
    const runs = await checkOpenRuns(pool, { activeReplayJobs: 0 });
    expect(runs.totalCount).toBe(1);
    const snapshot = await takeParitySnapshot(pool);
    expect((await checkRestoreParity(pool, snapshot)).ok).toBe(true);
    const scan = await runIntegrityScan(pool, { chunkSize: 100, activeReplayJobs: 0 });
    const single = await runIntegrityChecks(pool, { activeReplayJobs: 0 });
    expect(scan.failed).toEqual(['stuck_or_orphaned_runs']);
    expect(single.failed).toEqual(scan.failed);
    expect(scan.parity.tenants).toEqual(snapshot.tenants);
  });

  it('a role with INSERT on dg_event_log is refused, naming the event log first', async () => {
    const pool = probePool(urlAs(WRITER));
    const err = await assertReadOnlyRole(pool).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnsafeDatabaseRoleError);
    expect(err).toMatchObject({
      code: ErrorCode.UnsafeDatabaseRole,
      role: WRITER,
      writableTables: ['dg_event_log', 'dg_projection_runs'],
    });
    const report = await inspectRole(pool);
    expect(report.writable).toEqual([
      { table: 'dg_event_log', privileges: ['INSERT'], viaRole: WRITER },
      { table: 'dg_projection_runs', privileges: ['UPDATE'], viaRole: WRITER },
    ]);
  });

  it('a role that can SET ROLE to a writer is refused even without inheriting', async () => {
    const pool = probePool(urlAs(MEMBER));
    const report = await inspectRole(pool);
    expect(report.safe).toBe(false);
    expect(report.writable).toEqual([
      { table: 'dg_workflow_actions', privileges: ['INSERT', 'DELETE'], viaRole: WRITER_GROUP },
    ]);
    await expect(assertReadOnlyRole(pool)).rejects.toMatchObject({ code: ErrorCode.UnsafeDatabaseRole });
  });

  it('a superuser is refused', async () => {
    const pool = probePool(db.url);
    const err = await assertReadOnlyRole(pool).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ErrorCode.UnsafeDatabaseRole, writableTables: ['every table (superuser)'] });
  });
});

describe('probe transactions and errors', () => {
  it('the connectivity probe reports server, database, user and round trip', async () => {
    const result = await probeConnectivity(probePool(urlAs(READER)));
    expect(result).toMatchObject({ check: 'connectivity', database: db.name, user: READER, inRecovery: false });
    expect(result.serverVersionNum).toBeGreaterThanOrEqual(110000);
    expect(result.serverVersion).toMatch(/^\d+/);
    expect(result.roundTripMs).toBeGreaterThanOrEqual(0);
    const server = new URL(ADMIN_URL);
    expect(result.target).toBe(`${server.hostname}:${server.port || '5432'}/${db.name} as ${READER}`);
  });

  it('probes run read-only: even a superuser cannot write through them, and nothing stays open', async () => {
    const pool = probePool(db.url, { max: 1 });
    const err = await withReadOnly(pool, {}, (s) =>
      s.query('test.write', `DELETE FROM dg_projection_runs WHERE tenant_id = 'default'`),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SqlQueryFailedError);
    expect(err).toMatchObject({ code: ErrorCode.SqlQueryFailed, sqlState: '25006', sqlName: 'test.write' });
    const left = await admin.query(`SELECT COUNT(*)::int AS n FROM dg_projection_runs`);
    expect(left.rows[0]?.n).toBe(1);
    // The one connection went back to the pool outside any transaction.
    const state = await withReadOnly(pool, {}, (s) =>
      s.query<{ application_name: string }>(
        'test.app',
        `SELECT current_setting('application_name') AS application_name`,
      ),
    );
    expect(state.rows[0]?.application_name).toBe('dg-recovery');
  });

  it('a closed port is DG_ERR_SQL_UNREACHABLE without the password in the message', async () => {
    const port = await new Promise<number>((resolve) => {
      const server = createServer();
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
      });
    });
    const pool = probePool(`postgres://reader:s3cret-pw@127.0.0.1:${port}/dg`);
    const err = await probeConnectivity(pool).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SqlUnreachableError);
    expect(err).toMatchObject({ code: ErrorCode.SqlUnreachable, target: `127.0.0.1:${port}/dg as reader` });
    expect((err as Error).message).toContain('connection refused');
    expect((err as Error).message).not.toContain('s3cret-pw');
  });

  it('an unknown role or database is DG_ERR_SQL_UNREACHABLE', async () => {
    const noRole = await probeConnectivity(probePool(urlAs(`dgro_nobody_${suffix}`))).catch((e: unknown) => e);
    expect(noRole).toMatchObject({ code: ErrorCode.SqlUnreachable });
    expect((noRole as Error).message).toContain('authentication failed');
    const noDb = await probeConnectivity(probePool(urlAs(READER, `${db.name}_missing`))).catch((e: unknown) => e);
    expect(noDb).toMatchObject({ code: ErrorCode.SqlUnreachable });
    expect((noDb as Error).message).toContain('database does not exist');
  });

  it('a statement past its timeout is DG_ERR_SQL_TIMEOUT, and the pool keeps working', async () => {
    const pool = probePool(urlAs(READER), { max: 1 });
    const started = Date.now();
    const err = await withReadOnly(pool, { timeoutMs: 50 }, (s) => s.query('test.sleep', 'SELECT pg_sleep(5)')).catch(
      (e: unknown) => e,
    );
    expect(Date.now() - started).toBeLessThan(3000);
    expect(err).toBeInstanceOf(SqlTimeoutError);
    expect(err).toMatchObject({ code: ErrorCode.SqlTimeout, sqlName: 'test.sleep', timeoutMs: 50 });
    expect((await probeConnectivity(pool)).user).toBe(READER);
  });

  it('a scan chunk past its timeout is DG_ERR_SQL_TIMEOUT', async () => {
    const pool = probePool(urlAs(READER));
    const locker = await admin.connect();
    try {
      // An ACCESS EXCLUSIVE lock makes the scan wait until its statement timeout cancels it.
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE dg_event_log IN ACCESS EXCLUSIVE MODE');
      await expect(runIntegrityScan(pool, { chunkTimeoutMs: 100 })).rejects.toMatchObject({
        code: ErrorCode.SqlTimeout,
        sqlName: 'dg_sql.integrity_scan.count.v1',
      });
    } finally {
      await locker.query('ROLLBACK');
      locker.release();
    }
  });

  it('a failing query is DG_ERR_SQL_QUERY_FAILED with its SQLSTATE', async () => {
    const pool = probePool(urlAs(READER));
    const err = await withReadOnly(pool, {}, (s) => s.query('test.missing', 'SELECT * FROM dg_no_such_table')).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: ErrorCode.SqlQueryFailed, sqlState: '42P01', sqlName: 'test.missing' });
  });
});
