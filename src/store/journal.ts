import type pg from 'pg';
import { isDgError } from '../errors.js';
import type { Logger } from '../logger.js';
import { JournalConflictError, JournalGapError, JournalQueryError, toJournalError } from './journal-errors.js';
import { createJournalPool } from './journal-pool.js';
import { type MigrateResult, migrateJournal, quoteSchema } from './migrations.js';
import { assertRunBatch, type RunEventEnvelope, type StoredRunEvent } from './run-event.js';
import { foldRunRow, type JournalRun, type JournalRunStatus, type RunRowState } from './run-row.js';

export interface JournalOptions {
  /** The bot's own database (`DATABASE_URL`); the journal creates and ends its pool. Ignored when `pool` is given. */
  readonly connectionString?: string;
  /** A pool the caller owns (and ends); its own timeouts apply. @defaultValue a pool from `connectionString` */
  readonly pool?: pg.Pool;
  /** Postgres schema of the journal tables, kept apart from any other application's tables. @defaultValue `dg_recovery` */
  readonly schema?: string;
  /** @defaultValue 5000 */
  readonly statementTimeoutMs?: number;
  /** @defaultValue 3000 */
  readonly connectTimeoutMs?: number;
  readonly logger?: Logger;
}

export interface AppendJournalResult {
  readonly runId: string;
  /** Events this call added (the rest were already journaled with the same body). */
  readonly appended: number;
  readonly lastSeq: number;
}

export interface LoadedRun<E = StoredRunEvent> {
  readonly run: JournalRun;
  /** Every journaled event, in sequence order, as it was appended. */
  readonly events: E[];
}

export interface ListRunsOptions {
  /** @defaultValue 50 (at most 1000) */
  readonly limit?: number;
  /** @defaultValue every status */
  readonly status?: JournalRunStatus;
}

interface RunRowRecord {
  run_id: string;
  scenario: string | null;
  tenant_id: string | null;
  status: JournalRunStatus;
  started_by: string | null;
  started_at: Date;
  finished_at: Date | null;
  outcome: string | null;
  summary_md: string | null;
  last_seq: number;
  updated_at: Date;
}

const RUN_COLUMNS =
  'run_id, scenario, tenant_id, status, started_by, started_at, finished_at, outcome, summary_md, last_seq, updated_at';

function toRun(r: RunRowRecord): JournalRun {
  return {
    runId: r.run_id,
    scenario: r.scenario,
    tenantId: r.tenant_id,
    status: r.status,
    startedBy: r.started_by,
    startedAt: r.started_at.toISOString(),
    finishedAt: r.finished_at ? r.finished_at.toISOString() : null,
    outcome: r.outcome,
    summaryMd: r.summary_md,
    lastSeq: r.last_seq,
    updatedAt: r.updated_at.toISOString(),
  };
}

// undefined_table, invalid_schema_name: the journal's tables are gone although a migration ran in this process.
const SCHEMA_LOST_SQLSTATES: ReadonlySet<string> = new Set(['42P01', '3F000']);

function isSchemaLost(error: unknown): boolean {
  return (
    error instanceof JournalQueryError && error.sqlState !== undefined && SCHEMA_LOST_SQLSTATES.has(error.sqlState)
  );
}

/**
 * The durable journal of every run in the bot's own Postgres. The schema is migrated on first use (or by
 * `migrate()`) and again by the first call that finds it gone, so start-up does not depend on it
 * (docs/internals.md#journal).
 */
export class Journal {
  readonly schema: string;
  /** The schema as SQL names it. */
  readonly quotedSchema: string;
  private readonly s: string;
  private readonly pool: pg.Pool;
  private readonly ownsPool: boolean;
  private readonly logger: Logger | undefined;
  private migrated: Promise<MigrateResult> | undefined;

  constructor(options: JournalOptions) {
    this.schema = options.schema ?? 'dg_recovery';
    this.logger = options.logger;
    this.s = quoteSchema(this.schema);
    this.quotedSchema = this.s;
    if (options.pool) {
      this.pool = options.pool;
      this.ownsPool = false;
    } else {
      if (!options.connectionString) throw new TypeError('Journal needs a connectionString or a pool');
      this.pool = createJournalPool({
        connectionString: options.connectionString,
        statementTimeoutMs: options.statementTimeoutMs,
        connectTimeoutMs: options.connectTimeoutMs,
        logger: options.logger,
      });
      this.ownsPool = true;
    }
  }

  /** Applies pending migrations once; concurrent and repeated calls share the result. */
  migrate(): Promise<MigrateResult> {
    if (!this.migrated) {
      this.migrated = migrateJournal(this.pool, { schema: this.schema }).catch((error: unknown) => {
        this.migrated = undefined;
        throw error;
      });
    }
    return this.migrated;
  }

