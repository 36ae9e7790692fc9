import pg from 'pg';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SimulatorHandle, startSimulator } from '../../../sim/index.js';
import { apiClient, eventBody, eventually, type Json } from './sim-client.js';

let sim: SimulatorHandle;
let api: ReturnType<typeof apiClient>;

beforeAll(async () => {
  sim = await startSimulator({
    seed: { tracesPerTenant: 40 },
    serviceAccounts: {
      service_accounts: [
        { account_id: 'reader', roles: ['reader'], tenant_ids: ['default'], permissions: [], token: 'r-token' },
        { account_id: 'rotating', roles: ['reader'], tenant_ids: ['*'], tokens: ['old-token', 'new-token'] },
        { account_id: 'writer', roles: ['writer'], tenant_ids: ['*'], permissions: [], token: 'w-token' },
        { account_id: 'admin-noperm', roles: ['admin'], tenant_ids: ['*'], permissions: [], token: 'a-token' },
        { account_id: 'admin-main', roles: ['admin'], tenant_ids: ['*'], permissions: ['*'], token: 'admin-token' },
      ],
    },
  });
  api = apiClient(sim, { token: 'admin-token' });
});

afterAll(async () => {
  await sim?.close();
});

describe('authentication in DecisionGraph order', () => {
  const path = '/api/v1/projections/health';

  it('asks for the tenant header before anything else', async () => {
    const a = await api.get(path, { tenant: null, token: null });
    expect(a.status).toBe(400);
    expect(a.body.error).toEqual({ code: 'invalid_argument', details: {}, message: 'x-tenant-id header is required' });
    expect((await api.get(path, { tenant: '   ', token: 'r-token' })).status).toBe(400);
  });

  it('then requires a bearer token in the right format', async () => {
    const missing = await api.get(path, { token: null });
    expect([missing.status, missing.body.error.code, missing.body.error.message]).toEqual([
      401,
      'unauthorized',
      'Authentication required',
    ]);
    for (const authorization of ['bearer r-token', 'Token r-token', 'Bearer    ', 'Bearer']) {
      const a = await api.get(path, { token: null, headers: { authorization } });
      expect(a.status).toBe(401);
      expect(a.body.error.message).toBe('Authorization header must use Bearer token format');
    }
    const unknown = await api.get(path, { token: 'nope' });
    expect([unknown.status, unknown.body.error.message]).toEqual([401, 'Unknown service account token']);
  });

  it('accepts every token of a rotating account', async () => {
    expect((await api.get(path, { token: 'old-token' })).status).toBe(200);
    expect((await api.get(path, { token: 'new-token' })).status).toBe(200);
  });

  it('then checks the tenant, the role group and the permission', async () => {
    const tenant = await api.get(path, { token: 'r-token', tenant: 'acme' });
    expect([tenant.status, tenant.body.error.code, tenant.body.error.message]).toEqual([
      403,
      'forbidden',
      'Service account cannot access tenant acme',
    ]);
    const role = await api.post('/api/v1/admin/replays', { projection: 'all', reason: 'x' }, { token: 'w-token' });
    expect([role.status, role.body.error.message]).toEqual([403, 'Service account lacks required role']);
    const readerWrites = await api.post('/api/v1/events', {}, { token: 'r-token' });
    expect([readerWrites.status, readerWrites.body.error.message]).toEqual([
      403,
      'Service account lacks required role',
    ]);
    const perm = await api.post('/api/v1/admin/replays', { projection: 'all', reason: 'x' }, { token: 'a-token' });
    expect([perm.status, perm.body.error.message]).toEqual([403, 'Service account lacks projection_replay permission']);
  });
});

