import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunState } from '../../src/runbook/index.js';
import { ANA, BO, E2E } from './harness.js';

// Several tenants recovered at once, each with a replay run a restart cut off. DecisionGraph counts live replay
// jobs for the whole node, so while one tenant's catch_up runs, another tenant's orphan must still be found as
// one: every run recovers without anyone clicking Retry.

const TENANTS = ['t1', 't2', 't3'];

let e2e: E2E;

beforeAll(async () => {
  // Slow replays (each batch waits), so every tenant's catch_up is live while the next run looks for orphans.
  e2e = await E2E.start({ sim: { seed: { tracesPerTenant: 20, tenants: TENANTS }, replayBatchDelayMs: 1_000 } });
  for (const tenantId of TENANTS) await e2e.sim.inject('orphaned-run', { tenantId });
});

afterAll(async () => {
  await e2e?.close();
});

async function stateOf(runId: string): Promise<RunState> {
  const run = await e2e.bot.runtime.service.get(runId);
  if (!run) throw new Error(`run ${runId} is unknown`);
  return run.state;
}

/** Takes the recommended option at every decision and approves as Bo, until the run finishes or pauses. */
async function drive(runId: string): Promise<RunState> {
  let decided = 0;
  for (;;) {
    await expect
      .poll(
        async () => {
          const s = await stateOf(runId);
          return s.status === 'finished' || s.status === 'paused' || s.decisions.length > decided ? 'moved' : s.status;
        },
        { timeout: 30_000, interval: 50 },
      )
      .toMatch(/moved|waiting_decision|waiting_approval/);
    const s = await stateOf(runId);
    if (s.status === 'finished' || s.status === 'paused') return s;
    decided = s.decisions.length;
    if (s.status === 'waiting_approval') await e2e.approve(BO, runId);
    else if (s.status === 'waiting_decision') {
      await e2e.decideRecommended(BO, runId, `tenant ${s.tenantId}: as recommended`);
      await expect
        .poll(async () => (await stateOf(runId)).decisions.length, { timeout: 15_000 })
        .toBeGreaterThan(decided);
      decided = (await stateOf(runId)).decisions.length;
    }
  }
}

/** The run's catch_up is live, or the run stopped without one (which the assertions then show). */
async function replayLiveOrStopped(runId: string): Promise<boolean> {
  const s = await stateOf(runId);
  const live = s.steps.start_catch_up?.status === 'passed' && s.steps.poll_replay?.status !== 'passed';
  return live || s.status === 'finished' || s.status === 'paused';
}

describe('projections runs on several tenants at once', () => {
  it('finds each tenant orphan while another tenant replays, and every run recovers', async () => {
    const runs: string[] = [];
    const driven: Promise<RunState>[] = [];
    for (const tenantId of TENANTS) {
      // Each next tenant starts while the one before has its catch_up live.
      if (runs.length > 0) {
        await expect.poll(() => replayLiveOrStopped(runs.at(-1) as string), { timeout: 30_000 }).toBe(true);
      }
      const started = await e2e.command(ANA, `recover projections tenant=${tenantId} trace=${tenantId}-trace-0001`);
      const runId = await e2e.startedRunId(started.responseId);
      runs.push(runId);
      driven.push(drive(runId));
    }
    const states = await Promise.all(driven);

    for (const [i, state] of states.entries()) {
      const inventory = state.steps.inspect_runs?.outputs;
      expect(inventory, TENANTS[i]).toMatchObject({ hasOrphans: true, orphanCount: 1 });
      expect(state.outcome?.outcome, `${TENANTS[i]}: ${state.outcome?.reason ?? ''}`).toBe('recovered');
      const run = await e2e.bot.runtime.service.get(state.runId);
      expect(run?.events.filter((e) => e.type === 'run_paused')).toEqual([]);
    }
    // The later tenants looked for orphans while another tenant's replay was live.
    const active = states.slice(1).map((s) => s.steps.inspect_runs?.outputs.activeReplayJobs);
    expect(active.every((n) => typeof n === 'number' && n > 0)).toBe(true);
  }, 120_000);
});
