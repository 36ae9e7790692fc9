import { DgError, ErrorCode } from '../../errors.js';
import { scrubSecrets } from '../../logger.js';
import { formatDuration } from '../../runbook/time-format.js';

/** Where a probe failed: the server (never with a password) and the named SQL it was running. */
export interface SqlErrorContext {
  /** `host:port/database as user`, built without the password. */
  readonly target: string;
  /** Stable name of the statement, e.g. `dg_sql.connectivity.select_1`. */
  readonly sqlName: string;
  /** The statement timeout that applied, when known. */
  readonly timeoutMs?: number;
}

/** The server refused the connection, the login failed, the database is missing, or the connection dropped. */
export class SqlUnreachableError extends DgError {
  readonly code = ErrorCode.SqlUnreachable;
  constructor(
    readonly target: string,
    readonly reason: string,
    readonly sqlName: string,
    options?: { cause?: unknown },
  ) {
    super(`DecisionGraph's Postgres ${target} is unreachable: ${reason}`, options);
  }
}

/** A probe statement ran past its `statement_timeout` (or a lock or idle-transaction timeout). */
export class SqlTimeoutError extends DgError {
  readonly code = ErrorCode.SqlTimeout;
  constructor(
    readonly target: string,
    readonly sqlName: string,
    readonly timeoutMs: number | null,
    options?: { cause?: unknown },
  ) {
    super(
      `probe ${sqlName} on ${target} timed out${timeoutMs === null ? '' : ` after ${formatDuration(timeoutMs)}`} and was cancelled`,
      options,
    );
  }
}

/** Postgres answered with an error; `sqlState` is its SQLSTATE (e.g. `42P01` for a missing table). */
export class SqlQueryFailedError extends DgError {
  readonly code = ErrorCode.SqlQueryFailed;
  constructor(
    readonly target: string,
    readonly sqlName: string,
    readonly sqlState: string | null,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`probe ${sqlName} on ${target} failed${sqlState ? ` (SQLSTATE ${sqlState})` : ''}: ${detail}`, options);
  }
}

export type DgSqlError = SqlUnreachableError | SqlTimeoutError | SqlQueryFailedError;

const NETWORK_CODES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection closed',
};

/** SQLSTATEs that mean "no usable session", not "this query is wrong". */
function unreachableReason(sqlState: string): string | null {
  if (sqlState === '28P01' || sqlState === '28000') return 'authentication failed';
  if (sqlState === '3D000') return 'database does not exist';
  if (sqlState === '53300') return 'too many connections';
  if (sqlState === '57P01' || sqlState === '57P02') return 'server is shutting down';
  if (sqlState === '57P03') return 'server is starting up or in recovery and not accepting connections';
  if (sqlState.startsWith('08')) return 'connection failure';
  return null;
}

// 57014 = query_canceled (statement_timeout), 55P03 = lock_not_available (lock_timeout),
// 25P03 = idle_in_transaction_session_timeout.
const TIMEOUT_STATES = new Set(['57014', '55P03', '25P03']);

function field(err: unknown, name: string): string | null {
  if (err === null || typeof err !== 'object') return null;
  const value = (err as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : null;
}

/**
 * Turns what `pg` threw into one of the three probe errors. Messages are built from the SQLSTATE, the system
 * error code and the server's message text (which never holds the password), scrubbed once more.
 */
export function toSqlError(err: unknown, ctx: SqlErrorContext): DgSqlError {
  if (err instanceof SqlUnreachableError || err instanceof SqlTimeoutError || err instanceof SqlQueryFailedError) {
    return err;
  }
  const code = field(err, 'code');
  const message = scrubSecrets(field(err, 'message') ?? String(err));
  const options = { cause: err };
  const isSqlState = code !== null && /^[0-9A-Z]{5}$/.test(code);
  if (isSqlState) {
    if (TIMEOUT_STATES.has(code)) return new SqlTimeoutError(ctx.target, ctx.sqlName, ctx.timeoutMs ?? null, options);
    // 55000 also covers "database is not currently accepting connections" (ALLOW_CONNECTIONS false during
    // maintenance): no session is possible, so it is an outage, not a wrong query.
    const reason =
      code === '55000' && /not currently accepting connections/i.test(message)
        ? 'database is not accepting connections'
        : unreachableReason(code);
    if (reason !== null)
      return new SqlUnreachableError(ctx.target, `${reason} (SQLSTATE ${code}): ${message}`, ctx.sqlName, options);
    return new SqlQueryFailedError(ctx.target, ctx.sqlName, code, message, options);
  }
  if (code !== null && code in NETWORK_CODES) {
    return new SqlUnreachableError(ctx.target, `${NETWORK_CODES[code]} (${code})`, ctx.sqlName, options);
  }
  if (code !== null && /^E[A-Z]+$/.test(code)) {
    return new SqlUnreachableError(ctx.target, `network error (${code})`, ctx.sqlName, options);
  }
  // pg reports its own connect timeouts and dropped sockets as plain Errors.
  if (/timeout exceeded when trying to connect|connection timeout/i.test(message)) {
    return new SqlUnreachableError(ctx.target, 'connection attempt timed out', ctx.sqlName, options);
  }
  if (/Query read timeout/i.test(message)) {
    return new SqlTimeoutError(ctx.target, ctx.sqlName, ctx.timeoutMs ?? null, options);
  }
  if (/Connection terminated|Client has encountered a connection error|not queryable/i.test(message)) {
    return new SqlUnreachableError(ctx.target, 'connection lost', ctx.sqlName, options);
  }
  return new SqlQueryFailedError(ctx.target, ctx.sqlName, null, message, options);
}
