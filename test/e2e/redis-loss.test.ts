import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SimulatorOptions } from '../../sim/index.js';
import { scaleScenarioTiming } from '../../src/jobs/scenario-timing.js';
import { incidentSummaryMessage, renderThread } from '../../src/projections/thread/index.js';
import { getScenario, type RunEvent, type ScenarioName } from '../../src/runbook/index.js';
import { type OwnRedis, startOwnRedis } from '../helpers/own-redis.js';
import { APPROVER, driveRun, RunWatcher, STARTER } from '../integration/jobs/fixtures.js';
import { CHANNEL, E2E, TIME_SCALE } from './harness.js';

// The bot on a Redis of the test's own, killed with SIGKILL right after a side effect's outcome is appended (before
// the write-behind could copy it) and started again empty. The run goes on from the journal: the action is not
// repeated, and the thread and the summary file in Slack are updated, never posted again.

let redis: OwnRedis;
let e2e: E2E | undefined;
let killAfter: ((events: readonly RunEvent[]) => boolean) | undefined;
let killing: (() => void) | undefined;

function onAppended(_runId: string, events: readonly RunEvent[]): void {
  if (killAfter?.(events)) {
    killAfter = undefined;
    const kill = redis.kill();
    kill.then(killing);
  }
}

/** Kills Redis right after the append that records the step's pass; resolves once Redis is dead. */
function killAfterPass(stepId: string): Promise<void> {
  killAfter = (events) => events.some((e) => e.type === 'step_passed' && e.stepId === stepId);
  return new Promise((resolve) => {
    killing = resolve;
  });
}

beforeAll(async () => {
  redis = await startOwnRedis();
});

afterEach(async () => {
  await redis.start();
  await e2e?.close();
  e2e = undefined;
});

afterAll(async () => {
  await redis?.stop();
});

async function start(sim: SimulatorOptions): Promise<E2E> {
  e2e = await E2E.start({
    sim,
    redisUrl: redis.url,
    access: { operators: [STARTER.id, APPROVER.id], approvers: [APPROVER.id] },
    bot: { runtime: { onAppended } },
  });
  return e2e;
}

/** Waits for the kill, starts Redis again empty, and reconciles as the periodic sweep would, until the run is back. */
async function restartRedisEmpty(
  bot: E2E,
  runId: string,
  killed: Promise<void>,
  whileDown: () => Promise<void> = async () => undefined,
): Promise<void> {
  await killed;
  await whileDown();
  await redis.start();
  await expect
    .poll(
      async () => {
        await bot.bot.runtime.reconcile().catch(() => undefined);
        return (await bot.bot.runtime.service.listActive().catch(() => [])).map((r) => r.runId);
      },
      { timeout: 30_000, interval: 250 },
    )
    .toContain(runId);
}

/** Per outbox key, how many times it was posted (each post carries its key in the metadata). */
function postsPerKey(bot: E2E, runId: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const call of bot.fake.calls('chat.postMessage')) {
    if (!call.ok) continue;
    const payload = (call.params.metadata as { event_payload?: { run_id?: string; key?: string } } | undefined)
      ?.event_payload;
    if (payload?.run_id !== runId || payload.key === undefined) continue;
    counts[payload.key] = (counts[payload.key] ?? 0) + 1;
  }
  return counts;
}

/** The thread has one message per key the run renders, each posted once. */
async function expectWholeThreadPostedOnce(bot: E2E, runId: string, scenario: ScenarioName): Promise<void> {
  const events = (await bot.bot.runtime.service.get(runId))?.events ?? [];
  const keys = renderThread(events, scaleScenarioTiming(getScenario(scenario), TIME_SCALE), {
    summary: incidentSummaryMessage,
  }).map((m) => m.key);
  const once = Object.fromEntries(keys.map((key) => [key, 1]));
  expect(postsPerKey(bot, runId)).toEqual(once);
  expect(bot.messages(runId)).toHaveLength(keys.length);
}

