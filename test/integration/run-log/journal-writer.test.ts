import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/errors.js';
import { JOURNAL_QUEUE } from '../../../src/jobs/run-log/journal-queue.js';
import { type JournalWriter, startJournalWriter } from '../../../src/jobs/run-log/journal-writer.js';
import { bullPrefix } from '../../../src/jobs/run-log/keys.js';
import { createRunRecovery } from '../../../src/jobs/run-log/recovery.js';
import { RunLogStore } from '../../../src/jobs/run-log/run-log-store.js';
import { createJournal, type Journal } from '../../../src/store/journal.js';
import { createTempDatabase, type TempDatabase } from '../../helpers/pg.js';
import { deletePrefix, makeEvents, randomPrefix, silentLogger } from './fixtures.js';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

let db: TempDatabase;
let redis: Redis;
let prefix: string;
let schema: string;
let journal: Journal;
let store: RunLogStore;
let writer: JournalWriter | undefined;
let schemaCounter = 0;

beforeAll(async () => {
  db = await createTempDatabase('dgwriter');
  redis = new Redis(REDIS_URL);
});

afterAll(async () => {
  await redis.quit();
  await db.drop();
});

beforeEach(() => {
  prefix = randomPrefix();
  schemaCounter += 1;
  schema = `journal_${schemaCounter}`;
  journal = createJournal({ connectionString: db.url, schema });
  store = new RunLogStore({ redis, prefix });
});

afterEach(async () => {
  await writer?.close();
  writer = undefined;
  await store.close();
  await journal.close();
  await deletePrefix(redis, prefix);
});

const start = (options: { sweepIntervalMs?: number; lockDurationMs?: number; stalledIntervalMs?: number } = {}) =>
  startJournalWriter({ redis, pg: journal, prefix, logger: silentLogger(), backoffBaseMs: 50, ...options });

describe('write-behind', () => {
  it('makes the journal equal to the live log after drain, for interleaved runs', async () => {
    writer = await start();
    const runs = ['run-a', 'run-b', 'run-c'];
    const next = new Map(runs.map((r) => [r, 1]));
    // Interleaved appends of uneven batches, as concurrent step jobs would make them.
    for (let round = 0; round < 6; round += 1) {
      for (const [i, runId] of runs.entries()) {
        const from = next.get(runId) ?? 1;
        const count = 1 + ((round + i) % 3);
        const res = await store.append(runId, from, makeEvents(runId, from, count));
        expect(res.ok).toBe(true);
        next.set(runId, from + count);
      }
    }
    const last = { runId: 'run-b', seq: next.get('run-b') ?? 0, type: 'run_finished', at: new Date().toISOString() };
    await store.append('run-b', last.seq, [{ ...last, outcome: 'recovered' }]);

    await writer.drain({ timeoutMs: 10_000 });

    for (const runId of runs) {
      const live = await store.read(runId);
      const loaded = await journal.loadRun(runId);
      expect(loaded?.events).toEqual(live);
      expect(loaded?.run.lastSeq).toBe(live.length);
    }
    expect((await journal.getRun('run-b'))?.status).toBe('finished');
    expect((await journal.listUnfinishedRuns()).map((r) => r.runId)).toEqual(['run-a', 'run-c']);
    expect(await store.journalBacklog()).toEqual([]);
  });

  it('catches up runs appended while no writer was running', async () => {
    await store.append('early', 1, makeEvents('early', 1, 3));
    writer = await start();
    await writer.drain({ timeoutMs: 10_000 });
    expect((await journal.loadRun('early'))?.events).toEqual(await store.read('early'));
  });

  it('expires a finished run from Redis once it is fully journaled', async () => {
    writer = await startJournalWriter({
      redis,
      pg: journal,
      prefix,
      logger: silentLogger(),
      finishedRunTtlSeconds: 3600,
    });
    await store.append('done', 1, makeEvents('done', 1, 2));
    await store.append('done', 3, [{ runId: 'done', seq: 3, type: 'run_finished', at: new Date().toISOString() }]);
    await store.append('live', 1, makeEvents('live', 1, 2));
    await writer.drain({ timeoutMs: 10_000 });
    const ttlDone = await redis.ttl(`${prefix}runlog:events:done`);
    expect(ttlDone).toBeGreaterThan(3500);
    expect(await redis.ttl(`${prefix}runlog:events:live`)).toBe(-1);
    expect((await journal.getRun('done'))?.lastSeq).toBe(3);
  });

  it("takes over a dead writer's copy within its short lock, and the run's later events follow", async () => {
    await store.append('orphan', 1, makeEvents('orphan', 1, 3));
    await store.flushJournalRequests();
    // A writer that took the copy and died: the job is active under its lock, and nobody renews the lock.
    const connection = redis.duplicate({ maxRetriesPerRequest: null });
    const dead = new Worker(JOURNAL_QUEUE, null, {
      connection,
      prefix: bullPrefix(prefix),
      autorun: false,
      lockDuration: 600,
    });
    try {
      expect((await dead.getNextJob('dead-writer'))?.data).toEqual({ runId: 'orphan' });
    } finally {
      connection.disconnect();
    }
    // Queued behind the active copy: it cannot run before that copy ends.
    await store.append('orphan', 4, makeEvents('orphan', 4, 2));
    await store.flushJournalRequests();

    const t0 = Date.now();
    writer = await start({ sweepIntervalMs: 0, lockDurationMs: 600, stalledIntervalMs: 300 });
    await writer.drain({ timeoutMs: 15_000 });
    // The defaults of BullMQ (30 s lock, 30 s check) would keep the journal behind for 30 s to a minute; the short
    // lock takes it over in about a second, and the bound leaves room for a loaded machine.
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect((await journal.loadRun('orphan'))?.events).toEqual(await store.read('orphan'));
  });

  it('reports how far behind the journal is when drain runs out of time', async () => {
    // A journal that cannot be reached: every copy fails and is retried, so drain can only time out.
    const unreachable = createJournal({ connectionString: 'postgres://root@127.0.0.1:1/none', connectTimeoutMs: 500 });
    writer = await startJournalWriter({ redis, pg: unreachable, prefix, logger: silentLogger(), backoffBaseMs: 50 });
    try {
      await store.append('stuck', 1, makeEvents('stuck', 1, 1));
      const error = await writer.drain({ timeoutMs: 400 }).then(
        () => undefined,
        (e: unknown) => e as { code?: string; pendingRunIds?: string[] },
      );
      expect(error?.code).toBe(ErrorCode.JournalDrainTimeout);
      expect(error?.pendingRunIds).toEqual(['stuck']);
      expect(await store.journalBacklog()).toEqual([{ runId: 'stuck', lastSeq: 1, journaledSeq: 0 }]);
    } finally {
      await writer.close();
      writer = undefined;
      await unreachable.close();
    }
  });
});

