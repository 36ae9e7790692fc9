import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/errors.js';
import { createJournal, type Journal } from '../../../src/store/journal.js';
import { createJournalPool } from '../../../src/store/journal-pool.js';
import { JOURNAL_MIGRATIONS, type Migration, migrateJournal } from '../../../src/store/migrations.js';
import { createTempDatabase, type TempDatabase } from '../../helpers/pg.js';
import { makeEvents } from '../run-log/fixtures.js';

let db: TempDatabase;
let journal: Journal;

beforeAll(async () => {
  db = await createTempDatabase('dgjournal');
  journal = createJournal({ connectionString: db.url });
});

afterAll(async () => {
  await journal?.close();
  await db?.drop();
});

async function rejection(promise: Promise<unknown>): Promise<{ code?: string } & Record<string, unknown>> {
  try {
    await promise;
  } catch (error) {
    return error as { code?: string } & Record<string, unknown>;
  }
  throw new Error('expected a rejection');
}

describe('migrations', () => {
  it('creates the schema once and applies nothing the second time', async () => {
    const pool = createJournalPool({ connectionString: db.url });
    try {
      const first = await migrateJournal(pool, { schema: 'mig_twice' });
      const second = await migrateJournal(pool, { schema: 'mig_twice' });
      expect(first.applied).toEqual(JOURNAL_MIGRATIONS.map((m) => m.version));
      expect(second).toEqual({ applied: [], current: first.current });
      const rows = await pool.query('SELECT version FROM mig_twice.schema_migrations ORDER BY version');
      expect(rows.rows.map((r) => r.version)).toEqual(JOURNAL_MIGRATIONS.map((m) => m.version));
      const tables = await pool.query(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'mig_twice' ORDER BY table_name",
      );
      expect(tables.rows.map((r) => r.table_name)).toEqual([
        'run_events',
        'runs',
        'schema_migrations',
        'slack_messages',
        'summary_files',
      ]);
    } finally {
      await pool.end();
    }
  });

  it('lets several processes start at once: each migration is applied exactly once', async () => {
    // Separate pools are separate sessions, as two bot processes starting together would be.
    const pools = Array.from({ length: 4 }, () => createJournalPool({ connectionString: db.url }));
    try {
      const results = await Promise.all(pools.map((p) => migrateJournal(p, { schema: 'mig_race' })));
      const appliedBy = results.filter((r) => r.applied.length > 0);
      expect(appliedBy).toHaveLength(1);
      expect(results.every((r) => r.current === Math.max(...JOURNAL_MIGRATIONS.map((m) => m.version)))).toBe(true);
      const rows = await (pools[0] as pg.Pool).query('SELECT count(*)::int AS n FROM mig_race.schema_migrations');
      expect(rows.rows[0].n).toBe(JOURNAL_MIGRATIONS.length);
    } finally {
      await Promise.all(pools.map((p) => p.end()));
    }
  });

  it('applies a later migration in order and rolls back a failing one completely', async () => {
    const pool = createJournalPool({ connectionString: db.url });
    try {
      await migrateJournal(pool, { schema: 'mig_more' });
      const next = Math.max(...JOURNAL_MIGRATIONS.map((m) => m.version)) + 1;
      const good: Migration = {
        version: next,
        name: 'add note',
        sql: (s) => `ALTER TABLE ${s}.runs ADD COLUMN note text`,
      };
      const bad: Migration = {
        version: next + 1,
        name: 'broken',
        sql: (s) => `ALTER TABLE ${s}.runs ADD COLUMN other text; SELECT no_such_function()`,
      };
      const failed = await rejection(
        migrateJournal(pool, { schema: 'mig_more', migrations: [...JOURNAL_MIGRATIONS, good, bad] }),
      );
      expect(failed.code).toBe(ErrorCode.JournalMigrationFailed);
      expect(failed.version).toBe(next + 1);
      const cols = await pool.query(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'mig_more' AND table_name = 'runs'",
      );
      const names = cols.rows.map((r) => r.column_name);
      expect(names).not.toContain('note');
      expect(names).not.toContain('other');

      const ok = await migrateJournal(pool, { schema: 'mig_more', migrations: [...JOURNAL_MIGRATIONS, good] });
      expect(ok).toEqual({ applied: [next], current: next });
    } finally {
      await pool.end();
    }
  });
});

