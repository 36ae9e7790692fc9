import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock, type SimulatorOptions, type VariantName, variantOptions } from '../../sim/index.js';
import { ACTION } from '../../src/projections/thread/index.js';
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

interface ClickThrough {
  readonly title: string;
  readonly sim: SimulatorOptions;
  readonly variant: VariantName;
  readonly scenario: string;
  /** `step:option` clicks the thread must have offered on the way. */
  readonly clicks: readonly string[];
  /** Steps that must have passed, which the variant makes necessary. */
  readonly passed: readonly string[];
}

const CLICK_THROUGH: readonly ClickThrough[] = [
  {
    title: 'upgrade after a restore whose projections lag: a catch_up for the idle projectors, then smoke checks pass',
    sim: { faults: ['failed-upgrade'] },
    variant: 'lagging-restore',
    scenario: 'upgrade',
    clicks: ['catch_up_decision:catch_up'],
    passed: ['check_projections', 'poll_catch_up', 'smoke_after'],
  },
  {
    title: 'upgrade asks about the orphaned run the backup brought back and retries it with a fresh catch_up',
    sim: { faults: ['failed-upgrade'] },
    variant: 'orphaned-runs',
    scenario: 'upgrade',
    clicks: ['orphan_runs:retry'],
    passed: ['inspect_runs', 'poll_catch_up', 'smoke_after'],
  },
  {
    title: 'event-log asks about the orphaned run after the restore and catches up instead of failing the checklist',
    sim: { faults: ['hash-drift'], allowRebuild: true },
    variant: 'orphaned-runs',
    scenario: 'event-log',
    clicks: ['orphan_runs:retry', 'rebuild_decision:catch_up', 'resume_writes:done'],
    passed: ['inspect_runs', 'poll_replay'],
  },
];

describe('variants a person clicks through', () => {
  it.each(CLICK_THROUGH)(
    '$title',
    async (c) => {
      const world = await start(c.sim, c.variant);
      const { clicks, state } = await recoverByClicking(world, c.scenario);
      expect(clicks).toEqual(expect.arrayContaining([...c.clicks]));
      expect(c.passed.filter((id) => state.steps[id]?.status !== 'passed')).toEqual([]);
    },
    RUN_TIMEOUT_MS,
  );
});
