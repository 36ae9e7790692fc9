import { webApi } from '@slack/bolt';

/**
 * What a failed Web API call means for the outbox, decided from the web-api error's `code` (never its message).
 * `maybeSent`: Slack may have acted on the call though its answer never came (a timeout, a dropped connection), so
 * a post must be looked for before it is posted again.
 */
export type SlackFailure =
  /** Wait `retryAfterMs`, then go on; nothing is dropped. */
  | { readonly kind: 'rate_limited'; readonly code: string; readonly retryAfterMs: number; readonly maybeSent: false }
  /** Slack is down, slow, or answering 5xx; retry with backoff for as long as it takes. */
  | { readonly kind: 'transient'; readonly code: string; readonly maybeSent: boolean }
  /** Slack refused the blocks or the length; try once more as text only. */
  | { readonly kind: 'content'; readonly code: string; readonly maybeSent: false }
  /** Retrying the same content cannot succeed (wrong channel, bad token…); record it and move on. */
  | { readonly kind: 'permanent'; readonly code: string; readonly maybeSent: false };

/** `ok:false` errors that mean "too long or malformed blocks": the text-only fallback may get through. */
export const CONTENT_ERRORS: ReadonlySet<string> = new Set([
  'invalid_blocks',
  'invalid_blocks_format',
  'msg_too_long',
  'msg_blocks_too_long',
  'too_many_attachments',
  'invalid_attachments',
]);

/** `ok:false` errors that say "try again later"; every other `ok:false` error is final for that content. */
export const TRANSIENT_ERRORS: ReadonlySet<string> = new Set([
  'internal_error',
  'fatal_error',
  'service_unavailable',
  'request_timeout',
  'team_added_to_org',
]);

/** Used when a 429 comes without a usable `Retry-After`. */
const DEFAULT_RETRY_AFTER_MS = 1000;

/** Socket errors raised before a request could be sent. */
const NOT_CONNECTED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/** fetch wraps the socket error as `cause` of a TypeError, which web-api wraps as `original`. */
function neverConnected(error: unknown): boolean {
  let current: unknown = (error as { original?: unknown } | null)?.original;
  for (let depth = 0; depth < 4 && current; depth++) {
    if (NOT_CONNECTED.has(codeOf(current) ?? '')) return true;
    const aggregate = (current as { errors?: unknown }).errors;
    if (Array.isArray(aggregate) && aggregate.some((e) => NOT_CONNECTED.has(codeOf(e) ?? ''))) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

export function classifySlackFailure(error: unknown): SlackFailure {
  switch (codeOf(error)) {
    case webApi.ErrorCode.RateLimitedError: {
      const seconds = Number((error as { retryAfter?: unknown }).retryAfter);
      const retryAfterMs = Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : DEFAULT_RETRY_AFTER_MS;
      return { kind: 'rate_limited', code: 'ratelimited', retryAfterMs, maybeSent: false };
    }
    case webApi.ErrorCode.PlatformError: {
      const slackError = (error as { data?: { error?: unknown } }).data?.error;
      const code = typeof slackError === 'string' && slackError.length > 0 ? slackError : 'unknown_error';
      if (code === 'ratelimited' || code === 'rate_limited') {
        return { kind: 'rate_limited', code, retryAfterMs: DEFAULT_RETRY_AFTER_MS, maybeSent: false };
      }
      if (CONTENT_ERRORS.has(code)) return { kind: 'content', code, maybeSent: false };
      if (TRANSIENT_ERRORS.has(code)) return { kind: 'transient', code, maybeSent: false };
      return { kind: 'permanent', code, maybeSent: false };
    }
    case webApi.ErrorCode.HTTPError: {
      const status = Number((error as { statusCode?: unknown }).statusCode);
      const code = `http_${Number.isFinite(status) ? status : 'error'}`;
      // A 5xx from Slack's edge can follow a post that went through; a 408 or other 4xx from a proxy cannot.
      if (status >= 500) return { kind: 'transient', code, maybeSent: true };
      if (status === 408) return { kind: 'transient', code, maybeSent: false };
      return { kind: 'permanent', code, maybeSent: false };
    }
    case webApi.ErrorCode.RequestError:
      // A reset or our timeout may come after Slack acted on the request; a refused or unresolved connection not.
      return { kind: 'transient', code: 'request_failed', maybeSent: !neverConnected(error) };
    default:
      return { kind: 'transient', code: 'unexpected_error', maybeSent: true };
  }
}
