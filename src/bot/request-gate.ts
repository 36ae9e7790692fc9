import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { parse as parseForm } from 'node:querystring';
import { verifySlackRequest } from '@slack/bolt';
import { ErrorCode } from '../errors.js';
import type { Logger } from '../logger.js';
import type { SeenRequests } from './seen-requests.js';

/**
 * Slack's own bodies are small: a click carries the clicked message, and ours stay far below this (Block Kit
 * limits). Anything larger is refused before it is read whole or its signature is checked.
 */
export const MAX_SLACK_BODY_BYTES = 256 * 1024;

/** Slack's signature window: a request is accepted only this close to the bot's clock. */
export const SIGNATURE_WINDOW_SEC = 5 * 60;

export interface RequestGateOptions {
  readonly signingSecret: string;
  /** The path Slack posts to; other paths pass through untouched. */
  readonly path: string;
  /** Requests already received. @defaultValue repeats are not recognised (tests of the receiver alone) */
  readonly seen?: SeenRequests;
  readonly logger: Logger;
  /** @defaultValue {@link MAX_SLACK_BODY_BYTES} */
  readonly maxBodyBytes?: number;
  /** @defaultValue `Date.now` */
  readonly now?: () => number;
}

/** What a signed body turned out to be, for the answer to a repeat and for the log. */
type BodyKind = 'command' | 'interaction' | 'other';

type Checked = { ok: true; kind: BodyKind } | { ok: false; why: string };

/**
 * Wraps Bolt's request listener with what Bolt does not do before a listener runs: the body is capped while it is
 * read (413), the signature and timestamp are checked (401, future timestamps included), a `payload` that is not
 * a JSON object is refused (400; Bolt would leave it hanging), and a signed request is applied once (by its
 * signature, remembered in Redis for the signature window). What passes goes to Bolt with its body already read.
 */
export function gateSlackRequests(listener: RequestListener, options: RequestGateOptions): RequestListener {
  const maxBytes = options.maxBodyBytes ?? MAX_SLACK_BODY_BYTES;
  const now = options.now ?? Date.now;
  const log = options.logger;

  const refuse = (res: ServerResponse, status: number, code: ErrorCode, why: string, kind?: BodyKind) => {
    log.warn({ code, status, ...(kind ? { kind } : {}) }, `Slack request refused: ${why}`);
    plainAnswer(res, status, code, why);
  };
  // A command's refusal is read by the person who typed it; anything else gets a status that says what happened.
  const refuseByKind = (
    res: ServerResponse,
    kind: BodyKind,
    status: number,
    code: ErrorCode,
    why: string,
    told: string,
  ) => {
    if (kind !== 'command') return refuse(res, status, code, why, kind);
    log.warn({ code, status: 200, kind }, `Slack request refused: ${why}`);
    ephemeralAnswer(res, told);
  };

  const gate = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readCapped(req, maxBytes);
    if (body === 'too_large') {
      req.resume();
      return refuse(res, 413, ErrorCode.SlackRequestTooLarge, `the body is over ${maxBytes} bytes`);
    }
    const text = body.toString('utf8');
    const form = req.headers['content-type'] === 'application/x-www-form-urlencoded' ? parseForm(text) : undefined;
    // Slack's SSL check is unsigned by design; Bolt answers it and strips anything else it carries.
    if (form?.ssl_check === '1') return pass(req, res, body);
    const signature = req.headers['x-slack-signature'];
    const timestamp = Number(req.headers['x-slack-request-timestamp']);
    const nowSec = Math.floor(now() / 1000);
    if (typeof signature !== 'string' || !isVerified(options.signingSecret, text, signature, timestamp, now())) {
      return refuse(res, 401, ErrorCode.SlackRequestUnverified, 'no valid Slack signature');
    }
    if (timestamp > nowSec + SIGNATURE_WINDOW_SEC) {
      return refuse(res, 401, ErrorCode.SlackRequestUnverified, 'the timestamp is ahead of the signature window');
    }
    const checked = checkShape(form, text);
    if (!checked.ok) return refuse(res, 400, ErrorCode.SlackRequestMalformed, checked.why);
    if (options.seen) {
      let first: boolean;
      try {
        // Kept until the signature could no longer be accepted; a restart in between changes nothing.
        first = await options.seen.firstSight(signature, timestamp + SIGNATURE_WINDOW_SEC - nowSec + 1);
      } catch (err) {
        log.warn({ err }, 'could not check whether a Slack request is new');
        return refuseByKind(res, checked.kind, 503, ErrorCode.SlackRequestUncheckable, UNCHECKABLE, UNCHECKABLE_TOLD);
      }
      if (!first) return refuseByKind(res, checked.kind, 409, ErrorCode.SlackRequestRepeated, REPEATED, REPEATED_TOLD);
    }
    pass(req, res, body);
  };

  const pass = (req: IncomingMessage, res: ServerResponse, body: Buffer) => {
    // Bolt reads `rawBody` when it is there instead of the (already consumed) stream.
    (req as IncomingMessage & { rawBody?: Buffer }).rawBody = body;
    listener(req, res);
  };

  return (req, res) => {
    if (req.method !== 'POST' || pathOf(req) !== options.path) {
      listener(req, res);
      return;
    }
    gate(req, res).catch((err: unknown) => {
      log.error({ err }, 'Slack request gate failed');
      if (!res.headersSent) {
        res.writeHead(500);
        res.end();
      }
    });
  };
}

