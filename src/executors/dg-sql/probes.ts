import { performance } from 'node:perf_hooks';
import type pg from 'pg';
import { roundMs } from './evidence.js';
import { withReadOnly } from './read-only.js';

export interface ConnectivityResult {
  readonly check: 'connectivity';
  readonly sqlName: string;
  /** `host:port/database as user`, without password. */
  readonly target: string;
  /** Connect (or pool checkout) plus BEGIN, ms. */
  readonly connectMs: number;
  /** One `SELECT 1` round trip on the open connection, ms. */
  readonly roundTripMs: number;
  /** The whole probe, ms. */
  readonly durationMs: number;
  /** e.g. `15.8 (Debian 15.8-1.pgdg120+1)`. */
  readonly serverVersion: string;
  /** e.g. 150008. */
  readonly serverVersionNum: number;
  readonly database: string;
  readonly user: string;
  /** The server is a standby (read replica or a restore still replaying WAL). */
  readonly inRecovery: boolean;
}

/**
 * Proves DecisionGraph's Postgres answers: connects, runs `SELECT 1` and reads what it is. Throws
 * `SqlUnreachableError` when the server or login fails, `SqlTimeoutError` past `timeoutMs`.
 */
export async function probeConnectivity(pool: pg.Pool, opts: { timeoutMs?: number } = {}): Promise<ConnectivityResult> {
  const started = performance.now();
  return withReadOnly(
    pool,
    { timeoutMs: opts.timeoutMs ?? 5000, sqlName: 'dg_sql.connectivity.connect' },
    async (s) => {
      const connectMs = performance.now() - started;
      const ping = await s.timed('dg_sql.connectivity.select_1', 'SELECT 1 AS one');
      const info = await s.query<{
        server_version: string;
        server_version_num: string;
        database: string;
        user: string;
        in_recovery: boolean;
      }>(
        'dg_sql.connectivity.server_info',
        `SELECT current_setting('server_version') AS server_version,
              current_setting('server_version_num') AS server_version_num,
              current_database() AS database, current_user AS "user", pg_is_in_recovery() AS in_recovery`,
      );
      const row = info.rows[0];
      if (!row) throw new Error('server_info returned no row');
      return {
        check: 'connectivity',
        sqlName: 'dg_sql.connectivity.select_1',
        target: s.target,
        connectMs: roundMs(connectMs),
        roundTripMs: roundMs(ping.durationMs),
        durationMs: roundMs(performance.now() - started),
        serverVersion: row.server_version,
        serverVersionNum: Number(row.server_version_num),
        database: row.database,
        user: row.user,
        inRecovery: row.in_recovery,
      };
    },
  );
}
