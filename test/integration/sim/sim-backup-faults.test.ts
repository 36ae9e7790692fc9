import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SimulatorHandle, startSimulator } from '../../../sim/index.js';
import { controlClient, type Json } from './sim-client.js';

// The backup faults: what a restore brings back, and what an upgrade left on the backup list.

let sim: SimulatorHandle;
let control: ReturnType<typeof controlClient>;

beforeAll(async () => {
  sim = await startSimulator({ seed: { tracesPerTenant: 40 } });
  control = controlClient(sim);
});

afterAll(async () => {
  await sim?.close();
});

const DRIFT_SQL = `SELECT log_seq FROM dg_event_log
  WHERE payload_hash IS DISTINCT FROM 'sha256:' || encode(sha256(convert_to(payload_json, 'UTF8')), 'hex')`;

async function drifted(): Promise<unknown[]> {
  const client = new pg.Client({ connectionString: sim.databaseUrl });
  await client.connect();
  try {
    return (await client.query(DRIFT_SQL)).rows;
  } finally {
    await client.end();
  }
}

async function state(): Promise<Json> {
  return (await control.get('/state')).body;
}

function backupLabelled(s: Json, label: string): Json | undefined {
  return (s.backups as Json[]).find((b) => b.label === label);
}

describe('backup faults', () => {
  it('drifted-backup: restoring the nightly backup brings drift back, until the fault is cleared', async () => {
    await control.post('/faults/drifted-backup');
    expect(await drifted()).toEqual([]);
    const nightly = backupLabelled(await state(), 'nightly');
    expect(nightly).toBeDefined();
    await control.post('/host/restore-backup', { artifact: nightly?.id });
    expect(await drifted()).toHaveLength(2);
    await control.post('/host/restore-backup', { artifact: backupLabelled(await state(), 'scheduled')?.id });
    expect(await drifted()).toEqual([]);
    await control.del('/faults/drifted-backup');
    await control.post('/host/restore-backup', { artifact: nightly?.id });
    expect(await drifted()).toEqual([]);
  });

  it('failed-upgrade-unlabelled: the broken release, no pre-upgrade backup, an hourly one taken after it', async () => {
    await control.post('/faults/failed-upgrade-unlabelled');
    const s = await state();
    expect(s.release).toBe('v2-broken');
    const installed = Date.parse(String(s.release_installed_at));
    expect(Date.parse(String(backupLabelled(s, 'hourly')?.created_at))).toBeGreaterThan(installed);
    expect(Date.parse(String(backupLabelled(s, 'scheduled')?.created_at))).toBeLessThan(installed);
    expect(backupLabelled(s, 'pre-upgrade')).toBeUndefined();
    await control.post('/host/switch-release', { release: 'v1' });
    expect((await state()).faults).not.toContain('failed-upgrade-unlabelled');
  });
});
