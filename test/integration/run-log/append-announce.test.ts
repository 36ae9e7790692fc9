import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createRunEventsBus, type RunEventsBus } from '../../../src/jobs/run-events-bus.js';
import { RunLogStore } from '../../../src/jobs/run-log/run-log-store.js';
import type { RunEvent } from '../../../src/runbook/index.js';
import { deletePrefix, makeEvents, randomPrefix, silentLogger } from './fixtures.js';

// Appends announce their own events: whoever follows a run (the Slack thread, the terminal) hears each event the
// log holds, once and in order, and nothing the log refused.

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

let redis: Redis;
let prefix: string;
let store: RunLogStore;
let bus: RunEventsBus;

beforeAll(() => {
  redis = new Redis(REDIS_URL);
});

afterAll(async () => {
  await redis.quit();
});

beforeEach(() => {
  prefix = randomPrefix();
  store = new RunLogStore({ redis, prefix });
  bus = createRunEventsBus({
    redis,
    prefix,
    read: (runId, fromSeq, limit) => store.read<RunEvent>(runId, fromSeq, limit),
    lastSeq: (runId) => store.lastSeq(runId),
    logger: silentLogger(),
  });
});

afterEach(async () => {
  await bus.close();
  await store.close();
  await deletePrefix(redis, prefix);
});

describe('an append announces its events', () => {
  it('to a run follower and to a follower of every run, each event once, in order; a lost race announces nothing', async () => {
    const heard: RunEvent[] = [];
    const everywhere: RunEvent[] = [];
    const stop = await bus.subscribe('r1', (e) => heard.push(e));
    const stopAll = await bus.subscribe('*', (e) => everywhere.push(e));

    await store.append('r1', 1, makeEvents('r1', 1, 2));
    // A second writer that decided from an old state loses: its event must never reach anyone.
    const lost = await store.append('r1', 2, makeEvents('r1', 2, 1, { step: 'from-a-stale-state' }));
    expect(lost.ok).toBe(false);
    await store.append('r1', 3, makeEvents('r1', 3, 3));

    await expect.poll(() => heard.length).toBe(5);
    const logged = await store.read<RunEvent>('r1');
    expect(heard).toEqual(logged);
    expect(everywhere).toEqual(logged);
    expect(heard.map((e) => (e as unknown as { step: string }).step)).not.toContain('from-a-stale-state');
    await stop();
    await stopAll();
  });

  it('keeps runs apart: a follower of one run hears nothing of another', async () => {
    const heard: RunEvent[] = [];
    const stop = await bus.subscribe('mine', (e) => heard.push(e));
    await store.append('theirs', 1, makeEvents('theirs', 1, 3));
    await store.append('mine', 1, makeEvents('mine', 1, 1));
    await expect.poll(() => heard.length).toBe(1);
    expect(heard[0]?.runId).toBe('mine');
    await stop();
  });
});
