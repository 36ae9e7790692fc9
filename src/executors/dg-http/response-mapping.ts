import type { z } from 'zod';
import {
  ApiConflictError,
  ApiForbiddenError,
  ApiInternalError,
  ApiInvalidArgumentError,
  ApiNotFoundError,
  ApiProjectionOutOfDateError,
  ApiRateLimitedError,
  ApiStorageError,
  ApiUnauthorizedError,
  ApiUnexpectedStatusError,
  ApiUnprocessableError,
  ContractViolationError,
  type DgApiCallError,
  type DgApiErrorContext,
} from './api-errors.js';
import { describeIssues, ErrorEnvelopeSchema, FrameworkErrorSchema } from './schemas.js';

/** What the client read from the wire before interpretation. */
export interface RawResponse {
  readonly status: number;
  readonly contentType: string | null;
  readonly text: string;
}

export type Interpreted<T> =
  | { ok: true; data: T; envelopeRequestId: string | null }
  | { ok: false; error: DgApiCallError; envelopeRequestId: string | null };

type JsonParse = { ok: true; value: unknown } | { ok: false };

function parseJson(text: string): JsonParse {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

function envelopeRequestIdOf(value: unknown): string | null {
  if (value !== null && typeof value === 'object' && 'request_id' in value) {
    const id = (value as { request_id: unknown }).request_id;
    if (typeof id === 'string' && id !== '') return id;
  }
  return null;
}

/**
 * Turns a complete response into data or a typed error.
 *
 * - 2xx: the body must be JSON matching `schema`, else {@link ContractViolationError} naming the fields.
 * - non-2xx with DecisionGraph's error envelope: mapped by status (and `error.code` for 409).
 * - non-2xx with the framework's `{"errors":{"detail":…}}`, or a body that is not JSON at all (the dev HTML error
 *   page, a proxy's page): {@link ApiUnexpectedStatusError}. Such answers say the request never reached
 *   DecisionGraph's API layer, which is a different fact from a broken API response.
 * - non-2xx with other JSON (a half-built envelope): {@link ContractViolationError}.
 */
export function interpretResponse<S extends z.ZodType>(
  raw: RawResponse,
  schema: S,
  ctx: DgApiErrorContext,
): Interpreted<z.output<S>> {
  const parsed = parseJson(raw.text);
  const envelopeRequestId = parsed.ok ? envelopeRequestIdOf(parsed.value) : null;
  const c: DgApiErrorContext = { ...ctx, requestId: ctx.requestId ?? envelopeRequestId };

  if (raw.status >= 200 && raw.status < 300) {
    if (!parsed.ok) {
      return {
        ok: false,
        envelopeRequestId,
        error: new ContractViolationError({
          ...c,
          issues: [{ path: '(body)', message: `not JSON${raw.contentType ? ` (${raw.contentType})` : ''}` }],
        }),
      };
    }
    const result = schema.safeParse(parsed.value);
    if (!result.success) {
      return {
        ok: false,
        envelopeRequestId,
        error: new ContractViolationError({ ...c, issues: describeIssues(result.error.issues) }),
      };
    }
    return { ok: true, data: result.data, envelopeRequestId };
  }

  if (!parsed.ok) {
    return {
      ok: false,
      envelopeRequestId,
      error: new ApiUnexpectedStatusError({ ...c, contentType: raw.contentType }),
    };
  }
  const value = parsed.value;
  const isObject = value !== null && typeof value === 'object' && !Array.isArray(value);
  if (isObject && 'errors' in value && !('error' in value)) {
    const framework = FrameworkErrorSchema.safeParse(value);
    if (framework.success) {
      return {
        ok: false,
        envelopeRequestId,
        error: new ApiUnexpectedStatusError({
          ...c,
          contentType: raw.contentType,
          frameworkDetail: framework.data.errors.detail,
        }),
      };
    }
    return {
      ok: false,
      envelopeRequestId,
      error: new ContractViolationError({ ...c, issues: describeIssues(framework.error.issues) }),
    };
  }
  const envelope = ErrorEnvelopeSchema.safeParse(value);
  if (!envelope.success) {
    return {
      ok: false,
      envelopeRequestId,
      error: new ContractViolationError({ ...c, issues: describeIssues(envelope.error.issues) }),
    };
  }
  const { code, message, details } = envelope.data.error;
  return {
    ok: false,
    envelopeRequestId,
    error: errorForStatus(raw.status, code, { ...c, dgCode: code, dgMessage: message, details }),
  };
}

function errorForStatus(status: number, dgCode: string, ctx: DgApiErrorContext): DgApiCallError {
  switch (status) {
    case 400:
      return new ApiInvalidArgumentError(ctx);
    case 401:
      return new ApiUnauthorizedError(ctx);
    case 403:
      return new ApiForbiddenError(ctx);
    case 404:
      return new ApiNotFoundError(ctx);
    case 409:
      return dgCode === 'projection_out_of_date' ? new ApiProjectionOutOfDateError(ctx) : new ApiConflictError(ctx);
    case 422:
      return new ApiUnprocessableError(ctx);
    case 429:
      return new ApiRateLimitedError(ctx);
    case 500:
      return new ApiInternalError(ctx);
    case 503:
      return new ApiStorageError(ctx);
    default:
      return new ApiUnexpectedStatusError(ctx);
  }
}
