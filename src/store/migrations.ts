import type pg from 'pg';
import { isTransientJournalError, JournalMigrationError, toJournalError } from './journal-errors.js';

export interface Migration {
  /** Applied in ascending order; never renumber or edit one that has shipped, add a new one. */
  readonly version: number;
  readonly name: string;
  /** The SQL, given the quoted schema name to qualify every object with. */
  readonly sql: (schema: string) => string;
}

/**
 * The journal schema. `runs` is a projection of `run_events` kept in the same transaction; `last_seq` lets the
 * writer continue where the journal stops without scanning, and `journaled_at` records when each event arrived,
 * which shows how far the write-behind lagged (for example across a Postgres outage).
 */
export const JOURNAL_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'runs and run_events',
    sql: (s) => `
      CREATE TABLE ${s}.runs (
        run_id      text PRIMARY KEY,
        scenario    text,
        tenant_id   text,
        status      text NOT NULL CHECK (status IN ('running', 'finished', 'aborted')),
        started_by  text,
        started_at  timestamptz NOT NULL,
        finished_at timestamptz,
        outcome     text,
        summary_md  text,
        last_seq    integer NOT NULL DEFAULT 0,
        updated_at  timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX runs_started_at_idx ON ${s}.runs (started_at DESC, run_id);
      CREATE INDEX runs_status_started_at_idx ON ${s}.runs (status, started_at DESC, run_id);
      CREATE TABLE ${s}.run_events (
        run_id       text NOT NULL REFERENCES ${s}.runs (run_id) ON DELETE CASCADE,
        seq          integer NOT NULL CHECK (seq > 0),
        type         text NOT NULL,
        at           timestamptz NOT NULL,
        body         jsonb NOT NULL,
        journaled_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        PRIMARY KEY (run_id, seq)
      );`,
  },
  {
    // What Slack shows of each run, so that a Redis loss neither posts a thread again nor shares a file twice. No
    // foreign key: a message may be delivered before the write-behind has journaled its run.
    version: 2,
    name: 'slack delivery records',
    sql: (s) => `
      CREATE TABLE ${s}.slack_messages (
        run_id       text NOT NULL,
        key          text NOT NULL,
        ts           text NOT NULL,
        channel      text NOT NULL,
        thread_ts    text,
        content_hash text NOT NULL,
        updated_at   timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (run_id, key)
      );
      CREATE TABLE ${s}.summary_files (
        run_id     text PRIMARY KEY,
        record     jsonb NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      );`,
  },
];

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export function quoteSchema(schema: string): string {
  if (!SCHEMA_NAME.test(schema)) {
    throw new JournalMigrationError(undefined, 'schema name must match [a-z_][a-z0-9_]*');
  }
  return `"${schema}"`;
}

export interface MigrateOptions {
  /** Postgres schema that holds the journal tables. @defaultValue `dg_recovery` */
  readonly schema?: string;
  /** @defaultValue {@link JOURNAL_MIGRATIONS} */
  readonly migrations?: readonly Migration[];
  /** How long one applier may wait for another and then run; applies inside the migration only. @defaultValue 60000 */
  readonly timeoutMs?: number;
}

export interface MigrateResult {
  /** Versions this call applied, in order; empty when the schema was already current. */
  readonly applied: readonly number[];
  /** Highest version recorded after the call. */
  readonly current: number;
}

/**
 * Brings the schema up to date in one transaction. The transaction-scoped advisory lock serialises appliers (two
 * processes starting together): the second waits, then finds every version recorded and applies nothing. A
 * failure rolls the whole call back, so a half-applied migration never stays behind.
 */
export async function migrateJournal(pool: pg.Pool, options: MigrateOptions = {}): Promise<MigrateResult> {
  const schemaName = options.schema ?? 'dg_recovery';
  const s = quoteSchema(schemaName);
  const migrations = [...(options.migrations ?? JOURNAL_MIGRATIONS)].sort((a, b) => a.version - b.version);
  const timeoutMs = Math.max(1, Math.trunc(options.timeoutMs ?? 60_000));
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (error) {
    throw toJournalError(error);
  }
  let version: number | undefined;
  let broken: unknown;
  try {
    await client.query('BEGIN');
    await client.query(`SET LOCAL statement_timeout = ${timeoutMs}`);
    await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [
      `dg-recovery/migrations/${schemaName}`,
    ]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${s}.schema_migrations (
         version integer PRIMARY KEY,
         name text NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
    const done = await client.query<{ version: number }>(`SELECT version FROM ${s}.schema_migrations`);
    const known = new Set(done.rows.map((r) => r.version));
    const applied: number[] = [];
    for (const m of migrations) {
      if (known.has(m.version)) continue;
      version = m.version;
      await client.query(m.sql(s));
      await client.query(`INSERT INTO ${s}.schema_migrations (version, name) VALUES ($1, $2)`, [m.version, m.name]);
      applied.push(m.version);
    }
    version = undefined;
    await client.query('COMMIT');
    const current = Math.max(0, ...known, ...applied);
    return { applied, current };
  } catch (error) {
    broken = error;
    await client.query('ROLLBACK').catch(() => undefined);
    const typed = toJournalError(error);
    if (isTransientJournalError(typed)) throw typed;
    throw new JournalMigrationError(version, typed.message, { cause: error });
  } finally {
    client.release(broken instanceof Error ? broken : undefined);
  }
}
