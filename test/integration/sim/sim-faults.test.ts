import pg from 'pg';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SimulatorHandle, startSimulator } from '../../../sim/index.js';
import { apiClient, controlClient, eventBody, eventually, type Json } from './sim-client.js';

const BOOT_DELAY_MS = 300;
/** Long enough that an answer without it, however busy the machine, comes back well within it. */
const SLOW_MS = 1000;

let sim: SimulatorHandle;
let api: ReturnType<typeof apiClient>;
let control: ReturnType<typeof controlClient>;

beforeAll(async () => {
  sim = await startSimulator({
    seed: { tracesPerTenant: 40 },
    allowRebuild: true,
    bootDelayMs: BOOT_DELAY_MS,
    slowLatencyMs: SLOW_MS,
  });
  api = apiClient(sim);
  control = controlClient(sim);
});

afterAll(async () => {
  await sim?.close();
});

/** One SQL probe on DecisionGraph's database through a fresh connection, as the bot's probes connect. */
async function sql<T extends pg.QueryResultRow = Json>(text: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: sim.databaseUrl });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return (await client.query<T>(text, params)).rows;
  } finally {
    await client.end();
  }
}

async function healthz(): Promise<Json> {
  const res = await request(`${sim.url}/api/healthz`);
  return { status: res.statusCode, body: await res.body.json() };
}

async function projections(): Promise<Json> {
  return (await api.get('/api/v1/projections/health')).body.data;
}

const DRIFT_SQL = `SELECT log_seq FROM dg_event_log
  WHERE payload_hash IS DISTINCT FROM 'sha256:' || encode(sha256(convert_to(payload_json, 'UTF8')), 'hex')`;
const GAP_SQL = `SELECT * FROM (SELECT trace_id, trace_seq, LAG(trace_seq) OVER (PARTITION BY tenant_id, trace_id
  ORDER BY log_seq) AS prev FROM dg_event_log) s WHERE prev IS NOT NULL AND trace_seq <> prev + 1`;
const AHEAD_SQL = `SELECT c.projection_name FROM dg_projection_cursors c LEFT JOIN
  (SELECT tenant_id, MAX(log_seq) AS tail FROM dg_event_log GROUP BY tenant_id) t USING (tenant_id)
  WHERE c.last_log_seq > COALESCE(t.tail, 0)`;

describe('control API', () => {
  it('requires its bearer token and knows only the listed faults', async () => {
    const res = await request(`${sim.controlUrl}/state`, { headers: { authorization: 'Bearer wrong' } });
    expect(res.statusCode).toBe(401);
    await res.body.dump();
    expect((await control.post('/faults/meteor-strike')).status).toBe(404);
    const state = await control.get('/state');
    expect(state.body).toMatchObject({ node: 'up', release: 'v1', faults: [], writes_stopped: false });
  });
});

