import { Agent, request } from 'undici';
import type { HttpMethod } from '../../config/recovery-config.js';
import { OutputTail } from './output-tail.js';
import { BACKUP_LIST_MAX_BYTES, OUTPUT_TAIL_BYTES } from './types.js';

export interface HttpRun {
  readonly method: HttpMethod;
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  /** Already serialised JSON. */
  readonly body: string | undefined;
  readonly timeoutMs: number;
  readonly keepBody: boolean;
  readonly signal?: AbortSignal | undefined;
}

/**
 * `not_sent`: no connection was made (refused, unknown host, connect timeout), so the host did nothing.
 * `no_answer`: the request left, then the connection was reset or closed or the deadline passed before a complete
 * answer: the host may have acted, and its outcome is unknown. `aborted`: the caller cancelled.
 */
export type HttpFailureKind = 'not_sent' | 'no_answer' | 'aborted';

export interface HttpOutcome {
  readonly startedAt: Date;
  readonly durationMs: number;
  readonly status: number | null;
  readonly body: OutputTail;
  /** Set when no complete response arrived. */
  readonly failure: HttpFailure | null;
}

export interface HttpFailure {
  readonly kind: HttpFailureKind;
  /** The deadline (`timeoutMs`) ran out, before or after the request left. */
  readonly timedOut: boolean;
  readonly detail: string;
}

const TIMEOUTS = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/**
 * One request with one deadline for connect, headers and body together. Its own short-lived Agent keeps the
 * timeouts explicit (undici's defaults are minutes) and leaves no pooled socket behind after a host action.
 */
export async function runHttp(run: HttpRun): Promise<HttpOutcome> {
  const body = new OutputTail(OUTPUT_TAIL_BYTES, run.keepBody ? BACKUP_LIST_MAX_BYTES : 0);
  const startedAt = new Date();
  const started = performance.now();
  const deadline = AbortSignal.timeout(run.timeoutMs);
  const signal = run.signal ? AbortSignal.any([run.signal, deadline]) : deadline;
  const agent = new Agent({
    connect: { timeout: run.timeoutMs },
    headersTimeout: run.timeoutMs,
    bodyTimeout: run.timeoutMs,
  });
  // A connection made means the request was written next: from then on a lost answer leaves the outcome unknown.
  let connected = false;
  agent.on('connect', () => {
    connected = true;
  });
  let status: number | null = null;
  let failure: HttpFailure | null = null;
  try {
    const response = await request(run.url, {
      method: run.method,
      headers: { ...run.headers },
      body: run.body,
      signal,
      dispatcher: agent,
    });
    status = response.statusCode;
    for await (const chunk of response.body) body.push(chunk as Buffer);
  } catch (err) {
    failure = classify(err, run.signal, deadline, connected);
  } finally {
    await agent.destroy().catch(() => undefined);
  }
  return { startedAt, durationMs: Math.round(performance.now() - started), status, body, failure };
}

function classify(
  err: unknown,
  callerSignal: AbortSignal | undefined,
  deadline: AbortSignal,
  sent: boolean,
): HttpFailure {
  const code = errorCode(err);
  const timedOut = deadline.aborted || (code !== undefined && TIMEOUTS.has(code));
  const detail = code ?? (timedOut ? 'deadline exceeded' : err instanceof Error ? err.name : 'unknown error');
  if (callerSignal?.aborted) return { kind: 'aborted', timedOut: false, detail: 'aborted by the caller' };
  if (!sent || code === 'UND_ERR_CONNECT_TIMEOUT') return { kind: 'not_sent', timedOut, detail };
  return { kind: 'no_answer', timedOut, detail };
}

/** undici throws coded errors; Node's dual-stack connect wraps them in an AggregateError. */
function errorCode(err: unknown): string | undefined {
  const e = err as { code?: unknown; errors?: unknown[]; cause?: unknown } | null;
  if (e === null || typeof e !== 'object') return undefined;
  if (typeof e.code === 'string') return e.code;
  const inner = Array.isArray(e.errors) ? e.errors[0] : e.cause;
  return inner === undefined ? undefined : errorCode(inner);
}