describe('appendJournal', () => {
  it('journals events idempotently and folds the run row from them', async () => {
    const runId = 'run-idem';
    const events = makeEvents(runId, 1, 4);
    events[0] = { ...events[0], scenario: 'restart', tenantId: 't1', startedBy: 'U012ABC' } as (typeof events)[0];
    expect(await journal.appendJournal(events.slice(0, 3))).toEqual([{ runId, appended: 3, lastSeq: 3 }]);
    // Overlapping redelivery: 2 and 3 again, 4 new.
    expect(await journal.appendJournal(events.slice(1))).toEqual([{ runId, appended: 1, lastSeq: 4 }]);
    expect(await journal.appendJournal(events)).toEqual([{ runId, appended: 0, lastSeq: 4 }]);

    const loaded = await journal.loadRun(runId);
    expect(loaded?.events).toEqual(events);
    expect(loaded?.run).toMatchObject({
      runId,
      scenario: 'restart',
      tenantId: 't1',
      startedBy: 'U012ABC',
      status: 'running',
      startedAt: events[0]?.at,
      finishedAt: null,
      outcome: null,
      summaryMd: null,
      lastSeq: 4,
    });
  });

  it('reports a different body for a journaled seq and writes nothing of that batch', async () => {
    const runId = 'run-conflict';
    await journal.appendJournal(makeEvents(runId, 1, 2));
    const changed = makeEvents(runId, 2, 2);
    changed[0] = { ...changed[0], step: 'something else' } as (typeof changed)[0];
    const error = await rejection(journal.appendJournal(changed));
    expect(error.code).toBe(ErrorCode.JournalConflict);
    expect(error).toMatchObject({ runId, seq: 2 });
    expect(await journal.lastSeq(runId)).toBe(2);
    expect((await journal.loadRun(runId))?.events).toEqual(makeEvents(runId, 1, 2));
  });

  it('refuses a hole in the sequence', async () => {
    const runId = 'run-gap';
    await journal.appendJournal(makeEvents(runId, 1, 2));
    const error = await rejection(journal.appendJournal(makeEvents(runId, 4, 1)));
    expect(error.code).toBe(ErrorCode.JournalGap);
    expect(error).toMatchObject({ runId, expectedSeq: 3, actualSeq: 4 });
    const fresh = await rejection(journal.appendJournal(makeEvents('run-gap-new', 2, 1)));
    expect(fresh.code).toBe(ErrorCode.JournalGap);
    expect(await journal.getRun('run-gap-new')).toBeUndefined();
  });

  it('refuses malformed envelopes without echoing their payload', async () => {
    const bad = [{ runId: 'run-bad', seq: 1, type: 'run_started', at: 'yesterday', secret: 'hunter2' }];
    const error = await rejection(journal.appendJournal(bad));
    expect(error.code).toBe(ErrorCode.RunEventInvalid);
    expect(String(error.message)).toContain('at must be an ISO 8601 instant');
    expect(String(error.message)).not.toContain('hunter2');
    const nul = await rejection(
      journal.appendJournal([{ ...makeEvents('run-bad', 1, 1)[0], note: 'a\u0000b' }] as never),
    );
    expect(nul.code).toBe(ErrorCode.RunEventInvalid);
  });

  it('journals a batch spanning several runs in one transaction', async () => {
    const batch = [...makeEvents('run-multi-b', 1, 2), ...makeEvents('run-multi-a', 1, 3)].reverse();
    const results = await journal.appendJournal(batch);
    expect(results).toEqual([
      { runId: 'run-multi-a', appended: 3, lastSeq: 3 },
      { runId: 'run-multi-b', appended: 2, lastSeq: 2 },
    ]);
    // One run's conflict rolls back the other's new events too.
    const mixed = [...makeEvents('run-multi-a', 4, 1), { ...makeEvents('run-multi-b', 2, 1)[0], step: 'changed' }];
    expect((await rejection(journal.appendJournal(mixed as never))).code).toBe(ErrorCode.JournalConflict);
    expect(await journal.lastSeq('run-multi-a')).toBe(3);
  });
});