describe('envelopes and request ids', () => {
  it('echoes a trimmed client request id in the header and the envelope', async () => {
    const a = await api.get('/api/v1/projections/health', { headers: { 'x-request-id': '  my-req-1  ' } });
    expect(a.headers['x-request-id']).toBe('my-req-1');
    expect(a.body.request_id).toBe('my-req-1');
    expect(Object.keys(a.body).sort()).toEqual(['data', 'request_id']);
  });

  it('generates a 16-character base64url id otherwise, on errors too', async () => {
    const a = await api.get('/api/v1/traces/nope');
    expect(a.status).toBe(404);
    expect(a.body.request_id).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(a.headers['x-request-id']).toBe(a.body.request_id);
    expect(a.body.error).toEqual({ code: 'not_found', details: {}, message: 'Trace not found: nope' });
  });

  it('answers unknown routes and wrong methods in the framework shape', async () => {
    for (const [method, path] of [
      ['GET', '/api/v1/nothing'],
      ['DELETE', '/api/v1/traces/x'],
      ['GET', '/api/v1/events'],
    ] as const) {
      const res = await request(`${sim.url}${path}`, { method });
      expect(res.statusCode).toBe(404);
      expect(await res.body.json()).toEqual({ errors: { detail: 'Not Found' } });
    }
  });

  it('refuses non-JSON Accept with 406 and broken JSON bodies with 400, both unenveloped', async () => {
    const html = await api.get('/api/v1/projections/health', { headers: { accept: 'text/html' } });
    expect([html.status, html.body]).toEqual([406, { errors: { detail: 'Not Acceptable' } }]);
    const res = await request(`${sim.url}/api/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-tenant-id': 'default', authorization: 'Bearer w-token' },
      body: '{"broken":',
    });
    expect(res.statusCode).toBe(400);
    expect(await res.body.json()).toEqual({ errors: { detail: 'Bad Request' } });
  });
});

describe('healthz and projection health', () => {
  it('serves the raw health snapshot without auth', async () => {
    const res = await request(`${sim.url}/api/healthz`);
    const body = (await res.body.json()) as Json;
    expect(res.statusCode).toBe(200);
    expect(body.data).toBeUndefined();
    expect(body.auth).toEqual({
      bootstrap_source: 'application_env',
      configured_accounts: 5,
      operator_console_account_id: 'admin-noperm',
    });
    expect(body.store['repo_started?']).toBe(true);
    expect(body.projector).toMatchObject({ active_replay_jobs: 0, active_workers: 0, partition_count: 8 });
    expect(body.projection_health.tenant_id).toBe('default');
    expect(body.projection_health.projections.map((p: Json) => p.projection_name)).toEqual([
      'context_graph',
      'trace_summary',
      'precedent_index',
    ]);
  });

  it('reports every projection current after start, with digests', async () => {
    const a = await api.get('/api/v1/projections/health', { token: 'r-token' });
    expect(a.status).toBe(200);
    const { data } = a.body;
    expect(data.event_log_last_seq).toBeGreaterThan(100);
    for (const p of data.projections) {
      expect(p).toMatchObject({
        last_log_seq: data.event_log_last_seq,
        pending_events: 0,
        is_stale: false,
        open_failures: 0,
      });
      expect(p.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    }
    expect(data.full_digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(data.open_runs).toEqual([]);
  });
});

describe('reads', () => {
  it('reads the known trace with its events in trace_seq order and its summary', async () => {
    const a = await api.get(`/api/v1/traces/${sim.known.traceId}`, { token: 'r-token' });
    expect(a.status).toBe(200);
    const { events, summary } = a.body.data;
    expect(events.map((e: Json) => e.trace_seq)).toEqual(events.map((_: unknown, i: number) => i));
    expect(events[0].event_type).toBe('TraceStarted');
    expect(events[0].payload_hash).toMatch(/^sha256:/);
    expect(summary).toMatchObject({ trace_id: sim.known.traceId, event_count: events.length });
    expect(summary.finished_at).not.toBeNull();
    expect(summary.tenant_id).toBeUndefined();
  });

  it('validates graph and precedent parameters', async () => {
    const missing = await api.get('/api/v1/graph/context?node_type=trace');
    expect([missing.status, missing.body.error.message]).toEqual([400, 'node_id is required']);
    expect((await api.get('/api/v1/graph/context?node_type=trace&node_id=x&max_depth=11')).status).toBe(400);
    expect((await api.get('/api/v1/graph/edges?node_type=trace&node_id=x&limit=abc')).status).toBe(400);
    const pv = await api.get('/api/v1/precedents?policy_version=3');
    expect([pv.status, pv.body.error.code]).toEqual([400, 'invalid_argument']);
  });

  it('walks the context graph and pages edges in log_seq order', async () => {
    const trace = sim.known.traceId;
    const ctx = await api.get(`/api/v1/graph/context?node_type=trace&node_id=${trace}&max_depth=1`);
    expect(ctx.status).toBe(200);
    expect(ctx.body.data.center).toEqual({ node_type: 'trace', node_id: trace });
    expect(ctx.body.data.nodes.map((n: Json) => n.node_id)).toContain(`trace:${trace}`);
    expect(ctx.body.data.edges.length).toBeGreaterThan(0);
    const first = await api.get(`/api/v1/graph/edges?node_type=trace&node_id=${trace}&limit=1&direction=outgoing`);
    expect(first.body.data.edges).toHaveLength(1);
    const cursor = first.body.data.next_cursor;
    expect(cursor).toMatchObject({ direction: 'outgoing' });
    const second = await api.get(
      `/api/v1/graph/edges?node_type=trace&node_id=${trace}&limit=100&direction=outgoing&cursor_edge_key=${encodeURIComponent(cursor.edge_key)}&cursor_log_seq=${cursor.log_seq}`,
    );
    expect(second.body.data.edges[0].log_seq).toBeGreaterThanOrEqual(cursor.log_seq);
    expect(second.body.data.edges.map((e: Json) => e.edge_id)).not.toContain(cursor.edge_key);
    expect(second.body.data.next_cursor).toBeNull();
  });

  it('lists precedents newest first', async () => {
    const a = await api.get('/api/v1/precedents?limit=5');
    expect(a.status).toBe(200);
    expect(a.body.data.precedents.length).toBeGreaterThan(0);
    expect(Object.keys(a.body.data.precedents[0]).sort()).toEqual(
      ['finished_at', 'outcome', 'policy_id', 'policy_version', 'title', 'trace_id', 'workflow'].sort(),
    );
  });

  it('reads the workflow inbox and the known workflow', async () => {
    const list = await api.get('/api/v1/workflows?limit=3');
    expect(list.status).toBe(200);
    expect(list.body.data.items.length).toBeLessThanOrEqual(3);
    expect(list.body.data.summary.total_count).toBeGreaterThan(0);
    const id = sim.known.workflowId as string;
    const one = await api.get(`/api/v1/workflows/${encodeURIComponent(id)}`);
    expect(one.status).toBe(200);
    expect(one.body.data.workflow.workflow_id).toBe(id);
    expect(one.body.data.actions[0].action_id).toMatch(/^wfa:event:/);
    const missing = await api.get('/api/v1/workflows/nope');
    expect([missing.status, missing.body.error.message]).toEqual([404, 'Workflow not found: nope']);
  });
});

describe('workflow refresh', () => {
  it('folds a new exception into the inbox on the next workflow GET and advances the runtime cursor', async () => {
    const w = { token: 'w-token' };
    await api.post('/api/v1/events', eventBody('t-wf', 0, 'TraceStarted', { title: 'Refund', workflow: 'refunds' }), w);
    const exception = await api.post(
      '/api/v1/events',
      eventBody('t-wf', 1, 'ExceptionRequested', { exception_id: 'exc-1', policy_id: 'refund-limit', reason: 'big' }),
      w,
    );
    const list = await api.get('/api/v1/workflows?trace_id=t-wf');
    expect(list.status).toBe(200);
    expect(list.body.data.items).toHaveLength(1);
    expect(list.body.data.items[0]).toMatchObject({
      workflow_id: 't-wf:exception:exc-1',
      status: 'requested',
      policy_id: 'refund-limit',
      created_from_event_id: 't-wf-1',
      last_source_log_seq: exception.body.data.event.log_seq,
      overdue: false,
    });
    const approval = await api.post(
      '/api/v1/events',
      eventBody('t-wf', 2, 'ApprovalRecorded', { exception_id: 'exc-1', decision: 'approved' }),
      w,
    );
    const one = await api.get('/api/v1/workflows/t-wf%3Aexception%3Aexc-1');
    expect(one.body.data.workflow).toMatchObject({ status: 'approved', approval_event_id: 't-wf-2' });
    const db = new pg.Client({ connectionString: sim.databaseUrl });
    await db.connect();
    const runtime = await db.query(
      `SELECT last_log_seq::int AS seq FROM dg_workflow_runtime WHERE tenant_id = 'default'`,
    );
    await db.end();
    expect(runtime.rows[0].seq).toBeGreaterThanOrEqual(approval.body.data.event.log_seq);
    expect(one.body.data.actions.map((a: Json) => a.action_id)).toEqual(['wfa:event:t-wf-1', 'wfa:event:t-wf-2']);
  });
});

describe('appends', () => {
  it('appends, starts the projector, and the new trace becomes readable', async () => {
    const a = await api.post('/api/v1/events', eventBody('t-append', 0, 'TraceStarted', { title: 'T' }), {
      token: 'w-token',
    });
    expect(a.status).toBe(201);
    expect(a.body.data.projection_sync_triggered).toBe(true);
    expect(a.body.data.event).toMatchObject({ trace_id: 't-append', trace_seq: 0, tenant_id: 'default' });
    const trace = await eventually(async () => {
      const r = await api.get('/api/v1/traces/t-append');
      return r.status === 200 ? r : undefined;
    });
    expect(trace.body.data.summary.title).toBe('T');
    expect((await api.get('/api/healthz')).body.projector.active_workers).toBe(3);
    await eventually(async () => {
      const h = await api.get('/api/v1/projections/health');
      return h.body.data.projections.every((p: Json) => p.pending_events === 0) ? true : undefined;
    });
  });

  it('returns the original event for an idempotent retry and refuses a changed one', async () => {
    const body = eventBody('t-idem', 0, 'TraceStarted', { title: 'I' });
    const first = await api.post('/api/v1/events', body, { token: 'w-token' });
    const again = await api.post('/api/v1/events', body, { token: 'w-token' });
    expect(again.status).toBe(201);
    expect(again.body.data.event.log_seq).toBe(first.body.data.event.log_seq);
    const changed = await api.post('/api/v1/events', { ...body, payload: { title: 'J' } }, { token: 'w-token' });
    expect([changed.status, changed.body.error.code]).toEqual([409, 'idempotency_conflict']);
    expect(changed.body.error.details.mismatches).toContain('payload_hash');
  });

  it('enforces trace ordering, finished traces and unique event ids', async () => {
    const gap = await api.post('/api/v1/events', eventBody('t-idem', 2, 'InputObserved'), { token: 'w-token' });
    expect([gap.status, gap.body.error.code, gap.body.error.message]).toEqual([
      409,
      'event_sequence_invalid',
      'Expected trace_seq 1, got 2',
    ]);
    expect(gap.body.error.details).toEqual({ expected_trace_seq: 1 });
    const first = await api.post('/api/v1/events', eventBody('t-new', 0, 'InputObserved'), { token: 'w-token' });
    expect(first.body.error.message).toBe('First event must be TraceStarted, got InputObserved');
    await api.post('/api/v1/events', eventBody('t-idem', 1, 'TraceFinished', { outcome: 'done' }), {
      token: 'w-token',
    });
    const late = await api.post('/api/v1/events', eventBody('t-idem', 2, 'InputObserved'), { token: 'w-token' });
    expect([late.status, late.body.error.code, late.body.error.message]).toEqual([
      409,
      'conflict',
      "Trace 't-idem' is already finished",
    ]);
    const dup = await api.post(
      '/api/v1/events',
      { ...eventBody('t-other', 0, 'TraceStarted'), event_id: 't-idem-0', idempotency_key: 'other' },
      { token: 'w-token' },
    );
    expect([dup.status, dup.body.error.message]).toEqual([409, "event_id 't-idem-0' already exists"]);
  });

  it('refuses schema violations, floats and secret-like payloads with 422', async () => {
    const noActor = await api.post(
      '/api/v1/events',
      { ...eventBody('t-x', 0, 'TraceStarted'), actor: undefined },
      {
        token: 'w-token',
      },
    );
    expect([noActor.status, noActor.body.error.code]).toEqual([422, 'schema_violation']);
    const res = await request(`${sim.url}/api/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-tenant-id': 'default', authorization: 'Bearer w-token' },
      body: JSON.stringify(eventBody('t-x', 0, 'TraceStarted', { amount: 'X' })).replace('"X"', '1.0'),
    });
    expect(res.statusCode).toBe(422);
    const secret = await api.post('/api/v1/events', eventBody('t-x', 0, 'TraceStarted', { note: 'password=hunter2' }), {
      token: 'w-token',
    });
    expect([secret.status, secret.body.error.code]).toEqual([422, 'pii_policy_violation']);
  });
});
