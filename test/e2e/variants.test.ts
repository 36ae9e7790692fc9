import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock, type SimulatorOptions, type VariantName, variantOptions } from '../../sim/index.js';
import { ACTION } from '../../src/bot/thread/index.js';
import type { RunState } from '../../src/runbook/index.js';
import { ANA, E2E, textOf } from './harness.js';
import { type Walk, walkThread } from './walk-thread.js';

// Each simulator variant of a real incident, run from Slack to its end: the run ends recovered by itself, with
// decisions and approvals clicked as the thread offers them, and no pause, no alert and no Retry anywhere.

/** A whole recovery with its own simulator and bot: start-up, some thirty steps, the summary. */
const RUN_TIMEOUT_MS = 90_000;

let e2e: E2E | undefined;

afterEach(async () => {
  await e2e?.close();
  e2e = undefined;
});

async function start(scenarioFaults: SimulatorOptions, variant: VariantName, extra: SimulatorOptions = {}) {
  e2e = await E2E.start({ sim: { ...scenarioFaults, ...variantOptions([variant]), ...extra } });
  return e2e;
}

async function recover(world: E2E, scenario: string): Promise<string> {
  const started = await world.command(ANA, `recover ${scenario}`);
  return world.startedRunId(started.responseId);
}

/** Nothing the bot ever sent offered a Retry or announced a pause. */
function expectNoPauseEver(world: E2E): void {
  const sent = [...world.fake.calls('chat.postMessage'), ...world.fake.calls('chat.update')].map((c) =>
    JSON.stringify(c.params),
  );
  expect(sent.filter((body) => body.includes(ACTION.retry))).toEqual([]);
  expect(sent.filter((body) => body.includes('is paused'))).toEqual([]);
}

async function expectRecovered(world: E2E, runId: string, walk: Walk): Promise<RunState> {
  expect(walk.pausedAt).toBeUndefined();
  const run = await world.bot.runtime.service.get(runId);
  expect(run?.state.outcome?.outcome).toBe('recovered');
  expect(run?.events.some((e) => e.type === 'run_paused')).toBe(false);
  expect(textOf(world.thread(runId)[0])).toContain('Recovered');
  expectNoPauseEver(world);
  return run?.state as RunState;
}

/** Starts the scenario from Slack and clicks through it; it must end recovered with no pause. */
async function recoverByClicking(
  world: E2E,
  scenario: string,
): Promise<{ clicks: readonly string[]; state: RunState }> {
  const runId = await recover(world, scenario);
  const walk = await walkThread(world, runId);
  return { clicks: walk.clicks, state: await expectRecovered(world, runId, walk) };
}

describe('upgrade with slow replays', () => {
  it(
    'waits in the checklist for its own smoke replay, then recovers',
    async () => {
      const clock = new ManualClock();
      const world = await start({ faults: ['failed-upgrade'] }, 'slow-replays', { clock });
      const runId = await recover(world, 'upgrade');
      const walking = walkThread(world, runId);

      // The checklist sees the smoke check's catch_up still running and waits for it instead of failing.
      const seen = await world.until(() => {
        const thread = world.thread(runId);
        const gate = thread.find((m) => textOf(m).includes('st-gate'));
        if (textOf(gate).includes('own replays')) return textOf(gate);
        return thread.find((m) => textOf(m).includes(ACTION.retry)) ? 'paused' : undefined;
      }, 'the checklist waiting for the smoke replay');
      expect(seen).toContain('started by this run and still running');
      clock.advance(6_000);

      const state = await expectRecovered(world, runId, await walking);
      expect(state.startedReplayJobIds.length).toBeGreaterThanOrEqual(2);
    },
    RUN_TIMEOUT_MS,
  );
});

describe('upgrade after restoring a backup taken while projections lagged', () => {
  it(
    'requests a catch_up for the idle projectors, so the re-run smoke checks pass',
    async () => {
      const world = await start({ faults: ['failed-upgrade'] }, 'lagging-restore');
      const { clicks, state } = await recoverByClicking(world, 'upgrade');
      expect(clicks).toContain('catch_up_decision:catch_up');
      expect(state.steps.check_projections?.outputs.state).toBe('behind_not_moving');
      expect(state.steps.smoke_after?.status).toBe('passed');
    },
    RUN_TIMEOUT_MS,
  );
});

describe('orphaned replay runs that come back with the restored backup', () => {
  it(
    'upgrade asks about the orphan and retries it with a fresh catch_up',
    async () => {
      const world = await start({ faults: ['failed-upgrade'] }, 'orphaned-runs');
      const { clicks, state } = await recoverByClicking(world, 'upgrade');
      expect(clicks).toContain('orphan_runs:retry');
      expect(state.steps.poll_catch_up?.status).toBe('passed');
    },
    RUN_TIMEOUT_MS,
  );

  it(
    'event-log asks about the orphan after the restore and catches up instead of failing the checklist',
    async () => {
      const world = await start({ faults: ['hash-drift'], allowRebuild: true }, 'orphaned-runs');
      const { clicks } = await recoverByClicking(world, 'event-log');
      expect(clicks).toEqual(
        expect.arrayContaining(['orphan_runs:retry', 'rebuild_decision:catch_up', 'resume_writes:done']),
      );
    },
    RUN_TIMEOUT_MS,
  );
});
