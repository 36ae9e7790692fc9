import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { injectHashDrift } from '../../../sim/db/faults.js';
import { type SimulatorHandle, startSimulator } from '../../../sim/index.js';
import { apiClient, eventBody, eventually, type Json } from './sim-client.js';

let sim: SimulatorHandle;
let api: ReturnType<typeof apiClient>;
let db: pg.Pool;

beforeAll(async () => {
  sim = await startSimulator({ seed: { tracesPerTenant: 40 }, allowRebuild: true });
  api = apiClient(sim);
  db = new pg.Pool({ connectionString: sim.databaseUrl, max: 2 });
});

afterAll(async () => {
  await db?.end();
  await sim?.close();
});

async function health(): Promise<Json> {
  return (await api.get('/api/v1/projections/health')).body.data;
}

async function replay(body: Record<string, unknown>): Promise<Json> {
  const admitted = await api.post('/api/v1/admin/replays', { reason: 'projector test', ...body });
  expect(admitted.status).toBe(202);
  return eventually(async () => {
    const r = await api.get(`/api/v1/admin/replays/${admitted.body.data.run.job_id}`);
    return ['completed', 'failed', 'cancelled'].includes(r.body.data.run.status) ? r.body.data.run : undefined;
  });
}

async function openFailures(): Promise<Json[]> {
  const r = await db.query(
    `SELECT projection_name, log_seq::int AS log_seq, event_id, error_code, error_message, recoverable, retry_count,
            metadata_json FROM dg_projection_failures WHERE status = 'open' ORDER BY recorded_at`,
  );
  return r.rows;
}

describe('projector', () => {
  it('rebuilds to the same digests (same history, same digest on any path)', async () => {
    const before = await health();
    const count = await db.query(`SELECT COUNT(*)::int AS n FROM dg_event_log WHERE tenant_id = 'default'`);
    const run = await replay({ mode: 'rebuild', projection: 'all' });
    expect(run).toMatchObject({ status: 'completed', mode: 'rebuild', last_log_seq: before.event_log_last_seq });
    expect(run.processed_events).toBe(3 * count.rows[0].n);
    const after = await health();
    expect(after.full_digest).toBe(before.full_digest);
    expect(after.projections.map((p: Json) => p.digest)).toEqual(before.projections.map((p: Json) => p.digest));
  });

  it('accepts a re-serialised payload (semantic hash check) that the byte-level SQL check flags', async () => {
    const drift = await injectHashDrift(db, { variant: 'reserialize', count: 1 });
    const bytes = await db.query(
      `SELECT log_seq::int AS log_seq FROM dg_event_log
        WHERE payload_hash <> 'sha256:' || encode(sha256(convert_to(payload_json, 'UTF8')), 'hex')`,
    );
    expect(bytes.rows.map((r) => r.log_seq)).toEqual(drift.logSeqs);
    const run = await replay({ mode: 'rebuild', projection: 'trace_summary' });
    expect(run.status).toBe('completed');
  });

  it('turns a hash drift into open failure rows from the live workers, one more per append', async () => {
    await sim.inject('projections-behind');
    const tail = (await health()).event_log_last_seq;
    const original = await db.query(
      'SELECT event_id, payload_json, payload_hash FROM dg_event_log WHERE log_seq = $1',
      [tail],
    );
    const drift = await injectHashDrift(db, { logSeqs: [tail] });
    const eventId = drift.eventIds[0];

    const append = await api.post('/api/v1/events', eventBody('t-after-drift', 0, 'TraceStarted'), {
      token: 'dev-writer-token',
    });
    expect(append.status).toBe(201);
    const rows = await eventually(async () => {
      const r = await openFailures();
      return r.length === 3 ? r : undefined;
    });
    expect(rows.map((r) => r.projection_name).sort()).toEqual(['context_graph', 'precedent_index', 'trace_summary']);
    for (const r of rows) {
      expect(r).toMatchObject({ log_seq: tail, event_id: eventId, error_code: 'conflict', recoverable: false });
      expect(r.error_message).toMatch(
        new RegExp(
          `^Payload hash mismatch for event ${eventId}: expected sha256:[0-9a-f]{64}, got ${original.rows[0].payload_hash}$`,
        ),
      );
      expect(JSON.parse(r.metadata_json)).toEqual({ processed_events: 0, recoverable: false });
    }
    const h = await health();
    expect(h.projections.map((p: Json) => p.open_failures)).toEqual([1, 1, 1]);
    expect(h.projections.every((p: Json) => p.is_stale)).toBe(true);
    expect((await api.get(`/api/v1/traces/${sim.known.traceId}`)).status).toBe(409);

    await api.post('/api/v1/events', eventBody('t-after-drift', 1, 'InputObserved'), { token: 'dev-writer-token' });
    await eventually(async () => ((await openFailures()).length === 6 ? true : undefined));

    // Repair the payload and catch up: the batch that passes the event resolves the open rows.
    await db.query('UPDATE dg_event_log SET payload_json = $2 WHERE log_seq = $1', [
      tail,
      original.rows[0].payload_json,
    ]);
    const run = await replay({ projection: 'all' });
    expect(run.status).toBe('completed');
    expect(await openFailures()).toEqual([]);
    const resolved = await db.query(`SELECT COUNT(*)::int AS n FROM dg_projection_failures WHERE status = 'resolved'`);
    expect(resolved.rows[0].n).toBe(6);
    expect((await health()).projections.every((p: Json) => p.pending_events === 0 && p.open_failures === 0)).toBe(true);
    await sim.clear('projections-behind');
  });

  it('fails a rebuild on a trace_seq gap, marking only the run (open_failures stays 0)', async () => {
    await sim.inject('broken-ordering');
    const run = await replay({ mode: 'rebuild', projection: 'trace_summary' });
    expect(run).toMatchObject({ status: 'failed', error_code: 'event_sequence_invalid' });
    expect(run.error_message).toMatch(/^trace_seq gap in trace \S+: expected \d+, got \d+$/);
    const h = await health();
    const ts = h.projections.find((p: Json) => p.projection_name === 'trace_summary');
    expect(ts.open_failures).toBe(0);
    expect(ts.is_stale).toBe(true);
    await sim.clear('broken-ordering');
    expect((await replay({ mode: 'rebuild', projection: 'trace_summary' })).status).toBe('completed');
    expect((await health()).projections.every((p: Json) => !p.is_stale)).toBe(true);
  });
});
