import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SimulatorHandle, startSimulator } from '../../../sim/index.js';

// Host actions the host carries out and whose answer never reaches the caller: cut off, or lost in transit.

let sim: SimulatorHandle;

beforeAll(async () => {
  sim = await startSimulator({ seed: { tracesPerTenant: 10 } });
});

afterAll(async () => {
  await sim?.close();
});

/** One control-API call with its own agent and deadline; what came back, or the error code that ended it. */
async function hostCall(path: string, body: unknown, key: string, timeoutMs = 5_000) {
  const agent = new Agent({ headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  try {
    const res = await request(`${sim.controlUrl}${path}`, {
      method: 'POST',
      dispatcher: agent,
      headers: {
        authorization: `Bearer ${sim.controlToken}`,
        'content-type': 'application/json',
        'idempotency-key': key,
      },
      body: JSON.stringify(body),
    });
    return {
      status: res.statusCode,
      replayed: res.headers['idempotent-replayed'] === 'true',
      body: await res.body.json(),
    };
  } catch (err) {
    return { error: (err as { code?: string }).code ?? String(err) };
  } finally {
    await agent.destroy();
  }
}

describe('host-answer faults', () => {
  it('host-cut-off: the restore runs, the connection is cut unanswered; the same key later gets the answer', async () => {
    const listed = await request(`${sim.controlUrl}/host/backups`, {
      headers: { authorization: `Bearer ${sim.controlToken}` },
    });
    const artifact = (JSON.parse((await listed.body.text()).split('\n')[0] ?? '{}') as { id: string }).id;
    const backup = sim.hostActionCounts().restore_backup ?? 0;
    await sim.inject('host-cut-off', { action: 'restore_backup' });
    const cut = await hostCall('/host/restore-backup', { artifact }, 'k-restore-1');
    expect(cut).toEqual({ error: 'UND_ERR_SOCKET' });
    expect(sim.hostActionCounts().restore_backup).toBe(backup + 1);
    // Other actions answer as usual.
    expect(await hostCall('/host/stop-writes', {}, 'k-stop-1')).toMatchObject({ status: 200 });

    await sim.clear('host-cut-off', { action: 'restore_backup' });
    const again = await hostCall('/host/restore-backup', { artifact }, 'k-restore-1');
    expect(again).toMatchObject({ status: 200, replayed: true, body: { ok: true, action: 'restore_backup' } });
    expect(sim.hostActionCounts().restore_backup).toBe(backup + 1);
    expect(sim.hostActionRequests().filter((r) => r.action === 'restore_backup')).toEqual([
      { action: 'restore_backup', idempotencyKey: 'k-restore-1', replayed: false, status: 200, delivery: 'cut-off' },
      { action: 'restore_backup', idempotencyKey: 'k-restore-1', replayed: true, status: 200, delivery: 'answered' },
    ]);
  });

  it('host-answer-lost: the action runs and the caller waits in silence until its own timeout', async () => {
    await sim.inject('host-answer-lost', { action: 'resume_writes' });
    const lost = await hostCall('/host/resume-writes', {}, 'k-resume-1', 300);
    expect(lost).toEqual({ error: 'UND_ERR_HEADERS_TIMEOUT' });
    expect(sim.hostActionCounts().resume_writes).toBe(1);
    expect(sim.hostActionRequests().at(-1)).toMatchObject({ action: 'resume_writes', delivery: 'answer-lost' });
    await sim.clear('host-answer-lost');
  });

  it('refuses a host action it does not know, a tenant, or an action on another fault', async () => {
    await expect(sim.inject('host-cut-off', { action: 'reboot' })).rejects.toBeInstanceOf(RangeError);
    await expect(sim.inject('host-cut-off', { tenantId: 'default' })).rejects.toBeInstanceOf(RangeError);
    await expect(sim.inject('slow', { action: 'restart' })).rejects.toBeInstanceOf(RangeError);
  });
});