  /**
   * Journals events (any runs, any order inside the batch). Idempotent: an event already journaled with the same
   * body is skipped. Throws {@link JournalConflictError} when a journaled event has a different body, and
   * {@link JournalGapError} when a run's events do not follow its last journaled one; either way nothing of the
   * batch is written.
   */
  async appendJournal<E extends RunEventEnvelope>(events: readonly E[]): Promise<AppendJournalResult[]> {
    if (events.length === 0) return [];
    const byRun = new Map<string, E[]>();
    for (const e of events) {
      const list = byRun.get(e.runId) ?? [];
      list.push(e);
      byRun.set(e.runId, list);
    }
    for (const [runId, list] of byRun) {
      list.sort((a, b) => a.seq - b.seq);
      assertRunBatch(runId, list);
    }
    // A fixed lock order keeps two writers of overlapping batches from deadlocking.
    const runIds = [...byRun.keys()].sort();
    return this.transaction(async (c) => {
      const results: AppendJournalResult[] = [];
      for (const runId of runIds) {
        results.push(await this.appendRun(c, runId, byRun.get(runId) as unknown as StoredRunEvent[]));
      }
      return results;
    });
  }

  private async appendRun(c: pg.PoolClient, runId: string, events: StoredRunEvent[]): Promise<AppendJournalResult> {
    const s = this.s;
    await c.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`dg-recovery/run/${runId}`]);
    const prev = await c.query<RunRowRecord>(`SELECT ${RUN_COLUMNS} FROM ${s}.runs WHERE run_id = $1`, [runId]);
    const prevRow = prev.rows[0];
    const lastSeq = prevRow?.last_seq ?? 0;
    const known = events.filter((e) => e.seq <= lastSeq);
    const fresh = events.filter((e) => e.seq > lastSeq);
    if (known.length > 0) {
      const diff = await c.query<{ seq: number }>(
        `SELECT e.seq FROM jsonb_to_recordset($2::jsonb) AS e(seq integer, body jsonb)
           LEFT JOIN ${s}.run_events r ON r.run_id = $1 AND r.seq = e.seq
          WHERE r.body IS DISTINCT FROM e.body
          ORDER BY e.seq LIMIT 1`,
        [runId, JSON.stringify(known.map((e) => ({ seq: e.seq, body: e })))],
      );
      const first = diff.rows[0];
      if (first) throw new JournalConflictError(runId, first.seq);
    }
    const head = fresh[0];
    if (!head) return { runId, appended: 0, lastSeq };
    if (head.seq !== lastSeq + 1) throw new JournalGapError(runId, lastSeq + 1, head.seq);

    const previous: RunRowState | undefined = prevRow && {
      runId,
      scenario: prevRow.scenario,
      tenantId: prevRow.tenant_id,
      status: prevRow.status,
      startedBy: prevRow.started_by,
      startedAt: prevRow.started_at.toISOString(),
      finishedAt: prevRow.finished_at ? prevRow.finished_at.toISOString() : null,
      outcome: prevRow.outcome,
      lastSeq,
    };
    const row = foldRunRow(previous, fresh);
    await c.query(
      `INSERT INTO ${s}.runs (run_id, scenario, tenant_id, status, started_by, started_at, finished_at, outcome, last_seq)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (run_id) DO UPDATE SET
         scenario = EXCLUDED.scenario, tenant_id = EXCLUDED.tenant_id, status = EXCLUDED.status,
         started_by = EXCLUDED.started_by, started_at = EXCLUDED.started_at, finished_at = EXCLUDED.finished_at,
         outcome = EXCLUDED.outcome, last_seq = EXCLUDED.last_seq, updated_at = now()`,
      [
        runId,
        row.scenario,
        row.tenantId,
        row.status,
        row.startedBy,
        row.startedAt,
        row.finishedAt,
        row.outcome,
        row.lastSeq,
      ],
    );
    await c.query(
      `INSERT INTO ${s}.run_events (run_id, seq, type, at, body)
       SELECT $1, e.seq, e.type, e.at::timestamptz, e.body
         FROM jsonb_to_recordset($2::jsonb) AS e(seq integer, type text, at text, body jsonb)
        ORDER BY e.seq
       ON CONFLICT (run_id, seq) DO NOTHING`,
      [runId, JSON.stringify(fresh.map((e) => ({ seq: e.seq, type: e.type, at: e.at, body: e })))],
    );
    return { runId, appended: fresh.length, lastSeq: row.lastSeq };
  }

  /** The run's row and every journaled event in order, read from one snapshot; `undefined` for an unknown run. */
  async loadRun<E = StoredRunEvent>(runId: string): Promise<LoadedRun<E> | undefined> {
    return this.transaction(async (c) => {
      const run = await c.query<RunRowRecord>(`SELECT ${RUN_COLUMNS} FROM ${this.s}.runs WHERE run_id = $1`, [runId]);
      const row = run.rows[0];
      if (!row) return undefined;
      const events = await c.query<{ body: E }>(
        `SELECT body FROM ${this.s}.run_events WHERE run_id = $1 ORDER BY seq`,
        [runId],
      );
      return { run: toRun(row), events: events.rows.map((r) => r.body) };
    }, 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  }

  async getRun(runId: string): Promise<JournalRun | undefined> {
    const res = await this.query<RunRowRecord>(`SELECT ${RUN_COLUMNS} FROM ${this.s}.runs WHERE run_id = $1`, [runId]);
    const row = res.rows[0];
    return row ? toRun(row) : undefined;
  }

  /** Highest journaled sequence number of the run, 0 when the journal has none of it. */
  async lastSeq(runId: string): Promise<number> {
    const res = await this.query<{ last_seq: number }>(`SELECT last_seq FROM ${this.s}.runs WHERE run_id = $1`, [
      runId,
    ]);
    return res.rows[0]?.last_seq ?? 0;
  }

  /** Newest first. */
  async listRuns(options: ListRunsOptions = {}): Promise<JournalRun[]> {
    const limit = Math.min(1000, Math.max(1, Math.trunc(options.limit ?? 50)));
    const res = await this.query<RunRowRecord>(
      `SELECT ${RUN_COLUMNS} FROM ${this.s}.runs WHERE ($1::text IS NULL OR status = $1)
        ORDER BY started_at DESC, run_id LIMIT $2`,
      [options.status ?? null, limit],
    );
    return res.rows.map(toRun);
  }

  /** Runs with neither `run_finished` nor `run_aborted` journaled, oldest first. */
  async listUnfinishedRuns(): Promise<JournalRun[]> {
    const res = await this.query<RunRowRecord>(
      `SELECT ${RUN_COLUMNS} FROM ${this.s}.runs WHERE status = 'running' ORDER BY started_at, run_id`,
    );
    return res.rows.map(toRun);
  }

  /** Stores the run's incident summary; false when the journal does not know the run (yet). */
  async setRunSummary(runId: string, markdown: string): Promise<boolean> {
    const res = await this.query(`UPDATE ${this.s}.runs SET summary_md = $2, updated_at = now() WHERE run_id = $1`, [
      runId,
      markdown,
    ]);
    return (res.rowCount ?? 0) > 0;
  }

  /** Ends the pool when the journal created it. */
  async close(): Promise<void> {
    if (this.ownsPool) await this.pool.end();
  }

  /** One statement on the migrated schema (qualify tables with {@link quotedSchema}); errors are journal errors. */
  async query<R extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<pg.QueryResult<R>> {
    return this.withClient((c) => c.query<R>(sql, params));
  }

  private async transaction<T>(fn: (c: pg.PoolClient) => Promise<T>, begin = 'BEGIN'): Promise<T> {
    return this.withClient(async (c) => {
      await c.query(begin);
      try {
        const result = await fn(c);
        await c.query('COMMIT');
        return result;
      } catch (error) {
        await c.query('ROLLBACK').catch(() => undefined);
        throw error;
      }
    });
  }

  /**
   * Runs `fn` on a client of a migrated schema. When the schema turns out to be gone, the memoized migration is
   * dropped and `fn` runs once more after a fresh one; `fn` is one query or one transaction that was rolled back,
   * so running it again is safe. A second miss is thrown: migrating cannot repair it.
   */
  private async withClient<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const migration = this.migrate();
    try {
      return await this.onClient(migration, fn);
    } catch (error) {
      if (!isSchemaLost(error)) throw error;
      this.logger?.warn(
        { schema: this.schema, sqlState: (error as JournalQueryError).sqlState },
        'journal schema missing; migrating again',
      );
      // Only the memo that missed is dropped: a concurrent call may already have started the fresh migration.
      if (this.migrated === migration) this.migrated = undefined;
      return this.onClient(this.migrate(), fn);
    }
  }

  private async onClient<T>(migration: Promise<MigrateResult>, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    await migration;
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw toJournalError(error);
    }
    let failure: unknown;
    try {
      return await fn(client);
    } catch (error) {
      failure = error;
      throw toJournalError(error);
    } finally {
      // A connection that failed underneath a query may be half-dead: discard it rather than hand it out again.
      client.release(failure instanceof Error && !isDgError(failure) ? failure : undefined);
    }
  }
}

export function createJournal(options: JournalOptions): Journal {
  return new Journal(options);
}