describe('recovery', () => {
  it('reconcileJournal pushes every live-log event the journal lacks', async () => {
    await store.append('r1', 1, makeEvents('r1', 1, 4));
    await store.append('r2', 1, makeEvents('r2', 1, 2));
    await journal.appendJournal(makeEvents('r1', 1, 2));
    const recovery = createRunRecovery({ store, journal, logger: silentLogger() });
    const report = await recovery.reconcileJournal();
    expect(report).toEqual([
      { runId: 'r1', pushed: 2, journaledSeq: 4, complete: true },
      { runId: 'r2', pushed: 2, journaledSeq: 2, complete: true },
    ]);
    expect((await journal.loadRun('r1'))?.events).toEqual(await store.read('r1'));
    expect(await recovery.reconcileJournal()).toEqual([
      { runId: 'r1', pushed: 0, journaledSeq: 4, complete: true },
      { runId: 'r2', pushed: 0, journaledSeq: 2, complete: true },
    ]);
  });

  it('rebuildFromJournal reloads a lost log and never overwrites a live one', async () => {
    const events = makeEvents('lost', 1, 3, { scenario: 'restart', tenantId: 'default' });
    await store.append('lost', 1, events);
    await createRunRecovery({ store, journal }).reconcileJournal();
    await redis.del(`${prefix}runlog:events:lost`, `${prefix}runlog:active`);

    const recovery = createRunRecovery({ store, journal });
    expect(await recovery.rebuildFromJournal('lost')).toEqual({
      runId: 'lost',
      status: 'restored',
      lastSeq: 3,
      active: true,
      slot: { acquired: true },
    });
    expect(await store.read('lost')).toEqual(events);
    expect(await store.listActiveRuns()).toEqual(['lost']);
    expect(await store.runSlotHolder({ scope: 'node' })).toBe('lost');
    expect(await store.append('lost', 4, makeEvents('lost', 4, 1))).toEqual({ ok: true, lastSeq: 4 });
    expect(await recovery.rebuildFromJournal('lost')).toMatchObject({ status: 'present', lastSeq: 4 });
    expect(await store.lastSeq('lost')).toBe(4);
    expect(await recovery.rebuildFromJournal('never')).toMatchObject({ status: 'not_found' });
  });
});
