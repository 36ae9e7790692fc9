import { timingSafeEqual } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { lostAnswerOf } from '../runtime/context.js';
import type { Simulator } from '../simulator.js';
import { isFaultName } from '../types.js';
import { runHostAction } from './host-actions.js';
import { IdempotencyStore, type IdempotentAnswer } from './idempotency.js';

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return {};
  const parsed = JSON.parse(text) as unknown;
  return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
    ? (parsed as Record<string, unknown>)
    : {};
}

function authorized(req: IncomingMessage, token: string): boolean {
  const header = req.headers.authorization ?? '';
  const given = Buffer.from(header.startsWith('Bearer ') ? header.slice(7).trim() : '');
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** What `GET /state` reports. */
export function simulatorState(sim: Simulator): Record<string, unknown> {
  return {
    node: sim.nodeState,
    url: sim.url,
    database: sim.databaseName,
    release: sim.host.release,
    release_installed_at: sim.host.releaseInstalledAt,
    faults: [...sim.host.faults],
    fault_tenants: sim.activeFaults(),
    lost_answers: Object.fromEntries(sim.host.lostAnswers),
    writes_stopped: sim.host.writesStopped,
    allow_rebuild: sim.host.allowRebuild,
    latency_ms: sim.host.latencyMs + (sim.host.faults.has('slow') ? sim.host.slowLatencyMs : 0),
    active_replay_jobs: sim.node().coordinator.activeCount,
    active_workers: sim.node().workers.activeCount,
    known: sim.known,
    host_action_counts: sim.hostActionCounts(),
    backups: sim.backups.list(),
  };
}

/**
 * Sends a host action's answer, unless a host-answer fault loses it: `cut-off` destroys the connection unanswered,
 * `answer-lost` leaves it open and silent (the caller times out; closing the server ends it). Every request is
 * recorded with its key and what became of its answer.
 */
function answer(
  sim: Simulator,
  req: IncomingMessage,
  res: ServerResponse,
  route: string,
  done: IdempotentAnswer,
  idempotencyKey: string | null,
): void {
  const action = route.replaceAll('-', '_');
  const lost = lostAnswerOf(sim.host, action);
  const { status, body } = done.result;
  sim.recordHostRequest({ action, idempotencyKey, replayed: done.replayed, status, delivery: lost ?? 'answered' });
  if (lost === 'cut-off') {
    req.socket.destroy();
    return;
  }
  if (lost === 'answer-lost') return;
  send(res, status, body, done.replayed ? { 'idempotent-replayed': 'true' } : {});
}

/**
 * The control API on its own port: fault switches (`POST|DELETE /faults/:name[?tenant=t]`), `GET /state`, and the host
 * actions (`POST /host/<action>`, `GET /host/backups` as JSON lines), all behind the control bearer token. A host
 * action with an `Idempotency-Key` runs once per key (see {@link IdempotencyStore}).
 */
export function createControlServer(sim: Simulator, token: string): http.Server {
  const idempotency = new IdempotencyStore();
  return http.createServer(async (req, res) => {
    try {
      if (!authorized(req, token)) return send(res, 401, { error: 'control token required' });
      const url = new URL(req.url ?? '/', 'http://localhost');
      const parts = url.pathname.split('/').filter((p) => p !== '');
      const method = req.method ?? 'GET';
      if (method === 'GET' && url.pathname === '/state') return send(res, 200, simulatorState(sim));
      if (parts[0] === 'faults') {
        const name = parts[1];
        const tenant = url.searchParams.get('tenant');
        const hostAction = url.searchParams.get('action');
        const opts = {
          ...(tenant === null ? {} : { tenantId: tenant }),
          ...(hostAction === null ? {} : { action: hostAction }),
        };
        const fault = name === undefined ? undefined : isFaultName(name) ? name : null;
        if (fault === null || (fault === undefined && method !== 'DELETE')) {
          return send(res, 404, { error: `unknown fault ${name ?? ''}` });
        }
        if (method !== 'POST' && method !== 'DELETE') return send(res, 405, { error: 'use POST or DELETE' });
        try {
          if (method === 'DELETE') await sim.clear(fault, opts);
          else if (fault !== undefined) await sim.inject(fault, opts);
        } catch (err) {
          if (err instanceof RangeError) return send(res, 400, { error: err.message });
          throw err;
        }
        return send(res, 200, simulatorState(sim));
      }
      if (parts[0] === 'host' && parts.length === 2) {
        if (method === 'GET' && parts[1] === 'backups') {
          const lines = sim.backups.list().map((b) => JSON.stringify(b));
          res.writeHead(200, { 'content-type': 'application/x-ndjson; charset=utf-8' });
          res.end(lines.length > 0 ? `${lines.join('\n')}\n` : '');
          return;
        }
        if (method !== 'POST') return send(res, 405, { error: 'use POST' });
        const action = parts[1] as string;
        const body = await readJson(req);
        const key = req.headers['idempotency-key'];
        if (key === undefined) {
          const result = await runHostAction(sim, action, body);
          return answer(sim, req, res, action, { result, replayed: false }, null);
        }
        if (typeof key !== 'string' || !IdempotencyStore.isValidKey(key)) {
          return send(res, 400, {
            ok: false,
            action,
            error: 'Idempotency-Key must be 1 to 255 visible ASCII characters',
          });
        }
        const done = await idempotency.run(key, action, body, () => runHostAction(sim, action, body));
        return answer(sim, req, res, action, done, key);
      }
      return send(res, 404, { error: 'not found' });
    } catch (err) {
      if (!res.headersSent) send(res, 500, { error: err instanceof Error ? err.message : String(err) });
    }
  });
}
