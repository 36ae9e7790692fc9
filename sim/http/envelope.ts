import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { type ApiError, type FrameworkError, frameworkDetail } from './api-error.js';

/** The client's `x-request-id`, trimmed, or a fresh 16-character base64url id. */
export function resolveRequestId(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  const trimmed = value?.trim();
  return trimmed ? trimmed : randomBytes(12).toString('base64url');
}

export function sendJson(res: ServerResponse, status: number, body: unknown, omitBody = false): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('cache-control', 'max-age=0, private, must-revalidate');
  res.setHeader('content-length', Buffer.byteLength(text));
  res.end(omitBody ? undefined : text);
}

export function successEnvelope(data: unknown, requestId: string): unknown {
  return { data, request_id: requestId };
}

export function errorEnvelope(err: ApiError, requestId: string): unknown {
  return { error: { code: err.code, details: err.details, message: err.message }, request_id: requestId };
}

export function frameworkBody(err: FrameworkError): unknown {
  return { errors: { detail: frameworkDetail[err.status] ?? err.detail } };
}
