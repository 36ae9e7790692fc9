/**
 * DecisionGraph's wire error codes (`API/errors.ex`). These are what the simulated server answers, not errors the
 * project raises, so they live beside the simulator's HTTP layer rather than in the project's error registry.
 */
export const API_ERROR_STATUS = {
  invalid_argument: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  idempotency_conflict: 409,
  event_sequence_invalid: 409,
  projection_out_of_date: 409,
  schema_violation: 422,
  pii_policy_violation: 422,
  rate_limited: 429,
  internal_error: 500,
  storage: 503,
} as const;

export type ApiErrorCode = keyof typeof API_ERROR_STATUS;

/** An answer in DecisionGraph's error envelope. */
export class ApiError extends Error {
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }

  get status(): number {
    return API_ERROR_STATUS[this.code];
  }
}

/** An answer that bypasses the envelope, as Phoenix's `ErrorJSON` renders it (`{"errors":{"detail":…}}`). */
export class FrameworkError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
  ) {
    super(detail);
    this.name = 'FrameworkError';
  }
}

export const frameworkDetail: Record<number, string> = {
  400: 'Bad Request',
  404: 'Not Found',
  406: 'Not Acceptable',
  500: 'Internal Server Error',
};

export function invalidArgument(message: string): ApiError {
  return new ApiError('invalid_argument', message);
}