describe('node faults', () => {
  it('node-down refuses connections until cleared', async () => {
    await control.post('/faults/node-down');
    await expect(request(`${sim.url}/api/healthz`)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await control.del('/faults/node-down');
    expect((await healthz()).status).toBe(200);
  });

  it('restart refuses healthz during the boot delay and forgets the live workers', async () => {
    await api.post('/api/v1/events', eventBody('t-restart', 0, 'TraceStarted'), { token: 'dev-writer-token' });
    expect((await healthz()).body.projector.active_workers).toBe(3);
    const started = Date.now();
    const answer = await control.post('/host/restart');
    expect(answer.status).toBe(200);
    await expect(request(`${sim.url}/api/healthz`)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    const back = await eventually(async () => {
      const h = await healthz();
      return h.status === 200 ? h.body : undefined;
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(BOOT_DELAY_MS);
    expect(back.projector).toMatchObject({ active_workers: 0, active_replay_jobs: 0 });
    expect(back.store['repo_started?']).toBe(true);
  });

  it('stop-ignored: the stop answers OK as the service manager sees it, and the node keeps answering', async () => {
    await control.post('/faults/stop-ignored');
    const stop = await control.post('/host/stop');
    expect([stop.status, stop.body]).toEqual([200, { ok: true, action: 'stop', node: 'down' }]);
    expect((await healthz()).status).toBe(200);
    expect((await api.get(`/api/v1/traces/${sim.known.traceId}`)).status).toBe(200);
    await control.del('/faults/stop-ignored');
    expect((await control.get('/state')).body.faults).toEqual([]);
  });

  it('slow adds latency to every answer', async () => {
    await control.post('/faults/slow');
    let t = Date.now();
    await healthz();
    expect(Date.now() - t).toBeGreaterThanOrEqual(SLOW_MS);
    await control.del('/faults/slow');
    t = Date.now();
    await healthz();
    expect(Date.now() - t).toBeLessThan(SLOW_MS);
  });
});

describe('database faults', () => {
  it('postgres-down: healthz stays 200 but unavailable, API reads 500, SQL really fails; restore fixes it', async () => {
    await control.post('/faults/postgres-down');
    const h = await healthz();
    expect(h.status).toBe(200);
    expect(h.body.projection_health.status).toBe('unavailable');
    expect(h.body.projection_health.reason).toEqual(expect.any(String));
    expect(h.body.store['repo_started?']).toBe(true);
    for (const path of ['/api/v1/projections/health', `/api/v1/traces/${sim.known.traceId}`, '/api/v1/workflows']) {
      const a = await api.get(path);
      expect([a.status, a.body.error.code]).toEqual([500, 'internal_error']);
    }
    await expect(sql('SELECT 1')).rejects.toThrow(/not currently accepting connections/);

    const restored = await control.post('/host/restore-postgres');
    expect(restored.status).toBe(200);
    expect((await sql('SELECT 1 AS one'))[0].one).toBe(1);
    expect((await healthz()).body.projection_health.tenant_id).toBe('default');
    expect((await api.get(`/api/v1/traces/${sim.known.traceId}`)).status).toBe(200);
  });

  it('projections-behind: pending events and trace 409 until cleared', async () => {
    await control.post('/faults/projections-behind');
    expect((await projections()).projections.every((p: Json) => p.pending_events > 0)).toBe(true);
    expect((await api.get(`/api/v1/traces/${sim.known.traceId}`)).status).toBe(409);
    await control.del('/faults/projections-behind');
    expect((await projections()).projections.every((p: Json) => p.pending_events === 0)).toBe(true);
    expect((await api.get(`/api/v1/traces/${sim.known.traceId}`)).status).toBe(200);
  });

  it('open-failures shows in health and SQL until cleared', async () => {
    await control.post('/faults/open-failures');
    const sum = (d: Json) => d.projections.reduce((n: number, p: Json) => n + p.open_failures, 0);
    expect(sum(await projections())).toBe(2);
    await control.del('/faults/open-failures');
    expect(sum(await projections())).toBe(0);
    expect(await sql(`SELECT 1 FROM dg_projection_failures WHERE status = 'open'`)).toEqual([]);
  });

  it('orphaned-run: a running row nobody owns (GET 200, cancel 404, no active job) until cleared', async () => {
    await control.post('/faults/orphaned-run');
    const h = await healthz();
    expect(h.body.projector.active_replay_jobs).toBe(0);
    const [orphan] = h.body.projection_health.open_runs;
    expect(orphan).toMatchObject({ status: 'running' });
    expect((await api.get(`/api/v1/admin/replays/${orphan.job_id}`)).body.data.run.status).toBe('running');
    expect((await api.post(`/api/v1/admin/replays/${orphan.job_id}/cancel`)).status).toBe(404);
    await control.del('/faults/orphaned-run');
    expect((await projections()).open_runs).toEqual([]);
  });

  it('hash-drift and broken-ordering are visible to the SQL checks until cleared', async () => {
    await control.post('/faults/hash-drift');
    expect(await sql(DRIFT_SQL)).toHaveLength(1);
    await control.del('/faults/hash-drift');
    expect(await sql(DRIFT_SQL)).toEqual([]);
    await control.post('/faults/broken-ordering');
    expect(await sql(GAP_SQL)).toHaveLength(1);
    await control.del('/faults/broken-ordering');
    expect(await sql(GAP_SQL)).toEqual([]);
  });

  it('cursor-ahead looks healthy in the API but not in SQL until cleared', async () => {
    await control.post('/faults/cursor-ahead');
    expect((await projections()).projections.every((p: Json) => p.pending_events === 0 && !p.is_stale)).toBe(true);
    expect(await sql(AHEAD_SQL)).toHaveLength(3);
    await control.del('/faults/cursor-ahead');
    expect(await sql(AHEAD_SQL)).toEqual([]);
  });

  it('rebuild-disabled forbids rebuilds until cleared', async () => {
    await control.post('/faults/rebuild-disabled');
    const refused = await api.post('/api/v1/admin/replays', { mode: 'rebuild', projection: 'all', reason: 'r' });
    expect([refused.status, refused.body.error.message]).toEqual([
      403,
      'Projection rebuilds are disabled in this deployment',
    ]);
    await control.del('/faults/rebuild-disabled');
    const run = await api.post('/api/v1/admin/replays', {
      mode: 'rebuild',
      projection: 'precedent_index',
      reason: 'r',
    });
    expect(run.status).toBe(202);
    await eventually(async () => {
      const r = await api.get(`/api/v1/admin/replays/${run.body.data.run.job_id}`);
      return r.body.data.run.status === 'completed' ? true : undefined;
    });
  });
});

describe('failed upgrade and host actions', () => {
  it('failed-upgrade breaks trace reads and health until the good release is switched back', async () => {
    await control.post('/faults/failed-upgrade');
    const trace = await api.get(`/api/v1/traces/${sim.known.traceId}`);
    expect([trace.status, trace.body.error.code]).toEqual([500, 'internal_error']);
    const ts = (await projections()).projections.find((p: Json) => p.projection_name === 'trace_summary');
    expect(ts.is_stale).toBe(true);
    const backups = (await control.get('/host/backups')).text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(backups.map((b: Json) => b.label)).toContain('pre-upgrade');
    expect((await control.post('/host/switch-release', { release: 'v9' })).status).toBe(400);
    expect((await control.post('/host/switch-release', { release: 'v1' })).status).toBe(200);
    expect((await api.get(`/api/v1/traces/${sim.known.traceId}`)).status).toBe(200);
    expect((await control.get('/state')).body).toMatchObject({ release: 'v1', faults: [] });
  });

  it('stop-writes makes Postgres refuse writes (append 503 storage) until the node restarts', async () => {
    await control.post('/host/stop-writes');
    const append = await api.post('/api/v1/events', eventBody('t-blocked', 0, 'TraceStarted'), {
      token: 'dev-writer-token',
    });
    expect([append.status, append.body.error.code]).toEqual([503, 'storage']);
    expect(append.body.error.details.postgres.code).toBe('25006');
    expect((await api.get('/api/v1/workflows')).status).toBe(500);
    const replay = await api.post('/api/v1/admin/replays', { projection: 'all', reason: 'blocked' });
    expect([replay.status, replay.body.error.code]).toEqual([500, 'internal_error']);
    expect((await api.get(`/api/v1/traces/${sim.known.traceId}`)).status).toBe(200);
    await control.post('/host/stop');
    await control.post('/host/start');
    const again = await api.post('/api/v1/events', eventBody('t-blocked', 0, 'TraceStarted'), {
      token: 'dev-writer-token',
    });
    expect(again.status).toBe(201);
  });

  it('restores the event log from a backup: parity differs before and matches after', async () => {
    const lines = (await control.get('/host/backups')).text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const scheduled = lines.find((b: Json) => b.label === 'scheduled');
    expect(Object.keys(scheduled).sort()).toEqual(['created_at', 'id', 'label', 'last_log_seq', 'path', 'size_bytes']);
    expect(scheduled.size_bytes).toBeGreaterThan(0);
    const schemaOf = (b: Json) => String(b.path).split('/').at(-1);
    const count = async (schema = 'public') =>
      (await sql(`SELECT COUNT(*)::int AS n FROM ${schema}.dg_event_log`))[0].n as number;
    const backupCount = await count(schemaOf(scheduled) as string);
    // The listing's position is the backup's own tail, so a restore's loss can be counted against the live one.
    const backupTail = (await sql(`SELECT MAX(log_seq)::int AS s FROM ${schemaOf(scheduled)}.dg_event_log`))[0].s;
    expect(scheduled.last_log_seq).toBe(backupTail);
    expect(await count()).not.toBe(backupCount);

    const preserved = await control.post('/host/preserve-database');
    expect(preserved.body.backup.label).toBe('preserved');
    expect(await count(schemaOf(preserved.body.backup) as string)).toBe(await count());

    expect((await control.post('/host/restore-backup', { artifact: 'missing' })).status).toBe(404);
    const restored = await control.post('/host/restore-backup', { artifact: scheduled.id });
    expect(restored.status).toBe(200);
    expect(await count()).toBe(backupCount);
    expect(await sql(DRIFT_SQL)).toEqual([]);
    expect((await projections()).projections.every((p: Json) => p.pending_events === 0)).toBe(true);
    expect((await api.get(`/api/v1/traces/${sim.known.traceId}`)).status).toBe(200);
  });

  it('runs a host action once per Idempotency-Key: a repeat, even a concurrent one, gets the first answer', async () => {
    const keyed = { 'idempotency-key': 'run-7-preserve_database-a1' };
    const backupsBefore = (await control.get('/state')).body.backups.length;
    const [first, concurrent] = await Promise.all([
      control.post('/host/preserve-database', { label: 'keyed' }, keyed),
      control.post('/host/preserve-database', { label: 'keyed' }, keyed),
    ]);
    const repeat = await control.post('/host/preserve-database', { label: 'keyed' }, keyed);
    expect(first.status).toBe(200);
    const answers = [first, concurrent, repeat];
    expect(answers.map((a) => [a.status, a.body])).toEqual(answers.map(() => [200, first.body]));
    // Exactly one of the three ran; the other two say they are replays.
    expect(answers.filter((a) => a.headers['idempotent-replayed'] === 'true')).toHaveLength(2);
    expect((await control.get('/state')).body.backups.length).toBe(backupsBefore + 1);

    // A refusal is an answer too: repeated as it was.
    const missing = { 'idempotency-key': 'run-7-restore_backup-a1' };
    expect((await control.post('/host/restore-backup', { artifact: 'missing' }, missing)).status).toBe(404);
    expect((await control.post('/host/restore-backup', { artifact: 'missing' }, missing)).status).toBe(404);
    // The same key for a different request is a client bug, not a repeat.
    const other = await control.post('/host/preserve-database', { label: 'other' }, keyed);
    expect([other.status, other.body.error]).toEqual([422, 'Idempotency-Key was already used for a different request']);
    const bad = await control.post('/host/stop-writes', undefined, { 'idempotency-key': 'has spaces' });
    expect(bad.status).toBe(400);
    expect((await control.get('/state')).body.writes_stopped).toBe(false);
  });

  it('counted every host action exactly once', () => {
    expect(sim.hostActionCounts()).toEqual({
      restart: 1,
      restore_postgres: 1,
      switch_release: 1,
      stop_writes: 1,
      stop: 2,
      start: 1,
      preserve_database: 2,
      restore_backup: 1,
    });
  });
});
