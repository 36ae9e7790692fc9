import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/errors.js';
import { type JournalWriter, startJournalWriter } from '../../../src/jobs/run-log/journal-writer.js';
import { RunLogStore } from '../../../src/jobs/run-log/run-log-store.js';
import { createLogger } from '../../../src/logger.js';
import { createJournal, type Journal } from '../../../src/store/journal.js';
import { type OwnPostgres, startOwnPostgres } from '../../helpers/own-postgres.js';
import { deletePrefix, makeEvents, randomPrefix } from './fixtures.js';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

let own: OwnPostgres;
let redis: Redis;
let prefix: string;
let journal: Journal;
let store: RunLogStore;
let writer: JournalWriter | undefined;

/** Log lines the writer emits, so the test can wait for a failed copy instead of sleeping. */
const lines: string[] = [];
let onLine: (() => void) | undefined;
const logger = createLogger(
  { level: 'warn' },
  {
    write(line: string) {
      lines.push(line);
      onLine?.();
    },
  },
);
function logged(text: string): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      if (lines.some((l) => l.includes(text))) {
        onLine = undefined;
        resolve();
      }
    };
    onLine = check;
    check();
  });
}

beforeAll(async () => {
  own = await startOwnPostgres();
  redis = new Redis(REDIS_URL);
  prefix = randomPrefix();
});

afterAll(async () => {
  await writer?.close();
  await store?.close();
  await journal?.close();
  await deletePrefix(redis, prefix);
  await redis.quit();
  await own?.destroy();
});

describe('the bot’s Postgres goes down in the middle of a run', () => {
  it('keeps the run going, then the journal catches up with every event in order', async () => {
    journal = createJournal({ connectionString: own.url(), connectTimeoutMs: 1000, statementTimeoutMs: 2000 });
    store = new RunLogStore({ redis, prefix });
    writer = await startJournalWriter({
      redis,
      pg: journal,
      prefix,
      logger,
      backoffBaseMs: 50,
      backoffMaxMs: 400,
    });

    await store.append('run-x', 1, makeEvents('run-x', 1, 3, { scenario: 'postgres', tenantId: 'default' }));
    await writer.drain({ timeoutMs: 10_000 });
    expect(await journal.lastSeq('run-x')).toBe(3);

    await own.stop();

    // The run goes on: every append succeeds while the journal is unreachable.
    let seq = 4;
    for (; seq <= 30; seq += 1) {
      expect((await store.append('run-x', seq, makeEvents('run-x', seq, 1))).ok).toBe(true);
      if (seq <= 10) expect((await store.append('run-y', seq - 3, makeEvents('run-y', seq - 3, 1))).ok).toBe(true);
    }
    const finished = { runId: 'run-x', seq, type: 'run_finished', at: new Date().toISOString(), outcome: 'recovered' };
    expect(await store.append('run-x', seq, [finished])).toEqual({ ok: true, lastSeq: 31 });

    await logged('journal copy failed');
    expect((await journal.lastSeq('run-x').catch((e: { code: string }) => e)) as { code: string }).toMatchObject({
      code: ErrorCode.JournalUnavailable,
    });
    const behind = await store.journalBacklog();
    expect(behind.find((b) => b.runId === 'run-x')).toEqual({ runId: 'run-x', lastSeq: 31, journaledSeq: 3 });

    await own.start();
    const restartedAt = Date.now();
    await writer.drain({ timeoutMs: 15_000 });
    const catchUpMs = Date.now() - restartedAt;

    for (const runId of ['run-x', 'run-y']) {
      const loaded = await journal.loadRun(runId);
      expect(loaded?.events).toEqual(await store.read(runId));
      expect(loaded?.events.map((e) => e.seq)).toEqual(
        Array.from({ length: loaded?.run.lastSeq ?? 0 }, (_, i) => i + 1),
      );
    }
    expect(await journal.getRun('run-x')).toMatchObject({ status: 'finished', outcome: 'recovered', lastSeq: 31 });
    expect((await journal.getRun('run-y'))?.lastSeq).toBe(7);

    // In order: the journal received the events in sequence, never a later one before an earlier one.
    const client = new pg.Client({ connectionString: own.url() });
    await client.connect();
    try {
      const rows = await client.query<{ seq: number; journaled_at: Date }>(
        `SELECT seq, journaled_at FROM dg_recovery.run_events WHERE run_id = 'run-x' ORDER BY seq`,
      );
      const times = rows.rows.map((r) => r.journaled_at.getTime());
      expect(times).toEqual([...times].sort((a, b) => a - b));
    } finally {
      await client.end();
    }
    expect(catchUpMs).toBeLessThan(15_000);
    console.info(`journal caught up ${28} events ${catchUpMs} ms after Postgres returned`);
  });
});
