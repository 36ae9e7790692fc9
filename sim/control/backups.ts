import type pg from 'pg';
import { inTransaction, quoteIdent } from '../db/database.js';
import { SIM_TABLES } from '../db/tables.js';
import type { SimClock } from '../util/clock.js';
import { rfc3339 } from '../util/time.js';

/** One line of `GET /host/backups`. */
export interface BackupRecord {
  id: string;
  path: string;
  created_at: string;
  size_bytes: number;
  label: string;
  /** The highest log_seq in the backup's event log (0 when empty). */
  last_log_seq: number;
}

interface StoredBackup extends BackupRecord {
  schema: string;
  logSeqValue: number;
  logSeqCalled: boolean;
}

/**
 * Backups of DecisionGraph's database kept on the same Postgres server, one schema per backup (`dgsim_bk_<n>`),
 * so taking and restoring one is real SQL work a parity check can observe. The list is host state: it survives
 * node restarts.
 */
export class BackupStore {
  private readonly backups: StoredBackup[] = [];
  private seq = 0;

  constructor(
    private readonly pool: pg.Pool,
    private readonly databaseName: string,
    private readonly clock: SimClock,
  ) {}

  list(): BackupRecord[] {
    return this.backups.map(({ id, path, created_at, size_bytes, label, last_log_seq }) => ({
      id,
      path,
      created_at,
      size_bytes,
      label,
      last_log_seq,
    }));
  }

  find(artifact: string): StoredBackup | undefined {
    return this.backups.find((b) => b.id === artifact || b.path === artifact);
  }

  /** The schema a backup's tables live in (`<schema>.dg_event_log`, …), for tests and parity checks. */
  schemaOf(artifact: string): string | undefined {
    return this.find(artifact)?.schema;
  }

  /** Takes a backup stamped `at` (epoch ms). @defaultValue the clock's now */
  async create(label: string, at: number = this.clock.now()): Promise<BackupRecord> {
    this.seq += 1;
    const schema = `dgsim_bk_${this.seq}`;
    const createdAt = rfc3339(at);
    const stamp = createdAt.replace(/[-:]/g, '').replace(/\..*$/, '').replace('Z', '');
    const id = `decisiongraph-${stamp}-${this.seq}`;
    const sequence = await inTransaction(this.pool, async (client) => {
      await client.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ');
      await client.query(`CREATE SCHEMA ${quoteIdent(schema)}`);
      // Every DecisionGraph table: a backup is the whole database, as `pg_dump` of it would be.
      for (const table of SIM_TABLES) {
        await client.query(`CREATE TABLE ${quoteIdent(schema)}.${table} AS TABLE public.${table}`);
      }
      const s = await client.query<{ last_value: number; is_called: boolean }>(
        'SELECT last_value, is_called FROM dg_event_log_log_seq_seq',
      );
      const tail = await client.query<{ tail: number }>(
        `SELECT COALESCE(MAX(log_seq), 0)::float8 AS tail FROM ${quoteIdent(schema)}.dg_event_log`,
      );
      return { ...(s.rows[0] ?? { last_value: 1, is_called: false }), tail: tail.rows[0]?.tail ?? 0 };
    });
    const size = await this.pool.query<{ bytes: number }>(
      `SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0)::bigint AS bytes
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relkind = 'r'`,
      [schema],
    );
    const backup: StoredBackup = {
      id,
      path: `postgres:/${this.databaseName}/${schema}`,
      created_at: createdAt,
      size_bytes: size.rows[0]?.bytes ?? 0,
      label,
      schema,
      last_log_seq: sequence.tail,
      logSeqValue: sequence.last_value,
      logSeqCalled: sequence.is_called,
    };
    this.backups.push(backup);
    return this.list().at(-1) as BackupRecord;
  }

  /**
   * `pg_restore --clean` of a backup: every DecisionGraph table is replaced by the backup's rows and the log_seq
   * sequence goes back to its value at backup time. Triggers are bypassed as a restore's COPY would.
   */
  async restore(artifact: string): Promise<BackupRecord | null> {
    const backup = this.find(artifact);
    if (!backup) return null;
    await inTransaction(this.pool, async (client) => {
      await client.query('SET LOCAL session_replication_role = replica');
      await client.query(`TRUNCATE ${SIM_TABLES.map((t) => `public.${t}`).join(', ')}`);
      for (const table of SIM_TABLES) {
        await client.query(`INSERT INTO public.${table} SELECT * FROM ${quoteIdent(backup.schema)}.${table}`);
      }
      await client.query('SELECT setval($1::regclass, $2, $3)', [
        'dg_event_log_log_seq_seq',
        backup.logSeqValue,
        backup.logSeqCalled,
      ]);
    });
    const { schema: _s, logSeqValue: _v, logSeqCalled: _c, ...record } = backup;
    return record;
  }

  /**
   * Copies rows of the event log back from a backup by log_seq (undoing an injected event-log fault), into the live
   * database or, with `into`, into another backup's copy.
   */
  async restoreEvents(artifact: string, logSeqs: number[], into?: string): Promise<number> {
    const backup = this.find(artifact);
    const target = into === undefined ? 'public' : this.find(into)?.schema;
    if (!backup || target === undefined || logSeqs.length === 0) return 0;
    const table = `${quoteIdent(target)}.dg_event_log`;
    return inTransaction(this.pool, async (client) => {
      await client.query('SET LOCAL session_replication_role = replica');
      await client.query(`DELETE FROM ${table} WHERE log_seq = ANY($1::bigint[])`, [logSeqs]);
      const r = await client.query(
        `INSERT INTO ${table} SELECT * FROM ${quoteIdent(backup.schema)}.dg_event_log WHERE log_seq = ANY($1::bigint[])`,
        [logSeqs],
      );
      return r.rowCount ?? 0;
    });
  }

  async dropAll(): Promise<void> {
    for (const b of this.backups) {
      await this.pool.query(`DROP SCHEMA IF EXISTS ${quoteIdent(b.schema)} CASCADE`).catch(() => undefined);
    }
  }
}
