import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool as createSimPool } from '../../sim/db/database.js';
import { createProbePool } from '../../src/executors/dg-sql/pool.js';
import type { ConnectionError } from '../../src/pg-connection-errors.js';
import { createJournalPool } from '../../src/store/journal-pool.js';
import { ADMIN_URL, createTempDatabase, type TempDatabase } from '../helpers/pg.js';

// A connection killed while a client is checked out (a transaction in progress) must fail that transaction and be
// reported, not crash the process: pg signals it as an 'error' event on the client, which nobody hears by default.

let db: TempDatabase;

beforeAll(async () => {
  db = await createTempDatabase('dgpgerr');
});

afterAll(async () => {
  await db?.drop();
});

/** Terminates the session and waits until it is gone, so its goodbye reaches the client before anything else. */
async function terminate(pid: number): Promise<void> {
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  try {
    await admin.query('SELECT pg_terminate_backend($1)', [pid]);
    await expect
      .poll(async () => (await admin.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid])).rowCount)
      .toBe(0);
  } finally {
    await admin.end();
  }
}

async function killCheckedOutClient(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  await client.query('BEGIN');
  const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  await terminate(rows[0]?.pid ?? -1);
  await expect(client.query('SELECT 1')).rejects.toThrow();
  client.release(true);
}

const pools: Array<[string, (report: (err: ConnectionError) => void) => pg.Pool]> = [
  [
    'the probe pool',
    (report) =>
      createProbePool({
        connectionString: db.url,
        logger: { warn: (fields: { code?: string }) => report(Object.assign(new Error('lost'), fields)) } as never,
      }),
  ],
  [
    'the journal pool',
    (report) =>
      createJournalPool({
        connectionString: db.url,
        logger: { warn: (fields: { code?: string }) => report(Object.assign(new Error('lost'), fields)) } as never,
      }),
  ],
];

describe.each(pools)('%s', (_name, make) => {
  it('reports a connection terminated mid-transaction once, fails that transaction, and serves the next query', async () => {
    const reports: ConnectionError[] = [];
    const pool = make((err) => reports.push(err));
    try {
      await killCheckedOutClient(pool);
      await expect.poll(() => reports.length).toBe(1);
      expect(reports[0]?.code).toBe('57P01');
      const { rows } = await pool.query<{ ok: number }>('SELECT 1 AS ok');
      expect(rows[0]?.ok).toBe(1);
      // The socket closing after the server's message is the same loss, not a second one.
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(reports).toHaveLength(1);
    } finally {
      await pool.end();
    }
  });
});

describe("the simulator's pool", () => {
  it('survives its database being taken away mid-transaction, as the postgres-down fault does', async () => {
    const pool = createSimPool(db.url, 2);
    try {
      await killCheckedOutClient(pool);
      const { rows } = await pool.query<{ ok: number }>('SELECT 1 AS ok');
      expect(rows[0]?.ok).toBe(1);
    } finally {
      await pool.end();
    }
  });
});