/** Replay runs DecisionGraph admitted, in its own table. */
async function replayRuns(bot: E2E, where: string): Promise<number> {
  const client = new pg.Client({ connectionString: bot.sim.databaseUrl });
  await client.connect();
  try {
    const res = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM dg_projection_runs WHERE ${where}`);
    return res.rows[0]?.n ?? 0;
  } finally {
    await client.end();
  }
}

const catchUpReplays = (bot: E2E) => replayRuns(bot, "mode = 'catch_up'");

async function startRun(bot: E2E, scenario: string): Promise<RunWatcher> {
  const started = await bot.bot.runtime.service.start({ scenario, actor: STARTER, channelId: CHANNEL });
  if (!started.ok) throw new Error(started.message);
  return RunWatcher.watch(bot.bot.runtime.service, started.runId);
}

describe('Redis killed with SIGKILL right after a side effect, and started again empty', () => {
  it('restart: the catch_up is requested once; the thread and its file are never posted again', async () => {
    const bot = await start({ faults: ['node-down', 'projections-behind'] });
    const replaysBefore = await catchUpReplays(bot);
    const killed = killAfterPass('start_catch_up');
    const watcher = await startRun(bot, 'restart');
    const finished = driveRun(watcher, {}, 60_000);
    // The replay finishes while Redis is down: a second request would now be admitted, not attached to it.
    await restartRedisEmpty(bot, watcher.runId, killed, () =>
      expect.poll(() => replayRuns(bot, "status = 'running'"), { timeout: 20_000 }).toBe(0),
    );
    const end = await finished;
    await watcher.close();

    expect(end.outcome?.outcome).toBe('recovered');
    expect(bot.sim.hostActionCounts().restart).toBe(1);
    expect((await catchUpReplays(bot)) - replaysBefore).toBe(1);
    await bot.bot.outbox?.drain(watcher.runId, 20_000);
    expect(await bot.bot.summaryFile?.settled(watcher.runId, 20_000)).toBe('done');
    // Every message of the thread is there, each posted once, although Redis lost some before they were delivered.
    await expectWholeThreadPostedOnce(bot, watcher.runId, 'restart');
    expect(bot.sharedFiles(watcher.runId)).toHaveLength(1);

    // The finished run through a second loss and a restarted bot, which catches up recent runs' threads.
    const postCalls = bot.fake.calls('chat.postMessage').length;
    const uploads = bot.fake.uploads().length;
    await redis.kill();
    await redis.start();
    await bot.restartBot();
    await bot.bot.projector?.idle();
    await bot.bot.outbox?.drain(watcher.runId, 20_000);
    expect(await bot.bot.summaryFile?.settled(watcher.runId, 20_000)).toBe('done');
    expect(bot.fake.calls('chat.postMessage').slice(postCalls)).toEqual([]);
    expect(bot.fake.uploads().length).toBe(uploads);
    expect(bot.sharedFiles(watcher.runId)).toHaveLength(1);
  }, 120_000);

  it('event-log: every host action runs once and nothing is posted twice', async () => {
    const bot = await start({ faults: ['hash-drift'] });
    const before = bot.sim.hostActionCounts();
    const killed = killAfterPass('restore_backup');
    const watcher = await startRun(bot, 'event-log');
    const finished = driveRun(
      watcher,
      {
        // The backup taken before the damage, not the copy of the broken database the run just made.
        decide: (p) =>
          p.stepId === 'choose_backup'
            ? { optionId: p.options.find((o) => o.label.startsWith('scheduled'))?.id ?? 'abort' }
            : undefined,
      },
      60_000,
    );
    await restartRedisEmpty(bot, watcher.runId, killed);
    const end = await finished;
    await watcher.close();

    expect(end.outcome?.outcome).toBe('recovered');
    const after = bot.sim.hostActionCounts();
    const ran = Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - (before[k] ?? 0)]));
    expect(ran).toMatchObject({ stop_writes: 1, preserve_database: 1, restore_backup: 1, restart: 1 });
    await bot.bot.outbox?.drain(watcher.runId, 20_000);
    await expectWholeThreadPostedOnce(bot, watcher.runId, 'event-log');
  }, 120_000);
});
