import {
  ApiConnectionResetError,
  ApiTimeoutError,
  ApiUnreachableError,
  ContractViolationError,
  type DgApiCallError,
  type DgApiErrorContext,
} from './api-errors.js';

const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ENETDOWN',
  'EAI_AGAIN',
  'EADDRNOTAVAIL',
]);

const RESET_CODES = new Set([
  'UND_ERR_SOCKET',
  'ECONNRESET',
  'EPIPE',
  'ECONNABORTED',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
]);

/** Limits the client applied to the call, to say which one ran out. */
export interface AppliedTimeouts {
  readonly connectMs: number | null;
  readonly headersMs: number;
  readonly bodyMs: number;
}

/**
 * Turns what undici threw into a call outcome. Errors that say the client itself is misused (invalid
 * arguments, a closed dispatcher, a plain TypeError) are rethrown: they are bugs, not DecisionGraph's state.
 */
export function classifyTransportError(
  err: unknown,
  ctx: DgApiErrorContext,
  timeouts: AppliedTimeouts,
  signal: AbortSignal | undefined,
): DgApiCallError {
  const code = errorCode(err);
  const withCause = { ...ctx, cause: err };
  if (signal?.aborted || code === 'UND_ERR_ABORTED' || isAbortError(err)) {
    return new ApiTimeoutError({ ...withCause, phase: 'aborted', timeoutMs: null });
  }
  switch (code) {
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'ETIMEDOUT':
      return new ApiTimeoutError({ ...withCause, phase: 'connect', timeoutMs: timeouts.connectMs });
    case 'UND_ERR_HEADERS_TIMEOUT':
      return new ApiTimeoutError({ ...withCause, phase: 'headers', timeoutMs: timeouts.headersMs });
    case 'UND_ERR_BODY_TIMEOUT':
      return new ApiTimeoutError({ ...withCause, phase: 'body', timeoutMs: timeouts.bodyMs });
    case 'UND_ERR_HEADERS_OVERFLOW':
      return new ContractViolationError({
        ...withCause,
        issues: [{ path: '(headers)', message: 'response headers exceed the size limit' }],
      });
  }
  if (code !== null && UNREACHABLE_CODES.has(code)) return new ApiUnreachableError({ ...withCause, systemCode: code });
  if (code !== null && RESET_CODES.has(code)) return new ApiConnectionResetError({ ...withCause, systemCode: code });
  if (code?.startsWith('HPE_')) {
    return new ContractViolationError({
      ...withCause,
      issues: [{ path: '(http)', message: `response is not valid HTTP/1.1 (${code})` }],
    });
  }
  // Any other operating-system network error still means "no usable connection to DecisionGraph".
  if (code !== null && /^E[A-Z]+$/.test(code)) return new ApiUnreachableError({ ...withCause, systemCode: code });
  throw err;
}

function errorCode(err: unknown): string | null {
  if (err === null || typeof err !== 'object') return null;
  const e = err as { code?: unknown; errors?: unknown; cause?: unknown };
  if (typeof e.code === 'string') return e.code;
  // Connecting to a name with several addresses fails with an AggregateError of the per-address errors.
  if (Array.isArray(e.errors)) {
    for (const inner of e.errors) {
      const c = errorCode(inner);
      if (c) return c;
    }
  }
  if (e.cause !== undefined && e.cause !== err) return errorCode(e.cause);
  return null;
}

function isAbortError(err: unknown): boolean {
  return err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError');
}
