import pg from 'pg';
import type { Logger } from '../../logger.js';
import { scrubSecrets } from '../../logger.js';
import { reportConnectionErrors } from '../../pg-connection-errors.js';

export interface ProbePoolOptions {
  /** DecisionGraph's database, reached with a read-only role. */
  connectionString: string;
  /** Give up connecting after this long. @defaultValue 5000 */
  connectTimeoutMs?: number;
  /** Session-wide `statement_timeout`; each probe also sets its own with `SET LOCAL`. @defaultValue 30000 */
  statementTimeoutMs?: number;
  /** Server ends a session left idle inside a transaction this long. @defaultValue 60000 */
  idleInTransactionTimeoutMs?: number;
  /** Probes are few and sequential; two connections leave room for one long scan. @defaultValue 2 */
  max?: number;
  /** Close idle connections after this long. @defaultValue 10000 */
  idleTimeoutMs?: number;
  /** Shown in `pg_stat_activity`. @defaultValue `dg-recovery` */
  applicationName?: string;
  /** Errors of idle connections are logged here (they would otherwise crash the process). */
  logger?: Logger;
}

const targets = new WeakMap<pg.Pool, string>();

/** `host:port/database as user`, never with the password: safe for messages and evidence. */
export function describeConnection(connectionString: string): string {
  try {
    const url = new URL(connectionString);
    const host = url.hostname || url.searchParams.get('host') || 'localhost';
    const port = url.port || '5432';
    const database = decodeURIComponent(url.pathname.replace(/^\//, '')) || '(default database)';
    const user = url.username ? decodeURIComponent(url.username) : '(default user)';
    return `${host}:${port}/${database} as ${user}`;
  } catch {
    return '(unparseable connection string)';
  }
}

/** The description `createProbePool` recorded for this pool, or one built from its options. */
export function poolTarget(pool: pg.Pool): string {
  const known = targets.get(pool);
  if (known) return known;
  const o = pool.options;
  if (o.connectionString) return describeConnection(o.connectionString);
  return `${o.host ?? 'localhost'}:${o.port ?? 5432}/${o.database ?? '(default database)'} as ${o.user ?? '(default user)'}`;
}

function positiveInt(name: string, value: number): number {
  if (!Number.isInteger(value) || value <= 0) throw new RangeError(`${name} must be a positive integer`);
  return value;
}

/**
 * A pool for the read-only probes. Timeouts are set as connection parameters, so the server enforces them even
 * if a probe forgets its own. A dropped connection, idle or mid-probe, is logged instead of crashing the process.
 */
export function createProbePool(opts: ProbePoolOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: opts.connectionString,
    connectionTimeoutMillis: positiveInt('connectTimeoutMs', opts.connectTimeoutMs ?? 5000),
    statement_timeout: positiveInt('statementTimeoutMs', opts.statementTimeoutMs ?? 30_000),
    idle_in_transaction_session_timeout: positiveInt(
      'idleInTransactionTimeoutMs',
      opts.idleInTransactionTimeoutMs ?? 60_000,
    ),
    application_name: opts.applicationName ?? 'dg-recovery',
    max: positiveInt('max', opts.max ?? 2),
    idleTimeoutMillis: positiveInt('idleTimeoutMs', opts.idleTimeoutMs ?? 10_000),
    keepAlive: true,
  });
  const target = describeConnection(opts.connectionString);
  targets.set(pool, target);
  reportConnectionErrors(pool, (err) => {
    opts.logger?.warn(
      { target, code: err.code, message: scrubSecrets(err.message) },
      'connection to DecisionGraph Postgres lost',
    );
  });
  return pool;
}
