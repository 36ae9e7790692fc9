import { DgError, ErrorCode } from '../../errors.js';
import { formatDuration } from '../../runbook/time-format.js';

/** Where a failed call went and what DecisionGraph said about it. Never holds tokens or raw bodies. */
export interface DgApiErrorContext {
  /** Route template, e.g. `GET /api/v1/traces/:trace_id`. */
  readonly endpoint: string;
  readonly method: string;
  /** Path and query actually requested, without the origin. */
  readonly path: string;
  /** HTTP status, or `null` when no response arrived. */
  readonly status: number | null;
  /** The request id DecisionGraph returned (header, else envelope); `null` when no answer came back. */
  readonly requestId: string | null;
  /** DecisionGraph's own `error.code`, when the error envelope was present. */
  readonly dgCode?: string | null;
  /** DecisionGraph's own `error.message`, when the error envelope was present. */
  readonly dgMessage?: string | null;
  /** DecisionGraph's own `error.details` (always an object in the envelope). */
  readonly details?: Readonly<Record<string, unknown>>;
  readonly cause?: unknown;
}

/**
 * Base of every outcome of a DecisionGraph call that is not a success. `transient` says whether repeating the
 * same call later can succeed without anyone changing anything (a poll, a retried job), not that it is safe to
 * repeat a write.
 */
export abstract class DgApiError extends DgError {
  abstract readonly transient: boolean;
  readonly endpoint: string;
  readonly method: string;
  readonly path: string;
  readonly status: number | null;
  readonly requestId: string | null;
  readonly dgCode: string | null;
  readonly dgMessage: string | null;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(summary: string, ctx: DgApiErrorContext) {
    super(`${ctx.endpoint}: ${summary}${ctx.requestId ? ` (request_id ${ctx.requestId})` : ''}`, {
      cause: ctx.cause,
    });
    this.endpoint = ctx.endpoint;
    this.method = ctx.method;
    this.path = ctx.path;
    this.status = ctx.status;
    this.requestId = ctx.requestId;
    this.dgCode = ctx.dgCode ?? null;
    this.dgMessage = ctx.dgMessage ?? null;
    this.details = ctx.details ?? {};
  }
}

function answered(ctx: DgApiErrorContext): string {
  const what = ctx.dgCode ? ` ${ctx.dgCode}` : '';
  const text = ctx.dgMessage ? `: ${ctx.dgMessage}` : '';
  return `answered ${ctx.status ?? 'nothing'}${what}${text}`;
}

/** 400 invalid_argument: a missing header or parameter, or a value DecisionGraph rejects. */
export class ApiInvalidArgumentError extends DgApiError {
  readonly code = ErrorCode.ApiInvalidArgument;
  readonly transient = false;
  constructor(ctx: DgApiErrorContext) {
    super(answered(ctx), ctx);
  }
}

/** 401: no, malformed or unknown bearer token. */
export class ApiUnauthorizedError extends DgApiError {
  readonly code = ErrorCode.ApiUnauthorized;
  readonly transient = false;
  constructor(ctx: DgApiErrorContext) {
    super(answered(ctx), ctx);
  }
}

/** 403: wrong tenant, missing role or permission, or rebuilds disabled in this deployment. */
export class ApiForbiddenError extends DgApiError {
  readonly code = ErrorCode.ApiForbidden;
  readonly transient = false;
  constructor(ctx: DgApiErrorContext) {
    super(answered(ctx), ctx);
  }
}

/** 404: unknown trace, workflow or replay job (or one owned by another tenant, or a job no longer in memory). */
export class ApiNotFoundError extends DgApiError {
  readonly code = ErrorCode.ApiNotFound;
  readonly transient = false;
  constructor(ctx: DgApiErrorContext) {
    super(answered(ctx), ctx);
  }
}

/** 409 conflict / idempotency_conflict / event_sequence_invalid, e.g. a replay already running for that scope. */
export class ApiConflictError extends DgApiError {
  readonly code = ErrorCode.ApiConflict;
  readonly transient = false;
  constructor(ctx: DgApiErrorContext) {
    super(answered(ctx), ctx);
  }
}

/** 409 projection_out_of_date: the read model is behind the event log; polling can succeed later. */
export class ApiProjectionOutOfDateError extends DgApiError {
  readonly code = ErrorCode.ApiProjectionOutOfDate;
  readonly transient = true;
  constructor(ctx: DgApiErrorContext) {
    super(answered(ctx), ctx);
  }
}

/** 422 schema_violation / pii_policy_violation. */
export class ApiUnprocessableError extends DgApiError {
  readonly code = ErrorCode.ApiUnprocessable;
  readonly transient = false;
  constructor(ctx: DgApiErrorContext) {
    super(answered(ctx), ctx);
  }
}

/** 429 rate_limited. DecisionGraph sends no Retry-After; its windows are wall-clock minutes. */
export class ApiRateLimitedError extends DgApiError {
  readonly code = ErrorCode.ApiRateLimited;
  readonly transient = true;
  constructor(ctx: DgApiErrorContext) {
    super(answered(ctx), ctx);
  }
}

/** 500 internal_error: any exception inside DecisionGraph, including a database outage during reads. */
export class ApiInternalError extends DgApiError {
  readonly code = ErrorCode.ApiInternal;
  readonly transient = true;
  constructor(ctx: DgApiErrorContext) {
    super(answered(ctx), ctx);
  }
}