describe('run status and queries', () => {
  it('follows run_finished and run_aborted, and lists runs by status', async () => {
    const db2 = await createTempDatabase('dgjournal');
    const j = createJournal({ connectionString: db2.url });
    try {
      const start = (runId: string, minute: number) => ({
        runId,
        seq: 1,
        type: 'run_started',
        at: new Date(Date.UTC(2026, 1, 1, 10, minute)).toISOString(),
        scenario: 'restart',
        tenantId: 'default',
        startedBy: { id: 'U1', name: 'dana', via: 'slack' },
      });
      await j.appendJournal([start('a', 1), start('b', 2), start('c', 3)]);
      await j.appendJournal([
        { runId: 'a', seq: 2, type: 'run_finished', at: '2026-02-01T10:30:00.000Z', outcome: 'recovered' },
        { runId: 'b', seq: 2, type: 'run_aborted', at: '2026-02-01T10:31:00.000Z', reason: 'wrong channel' },
      ]);
      expect(await j.getRun('a')).toMatchObject({
        status: 'finished',
        outcome: 'recovered',
        finishedAt: '2026-02-01T10:30:00.000Z',
        startedBy: 'U1',
      });
      expect(await j.getRun('b')).toMatchObject({ status: 'aborted', outcome: 'aborted' });
      expect((await j.listUnfinishedRuns()).map((r) => r.runId)).toEqual(['c']);
      expect((await j.listRuns()).map((r) => r.runId)).toEqual(['c', 'b', 'a']);
      expect((await j.listRuns({ limit: 2 })).map((r) => r.runId)).toEqual(['c', 'b']);
      expect((await j.listRuns({ status: 'finished' })).map((r) => r.runId)).toEqual(['a']);
      expect(await j.setRunSummary('a', '# Incident\nrecovered')).toBe(true);
      expect(await j.setRunSummary('nope', 'x')).toBe(false);
      expect((await j.getRun('a'))?.summaryMd).toBe('# Incident\nrecovered');
      expect(await j.loadRun('nope')).toBeUndefined();
    } finally {
      await j.close();
      await db2.drop();
    }
  });
});

describe('failures', () => {
  it('turns a statement timeout into a typed error instead of hanging the writer', async () => {
    const runId = 'run-locked';
    const slow = createJournal({ connectionString: db.url, statementTimeoutMs: 300 });
    const holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    try {
      await slow.migrate();
      // Another session holds the run's journal lock, as a stuck writer would.
      await holder.query('BEGIN');
      await holder.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`dg-recovery/run/${runId}`]);
      const started = Date.now();
      const error = await rejection(slow.appendJournal(makeEvents(runId, 1, 1)));
      expect(error.code).toBe(ErrorCode.JournalTimeout);
      expect(Date.now() - started).toBeLessThan(5000);
      await holder.query('ROLLBACK');
      expect(await slow.appendJournal(makeEvents(runId, 1, 1))).toEqual([{ runId, appended: 1, lastSeq: 1 }]);
    } finally {
      await holder.end();
      await slow.close();
    }
  });

  it('migrates again when the schema is lost after its first migration, e.g. a restore from an older backup', async () => {
    const lossy = createJournal({ connectionString: db.url, schema: 'journal_lost' });
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    try {
      await lossy.appendJournal(makeEvents('before', 1, 2));
      await admin.query('DROP SCHEMA journal_lost CASCADE');
      // The live log still holds the run: its copy starts again from the journal's (now empty) tail.
      expect(await lossy.lastSeq('before')).toBe(0);
      expect(await lossy.appendJournal(makeEvents('before', 1, 3))).toEqual([
        { runId: 'before', appended: 3, lastSeq: 3 },
      ]);
      await admin.query('DROP SCHEMA journal_lost CASCADE');
      expect(await lossy.appendJournal(makeEvents('after', 1, 1))).toEqual([
        { runId: 'after', appended: 1, lastSeq: 1 },
      ]);
      expect((await lossy.loadRun('after'))?.events).toEqual(makeEvents('after', 1, 1));

      // A table lost while the migration record survives cannot be repaired by migrating: one retry, then the error.
      await admin.query('DROP TABLE journal_lost.run_events');
      const error = await rejection(lossy.appendJournal(makeEvents('after', 2, 1)));
      expect([error.code, error.sqlState]).toEqual([ErrorCode.JournalQueryFailed, '42P01']);
    } finally {
      await admin.end();
      await lossy.close();
    }
  });

  it('reports an unreachable database as unavailable, and works once it can connect', async () => {
    const down = createJournal({ connectionString: 'postgres://root@127.0.0.1:1/nothing', connectTimeoutMs: 1000 });
    try {
      const error = await rejection(down.listRuns());
      expect(error.code).toBe(ErrorCode.JournalUnavailable);
      expect((await rejection(down.migrate())).code).toBe(ErrorCode.JournalUnavailable);
    } finally {
      await down.close();
    }
  });
});
