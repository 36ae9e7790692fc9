import { request } from 'undici';
import type { SimulatorHandle } from '../../../sim/index.js';

/** Decoded JSON of an answer, walked freely by assertions. */
// biome-ignore lint/suspicious/noExplicitAny: assertions walk arbitrary response JSON
export type Json = any;

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Json;
  text: string;
}

export interface CallOptions {
  token?: string | null;
  tenant?: string | null;
  headers?: Record<string, string>;
}

async function answer(res: Awaited<ReturnType<typeof request>>): Promise<Answer> {
  const text = await res.body.text();
  let body: unknown = null;
  try {
    body = text === '' ? null : JSON.parse(text);
  } catch {
    body = null;
  }
  return { status: res.statusCode, headers: res.headers, body, text };
}

/** DecisionGraph API calls as a client makes them: bearer token and tenant header unless told otherwise. */
export function apiClient(sim: SimulatorHandle, defaults: { token?: string } = {}) {
  const headersFor = (o: CallOptions = {}) => {
    const h: Record<string, string> = { ...o.headers };
    const tenant = o.tenant === undefined ? 'default' : o.tenant;
    const token = o.token === undefined ? (defaults.token ?? 'dev-admin-token') : o.token;
    if (tenant !== null) h['x-tenant-id'] = tenant;
    if (token !== null) h.authorization = `Bearer ${token}`;
    return h;
  };
  return {
    async get(path: string, o?: CallOptions): Promise<Answer> {
      return answer(await request(`${sim.url}${path}`, { headers: headersFor(o) }));
    },
    async post(path: string, body?: unknown, o?: CallOptions): Promise<Answer> {
      return answer(
        await request(`${sim.url}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headersFor(o) },
          body: body === undefined ? undefined : JSON.stringify(body),
        }),
      );
    },
  };
}

/** The simulator's control API. */
export function controlClient(sim: SimulatorHandle) {
  const call = async (
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Answer> =>
    answer(
      await request(`${sim.controlUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${sim.controlToken}`, 'content-type': 'application/json', ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      }),
    );
  return {
    get: (path: string) => call('GET', path),
    post: (path: string, body?: unknown, headers?: Record<string, string>) => call('POST', path, body, headers),
    del: (path: string) => call('DELETE', path),
  };
}

/** Polls `probe` until it returns a value other than undefined (state that moves on its own, e.g. a replay run). */
export async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs = 10_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`condition not met within ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** A valid append body for `POST /api/v1/events`. */
export function eventBody(traceId: string, traceSeq: number, eventType: string, payload: Record<string, unknown> = {}) {
  return {
    actor: { actor_id: 'test-agent', actor_type: 'agent' },
    event_id: `${traceId}-${traceSeq}`,
    event_type: eventType,
    idempotency_key: `${traceId}:${traceSeq}`,
    occurred_at: new Date().toISOString(),
    payload,
    source: { producer_id: 'sim-test', system: 'tests' },
    trace_id: traceId,
    trace_seq: traceSeq,
  };
}
