import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/errors.js';
import type {
  ApiTimeoutError,
  ApiUnexpectedStatusError,
  ApiUnreachableError,
  ContractViolationError,
} from '../../../src/executors/dg-http/api-errors.js';
import { RateBudget } from '../../../src/executors/dg-http/rate-budget.js';
import { createLogger } from '../../../src/logger.js';
import { clientMaker } from './fixtures.js';

const fixtures = new URL('../../unit/executors/dg-http/fixtures/', import.meta.url);
const fixture = (name: string) => readFileSync(new URL(name, fixtures), 'utf8');

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

let server: Server;
let baseUrl: string;
let handler: Handler;
let seen: Seen[] = [];
let connections = 0;

function json(res: ServerResponse, status: number, body: unknown, requestId?: string) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    ...(requestId ? { 'x-request-id': requestId } : {}),
  });
  res.end(text);
}

const client = clientMaker(() => ({
  baseUrl,
  apiToken: 'reader-secret',
  adminToken: 'admin-secret',
  tenantId: 'default',
}));

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      handler(req, res, body);
    });
  });
  server.on('connection', () => {
    connections += 1;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  await client.closeAll();
  server.closeAllConnections();
  seen = [];
  connections = 0;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('requests DecisionGraph expects', () => {
  it('sends bearer token, tenant, a fresh request id, and keeps the returned id', async () => {
    handler = (req, res) => json(res, 200, fixture('projection-health.json'), `${req.headers['x-request-id']}-echo`);
    const c = client();
    const first = await c.projectionHealth();
    await c.projectionHealth({ tenantId: 'acme' });

    expect(first.ok).toBe(true);
    if (!first.ok) return;
    expect(first.data.event_log_last_seq).toBe(2168);
    expect(seen[0]?.headers).toMatchObject({
      authorization: 'Bearer reader-secret',
      'x-tenant-id': 'default',
      accept: 'application/json',
    });
    expect(seen[1]?.headers['x-tenant-id']).toBe('acme');
    expect(seen[0]?.headers['x-request-id']).not.toBe(seen[1]?.headers['x-request-id']);
    expect(first.evidence).toMatchObject({
      endpoint: 'GET /api/v1/projections/health',
      method: 'GET',
      path: '/api/v1/projections/health',
      tenantId: 'default',
      scope: 'read',
      status: 200,
      requestId: `${first.evidence.sentRequestId}-echo`,
      rateWaitMs: 0,
    });
    expect(first.evidence.latencyMs).toBeGreaterThanOrEqual(0);
    expect(Date.parse(first.evidence.attemptedAt)).not.toBeNaN();
    expect(JSON.stringify(first.evidence)).not.toContain('secret');
  });

  it('uses the admin token for /admin routes, the API token when no admin token is set', async () => {
    handler = (_req, res) => json(res, 202, fixture('replay-run.json'));
    await client().startReplay({ mode: 'catch_up', projection: 'trace_summary', reason: 'close projector lag' });
    await client({ adminToken: undefined }).getReplay('replay-5763');
    expect(seen.map((s) => s.headers.authorization)).toEqual(['Bearer admin-secret', 'Bearer reader-secret']);
    expect(JSON.parse(seen[0]?.body ?? '')).toEqual({
      mode: 'catch_up',
      projection: 'trace_summary',
      reason: 'close projector lag',
    });
    expect(seen[0]?.headers['content-type']).toBe('application/json');
  });

  it('healthz goes without token or tenant', async () => {
    handler = (_req, res) => json(res, 200, fixture('healthz.json'));
    const result = await client().healthz();
    expect(result.ok).toBe(true);
    expect(seen[0]?.headers.authorization).toBeUndefined();
    expect(seen[0]?.headers['x-tenant-id']).toBeUndefined();
    expect(result.evidence).toMatchObject({ tenantId: null, scope: null });
  });

  it('encodes path segments and query parameters', async () => {
    handler = (_req, res) =>
      json(res, 404, { error: { code: 'not_found', details: {}, message: 'nope' }, request_id: 'r' });
    const c = client();
    await c.getTrace('a/b c?x');
    await c.getWorkflow('trace-1:exception:ex 1');
    await c.cancelReplay('replay-1');
    await c.graphContext({ nodeType: 'trace', nodeId: 't 1', maxDepth: 2, edgeTypes: ['a', 'b'] });
    await c.listWorkflows({ onlyOpen: false, limit: 50, traceId: 'trace-1' });
    expect(seen.map((s) => `${s.method} ${s.url}`)).toEqual([
      'GET /api/v1/traces/a%2Fb%20c%3Fx',
      'GET /api/v1/workflows/trace-1%3Aexception%3Aex%201',
      'POST /api/v1/admin/replays/replay-1/cancel',
      'GET /api/v1/graph/context?node_type=trace&node_id=t+1&max_depth=2&edge_types=a%2Cb',
      'GET /api/v1/workflows?trace_id=trace-1&only_open=false&limit=50',
    ]);
    expect(seen[2]?.body).toBe('');
  });

  it('consumes error bodies so keep-alive connections are reused, not leaked', async () => {
    handler = (_req, res) =>
      json(res, 409, {
        error: {
          code: 'projection_out_of_date',
          // Larger than undici's 64 KiB high-water mark: an unread body would hold its socket.
          details: { padding: 'x'.repeat(256 * 1024) },
          message: 'Projections at log_seq=2150, events at 2168',
        },
        request_id: 'r-409',
      });
    const c = client();
    const results = [];
    for (let i = 0; i < 10; i += 1) results.push(await c.getTrace('trace-0001'));
    expect(results.map((r) => (r.ok ? 'ok' : r.error.code))).toEqual(Array(10).fill(ErrorCode.ApiProjectionOutOfDate));
    expect(results[0]?.evidence.requestId).toBe('r-409');
    // undici hands a socket back to its pool a tick after the body ends, so two may alternate; a body left
    // unread would pin its socket and force a new connection per call.
    expect(connections).toBeLessThanOrEqual(2);
  });

  it('logs one debug line per call with evidence, never the token or the body', async () => {
    handler = (_req, res) => json(res, 200, fixture('projection-health.json'), 'r-log');
    const lines: string[] = [];
    const logger = createLogger({ level: 'debug' }, { write: (line: string) => void lines.push(line) });
    await client({ logger }).projectionHealth();
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0] ?? '{}') as { msg: string; dg: Record<string, unknown> };
    expect(entry.msg).toBe('decisiongraph call');
    expect(entry.dg).toMatchObject({ endpoint: 'GET /api/v1/projections/health', status: 200, requestId: 'r-log' });
    expect(lines[0]).not.toContain('reader-secret');
    expect(lines[0]).not.toContain('full_digest');
  });

  it('misuse throws instead of calling out', async () => {
    handler = (_req, res) => json(res, 200, {});
    const c = client();
    await expect(c.projectionHealth({ tenantId: 'bad\ntenant' })).rejects.toThrow(TypeError);
    expect(() => c.getTrace('')).toThrow(TypeError);
    expect(() => c.startReplay({ mode: 'catch_up', projection: 'all', reason: ' ' })).toThrow(TypeError);
    expect(() => c.startReplay({ mode: 'catch_up', projection: 'all', reason: 'x', metadata: { ratio: 0.5 } })).toThrow(
      /integers only/,
    );
    expect(seen).toEqual([]);
  });
});

