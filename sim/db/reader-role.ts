import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * The statements that make `role` a read-only reader of `database`: privileges by default too, so tables the
 * simulator creates later (restores) stay readable.
 */
export function readerRoleGrants(role: string, database: string): string[] {
  return [
    `GRANT CONNECT ON DATABASE "${database.replace(/"/g, '""')}" TO ${role}`,
    `GRANT USAGE ON SCHEMA public TO ${role}`,
    `GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${role}`,
    `ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO ${role}`,
  ];
}

export interface ReaderRole {
  readonly role: string;
  /** `databaseUrl` as that role (no password: the local server trusts loopback). */
  readonly url: string;
  /** Drops the role; call once the database (and every grant in it) is gone. */
  drop(): Promise<void>;
}

/** A SELECT-only login role on a simulator's database, as an installation gives the bot. */
export async function createReaderRole(databaseUrl: string, prefix = 'dgsim_reader'): Promise<ReaderRole> {
  const role = `${prefix}_${randomBytes(4).toString('hex')}`;
  const database = decodeURIComponent(new URL(databaseUrl).pathname.slice(1));
  const admin = new pg.Client({ connectionString: databaseUrl });
  // A lost connection fails the statements below; the client's own 'error' event would only crash the process.
  admin.on('error', () => undefined);
  await admin.connect();
  try {
    await admin.query(`CREATE ROLE ${role} LOGIN`);
    for (const statement of readerRoleGrants(role, database)) await admin.query(statement);
  } finally {
    await admin.end();
  }
  const url = new URL(databaseUrl);
  url.username = role;
  url.password = '';
  return {
    role,
    url: url.toString(),
    async drop() {
      const maintenance = new URL(databaseUrl);
      maintenance.pathname = '/postgres';
      const c = new pg.Client({ connectionString: maintenance.toString() });
      c.on('error', () => undefined);
      await c.connect();
      try {
        await c.query(`DROP ROLE IF EXISTS ${role}`);
      } finally {
        await c.end();
      }
    },
  };
}
