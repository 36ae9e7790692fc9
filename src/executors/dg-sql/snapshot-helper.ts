import pg from 'pg';
import { ReadOnlySession } from './read-only.js';

/**
 * A second read-only connection in the same snapshot as `session` (`pg_export_snapshot`), so a scan can have
 * Postgres work on two backends at once (docs/internals.md#integrity-scan). Null when one cannot be had (no free
 * connection slot, a standby that cannot export): the caller then does all its work on `session`.
 */
export async function withSnapshotHelper<T>(
  pool: pg.Pool,
  session: ReadOnlySession,
  fn: (helper: ReadOnlySession | null) => Promise<T>,
): Promise<T> {
  const snapshot = await exportSnapshot(session);
  const client = snapshot ? await joinSnapshot(pool, session, snapshot) : null;
  if (!client) return fn(null);
  try {
    return await fn(new ReadOnlySession(client, session.target, session.timeoutMs));
  } finally {
    // Read-only either way; ending the connection also ends its transaction.
    await client.end().catch(() => undefined);
  }
}

/** The snapshot's id, or null on a standby (which may not export one: an error there would abort `session`). */
async function exportSnapshot(session: ReadOnlySession): Promise<string | null> {
  const result = await session.query<{ id: string | null }>(
    'dg_sql.snapshot_helper.export',
    'SELECT CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_export_snapshot() END AS id',
  );
  return result.rows[0]?.id ?? null;
}

/** A new connection with the pool's settings inside the exported snapshot, or null if it could not join. */
async function joinSnapshot(pool: pg.Pool, session: ReadOnlySession, snapshot: string): Promise<pg.Client | null> {
  const client = new pg.Client(pool.options);
  // A connection dying later surfaces as the failure of its query; this only keeps it from crashing the process.
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    // SET TRANSACTION takes no bind parameters and must come first; the id comes from the server, checked here.
    if (!/^[0-9A-F]+-[0-9A-F]+-[0-9]+$/i.test(snapshot)) throw new Error('unexpected snapshot id');
    await client.query(`SET TRANSACTION SNAPSHOT '${snapshot}'`);
    await client.query('SELECT set_config($1, $2, true)', ['statement_timeout', String(session.timeoutMs)]);
    return client;
  } catch {
    await client.end().catch(() => undefined);
    return null;
  }
}
