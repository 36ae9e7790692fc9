import { performance } from 'node:perf_hooks';
import type pg from 'pg';
import { poolTarget } from './pool.js';
import { toSqlError } from './sql-errors.js';

/** Statement timeout of a probe unless told otherwise, ms. */
export const DEFAULT_PROBE_TIMEOUT_MS = 15_000;

export interface ReadOnlyOptions {
  /** `SET LOCAL statement_timeout` for every statement of the transaction, ms. @defaultValue 15000 */
  timeoutMs?: number;
  /**
   * `REPEATABLE READ`: every statement sees one snapshot, so a multi-statement scan is consistent even while
   * DecisionGraph keeps writing. @defaultValue false (READ COMMITTED)
   */
  snapshot?: boolean;
  /** `SET LOCAL work_mem`, MB, for sorts and windows of a scan chunk. @defaultValue the server's */
  workMemMb?: number;
  /** Names the connect step in errors. @defaultValue `dg_sql.connect` */
  sqlName?: string;
}

/** A connection inside `BEGIN READ ONLY`: every query is named, and failures become typed probe errors. */
export class ReadOnlySession {
  /** The last query handed to the connection; the next one waits for it (pg deprecates queueing on a busy client). */
  private turn: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly client: pg.ClientBase,
    readonly target: string,
    readonly timeoutMs: number,
  ) {}

  /** Resolves once every query handed to the session has finished, failed ones included. */
  async settled(): Promise<void> {
    await this.turn;
  }

  private inTurn<T>(run: () => Promise<T>): Promise<T> {
    const next = this.turn.then(run);
    this.turn = next.catch(() => undefined);
    return next;
  }

  async query<R extends pg.QueryResultRow>(
    sqlName: string,
    text: string,
    params?: unknown[],
  ): Promise<pg.QueryResult<R>> {
    try {
      return await this.inTurn(() => this.client.query<R>(text, params));
    } catch (err) {
      throw toSqlError(err, { target: this.target, sqlName, timeoutMs: this.timeoutMs });
    }
  }

  /** Rows as arrays: less allocation per row for the scan's large, narrow results. */
  async queryArray<R extends unknown[]>(sqlName: string, text: string, params: unknown[]): Promise<R[]> {
    try {
      const result = await this.inTurn(() => this.client.query<R>({ text, values: params, rowMode: 'array' }));
      return result.rows;
    } catch (err) {
      throw toSqlError(err, { target: this.target, sqlName, timeoutMs: this.timeoutMs });
    }
  }

  /** Runs a query and times it. */
  async timed<R extends pg.QueryResultRow>(
    sqlName: string,
    text: string,
    params?: unknown[],
  ): Promise<{ rows: R[]; durationMs: number }> {
    const started = performance.now();
    const result = await this.query<R>(sqlName, text, params);
    return { rows: result.rows, durationMs: performance.now() - started };
  }
}

function checkedInt(name: string, value: number): number {
  if (!Number.isInteger(value) || value <= 0) throw new RangeError(`${name} must be a positive integer`);
  return value;
}

/**
 * Runs `fn` in a read-only transaction with its own statement timeout and always rolls back, whatever happens:
 * the probes never change DecisionGraph's database, even if the role could. A connection that failed mid-way
 * is destroyed instead of going back to the pool.
 */
export async function withReadOnly<T>(
  pool: pg.Pool,
  opts: ReadOnlyOptions,
  fn: (session: ReadOnlySession) => Promise<T>,
): Promise<T> {
  const target = poolTarget(pool);
  const timeoutMs = checkedInt('timeoutMs', opts.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS);
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (err) {
    throw toSqlError(err, { target, sqlName: opts.sqlName ?? 'dg_sql.connect', timeoutMs });
  }
  const session = new ReadOnlySession(client, target, timeoutMs);
  let broken: Error | undefined;
  try {
    await session.query(
      'dg_sql.begin_read_only',
      opts.snapshot ? 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY' : 'BEGIN READ ONLY',
    );
    // SET takes no bind parameters; both values are checked integers.
    await session.query('dg_sql.set_statement_timeout', `SET LOCAL statement_timeout = ${timeoutMs}`);
    if (opts.workMemMb !== undefined) {
      await session.query('dg_sql.set_work_mem', `SET LOCAL work_mem = '${checkedInt('workMemMb', opts.workMemMb)}MB'`);
    }
    return await fn(session);
  } catch (err) {
    if (isConnectionLoss(err)) broken = err as Error;
    throw err;
  } finally {
    try {
      await session.settled();
      await client.query('ROLLBACK');
    } catch (err) {
      broken ??= err as Error;
    }
    client.release(broken ?? false);
  }
}

function isConnectionLoss(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === 'DG_ERR_SQL_UNREACHABLE';
}
