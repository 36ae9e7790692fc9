import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock, type SimulatorHandle, startSimulator } from '../../../sim/index.js';
import { apiClient, controlClient, eventBody, eventually, type Json } from './sim-client.js';

// With a clock passed in, what the simulator writes is stamped with that clock's time, not the machine's: the same
// steps give the same rows, and a backup's age is whatever the test says.

let sim: SimulatorHandle | undefined;

afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

describe('a simulator on a manual clock', () => {
  it('stamps event rows, run rows, backups and the release install with the clock time', async () => {
    const clock = new ManualClock('2026-03-07T12:00:00Z');
    sim = await startSimulator({ seed: { tracesPerTenant: 5 }, clock });
    const api = apiClient(sim);
    const control = controlClient(sim);

    clock.advance(90_000);
    const appended = await api.post('/api/v1/events', eventBody('trace-clock', 0, 'TraceStarted', { title: 't' }));
    expect(appended.status).toBe(201);
    expect(appended.body.data.event.recorded_at).toBe('2026-03-07T12:01:30Z');
    // The append woke the live workers: let them finish before the clock moves on.
    await eventually(async () => {
      const health = (await api.get('/api/v1/projections/health')).body.data;
      return health.projections.every((p: Json) => p.pending_events === 0) ? true : undefined;
    });

    clock.advance(250);
    const admitted = await api.post('/api/v1/admin/replays', { projection: 'trace_summary', reason: 'clock' });
    expect(admitted.status).toBe(202);
    expect(admitted.body.data.run.requested_at).toBe('2026-03-07T12:01:30.25Z');
    const jobId = admitted.body.data.run.job_id as string;
    const run = await eventually(async () => {
      const r = (await api.get(`/api/v1/admin/replays/${jobId}`)).body.data.run;
      return r.status === 'completed' ? r : undefined;
    });
    expect([run.started_at, run.finished_at]).toEqual(['2026-03-07T12:01:30.25Z', '2026-03-07T12:01:30.25Z']);

    clock.advance(3_600_000);
    const preserved = await control.post('/host/preserve-database', { label: 'before' });
    expect(preserved.status).toBe(200);
    await sim.inject('failed-upgrade-unlabelled');
    const state = (await control.get('/state')).body;
    expect(state.release_installed_at).toBe('2026-03-07T13:01:30.25Z');
    expect(state.backups.map((b: Json) => [b.label, b.created_at])).toEqual([
      ['scheduled', '2026-03-07T12:00:00Z'],
      ['before', '2026-03-07T13:01:30.25Z'],
      // Taken after the broken release went in: just after it, even on a clock that stands still.
      ['hourly', '2026-03-07T13:01:30.255Z'],
    ]);

    const db = new pg.Client({ connectionString: sim.databaseUrl });
    await db.connect();
    try {
      // Moved by the live workers on the append, stamped then; the replay found nothing left to move.
      const cursors = await db.query<{ updated_at: string }>(
        `SELECT DISTINCT updated_at FROM dg_projection_cursors WHERE tenant_id = 'default'`,
      );
      expect(cursors.rows.map((r) => r.updated_at)).toEqual(['2026-03-07T12:01:30Z']);
    } finally {
      await db.end();
    }
  });

  it('records each boot, replay run and host action it made clients wait for, on its clock', async () => {
    const clock = new ManualClock('2026-03-07T12:00:00Z');
    // Down at start: a boot on a clock that stands still would never end.
    sim = await startSimulator({
      seed: { tracesPerTenant: 5 },
      clock,
      faults: ['node-down'],
      bootDelayMs: 1_200,
      replayDurationMs: 1_700,
    });
    const api = apiClient(sim);
    const control = controlClient(sim);
    const t0 = Date.parse('2026-03-07T12:00:00Z');
    const before = sim.imposedWaits().length;

    expect((await control.post('/host/restart', {})).status).toBe(200);
    await eventually(async () => (clock.sleeping > 0 ? true : undefined));
    clock.advance(1_200);
    await eventually(async () => ((await api.get('/api/healthz')).status === 200 ? true : undefined));

    const admitted = await api.post('/api/v1/admin/replays', { projection: 'trace_summary', reason: 'floor' });
    expect(admitted.status).toBe(202);
    await eventually(async () => (clock.sleeping > 0 ? true : undefined));
    clock.advance(1_700);
    const jobId = admitted.body.data.run.job_id as string;
    await eventually(async () => {
      const r = (await api.get(`/api/v1/admin/replays/${jobId}`)).body.data.run;
      return r.status === 'completed' ? r : undefined;
    });
    await eventually(async () => (sim?.imposedWaits().some((w) => w.kind === 'replay') ? true : undefined));

    const waits = sim.imposedWaits().slice(before);
    expect(waits.map((w) => [w.kind, w.startedAt - t0, w.endedAt - t0])).toEqual([
      ['host', 0, 0],
      ['boot', 0, 1_200],
      ['replay', 1_200, 2_900],
    ]);
  });
});
