import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { applySchema } from '../../sim/db/seed.js';
import { ADMIN_URL, createTempDatabase, type TempDatabase } from './pg.js';

/**
 * A database with DecisionGraph's tables and two login roles for the probes: `reader` may only SELECT, `writer`
 * may also INSERT into `dg_event_log`. Roles are cluster-wide, so their names are random and `close()` drops them.
 */
export interface ProbeRolesDatabase {
  readonly db: TempDatabase;
  readonly reader: string;
  readonly writer: string;
  /** The database's URL as `role` (trust authentication on the test server: no password). */
  urlAs(role: string): string;
  close(): Promise<void>;
}

async function asAdmin(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export async function createProbeRolesDatabase(prefix: string): Promise<ProbeRolesDatabase> {
  const db = await createTempDatabase(prefix);
  const suffix = randomBytes(4).toString('hex');
  const reader = `${prefix}_reader_${suffix}`;
  const writer = `${prefix}_writer_${suffix}`;
  const pool = new pg.Pool({ connectionString: db.url, max: 1 });
  try {
    await applySchema(pool);
  } finally {
    await pool.end();
  }
  const grants = (role: string) =>
    `CREATE ROLE ${role} LOGIN; GRANT CONNECT ON DATABASE ${db.name} TO ${role}; ` +
    `GRANT USAGE ON SCHEMA public TO ${role}; GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${role}`;
  await asAdmin(db.url, `${grants(reader)}; ${grants(writer)}; GRANT INSERT ON dg_event_log TO ${writer}`);
  return {
    db,
    reader,
    writer,
    urlAs(role) {
      const url = new URL(db.url);
      url.username = role;
      return url.toString();
    },
    async close() {
      await db.drop();
      // Dropping the database removed every grant inside it; the roles themselves are cluster-wide.
      await asAdmin(ADMIN_URL, `DROP ROLE IF EXISTS ${reader}; DROP ROLE IF EXISTS ${writer}`);
    },
  };
}
