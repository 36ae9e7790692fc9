import { errors as undiciErrors } from 'undici';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../../src/errors.js';
import type { ApiTimeoutError, DgApiErrorContext } from '../../../../src/executors/dg-http/api-errors.js';
import { classifyTransportError } from '../../../../src/executors/dg-http/transport-errors.js';

const ctx: DgApiErrorContext = {
  endpoint: 'GET /api/healthz',
  method: 'GET',
  path: '/api/healthz',
  status: null,
  requestId: null,
};
const timeouts = { connectMs: 3000, headersMs: 10_000, bodyMs: 30_000 };

function sysError(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`connect ${code} 127.0.0.1:4100`), { code });
}

describe('classifyTransportError', () => {
  it.each([
    ['ECONNREFUSED', ErrorCode.ApiUnreachable],
    ['ENOTFOUND', ErrorCode.ApiUnreachable],
    ['EHOSTUNREACH', ErrorCode.ApiUnreachable],
    ['ECONNRESET', ErrorCode.ApiConnectionReset],
    ['EPIPE', ErrorCode.ApiConnectionReset],
  ])('%s -> %s', (code, expected) => {
    const error = classifyTransportError(sysError(code), ctx, timeouts, undefined);
    expect(error.code).toBe(expected);
    expect(error.transient).toBe(true);
    expect(error.message).toContain(code);
  });

  it('an AggregateError from a multi-address connect is unreachable', () => {
    const agg = new AggregateError([sysError('ECONNREFUSED'), sysError('ECONNREFUSED')], 'all failed');
    expect(classifyTransportError(agg, ctx, timeouts, undefined).code).toBe(ErrorCode.ApiUnreachable);
  });

  it('undici timeouts name their phase and limit', () => {
    const connect = classifyTransportError(new undiciErrors.ConnectTimeoutError(), ctx, timeouts, undefined);
    const headers = classifyTransportError(new undiciErrors.HeadersTimeoutError(), ctx, timeouts, undefined);
    const body = classifyTransportError(new undiciErrors.BodyTimeoutError(), ctx, timeouts, undefined);
    expect(
      [connect, headers, body].map((e) => [e.code, (e as ApiTimeoutError).phase, (e as ApiTimeoutError).timeoutMs]),
    ).toEqual([
      [ErrorCode.ApiTimeout, 'connect', 3000],
      [ErrorCode.ApiTimeout, 'headers', 10_000],
      [ErrorCode.ApiTimeout, 'body', 30_000],
    ]);
  });

  it('a socket closed by the other side is a connection reset', () => {
    const error = classifyTransportError(new undiciErrors.SocketError('other side closed'), ctx, timeouts, undefined);
    expect(error.code).toBe(ErrorCode.ApiConnectionReset);
  });

  it('anything after the caller aborted is an aborted timeout', () => {
    const controller = new AbortController();
    controller.abort();
    const error = classifyTransportError(sysError('ECONNRESET'), ctx, timeouts, controller.signal);
    expect(error.code).toBe(ErrorCode.ApiTimeout);
    expect((error as ApiTimeoutError).phase).toBe('aborted');
  });

  it('misuse of the client is rethrown, not turned into an outcome', () => {
    const invalid = new undiciErrors.InvalidArgumentError('invalid header');
    expect(() => classifyTransportError(invalid, ctx, timeouts, undefined)).toThrow(invalid);
    expect(() => classifyTransportError(new undiciErrors.ClientClosedError(), ctx, timeouts, undefined)).toThrow();
    expect(() => classifyTransportError(new TypeError('x is not a function'), ctx, timeouts, undefined)).toThrow(
      TypeError,
    );
  });
});
