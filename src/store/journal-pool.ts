import pg from 'pg';
import type { Logger } from '../logger.js';
import { reportConnectionErrors } from '../pg-connection-errors.js';

export interface JournalPoolOptions {
  /** The bot's own database, `DATABASE_URL`. Never logged. */
  readonly connectionString: string;
  /** Server-side limit per statement. @defaultValue 5000 */
  readonly statementTimeoutMs?: number;
  /** Limit on getting a connection (a down server usually refuses at once; a black-holed one does not). @defaultValue 3000 */
  readonly connectTimeoutMs?: number;
  /** @defaultValue 4 */
  readonly maxConnections?: number;
  readonly logger?: Logger;
}

/**
 * A pool for the journal. The client-side query timeout backs up `statement_timeout` for the case where the server
 * stops answering altogether. A dropped connection (Postgres restarted) is logged, not a crash: the pool discards it
 * and the next query connects afresh.
 */
export function createJournalPool(options: JournalPoolOptions): pg.Pool {
  const statementTimeoutMs = options.statementTimeoutMs ?? 5000;
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    statement_timeout: statementTimeoutMs,
    query_timeout: statementTimeoutMs + 2000,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 3000,
    idleTimeoutMillis: 30_000,
    max: options.maxConnections ?? 4,
    keepAlive: true,
    application_name: 'dg-recovery-journal',
  });
  reportConnectionErrors(pool, (err) => {
    options.logger?.warn({ code: err.code, reason: err.message }, 'journal connection lost');
  });
  return pool;
}
