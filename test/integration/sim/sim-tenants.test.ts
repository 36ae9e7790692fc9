import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SimulatorHandle, startSimulator } from '../../../sim/index.js';
import { apiClient, controlClient, type Json } from './sim-client.js';

const TENANTS = ['default', 't2', 't3'];

let sim: SimulatorHandle;
let api: ReturnType<typeof apiClient>;
let control: ReturnType<typeof controlClient>;
let db: pg.Pool;

beforeAll(async () => {
  sim = await startSimulator({ seed: { tenants: TENANTS, tracesPerTenant: 30 } });
  api = apiClient(sim);
  control = controlClient(sim);
  db = new pg.Pool({ connectionString: sim.databaseUrl, max: 2 });
});

afterAll(async () => {
  await db?.end();
  await sim?.close();
});

/** A finished trace of the tenant, straight from the log. */
async function finishedTrace(tenant: string): Promise<string> {
  const { rows } = await db.query<{ trace_id: string }>(
    `SELECT trace_id FROM dg_event_log WHERE tenant_id = $1 AND event_type = 'TraceFinished' ORDER BY log_seq LIMIT 1`,
    [tenant],
  );
  return rows[0]?.trace_id as string;
}

async function health(tenant: string): Promise<Json> {
  return (await api.get('/api/v1/projections/health', { tenant })).body.data;
}

describe('a simulator seeded with three tenants', () => {
  it('starts with default keeping the known ids and every other tenant naming its traces after itself', async () => {
    expect(sim.known).toMatchObject({ tenantId: 'default', traceId: 'trace-0001' });
    expect(sim.known.workflowId).toMatch(/^trace-0002:/);
    const { rows } = await db.query<{ tenant_id: string; trace_id: string }>(
      'SELECT DISTINCT tenant_id, trace_id FROM dg_event_log',
    );
    for (const tenant of TENANTS) {
      const ids = rows.filter((r) => r.tenant_id === tenant).map((r) => r.trace_id);
      expect(ids).toHaveLength(30);
      const pattern = tenant === 'default' ? /^trace-\d{4}$/ : new RegExp(`^${tenant}-trace-\\d{4}$`);
      expect(ids.every((id) => pattern.test(id))).toBe(true);
    }
    expect(new Set(rows.map((r) => r.trace_id)).size).toBe(rows.length);
  });

  it('serves each tenant its own traces, current, and no other tenant’s', async () => {
    for (const tenant of TENANTS) {
      expect((await health(tenant)).projections.map((p: Json) => p.pending_events)).toEqual([0, 0, 0]);
      const own = await finishedTrace(tenant);
      const read = await api.get(`/api/v1/traces/${own}`, { tenant });
      expect(read.status).toBe(200);
      expect(read.body.data.summary.trace_id).toBe(own);
      const other = TENANTS.find((t) => t !== tenant) as string;
      expect((await api.get(`/api/v1/traces/${own}`, { tenant: other })).status).toBe(404);
    }
  });

  it('gives each tenant its own workflows, folded from its own exceptions', async () => {
    for (const tenant of TENANTS) {
      const list = await api.get('/api/v1/workflows?only_open=false&limit=50', { tenant });
      expect(list.status).toBe(200);
      const items: Json[] = list.body.data.items;
      expect(items.length).toBeGreaterThan(0);
      for (const wf of items) {
        expect(wf.tenant_id).toBe(tenant);
        expect(wf.workflow_id.startsWith(`${wf.trace_id}:`)).toBe(true);
        if (tenant !== 'default') expect(wf.trace_id.startsWith(`${tenant}-`)).toBe(true);
      }
      const one = await api.get(`/api/v1/workflows/${encodeURIComponent(items[0].workflow_id)}`, { tenant });
      expect(one.body.data.workflow.tenant_id).toBe(tenant);
    }
  });
});

describe('tenant faults', () => {
  it('puts only t2 behind with projections-behind for t2; default and t3 stay current', async () => {
    const on = await control.post('/faults/projections-behind?tenant=t2');
    expect(on.status).toBe(200);
    expect(on.body.fault_tenants).toEqual({ 'projections-behind': ['t2'] });

    const behind = await health('t2');
    expect(behind.projections.every((p: Json) => p.is_stale && p.pending_events > 0)).toBe(true);
    const t2Trace = await finishedTrace('t2');
    const stale = await api.get(`/api/v1/traces/${t2Trace}`, { tenant: 't2' });
    expect(stale.status).toBe(409);
    expect(stale.body.error.code).toBe('projection_out_of_date');

    for (const tenant of ['default', 't3']) {
      expect((await health(tenant)).projections.map((p: Json) => p.pending_events)).toEqual([0, 0, 0]);
      expect((await api.get(`/api/v1/traces/${await finishedTrace(tenant)}`, { tenant })).status).toBe(200);
    }
    const healthz = await api.get('/api/healthz');
    expect(healthz.body.projection_health.projections.every((p: Json) => p.pending_events === 0)).toBe(true);

    const off = await control.del('/faults/projections-behind');
    expect(off.body).toMatchObject({ faults: [], fault_tenants: {} });
    expect((await health('t2')).projections.map((p: Json) => p.pending_events)).toEqual([0, 0, 0]);
    expect((await api.get(`/api/v1/traces/${t2Trace}`, { tenant: 't2' })).status).toBe(200);
  });

  it('keeps a fault on in one tenant while it is cleared in another', async () => {
    await sim.inject('projections-behind');
    await sim.inject('projections-behind', { tenantId: 't3' });
    await sim.clear('projections-behind', { tenantId: 't3' });
    expect((await health('t3')).projections.map((p: Json) => p.pending_events)).toEqual([0, 0, 0]);
    expect((await api.get(`/api/v1/traces/${sim.known.traceId}`)).status).toBe(409);
    expect((await control.get('/state')).body.fault_tenants).toEqual({ 'projections-behind': ['default'] });
    await sim.clear('projections-behind');
    expect((await api.get(`/api/v1/traces/${sim.known.traceId}`)).status).toBe(200);
  });

  it('refuses a tenant for a fault that acts on the whole node', async () => {
    const res = await control.post('/faults/slow?tenant=t2');
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('fault slow acts on the whole node and takes no tenant');
    await expect(sim.inject('node-down', { tenantId: 't2' })).rejects.toThrow(RangeError);
    expect((await control.get('/state')).body).toMatchObject({ node: 'up', faults: [] });
  });
});
