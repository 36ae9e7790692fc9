import { afterEach, describe, expect, it } from 'vitest';
import {
  ManualClock,
  type SimulatorHandle,
  type SimulatorOptions,
  startSimulator,
  variantOptions,
} from '../../../sim/index.js';
import { apiClient, controlClient, eventually, type Json } from './sim-client.js';

// Each variant as a client meets it: a replay that stays running until its time is up, and backups that bring a
// lag or an orphaned run back with them when restored.

let sim: SimulatorHandle | undefined;

afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

async function start(options: SimulatorOptions) {
  sim = await startSimulator({ seed: { tracesPerTenant: 20 }, ...options });
  return { sim, api: apiClient(sim), control: controlClient(sim) };
}

async function restoreScheduledAndRestart(control: ReturnType<typeof controlClient>): Promise<void> {
  const backups = (await control.get('/host/backups')).text
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Json);
  const scheduled = backups.find((b) => b.label === 'scheduled');
  expect((await control.post('/host/stop')).status).toBe(200);
  expect((await control.post('/host/restore-backup', { artifact: scheduled.id })).status).toBe(200);
  expect((await control.post('/host/start')).status).toBe(200);
}

describe('slow-replays', () => {
  it('keeps every replay run running until its duration has passed on the clock, then completes it', async () => {
    const clock = new ManualClock();
    const { api } = await start({ ...variantOptions(['slow-replays']), clock });
    const admitted = await api.post('/api/v1/admin/replays', { projection: 'trace_summary', reason: 'smoke' });
    expect(admitted.status).toBe(202);
    const jobId = admitted.body.data.run.job_id as string;
    const run = async () => (await api.get(`/api/v1/admin/replays/${jobId}`)).body.data.run;
    await eventually(async () => ((await run()).status === 'running' && clock.sleeping === 1 ? true : undefined));
    expect((await api.get('/api/healthz')).body.projector.active_replay_jobs).toBe(1);

    clock.advance(5_999);
    expect((await run()).status).toBe('running');
    clock.advance(1);
    await eventually(async () => ((await run()).status === 'completed' ? true : undefined));
  });
});

describe('lagging-restore', () => {
  it('restores pending events that no worker picks up after the start, until a catch_up', async () => {
    const { api, control } = await start(variantOptions(['lagging-restore']));
    await restoreScheduledAndRestart(control);
    const health = (await api.get('/api/v1/projections/health')).body.data;
    expect(health.projections.map((p: Json) => p.pending_events > 0)).toEqual([true, true, true]);
    expect((await api.get(`/api/v1/traces/${sim?.known.traceId}`)).status).toBe(409);

    const catchUp = await api.post('/api/v1/admin/replays', { projection: 'all', reason: 'after the restore' });
    expect(catchUp.status).toBe(202);
    await eventually(async () => {
      const h = (await api.get('/api/v1/projections/health')).body.data;
      return h.projections.every((p: Json) => p.pending_events === 0) ? true : undefined;
    });
  });
});

describe('orphaned-runs', () => {
  it('restores a run row marked running while the restarted node has no replay job', async () => {
    const { api, control } = await start(variantOptions(['orphaned-runs']));
    await restoreScheduledAndRestart(control);
    const health = (await api.get('/api/v1/projections/health')).body.data;
    expect(health.open_runs.map((r: Json) => r.status)).toEqual(['running']);
    expect((await api.get('/api/healthz')).body.projector.active_replay_jobs).toBe(0);
    const jobId = health.open_runs[0].job_id as string;
    expect((await api.post(`/api/v1/admin/replays/${jobId}/cancel`)).status).toBe(404);
  });
});
