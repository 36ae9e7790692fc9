import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCode } from '../errors.js';

// What the webhook routes (Alertmanager, PagerDuty) share: a bounded body read and a JSON refusal with a code.

export const MAX_HOOK_BODY_BYTES = 1024 * 1024;

/** Answers `{ ok: false, error: { code, message } }` with `status`. */
export function refuseHook(res: ServerResponse, status: number, code: string, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(`${JSON.stringify({ ok: false, error: { code, message } })}\n`);
}

/** Answers 202 with `{ ok: true, ...extra }`: the work goes on after the answer. */
export function acceptHook(res: ServerResponse, extra: Record<string, unknown>): void {
  res.writeHead(202, { 'content-type': 'application/json' });
  res.end(`${JSON.stringify({ ok: true, ...extra })}\n`);
}

/** The body as text, or `null` when it is over the limit. */
export function readHookBody(req: IncomingMessage): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_HOOK_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > MAX_HOOK_BODY_BYTES ? null : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** The body parsed as JSON and checked by `check`; `undefined` once a 400 naming what is wrong has been sent. */
export function checkedHookBody<T extends { ok: true }>(
  res: ServerResponse,
  text: string,
  check: (body: unknown) => T | { ok: false; problem: string },
): T | undefined {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    refuseHook(res, 400, ErrorCode.AlertPayloadInvalid, 'body is not JSON');
    return undefined;
  }
  const checked = check(body);
  if (checked.ok) return checked;
  refuseHook(res, 400, ErrorCode.AlertPayloadInvalid, checked.problem);
  return undefined;
}
