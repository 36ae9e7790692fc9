import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The machine's shared Postgres; tests never stop it, they only create and drop their own databases. */
export const ADMIN_URL = process.env.TEST_PG_ADMIN_URL ?? 'postgres://root@127.0.0.1:5432/postgres';

export interface TempDatabase {
  readonly name: string;
  readonly url: string;
  drop(): Promise<void>;
}

/** Creates a database of its own for one test file, so files can run in parallel on one server. */
export async function createTempDatabase(prefix = 'dgtest'): Promise<TempDatabase> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: ADMIN_URL });
      await c.connect();
      try {
        // A pool's end() resolves before its connections have closed. Terminating one of them mid-close reaches its
        // client as an error nobody listens to any more, so the drop first lets the closing ones go (up to 2 s);
        // FORCE then ends whatever a test left open.
        const deadline = Date.now() + 2000;
        while (Date.now() < deadline) {
          const open = await c.query<{ n: number }>(
            'SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1',
            [name],
          );
          if (open.rows[0]?.n === 0) break;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}
