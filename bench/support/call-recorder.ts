import diagnostics from 'node:diagnostics_channel';
import type pg from 'pg';

/** One HTTP request undici sent to a watched origin, as sent, with how it ended. */
export interface HttpCall {
  readonly kind: 'http';
  readonly origin: string;
  readonly method: string;
  readonly path: string;
  /** Flat `[name, value, name, value, ...]`, as undici holds them. */
  readonly headers: readonly string[];
  readonly body: string | null;
  status: number | null;
  error: string | null;
}

/** One statement a watched pg pool ran. */
export interface SqlCall {
  readonly kind: 'sql';
  readonly text: string;
  readonly values: readonly unknown[] | undefined;
  readonly rowMode: string | undefined;
}

export type RecordedCall = HttpCall | SqlCall;

interface UndiciRequest {
  readonly origin?: unknown;
  readonly method?: unknown;
  readonly path?: unknown;
  readonly headers?: unknown;
  readonly body?: unknown;
}

function originOf(value: unknown): string {
  if (typeof value === 'string') return new URL(value).origin;
  if (value instanceof URL) return value.origin;
  return String(value);
}

function flatHeaders(value: unknown): string[] {
  if (Array.isArray(value)) return value.map((v) => String(v));
  if (typeof value === 'string') {
    // Older undici kept headers as one `name: value\r\n` string.
    return value
      .split('\r\n')
      .filter((l) => l.includes(':'))
      .flatMap((l) => {
        const i = l.indexOf(':');
        return [l.slice(0, i).trim(), l.slice(i + 1).trim()];
      });
  }
  return [];
}

function bodyText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
  throw new Error('a recorded request has a streamed body: it cannot be replayed');
}

/**
 * Records, in order, every HTTP request undici sends to the watched origins (through any dispatcher: undici
 * publishes each request on its diagnostics channels) and every statement of the watched pg pools. The order is
 * the order the calls were issued in, which is what a sequential replay follows.
 */
export class CallRecorder {
  private calls: RecordedCall[] = [];
  private readonly byRequest = new WeakMap<object, HttpCall>();
  private readonly origins: Set<string>;
  private active = true;

  private readonly onCreate = (message: unknown): void => {
    if (!this.active) return;
    const request = (message as { request: UndiciRequest }).request;
    const origin = originOf(request.origin);
    if (!this.origins.has(origin)) return;
    const call: HttpCall = {
      kind: 'http',
      origin,
      method: String(request.method),
      path: String(request.path),
      headers: flatHeaders(request.headers),
      body: bodyText(request.body),
      status: null,
      error: null,
    };
    this.byRequest.set(request as object, call);
    this.calls.push(call);
  };

  private readonly onHeaders = (message: unknown): void => {
    const m = message as { request: object; response: { statusCode: number } };
    const call = this.byRequest.get(m.request);
    if (call) call.status = m.response.statusCode;
  };

  private readonly onError = (message: unknown): void => {
    const m = message as { request: object; error: { code?: unknown; name?: unknown } };
    const call = this.byRequest.get(m.request);
    if (call) call.error = String(m.error.code ?? m.error.name ?? 'error');
  };

  constructor(origins: readonly string[]) {
    this.origins = new Set(origins.map(originOf));
    diagnostics.subscribe('undici:request:create', this.onCreate);
    diagnostics.subscribe('undici:request:headers', this.onHeaders);
    diagnostics.subscribe('undici:request:error', this.onError);
  }

  /** Records every statement run on connections this pool opens from now on. */
  watchPool(pool: pg.Pool): void {
    pool.on('connect', (client) => {
      const original = client.query.bind(client) as (...args: unknown[]) => unknown;
      (client as { query: unknown }).query = (...args: unknown[]) => {
        const first = args[0];
        if (this.active && typeof first === 'string') {
          this.calls.push({ kind: 'sql', text: first, values: args[1] as unknown[] | undefined, rowMode: undefined });
        } else if (this.active && first !== null && typeof first === 'object' && 'text' in first) {
          const q = first as { text: string; values?: unknown[]; rowMode?: string };
          this.calls.push({ kind: 'sql', text: q.text, values: q.values, rowMode: q.rowMode });
        }
        return original(...args);
      };
    });
  }

  /** The calls recorded since the last take, in issue order; recording goes on afresh. */
  take(): RecordedCall[] {
    const taken = this.calls;
    this.calls = [];
    return taken;
  }

  stop(): void {
    this.active = false;
    diagnostics.unsubscribe('undici:request:create', this.onCreate);
    diagnostics.unsubscribe('undici:request:headers', this.onHeaders);
    diagnostics.unsubscribe('undici:request:error', this.onError);
  }
}