function pathOf(req: IncomingMessage): string {
  return new URL(req.url ?? '/', 'http://localhost').pathname;
}

/**
 * The body, or `too_large` as soon as it passes `maxBytes` (a declared length over it is not read at all). The
 * rest of a too-large body is drained unread, so the client can take its 413 before the connection closes.
 */
function readCapped(req: IncomingMessage, maxBytes: number): Promise<Buffer | 'too_large'> {
  if (Number(req.headers['content-length'] ?? 0) > maxBytes) return Promise.resolve('too_large');
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBytes) {
        chunks.push(chunk);
        return;
      }
      req.off('data', onData);
      req.off('end', onEnd);
      resolve('too_large');
    };
    const onEnd = () => resolve(Buffer.concat(chunks));
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', reject);
  });
}

function isVerified(secret: string, body: string, signature: string, timestamp: number, nowMs: number): boolean {
  try {
    verifySlackRequest({
      signingSecret: secret,
      body,
      headers: { 'x-slack-signature': signature, 'x-slack-request-timestamp': timestamp },
      nowMilliseconds: nowMs,
    });
    return true;
  } catch {
    return false;
  }
}

/** Interactions arrive as one `payload` form field holding a JSON object; commands as plain form fields. */
function checkShape(form: ReturnType<typeof parseForm> | undefined, text: string): Checked {
  const raw = form ? form.payload : text;
  if (form && raw === undefined) return { ok: true, kind: typeof form.command === 'string' ? 'command' : 'other' };
  if (typeof raw !== 'string') return { ok: false, why: 'more than one payload field' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return { ok: false, why: 'the payload is not JSON' };
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return { ok: false, why: 'the payload is not a JSON object' };
  }
  return { ok: true, kind: form ? 'interaction' : 'other' };
}

const REPEATED = 'this request was already received and is applied only once';
const REPEATED_TOLD = ':repeat: This `/dg` request was already received; it is applied only once.';
const UNCHECKABLE = 'the bot could not check that this request is new (Redis did not answer)';
const UNCHECKABLE_TOLD =
  ':warning: The bot could not check this request (its Redis did not answer); nothing was done. Try again shortly.';

function plainAnswer(res: ServerResponse, status: number, code: ErrorCode, why: string): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' });
  res.end(`${code}: ${why}\n`);
}

function ephemeralAnswer(res: ServerResponse, text: string): void {
  if (res.headersSent) return;
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ response_type: 'ephemeral', text }));
}