/** 503 storage: DecisionGraph's repository cannot start or an append hit an unmapped database error. */
export class ApiStorageError extends DgApiError {
  readonly code = ErrorCode.ApiStorage;
  readonly transient = true;
  constructor(ctx: DgApiErrorContext) {
    super(answered(ctx), ctx);
  }
}

/**
 * A status the contract does not list, or an answer without DecisionGraph's error envelope: the framework's own
 * `{"errors":{"detail":…}}` (unknown route, crash), an HTML error page, or a proxy in between.
 */
export class ApiUnexpectedStatusError extends DgApiError {
  readonly code = ErrorCode.ApiUnexpectedStatus;
  readonly transient: boolean;
  /** `errors.detail` of a framework error body, e.g. `Not Found`. */
  readonly frameworkDetail: string | null;
  readonly contentType: string | null;
  constructor(ctx: DgApiErrorContext & { frameworkDetail?: string | null; contentType?: string | null }) {
    const shape = ctx.frameworkDetail
      ? ` without the error envelope (framework error "${ctx.frameworkDetail}")`
      : ctx.dgCode
        ? ''
        : ` without the error envelope${ctx.contentType ? ` (${ctx.contentType})` : ''}`;
    super(`${answered(ctx)}, a status or shape the contract does not list${shape}`, ctx);
    this.transient = ctx.status !== null && ctx.status >= 500;
    this.frameworkDetail = ctx.frameworkDetail ?? null;
    this.contentType = ctx.contentType ?? null;
  }
}

/** No connection: refused, unknown host, unreachable host or network. */
export class ApiUnreachableError extends DgApiError {
  readonly code = ErrorCode.ApiUnreachable;
  readonly transient = true;
  /** The system error code, e.g. `ECONNREFUSED`. */
  readonly systemCode: string | null;
  constructor(ctx: DgApiErrorContext & { systemCode: string | null }) {
    super(`unreachable${ctx.systemCode ? ` (${ctx.systemCode})` : ''}`, ctx);
    this.systemCode = ctx.systemCode;
  }
}

/** Which wait ran out: connecting, the response headers, a gap in the body, or the caller's signal. */
export type ApiTimeoutPhase = 'connect' | 'headers' | 'body' | 'aborted';

/** The call took too long or was aborted by the caller's signal. A timed-out write may still have happened. */
export class ApiTimeoutError extends DgApiError {
  readonly code = ErrorCode.ApiTimeout;
  readonly transient = true;
  readonly phase: ApiTimeoutPhase;
  /** The configured limit that ran out, when known. */
  readonly timeoutMs: number | null;
  constructor(ctx: DgApiErrorContext & { phase: ApiTimeoutPhase; timeoutMs: number | null }) {
    const limit = ctx.timeoutMs === null ? '' : ` after ${formatDuration(ctx.timeoutMs)}`;
    super(ctx.phase === 'aborted' ? 'aborted by the caller' : `${ctx.phase} timeout${limit}`, ctx);
    this.phase = ctx.phase;
    this.timeoutMs = ctx.timeoutMs;
  }
}

/** The connection closed before the whole response arrived (server crash, restart, proxy reset). */
export class ApiConnectionResetError extends DgApiError {
  readonly code = ErrorCode.ApiConnectionReset;
  readonly transient = true;
  readonly systemCode: string | null;
  constructor(ctx: DgApiErrorContext & { systemCode: string | null }) {
    super(`connection closed before the response was complete${ctx.systemCode ? ` (${ctx.systemCode})` : ''}`, ctx);
    this.systemCode = ctx.systemCode;
  }
}

/** One place where a response differs from the contract. */
export interface ContractIssue {
  /** Field path in the body, e.g. `data.projections[1].pending_events`; `(body)` for the body as a whole. */
  readonly path: string;
  readonly message: string;
}

/**
 * A response the contract does not allow: a success body that is not JSON or misses required fields, or an
 * error body that is JSON but neither the error envelope nor the framework shape. Names the endpoint and fields.
 */
export class ContractViolationError extends DgApiError {
  readonly code = ErrorCode.ContractViolation;
  readonly transient = false;
  readonly issues: readonly ContractIssue[];
  constructor(ctx: DgApiErrorContext & { issues: readonly ContractIssue[] }) {
    const shown = ctx.issues.slice(0, 5).map((i) => `${i.path} (${i.message})`);
    const more = ctx.issues.length > 5 ? ` and ${ctx.issues.length - 5} more` : '';
    super(`status ${ctx.status ?? 'none'} response violates the contract at ${shown.join('; ')}${more}`, ctx);
    this.issues = ctx.issues;
  }
}

/** Every way a DecisionGraph call can fail, for an exhaustive `switch (error.code)`. */
export type DgApiCallError =
  | ApiInvalidArgumentError
  | ApiUnauthorizedError
  | ApiForbiddenError
  | ApiNotFoundError
  | ApiConflictError
  | ApiProjectionOutOfDateError
  | ApiUnprocessableError
  | ApiRateLimitedError
  | ApiInternalError
  | ApiStorageError
  | ApiUnexpectedStatusError
  | ApiUnreachableError
  | ApiTimeoutError
  | ApiConnectionResetError
  | ContractViolationError;

/** Codes of failures where no HTTP answer arrived at all. */
export const TRANSPORT_ERROR_CODES: ReadonlySet<string> = new Set([
  ErrorCode.ApiUnreachable,
  ErrorCode.ApiTimeout,
  ErrorCode.ApiConnectionReset,
]);

export function isDgApiError(value: unknown): value is DgApiCallError {
  return value instanceof DgApiError;
}
