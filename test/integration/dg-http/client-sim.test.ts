import { Agent, type Dispatcher } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEV_SERVICE_ACCOUNTS,
  type ServiceAccountsFile,
  type SimulatorHandle,
  startSimulator,
} from '../../../sim/index.js';
import { ErrorCode } from '../../../src/errors.js';
import { healthVerdict } from '../../../src/runbook/health-verdict.js';
import { clientMaker, errorOf, simClientOptions } from './fixtures.js';

const ACCOUNTS: ServiceAccountsFile = {
  service_accounts: [
    ...DEV_SERVICE_ACCOUNTS.service_accounts,
    {
      account_id: 'default-reader',
      roles: ['reader'],
      tenant_ids: ['default'],
      permissions: [],
      token: 'default-only',
    },
    { account_id: 'bare-admin', roles: ['admin'], tenant_ids: ['*'], permissions: [], token: 'bare-admin-token' },
  ],
};

let sim: SimulatorHandle;
const client = clientMaker(() => simClientOptions(sim));
const dispatchers: Dispatcher[] = [];

beforeAll(async () => {
  // Each replay batch waits 1 s, so a run stays live long enough to collide with a second one and be cancelled.
  sim = await startSimulator({ seed: { tracesPerTenant: 40 }, serviceAccounts: ACCOUNTS, replayBatchDelayMs: 1000 });
});

afterAll(async () => {
  await client.closeAll();
  await Promise.all(dispatchers.map((d) => d.close()));
  await sim?.close();
});

describe('every call against a healthy DecisionGraph', () => {
  it('healthz', async () => {
    const result = await client().healthz();
    if (!result.ok) throw result.error;
    expect(result.data.store['repo_started?']).toBe(true);
    expect(result.data.projector.active_replay_jobs).toBe(0);
    expect(result.data.projection_health).toMatchObject({ tenant_id: 'default' });
    expect(result.evidence).toMatchObject({ status: 200, requestId: result.evidence.sentRequestId });
  });

  it('projection health: three current projections', async () => {
    const result = await client().projectionHealth();
    if (!result.ok) throw result.error;
    expect(result.data.projections.map((p) => [p.projection_name, p.pending_events, p.is_stale])).toEqual([
      ['context_graph', 0, false],
      ['trace_summary', 0, false],
      ['precedent_index', 0, false],
    ]);
    expect(result.data.event_log_last_seq).toBeGreaterThan(0);
  });

  it('a known trace, in trace_seq order', async () => {
    const result = await client().getTrace(sim.known.traceId);
    if (!result.ok) throw result.error;
    expect(result.data.summary.trace_id).toBe(sim.known.traceId);
    expect(result.data.events[0]?.event_type).toBe('TraceStarted');
    expect(result.data.events.map((e) => e.trace_seq)).toEqual(result.data.events.map((_e, i) => i));
  });

  it('graph context of that trace', async () => {
    const result = await client().graphContext({ nodeType: 'trace', nodeId: sim.known.traceId, maxDepth: 1 });
    if (!result.ok) throw result.error;
    expect(result.data.center).toEqual({ node_type: 'trace', node_id: sim.known.traceId });
    expect(result.data.nodes.length).toBeGreaterThan(0);
  });

  it('the workflow inbox and a known workflow', async () => {
    const c = client();
    const list = await c.listWorkflows({ onlyOpen: false, limit: 50 });
    if (!list.ok) throw list.error;
    expect(list.data.summary.tenant_id).toBe('default');
    expect(list.data.items.length).toBeGreaterThan(0);

    const workflowId = sim.known.workflowId;
    expect(workflowId).not.toBeNull();
    const one = await c.getWorkflow(workflowId ?? '');
    if (!one.ok) throw one.error;
    expect(one.data.workflow.workflow_id).toBe(workflowId);
  });

  it('replay: start (202 queued), poll, 409 while running, cancel, 404 once gone', async () => {
    const c = client();
    const started = await c.startReplay({
      mode: 'catch_up',
      projection: 'trace_summary',
      reason: 'client contract test',
      metadata: { incident: 'INC-1' },
    });
    if (!started.ok) throw started.error;
    const run = started.data;
    expect(started.evidence.status).toBe(202);
    expect(run).toMatchObject({ status: 'queued', mode: 'catch_up', projection_name: 'trace_summary' });
    expect(run.metadata).toMatchObject({
      reason: 'client contract test',
      incident: 'INC-1',
      requested_by_account_id: 'dev-admin',
      request_id: started.evidence.sentRequestId,
    });

    const polled = await c.getReplay(run.job_id);
    if (!polled.ok) throw polled.error;
    expect(polled.data.job_id).toBe(run.job_id);
    expect(['queued', 'running']).toContain(polled.data.status);

    const second = errorOf(await c.startReplay({ mode: 'catch_up', projection: 'trace_summary', reason: 'again' }));
    expect(second.code).toBe(ErrorCode.ApiConflict);
    expect(second).toMatchObject({ status: 409, dgCode: 'conflict' });
    expect(second.dgMessage).toContain('already running');

    const cancelled = await c.cancelReplay(run.job_id);
    if (!cancelled.ok) throw cancelled.error;
    expect(cancelled.data.status).toBe('cancelled');

    const gone = errorOf(await c.cancelReplay(run.job_id));
    expect(gone.code).toBe(ErrorCode.ApiNotFound);
  });

  it('the verdict over live results is healthy', async () => {
    const c = client();
    const verdict = healthVerdict({ healthz: await c.healthz(), projectionHealth: await c.projectionHealth() });
    expect(verdict).toEqual({ healthy: true, failing: [], unchecked: ['cursor_ahead'] });
  });
});

