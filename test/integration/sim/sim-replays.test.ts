import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SimulatorHandle, startSimulator } from '../../../sim/index.js';
import { apiClient, controlClient, eventually, type Json } from './sim-client.js';

let sim: SimulatorHandle;
let api: ReturnType<typeof apiClient>;

// Replays pause before each batch so a run stays observable in `running` for a moment.
beforeAll(async () => {
  sim = await startSimulator({ seed: { tracesPerTenant: 40 }, replayBatchDelayMs: 150 });
  api = apiClient(sim);
});

afterAll(async () => {
  await sim?.close();
});

async function runUntilDone(jobId: string) {
  return eventually(async () => {
    const r = await api.get(`/api/v1/admin/replays/${jobId}`);
    return ['completed', 'failed', 'cancelled'].includes(r.body.data.run.status) ? r.body.data.run : undefined;
  });
}

describe('replay admission', () => {
  it('checks arguments, permission and the rebuild switch in order', async () => {
    const mode = await api.post('/api/v1/admin/replays', { mode: 'nope', projection: 'all', reason: 'r' });
    expect([mode.status, mode.body.error.message]).toEqual([400, 'mode must be catch_up or rebuild']);
    const proj = await api.post('/api/v1/admin/replays', { reason: 'r' });
    expect([proj.status, proj.body.error.message]).toEqual([400, 'projection is required']);
    const reason = await api.post('/api/v1/admin/replays', { projection: 'all' });
    expect([reason.status, reason.body.error.message]).toEqual([
      400,
      'reason is required for replay and rebuild admin actions',
    ]);
    const rebuild = await api.post('/api/v1/admin/replays', { mode: 'rebuild', projection: 'all', reason: 'r' });
    expect([rebuild.status, rebuild.body.error.code, rebuild.body.error.message]).toEqual([
      403,
      'forbidden',
      'Projection rebuilds are disabled in this deployment',
    ]);
    const meta = await api.post('/api/v1/admin/replays', { projection: 'all', reason: 'r', metadata: [1] });
    expect([meta.status, meta.body.error.message]).toEqual([400, 'metadata must be an object']);
    const unknown = await api.post('/api/v1/admin/replays', { projection: 'graph', reason: 'r' });
    expect([unknown.status, unknown.body]).toEqual([500, { errors: { detail: 'Internal Server Error' } }]);
  });

  it('brings stale projections current with catch_up (round trip to completed, pending 0)', async () => {
    await sim.inject('projections-behind');
    const health = await api.get('/api/v1/projections/health');
    const tail = health.body.data.event_log_last_seq;
    const ts = health.body.data.projections.find((p: Json) => p.projection_name === 'trace_summary');
    expect(ts.pending_events).toBeGreaterThan(0);
    const stale = await api.get(`/api/v1/traces/${sim.known.traceId}`);
    expect(stale.status).toBe(409);
    expect(stale.body.error).toEqual({
      code: 'projection_out_of_date',
      details: {},
      message: `Projections at log_seq=${ts.last_log_seq}, events at ${tail}`,
    });

    const admitted = await api.post(
      '/api/v1/admin/replays',
      { projection: 'all', reason: 'close projector lag' },
      { headers: { 'x-request-id': 'req-catchup-1' } },
    );
    expect(admitted.status).toBe(202);
    const run = admitted.body.data.run;
    expect(run).toMatchObject({ status: 'queued', mode: 'catch_up', projection_name: 'all', started_at: null });
    expect(run.job_id).toMatch(/^replay-\d+$/);
    expect(typeof run.metadata_json).toBe('string');
    expect(JSON.parse(run.metadata_json)).toEqual({
      reason: 'close projector lag',
      request_id: 'req-catchup-1',
      requested_by_account_id: 'dev-admin',
      requested_by_roles: ['admin'],
    });

    const done = await runUntilDone(run.job_id);
    expect(done).toMatchObject({ status: 'completed', last_log_seq: tail, error_code: null });
    expect(done.processed_events).toBe(3 * 3);
    const after = await api.get('/api/v1/projections/health');
    expect(after.body.data.projections.every((p: Json) => p.pending_events === 0 && !p.is_stale)).toBe(true);
    expect((await api.get(`/api/v1/traces/${sim.known.traceId}`)).status).toBe(200);
    await sim.clear('projections-behind');
  });

  it('admits one job per {tenant, projection}: a second `all` is a 409, a single projection is not', async () => {
    const first = await api.post('/api/v1/admin/replays', { projection: 'all', reason: 'first' });
    expect(first.status).toBe(202);
    const second = await api.post('/api/v1/admin/replays', { projection: 'all', reason: 'second' });
    expect([second.status, second.body.error.code, second.body.error.message]).toEqual([
      409,
      'conflict',
      'A replay job is already running for default/:all',
    ]);
    const single = await api.post('/api/v1/admin/replays', { projection: 'trace_summary', reason: 'single' });
    expect(single.status).toBe(202);
    expect((await runUntilDone(first.body.data.run.job_id)).status).toBe('completed');
    expect((await runUntilDone(single.body.data.run.job_id)).status).toBe('completed');
    const gone = await api.post(`/api/v1/admin/replays/${first.body.data.run.job_id}/cancel`);
    expect([gone.status, gone.body.error.message]).toEqual([
      404,
      `Replay job not found: ${first.body.data.run.job_id}`,
    ]);
  });

  it('cancels a live run and keeps its row', async () => {
    const admitted = await api.post('/api/v1/admin/replays', { projection: 'all', reason: 'to cancel' });
    const jobId = admitted.body.data.run.job_id;
    const cancelled = await api.post(`/api/v1/admin/replays/${jobId}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.data.run).toMatchObject({ job_id: jobId, status: 'cancelled' });
    expect(cancelled.body.data.run.finished_at).not.toBeNull();
    expect((await api.get(`/api/v1/admin/replays/${jobId}`)).body.data.run.status).toBe('cancelled');
    expect((await api.post(`/api/v1/admin/replays/${jobId}/cancel`)).status).toBe(404);
  });

  it('hides runs of other tenants', async () => {
    const admitted = await api.post('/api/v1/admin/replays', { projection: 'context_graph', reason: 'mine' });
    const jobId = admitted.body.data.run.job_id;
    const other = await api.get(`/api/v1/admin/replays/${jobId}`, { tenant: 'other-tenant' });
    expect([other.status, other.body.error.message]).toEqual([404, `Replay job not found: ${jobId}`]);
    await runUntilDone(jobId);
  });

  it('leaves an orphan after a restart: GET still running, cancel 404, no active job, new runs admitted', async () => {
    const control = controlClient(sim);
    const admitted = await api.post('/api/v1/admin/replays', { projection: 'all', reason: 'cut off by restart' });
    const jobId = admitted.body.data.run.job_id;
    await eventually(async () => {
      const r = await api.get(`/api/v1/admin/replays/${jobId}`);
      return r.body.data.run.status === 'running' ? true : undefined;
    });
    const restarted = await control.post('/host/restart');
    expect(restarted.status).toBe(200);
    const health = await eventually(async () => {
      const h = await api.get('/api/healthz');
      return h.status === 200 ? h.body : undefined;
    });
    expect(health.projector.active_replay_jobs).toBe(0);
    expect(health.projection_health.open_runs.map((r: Json) => r.job_id)).toContain(jobId);
    const row = await api.get(`/api/v1/admin/replays/${jobId}`);
    expect([row.status, row.body.data.run.status, row.body.data.run.finished_at]).toEqual([200, 'running', null]);
    const cancel = await api.post(`/api/v1/admin/replays/${jobId}/cancel`);
    expect([cancel.status, cancel.body.error.message]).toEqual([404, `Replay job not found: ${jobId}`]);
    const fresh = await api.post('/api/v1/admin/replays', { projection: 'all', reason: 'replace the orphan' });
    expect(fresh.status).toBe(202);
    expect(fresh.body.data.run.job_id).not.toBe(jobId);
    expect((await runUntilDone(fresh.body.data.run.job_id)).status).toBe('completed');
    expect(sim.hostActionCounts()).toEqual({ restart: 1 });
  });
});
