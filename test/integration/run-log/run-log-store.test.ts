import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/errors.js';
import { RunLogStore } from '../../../src/jobs/run-log/run-log-store.js';
import { deletePrefix, makeEvents, randomPrefix } from './fixtures.js';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

let redis: Redis;
let other: Redis;
let prefix: string;
let store: RunLogStore;
let rival: RunLogStore;

beforeAll(() => {
  redis = new Redis(REDIS_URL);
  other = new Redis(REDIS_URL);
});

afterAll(async () => {
  await redis.quit();
  await other.quit();
});

beforeEach(() => {
  prefix = randomPrefix();
  store = new RunLogStore({ redis, prefix });
  // A second worker process: its own connection, same keys.
  rival = new RunLogStore({ redis: other, prefix });
});

afterEach(async () => {
  await store.close();
  await rival.close();
  await deletePrefix(redis, prefix);
});

async function rejection(promise: Promise<unknown>): Promise<{ code?: string; message?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as { code?: string };
  }
  throw new Error('expected a rejection');
}

describe('append and read', () => {
  it('appends in order and reads back from any seq', async () => {
    const events = makeEvents('r1', 1, 5);
    expect(await store.append('r1', 1, events.slice(0, 2))).toEqual({ ok: true, lastSeq: 2 });
    expect(await store.append('r1', 3, events.slice(2))).toEqual({ ok: true, lastSeq: 5 });
    expect(await store.read('r1')).toEqual(events);
    expect(await store.read('r1', 4)).toEqual(events.slice(3));
    expect(await store.read('r1', 2, 2)).toEqual(events.slice(1, 3));
    expect(await store.lastSeq('r1')).toBe(5);
    expect(await store.lastSeq('unknown')).toBe(0);
    expect(await store.read('unknown')).toEqual([]);
  });

  it('lets only one of two racing workers append a given seq; the loser learns the current seq', async () => {
    await store.append('r2', 1, makeEvents('r2', 1, 4));
    const five = makeEvents('r2', 5, 1);
    const mine = [{ ...five[0], by: 'worker-a' }];
    const theirs = [{ ...five[0], by: 'worker-b' }];
    const results = await Promise.all([store.append('r2', 5, mine as never), rival.append('r2', 5, theirs as never)]);
    expect(results.filter((r) => r.ok)).toEqual([{ ok: true, lastSeq: 5 }]);
    expect(results.filter((r) => !r.ok)).toEqual([{ ok: false, reason: 'conflict', currentSeq: 5 }]);
    const stored = await store.read('r2', 5);
    expect(stored).toHaveLength(1);
    expect(await store.lastSeq('r2')).toBe(5);
  });

  it('refuses an append from a history that ends differently, even at the same length', async () => {
    const seen = makeEvents('r6', 1, 3);
    await store.append('r6', 1, seen);
    // Redis lost the run and it came back from elsewhere with other events at the same seqs.
    await redis.del(`${prefix}runlog:events:r6`);
    const other = makeEvents('r6', 1, 3, { step: 'rebuilt-differently' });
    await rival.append('r6', 1, other);

    const next = makeEvents('r6', 4, 1);
    expect(await store.append('r6', 4, next, JSON.stringify(seen[2]))).toEqual({
      ok: false,
      reason: 'conflict',
      currentSeq: 3,
    });
    expect(await store.read('r6')).toEqual(other);
    expect(await store.append('r6', 4, next, JSON.stringify(other[2]))).toEqual({ ok: true, lastSeq: 4 });
  });

  it('runs an ordered append before anything sent after it on the connection, even when Redis lost its scripts', async () => {
    const events = makeEvents('r-ordered', 1, 3);
    await store.append('r-ordered', 1, events.slice(0, 1));
    // A restarted Redis keeps its data when it persists, never its scripts.
    await redis.script('FLUSH');
    const ordered = store.append('r-ordered', 2, events.slice(1, 2), '', { ordered: true });
    const afterOrdered = store.lastSeq('r-ordered');
    expect(await ordered).toEqual({ ok: true, lastSeq: 2 });
    expect(await afterOrdered).toBe(2);

    // By default the script goes by its hash: refused for a missing script, it is sent again behind the read.
    await redis.script('FLUSH');
    const byHash = store.append('r-ordered', 3, events.slice(2), JSON.stringify(events[1]));
    const overtaking = store.lastSeq('r-ordered');
    expect(await byHash).toEqual({ ok: true, lastSeq: 3 });
    expect(await overtaking).toBe(2);
  });

  it('refuses an append that skips ahead, with the current seq', async () => {
    await store.append('r3', 1, makeEvents('r3', 1, 2));
    expect(await store.append('r3', 5, makeEvents('r3', 5, 1))).toEqual({
      ok: false,
      reason: 'conflict',
      currentSeq: 2,
    });
    expect(await store.lastSeq('r3')).toBe(2);
  });

  it('refuses a malformed batch without appending any of it', async () => {
    const wrongSeq = await rejection(store.append('r4', 1, makeEvents('r4', 2, 2)));
    expect(wrongSeq.code).toBe(ErrorCode.RunEventInvalid);
    const wrongRun = await rejection(store.append('r4', 1, makeEvents('someone-else', 1, 1)));
    expect(wrongRun.code).toBe(ErrorCode.RunEventInvalid);
    const empty = await rejection(store.append('r4', 1, []));
    expect(empty.code).toBe(ErrorCode.RunEventInvalid);
    expect(await store.lastSeq('r4')).toBe(0);
  });

  it('keeps every key under its prefix', async () => {
    await store.append('r5', 1, makeEvents('r5', 1, 1));
    await store.flushJournalRequests();
    await store.acquireRunSlot({ scope: 'node', runId: 'r5' });
    const [, keys] = await redis.scan('0', 'MATCH', `${prefix}*`, 'COUNT', 1000);
    expect(keys.length).toBeGreaterThan(0);
    const runLogKeys = keys.filter((k) => k.startsWith(`${prefix}runlog:`));
    const queueKeys = keys.filter((k) => k.startsWith(`${prefix}journal:`));
    expect(runLogKeys.length + queueKeys.length).toBe(keys.length);
    expect(queueKeys.length).toBeGreaterThan(0);
  });
});

