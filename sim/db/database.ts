import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { surviveConnectionLoss } from './connection-loss.js';

export const DEFAULT_ADMIN_URL = 'postgres://root@127.0.0.1:5432/postgres';

// BIGINT columns (log_seq, counts) stay far below 2^53, so the simulator reads them as numbers. The parser is set
// on the simulator's own pools, not globally, so other code in the same process keeps pg's defaults.
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === 20 && format !== 'binary') return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format);
  },
};

export function createPool(connectionString: string, max = 10): pg.Pool {
  const pool = new pg.Pool({
    connectionString,
    max,
    types: types as pg.CustomTypesConfig,
    connectionTimeoutMillis: 3000,
    idleTimeoutMillis: 10_000,
    application_name: 'decisiongraph-sim',
  });
  // A terminated backend (the postgres-down fault) surfaces as an error on its client, idle or mid-transaction; the
  // pool drops that client, and the next query fails or reconnects as Postgres allows.
  surviveConnectionLoss(pool);
  return pool;
}

export function databaseName(url: string): string {
  return decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
}

export function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(name)}`;
  return u.toString();
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export async function withAdmin<T>(adminUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl, application_name: 'decisiongraph-sim-admin' });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function createOwnDatabase(adminUrl: string): Promise<string> {
  const name = `dgsim_${randomBytes(6).toString('hex')}`;
  await withAdmin(adminUrl, (c) => c.query(`CREATE DATABASE ${quoteIdent(name)}`));
  return withDatabase(adminUrl, name);
}

export async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  await withAdmin(adminUrl, async (c) => {
    await c.query(`ALTER DATABASE ${quoteIdent(name)} ALLOW_CONNECTIONS true`).catch(() => undefined);
    await c.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
  });
}

/** Runs `fn` in one transaction on one pooled client; `readOnly` makes Postgres itself refuse writes. */
export async function inTransaction<T>(
  pool: pg.Pool,
  fn: (client: pg.PoolClient) => Promise<T>,
  options: { readOnly?: boolean } = {},
): Promise<T> {
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query(options.readOnly ? 'BEGIN READ ONLY' : 'BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {
      broken = true;
    });
    throw err;
  } finally {
    client.release(broken);
  }
}