describe('error classes DecisionGraph produces', () => {
  it('400 when the tenant header is lost on the way (e.g. by a proxy)', async () => {
    const stripping = new Agent().compose((dispatch) => (opts, handler) => {
      const headers = { ...(opts.headers as Record<string, string>) };
      delete headers['x-tenant-id'];
      return dispatch({ ...opts, headers }, handler);
    });
    dispatchers.push(stripping);
    const error = errorOf(await client({ dispatcher: stripping }).projectionHealth());
    expect(error.code).toBe(ErrorCode.ApiInvalidArgument);
    expect(error).toMatchObject({
      status: 400,
      dgCode: 'invalid_argument',
      dgMessage: 'x-tenant-id header is required',
    });
  });

  it('401 for an unknown token', async () => {
    const error = errorOf(await client({ apiToken: 'not-a-token' }).projectionHealth());
    expect(error.code).toBe(ErrorCode.ApiUnauthorized);
    expect(error.dgMessage).toBe('Unknown service account token');
    expect(error.requestId).not.toBeNull();
  });

  it('403 for a tenant the account may not read', async () => {
    const error = errorOf(await client({ apiToken: 'default-only' }).projectionHealth({ tenantId: 'acme' }));
    expect(error.code).toBe(ErrorCode.ApiForbidden);
    expect(error.dgMessage).toBe('Service account cannot access tenant acme');
  });

  it('403 for a reader on an admin route', async () => {
    const error = errorOf(await client({ adminToken: 'dev-reader-token' }).getReplay('replay-1'));
    expect(error.code).toBe(ErrorCode.ApiForbidden);
    expect(error.dgMessage).toBe('Service account lacks required role');
  });

  it('403 for an admin without the replay permission', async () => {
    const error = errorOf(
      await client({ adminToken: 'bare-admin-token' }).startReplay({
        mode: 'catch_up',
        projection: 'all',
        reason: 'no permission',
      }),
    );
    expect(error.code).toBe(ErrorCode.ApiForbidden);
    expect(error.dgMessage).toBe('Service account lacks projection_replay permission');
  });

  it('403 for a rebuild where rebuilds are disabled (the production default)', async () => {
    const error = errorOf(await client().startReplay({ mode: 'rebuild', projection: 'all', reason: 'rebuild' }));
    expect(error.code).toBe(ErrorCode.ApiForbidden);
    expect(error.dgMessage).toBe('Projection rebuilds are disabled in this deployment');
  });

  it('404 for an unknown trace and an unknown replay job', async () => {
    const c = client();
    const trace = errorOf(await c.getTrace('trace-does-not-exist'));
    const replay = errorOf(await c.getReplay('replay-999999999'));
    expect([trace.code, trace.dgMessage]).toEqual([ErrorCode.ApiNotFound, 'Trace not found: trace-does-not-exist']);
    expect([replay.code, replay.dgMessage]).toEqual([ErrorCode.ApiNotFound, 'Replay job not found: replay-999999999']);
  });

  it('409 projection_out_of_date while projections are behind, and the verdict names them', async () => {
    await sim.inject('projections-behind');
    try {
      const c = client();
      const error = errorOf(await c.getTrace(sim.known.traceId));
      expect(error.code).toBe(ErrorCode.ApiProjectionOutOfDate);
      expect(error.transient).toBe(true);
      expect(error.dgMessage).toMatch(/^Projections at log_seq=\d+, events at \d+$/);

      const verdict = healthVerdict({ healthz: await c.healthz(), projectionHealth: await c.projectionHealth() });
      expect(verdict.healthy).toBe(false);
      expect(verdict.failing.map((f) => f.condition)).toEqual(['projection_stale', 'pending_events']);
      expect(Object.keys(verdict.failing[1]?.measured as object)).toEqual([
        'context_graph',
        'trace_summary',
        'precedent_index',
      ]);
    } finally {
      await sim.clear('projections-behind');
    }
    const after = await client().getTrace(sim.known.traceId);
    expect(after.ok).toBe(true);
  });
});
