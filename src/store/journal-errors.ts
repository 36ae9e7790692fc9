import { DgError, ErrorCode } from '../errors.js';

/** The bot's Postgres is down, refusing, restarting or dropped the connection: worth retrying later. */
export class JournalUnavailableError extends DgError {
  readonly code = ErrorCode.JournalUnavailable;
  constructor(message: string, options?: { cause?: unknown }) {
    super(`journal unavailable: ${message}`, options);
  }
}

export class JournalTimeoutError extends DgError {
  readonly code = ErrorCode.JournalTimeout;
  constructor(message: string, options?: { cause?: unknown }) {
    super(`journal timeout: ${message}`, options);
  }
}

export class JournalQueryError extends DgError {
  readonly code = ErrorCode.JournalQueryFailed;
  constructor(
    readonly sqlState: string | undefined,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`journal query failed${sqlState ? ` (${sqlState})` : ''}: ${message}`, options);
  }
}

export class JournalMigrationError extends DgError {
  readonly code = ErrorCode.JournalMigrationFailed;
  constructor(
    readonly version: number | undefined,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`journal migration ${version ?? '(bootstrap)'} failed: ${message}`, options);
  }
}

/** The same (run, seq) was offered with a different body; the journal keeps the first. */
export class JournalConflictError extends DgError {
  readonly code = ErrorCode.JournalConflict;
  constructor(
    readonly runId: string,
    readonly seq: number,
  ) {
    super(`journal already holds a different event ${seq} for run ${runId}`);
  }
}

/** Events must follow the last journaled one; a hole would let the journal claim a history it does not have. */
export class JournalGapError extends DgError {
  readonly code = ErrorCode.JournalGap;
  constructor(
    readonly runId: string,
    readonly expectedSeq: number,
    readonly actualSeq: number,
  ) {
    super(`journal for run ${runId} expects event ${expectedSeq} next, got ${actualSeq}`);
  }
}

export type JournalError =
  | JournalUnavailableError
  | JournalTimeoutError
  | JournalQueryError
  | JournalMigrationError
  | JournalConflictError
  | JournalGapError;

/** Errors that go away on their own when Postgres comes back; the others need a person or a code change. */
export function isTransientJournalError(error: unknown): boolean {
  return error instanceof JournalUnavailableError || error instanceof JournalTimeoutError;
}

const UNAVAILABLE_NET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
]);
// admin_shutdown, crash_shutdown, cannot_connect_now, too_many_connections
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);

/** Maps what `pg` throws onto the journal's error codes; errors already typed pass through. */
export function toJournalError(error: unknown): DgError {
  if (error instanceof DgError) return error;
  const err = error as { code?: unknown; message?: unknown } | undefined;
  const code = typeof err?.code === 'string' ? err.code : undefined;
  const message = typeof err?.message === 'string' ? err.message : String(error);
  if (code === '57014') return new JournalTimeoutError('statement timeout', { cause: error });
  if (/timeout/i.test(message) && code === undefined) return new JournalTimeoutError(message, { cause: error });
  if (code && (UNAVAILABLE_NET_CODES.has(code) || UNAVAILABLE_SQLSTATES.has(code) || code.startsWith('08'))) {
    return new JournalUnavailableError(message, { cause: error });
  }
  if (code === undefined && /connection|terminated|not queryable|closed/i.test(message)) {
    return new JournalUnavailableError(message, { cause: error });
  }
  if (code && /^[0-9A-Z]{5}$/.test(code)) return new JournalQueryError(code, message, { cause: error });
  return new JournalQueryError(undefined, message, { cause: error });
}