describe('failures on the wire', () => {
  it('a server that never answers ends in a headers timeout', async () => {
    handler = () => {};
    const result = await client({ timeouts: { headersMs: 200 } }).projectionHealth();
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe(ErrorCode.ApiTimeout);
    expect((result.error as ApiTimeoutError).phase).toBe('headers');
    expect((result.error as ApiTimeoutError).timeoutMs).toBe(200);
    expect(result.evidence.status).toBeNull();
    expect(result.evidence.latencyMs).toBeGreaterThanOrEqual(190);
  });

  it('a body that stalls ends in a body timeout, with the status kept', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"data":');
    };
    const result = await client({ timeouts: { bodyMs: 200 } }).projectionHealth();
    if (result.ok) throw new Error('expected a failure');
    expect((result.error as ApiTimeoutError).phase).toBe('body');
    expect(result.evidence.status).toBe(200);
  });

  it('a socket closed mid-body is a connection reset', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'x-request-id': 'r-cut' });
      res.write('{"data":{"tenant_id":"default",', () => res.socket?.destroy());
    };
    const result = await client().projectionHealth();
    if (result.ok) throw new Error('expected a failure');
    expect(result.error.code).toBe(ErrorCode.ApiConnectionReset);
    expect(result.error.transient).toBe(true);
    expect(result.evidence).toMatchObject({ status: 200, requestId: 'r-cut' });
  });

  it('malformed JSON on a 200 is a contract violation naming the endpoint', async () => {
    handler = (_req, res) => json(res, 200, '{"data": {"tenant_id": "default",,}');
    const result = await client().projectionHealth();
    if (result.ok) throw new Error('expected a failure');
    expect(result.error.code).toBe(ErrorCode.ContractViolation);
    expect((result.error as ContractViolationError).issues[0]?.path).toBe('(body)');
    expect(result.error.message).toContain('GET /api/v1/projections/health');
  });

  it('a well-formed 200 missing a field is a contract violation naming the field', async () => {
    const body = JSON.parse(fixture('projection-health.json')) as { data: Record<string, unknown> };
    delete body.data.open_runs;
    handler = (_req, res) => json(res, 200, body);
    const result = await client().projectionHealth();
    if (result.ok) throw new Error('expected a failure');
    expect((result.error as ContractViolationError).issues.map((i) => i.path)).toEqual(['data.open_runs']);
  });

  it('an HTML 500 (debug error page) is an unexpected status', async () => {
    handler = (_req, res) => {
      res.writeHead(500, { 'content-type': 'text/html; charset=utf-8' });
      res.end('<!DOCTYPE html><html><body><h1>RuntimeError at GET /api/v1/traces/x</h1></body></html>');
    };
    const result = await client().getTrace('x');
    if (result.ok) throw new Error('expected a failure');
    expect(result.error.code).toBe(ErrorCode.ApiUnexpectedStatus);
    expect((result.error as ApiUnexpectedStatusError).contentType).toBe('text/html; charset=utf-8');
    expect(result.evidence.status).toBe(500);
  });

  it('a response past maxResponseBytes is cut off as a contract violation', async () => {
    handler = (_req, res) => json(res, 200, { data: { blob: 'x'.repeat(5000) }, request_id: 'r' });
    const result = await client({ maxResponseBytes: 1024 }).projectionHealth();
    if (result.ok) throw new Error('expected a failure');
    expect((result.error as ContractViolationError).issues[0]?.message).toBe('larger than 1024 bytes');
  });

  it('a closed port is unreachable', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const result = await client({ baseUrl: `http://127.0.0.1:${port}` }).healthz();
    if (result.ok) throw new Error('expected a failure');
    expect(result.error.code).toBe(ErrorCode.ApiUnreachable);
    expect((result.error as ApiUnreachableError).systemCode).toBe('ECONNREFUSED');
    expect(result.evidence.status).toBeNull();
  });

  it("the caller's signal aborts a hanging call", async () => {
    handler = () => {};
    const result = await client().projectionHealth({ signal: AbortSignal.timeout(100) });
    if (result.ok) throw new Error('expected a failure');
    expect((result.error as ApiTimeoutError).phase).toBe('aborted');
  });
});

