import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { Agent, request } from 'undici';
import type { RecordedCall } from './call-recorder.js';

export interface ReplayTarget {
  /** Recorded origin → origin to send to (the same when the simulator is the same). */
  readonly origins: ReadonlyMap<string, string>;
  /** Authorization to send instead of the recorded one, per target origin (the control API's token). */
  readonly authorization?: ReadonlyMap<string, string>;
  readonly databaseUrl: string;
}

export interface ReplayResult {
  readonly ms: number;
  readonly http: number;
  readonly sql: number;
  /** Per call: the status (or error code) the replay got, to compare with the recorded run. */
  readonly outcomes: string[];
}

const DROPPED_HEADERS = new Set(['host', 'content-length', 'connection', 'transfer-encoding']);

let replays = 0;

function headersFor(flat: readonly string[], authorization: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const name = (flat[i] as string).toLowerCase();
    if (DROPPED_HEADERS.has(name)) continue;
    // The receiver remembers the run's key and would answer without acting: the script's call is a new one.
    out[name] = name === 'idempotency-key' ? `${flat[i + 1]}-replay-${++replays}` : (flat[i + 1] as string);
  }
  if (authorization !== undefined) out.authorization = authorization;
  return out;
}

/**
 * The plain script: the same calls, one after another, with one undici agent and one pg connection, bodies read
 * in full, nothing else. Connection set-up happens inside the timing, as it does for the run.
 */
export async function replayCalls(calls: readonly RecordedCall[], target: ReplayTarget): Promise<ReplayResult> {
  const agent = new Agent();
  let client: pg.Client | undefined;
  const outcomes: string[] = [];
  let http = 0;
  let sql = 0;
  const started = performance.now();
  try {
    for (const call of calls) {
      if (call.kind === 'http') {
        http++;
        const origin = target.origins.get(call.origin) ?? call.origin;
        try {
          const res = await request(`${origin}${call.path}`, {
            method: call.method as 'GET',
            headers: headersFor(call.headers, target.authorization?.get(origin)),
            body: call.body,
            dispatcher: agent,
          });
          await res.body.text();
          outcomes.push(String(res.statusCode));
        } catch (err) {
          outcomes.push(String((err as { code?: unknown }).code ?? 'error'));
        }
      } else {
        sql++;
        if (client === undefined) {
          client = new pg.Client({ connectionString: target.databaseUrl });
          client.on('error', () => undefined);
          await client.connect();
        }
        try {
          await client.query({
            text: call.text,
            ...(call.values ? { values: [...call.values] } : {}),
            ...(call.rowMode === 'array' ? { rowMode: 'array' as const } : {}),
          });
          outcomes.push('ok');
        } catch (err) {
          outcomes.push(String((err as { code?: unknown }).code ?? 'error'));
        }
      }
    }
    return { ms: performance.now() - started, http, sql, outcomes };
  } finally {
    await agent.close().catch(() => undefined);
    await client?.end().catch(() => undefined);
  }
}
