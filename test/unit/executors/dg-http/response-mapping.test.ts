import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ErrorCode } from '../../../../src/errors.js';
import {
  ApiUnexpectedStatusError,
  ContractViolationError,
  type DgApiErrorContext,
} from '../../../../src/executors/dg-http/api-errors.js';
import { interpretResponse } from '../../../../src/executors/dg-http/response-mapping.js';
import { successEnvelope } from '../../../../src/executors/dg-http/schemas.js';

const ctx: DgApiErrorContext = {
  endpoint: 'GET /api/v1/traces/:trace_id',
  method: 'GET',
  path: '/api/v1/traces/t-1',
  status: null,
  requestId: null,
};
const schema = successEnvelope(z.looseObject({ value: z.int() }));

function envelopeError(status: number, code: string, message = 'text', details: Record<string, unknown> = {}) {
  const text = JSON.stringify({ error: { code, details, message }, request_id: 'req-9' });
  return interpretResponse({ status, contentType: 'application/json', text }, schema, { ...ctx, status });
}

describe('status and error.code mapping', () => {
  it.each([
    [400, 'invalid_argument', ErrorCode.ApiInvalidArgument],
    [401, 'unauthorized', ErrorCode.ApiUnauthorized],
    [403, 'forbidden', ErrorCode.ApiForbidden],
    [404, 'not_found', ErrorCode.ApiNotFound],
    [409, 'conflict', ErrorCode.ApiConflict],
    [409, 'idempotency_conflict', ErrorCode.ApiConflict],
    [409, 'event_sequence_invalid', ErrorCode.ApiConflict],
    [409, 'projection_out_of_date', ErrorCode.ApiProjectionOutOfDate],
    [422, 'schema_violation', ErrorCode.ApiUnprocessable],
    [422, 'pii_policy_violation', ErrorCode.ApiUnprocessable],
    [429, 'rate_limited', ErrorCode.ApiRateLimited],
    [500, 'internal_error', ErrorCode.ApiInternal],
    [503, 'storage', ErrorCode.ApiStorage],
    [418, 'teapot', ErrorCode.ApiUnexpectedStatus],
    [502, 'bad_gateway', ErrorCode.ApiUnexpectedStatus],
  ])('%i %s -> %s', (status, code, expected) => {
    const out = envelopeError(status, code);
    expect(out.ok).toBe(false);
    if (out.ok) return;
    expect(out.error.code).toBe(expected);
    expect(out.error.status).toBe(status);
    expect(out.error.dgCode).toBe(code);
  });

  it("keeps DecisionGraph's code, message, details and request_id on the error", () => {
    const out = envelopeError(409, 'projection_out_of_date', 'Projections at log_seq=2150, events at 2168', {
      hint: 1,
    });
    if (out.ok) throw new Error('expected an error');
    expect(out.error).toMatchObject({
      dgCode: 'projection_out_of_date',
      dgMessage: 'Projections at log_seq=2150, events at 2168',
      details: { hint: 1 },
      requestId: 'req-9',
      transient: true,
    });
    expect(out.error.message).toContain('GET /api/v1/traces/:trace_id');
    expect(out.error.message).toContain('Projections at log_seq=2150, events at 2168');
    expect(out.envelopeRequestId).toBe('req-9');
  });
});

describe('answers without the envelope', () => {
  it('the framework 404 of an unknown route is an unexpected status with its detail', () => {
    const out = interpretResponse(
      { status: 404, contentType: 'application/json', text: '{"errors":{"detail":"Not Found"}}' },
      schema,
      { ...ctx, status: 404 },
    );
    if (out.ok) throw new Error('expected an error');
    expect(out.error).toBeInstanceOf(ApiUnexpectedStatusError);
    expect((out.error as ApiUnexpectedStatusError).frameworkDetail).toBe('Not Found');
    expect(out.error.transient).toBe(false);
  });

  it('an HTML 500 is an unexpected (transient) status, not a contract violation', () => {
    const out = interpretResponse(
      { status: 500, contentType: 'text/html; charset=utf-8', text: '<html><body>Internal Server Error</body></html>' },
      schema,
      { ...ctx, status: 500 },
    );
    if (out.ok) throw new Error('expected an error');
    expect(out.error).toBeInstanceOf(ApiUnexpectedStatusError);
    expect(out.error.transient).toBe(true);
    expect(out.error.message).toContain('text/html');
  });

  it('JSON on an error status that is neither envelope nor framework shape is a contract violation', () => {
    const out = interpretResponse(
      { status: 403, contentType: 'application/json', text: '{"error":{"code":"forbidden","message":"x"}}' },
      schema,
      { ...ctx, status: 403 },
    );
    if (out.ok) throw new Error('expected an error');
    expect(out.error).toBeInstanceOf(ContractViolationError);
    expect((out.error as ContractViolationError).issues.map((i) => i.path)).toEqual(['error.details', 'request_id']);
  });
});

describe('success bodies', () => {
  it('returns the parsed envelope', () => {
    const out = interpretResponse(
      { status: 200, contentType: 'application/json', text: '{"data":{"value":3},"request_id":"r"}' },
      schema,
      { ...ctx, status: 200 },
    );
    expect(out).toMatchObject({ ok: true, data: { data: { value: 3 } }, envelopeRequestId: 'r' });
  });

  it('a 200 that is not JSON is a contract violation of the whole body', () => {
    const out = interpretResponse({ status: 200, contentType: 'text/plain', text: '{"data":' }, schema, {
      ...ctx,
      status: 200,
    });
    if (out.ok) throw new Error('expected an error');
    expect(out.error).toBeInstanceOf(ContractViolationError);
    expect((out.error as ContractViolationError).issues).toEqual([
      { path: '(body)', message: 'not JSON (text/plain)' },
    ]);
  });

  it('a 200 with a wrong field names endpoint and field', () => {
    const out = interpretResponse(
      { status: 200, contentType: 'application/json', text: '{"data":{"value":"3"},"request_id":"r"}' },
      schema,
      { ...ctx, status: 200 },
    );
    if (out.ok) throw new Error('expected an error');
    expect(out.error.code).toBe(ErrorCode.ContractViolation);
    expect(out.error.message).toMatch(/^GET \/api\/v1\/traces\/:trace_id: .*data\.value/);
    expect(out.error.requestId).toBe('r');
  });
});