describe('active run index', () => {
  it('lists a run from its first event until it finishes or is aborted', async () => {
    await store.append('a', 1, makeEvents('a', 1, 2));
    await store.append('b', 1, makeEvents('b', 1, 1));
    expect(await store.listActiveRuns()).toEqual(['a', 'b']);
    await store.append('a', 3, [{ runId: 'a', seq: 3, type: 'run_finished', at: new Date().toISOString() }]);
    await store.append('b', 2, [{ runId: 'b', seq: 2, type: 'run_aborted', at: new Date().toISOString() }]);
    expect(await store.listActiveRuns()).toEqual([]);
    // A late event after the end does not bring the run back.
    await store.append('a', 4, [{ runId: 'a', seq: 4, type: 'summary_posted', at: new Date().toISOString() }]);
    expect(await store.listActiveRuns()).toEqual([]);
  });
});

describe('run slots', () => {
  it('refuses a second node-wide run and names the holder', async () => {
    expect(await store.acquireRunSlot({ scope: 'node', runId: 'run-a' })).toEqual({ acquired: true });
    expect(await rival.acquireRunSlot({ scope: 'node', runId: 'run-b' })).toEqual({
      acquired: false,
      holderRunId: 'run-a',
    });
    // Idempotent for the holder (a retried start job).
    expect(await store.acquireRunSlot({ scope: 'node', runId: 'run-a' })).toEqual({ acquired: true });
    expect(await store.runSlotHolder({ scope: 'node' })).toBe('run-a');
  });

  it('gives each tenant its own slot, independent of the node-wide one', async () => {
    expect(await store.acquireRunSlot({ scope: 'node', runId: 'restart-1' })).toEqual({ acquired: true });
    expect(await store.acquireRunSlot({ scope: 'tenant', tenantId: 't1', runId: 'proj-1' })).toEqual({
      acquired: true,
    });
    expect(await store.acquireRunSlot({ scope: 'tenant', tenantId: 't2', runId: 'proj-2' })).toEqual({
      acquired: true,
    });
    expect(await rival.acquireRunSlot({ scope: 'tenant', tenantId: 't1', runId: 'proj-3' })).toEqual({
      acquired: false,
      holderRunId: 'proj-1',
    });
  });

  it('is released only by its holder', async () => {
    await store.acquireRunSlot({ scope: 'tenant', tenantId: 't1', runId: 'p1' });
    expect(await rival.releaseRunSlot({ scope: 'tenant', tenantId: 't1', runId: 'p2' })).toBe(false);
    expect(await store.runSlotHolder({ scope: 'tenant', tenantId: 't1' })).toBe('p1');
    expect(await store.releaseRunSlot({ scope: 'tenant', tenantId: 't1', runId: 'p1' })).toBe(true);
    expect(await rival.acquireRunSlot({ scope: 'tenant', tenantId: 't1', runId: 'p2' })).toEqual({ acquired: true });
  });

  it('is freed when the run that holds it ends', async () => {
    await store.append('n1', 1, makeEvents('n1', 1, 1));
    await store.acquireRunSlot({ scope: 'node', runId: 'n1' });
    expect(await rival.acquireRunSlot({ scope: 'node', runId: 'n2' })).toMatchObject({ acquired: false });
    await store.append('n1', 2, [{ runId: 'n1', seq: 2, type: 'run_finished', at: new Date().toISOString() }]);
    expect(await rival.acquireRunSlot({ scope: 'node', runId: 'n2' })).toEqual({ acquired: true });
  });
});
