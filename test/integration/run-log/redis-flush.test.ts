import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type JournalWriter, startJournalWriter } from '../../../src/jobs/run-log/journal-writer.js';
import { createRunRecovery } from '../../../src/jobs/run-log/recovery.js';
import { RunLogStore } from '../../../src/jobs/run-log/run-log-store.js';
import { createJournal, type Journal } from '../../../src/store/journal.js';
import { type OwnRedis, startOwnRedis } from '../../helpers/own-redis.js';
import { createTempDatabase, type TempDatabase } from '../../helpers/pg.js';
import { makeEvents, silentLogger } from './fixtures.js';

let own: OwnRedis;
let redis: Redis;
let db: TempDatabase;
let journal: Journal;
let store: RunLogStore;
let writer: JournalWriter | undefined;

beforeAll(async () => {
  own = await startOwnRedis();
  redis = new Redis(own.url);
  db = await createTempDatabase('dgflush');
  journal = createJournal({ connectionString: db.url });
  store = new RunLogStore({ redis, prefix: 'dgr:' });
});

afterAll(async () => {
  await writer?.close();
  await store?.close();
  await journal?.close();
  await redis?.quit();
  await own?.stop();
  await db?.drop();
});

describe('Redis loses everything in the middle of a run', () => {
  it('rebuilds the unfinished runs from the journal, with their slots, and the runs go on', async () => {
    writer = await startJournalWriter({ redis, pg: journal, logger: silentLogger(), backoffBaseMs: 50 });
    const restart = makeEvents('restart-1', 1, 5, { scenario: 'restart', tenantId: 'default', startedBy: 'U1' });
    const projections = makeEvents('proj-1', 1, 3, { scenario: 'projections', tenantId: 't1', startedBy: 'U2' });
    await store.append('restart-1', 1, restart);
    await store.acquireRunSlot({ scope: 'node', runId: 'restart-1' });
    await store.append('proj-1', 1, projections);
    await store.acquireRunSlot({ scope: 'tenant', tenantId: 't1', runId: 'proj-1' });
    await store.append('done-1', 1, makeEvents('done-1', 1, 2, { scenario: 'upgrade' }));
    await store.append('done-1', 3, [{ runId: 'done-1', seq: 3, type: 'run_finished', at: new Date().toISOString() }]);
    await writer.drain({ timeoutMs: 10_000 });

    await redis.flushall();

    // A step job that tries to append seq 6 now is refused: the log it expects is gone.
    expect(await store.append('restart-1', 6, makeEvents('restart-1', 6, 1))).toEqual({
      ok: false,
      reason: 'conflict',
      currentSeq: 0,
    });

    const recovery = createRunRecovery({ store, journal, logger: silentLogger() });
    const reports = await recovery.restoreActiveRunsFromJournal();
    // Oldest first; these two started at the same instant, so by run id.
    expect(reports).toEqual([
      { runId: 'proj-1', status: 'restored', lastSeq: 3, active: true, slot: { acquired: true } },
      { runId: 'restart-1', status: 'restored', lastSeq: 5, active: true, slot: { acquired: true } },
    ]);
    expect(await store.read('restart-1')).toEqual(restart);
    expect(await store.read('proj-1')).toEqual(projections);
    expect(await store.listActiveRuns()).toEqual(['proj-1', 'restart-1']);
    // Finished runs stay in the journal only.
    expect(await store.lastSeq('done-1')).toBe(0);

    // The slots hold again: a second node-wide start is refused and pointed at the restored run.
    expect(await store.acquireRunSlot({ scope: 'node', runId: 'restart-2' })).toEqual({
      acquired: false,
      holderRunId: 'restart-1',
    });
    expect(await store.runSlotHolder({ scope: 'tenant', tenantId: 't1' })).toBe('proj-1');

    // Restoring again changes nothing.
    expect((await recovery.restoreActiveRunsFromJournal()).map((r) => r.status)).toEqual(['present', 'present']);

    // The run goes on from where the journal had it, and the write-behind keeps working.
    expect(await store.append('restart-1', 6, makeEvents('restart-1', 6, 2))).toEqual({ ok: true, lastSeq: 7 });
    await writer.drain({ timeoutMs: 10_000 });
    expect((await journal.loadRun('restart-1'))?.events).toEqual(await store.read('restart-1'));
    expect(await journal.lastSeq('restart-1')).toBe(7);
  });
});
