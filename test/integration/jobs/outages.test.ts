import { Redis } from 'ioredis';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { createJournal } from '../../../src/store/index.js';
import { type OwnPostgres, startOwnPostgres } from '../../helpers/own-postgres.js';
import { type OwnRedis, startOwnRedis } from '../../helpers/own-redis.js';
import { driveRun, type RunWatcher, STARTER, startRun, startWorld, type World } from './fixtures.js';

let world: World | undefined;
let watcher: RunWatcher | undefined;
let ownRedis: OwnRedis | undefined;
let ownPostgres: OwnPostgres | undefined;

afterEach(async () => {
  await watcher?.close();
  await world?.close();
  await ownRedis?.stop();
  await ownPostgres?.destroy();
  watcher = undefined;
  world = undefined;
  ownRedis = undefined;
  ownPostgres = undefined;
});

async function journalEvents(url: string, runId: string) {
  const journal = createJournal({ connectionString: url });
  try {
    return await journal.loadRun(runId);
  } finally {
    await journal.close();
  }
}

async function checkpoint(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('CHECKPOINT');
  } finally {
    await client.end();
  }
}

describe('the bot outlives its own stores', () => {
  // Each test starts a store of its own and waits out real reconnects, delayed polls and a journal catch-up: on a
  // loaded machine one has taken 15 s, too close to the default 20 s.
  it('Redis loses everything mid-run: the run is rebuilt from the journal, its lost poll job too, and finishes', async () => {
    ownRedis = await startOwnRedis();
    // A node that boots in 4 s, and polls slow enough (the first healthz re-check after 2 s) that the re-check job
    // is still waiting in Redis when it is flushed.
    world = await startWorld({
      sim: { faults: ['node-down', 'projections-behind'], bootDelayMs: 4_000 },
      redisUrl: ownRedis.url,
      runtime: { timeScale: { delays: 8, deadlines: 1 } },
    });
    const { service, runtime } = world;
    watcher = await startRun(service, 'restart');
    await watcher.until((s) => s.steps.wait_healthz?.status === 'waiting');
    await runtime.drainJournal(10_000);

    const admin = new Redis(ownRedis.url);
    try {
      await admin.flushall();
      // The workers go on while Redis is flushed: a BullMQ worker writes its queue's `meta` and `stalled-check`
      // keys back within its stalled-check interval (the journal writer's is 500 ms here). The run itself, its
      // slot and its re-check job are gone.
      const left = await admin.keys('*');
      expect(left.filter((key) => !/:(meta|stalled-check)$/.test(key))).toEqual([]);
    } finally {
      admin.disconnect();
    }

    // Until the run is back in Redis, reading it falls back to the journal.
    const fromJournal = await service.get(watcher.runId);
    expect(fromJournal?.events).toEqual(watcher.events);
    expect(fromJournal?.state.steps.wait_healthz?.status).toBe('waiting');

    const report = await runtime.reconcile();
    expect(report.redisWasEmpty).toBe(true);
    expect(report.restored).toEqual([watcher.runId]);
    // The slot is held again: a second node-wide run is refused and pointed at this one.
    expect(await service.start({ scenario: 'upgrade', actor: STARTER })).toMatchObject({
      ok: false,
      code: 'run_active',
      activeRunId: watcher.runId,
    });

    const end = await driveRun(watcher);
    expect(end.outcome?.outcome).toBe('recovered');
    expect(world.sim.hostActionCounts().restart).toBe(1);
    const checks = watcher.ofType('step_passed').filter((e) => e.stepId === 'wait_healthz');
    expect(checks).toHaveLength(1);

    await runtime.drainJournal(10_000);
    const journaled = await journalEvents(world.db?.url ?? '', watcher.runId);
    expect(journaled?.events).toEqual((await service.get(watcher.runId))?.events);
  }, 45_000);

  it("the bot's own Postgres is down: probes go on, the restart waits for it, and the journal is complete", async () => {
    ownPostgres = await startOwnPostgres();
    const url = ownPostgres.url();
    world = await startWorld({
      sim: { faults: ['node-down', 'projections-behind'] },
      databaseUrl: url,
      runtime: { worker: { journalGate: { retryBaseMs: 50, retryMaxMs: 200 } } },
    });
    const { service, runtime } = world;
    // The test server runs with synchronous_commit off: without a checkpoint an immediate stop would also take the
    // journal's freshly created schema with it, which no real outage does.
    await checkpoint(url);
    await ownPostgres.stop();
    watcher = await startRun(service, 'restart');

    // The probes run on from Redis; the restart does not start without its start in the journal, and says why.
    const held = await watcher.until((s) => (s.steps.restart_runtime?.held ?? null) !== null);
    expect(held.steps.check_postgres?.status).toBe('passed');
    expect(held.steps.restart_runtime).toMatchObject({
      status: 'pending',
      held: { reason: expect.stringContaining('journal') },
    });
    expect(world.sim.hostActionCounts().restart ?? 0).toBe(0);
    expect(watcher.ofType('step_held')).toHaveLength(1);
    await expect(journalEvents(url, watcher.runId)).rejects.toMatchObject({ code: 'DG_ERR_JOURNAL_UNAVAILABLE' });

    await ownPostgres.start();
    const end = await driveRun(watcher);
    expect(end.outcome?.outcome).toBe('recovered');
    expect(world.sim.hostActionCounts().restart).toBe(1);
    await runtime.drainJournal(15_000);
    const journaled = await journalEvents(url, watcher.runId);
    const live = (await service.get(watcher.runId))?.events ?? [];
    expect(journaled?.events.map((e) => e.seq)).toEqual(live.map((_, i) => i + 1));
    expect(journaled?.events).toEqual(live);
    expect(journaled?.run).toMatchObject({ status: 'finished', outcome: 'recovered' });
  }, 45_000);
});