describe('rate budget in the client', () => {
  it('after a 429 the next call of that scope waits for the next window; other scopes do not', async () => {
    let t = Date.UTC(2026, 2, 7, 12, 0, 30);
    const sleeps: number[] = [];
    const budget = new RateBudget({
      now: () => t,
      sleep: async (ms) => {
        sleeps.push(ms);
        t += ms;
      },
    });
    let status = 429;
    handler = (req, res) => {
      if (req.url?.startsWith('/api/v1/admin/')) {
        json(
          res,
          status,
          status === 429
            ? {
                error: { code: 'rate_limited', details: {}, message: 'Rate limit exceeded for admin API scope' },
                request_id: 'r',
              }
            : JSON.parse(fixture('replay-run.json')),
        );
      } else json(res, 200, fixture('projection-health.json'));
    };
    const c = client({ rateBudget: budget, now: () => t });
    const limited = await c.getReplay('replay-5763');
    expect(limited.ok ? 'ok' : limited.error.code).toBe(ErrorCode.ApiRateLimited);

    const read = await c.projectionHealth();
    expect(read.evidence.rateWaitMs).toBe(0);

    status = 202;
    const next = await c.getReplay('replay-5763');
    expect(next.ok).toBe(true);
    expect(sleeps).toEqual([30_250]);
    expect(next.evidence.rateWaitMs).toBe(30_250);
    expect(next.evidence.attemptedAt).toBe('2026-03-07T12:01:00.250Z');
  });

  it('an abort during the budget wait sends nothing', async () => {
    const budget = new RateBudget({ limits: { read: 1 } });
    handler = (_req, res) => json(res, 200, fixture('projection-health.json'));
    const c = client({ rateBudget: budget });
    await c.projectionHealth();
    const result = await c.projectionHealth({ signal: AbortSignal.timeout(50) });
    if (result.ok) throw new Error('expected a failure');
    expect((result.error as ApiTimeoutError).phase).toBe('aborted');
    expect(result.evidence.status).toBeNull();
    expect(seen).toHaveLength(1);
  });
});
