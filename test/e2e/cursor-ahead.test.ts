import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANA, BO, buttons, CHANNEL, E2E, textOf } from './harness.js';

// Projection cursors ahead of a restored event log: projection health looks clean, only SQL shows it. The
// `projections` run must say so at the start and offer a rebuild; where rebuilds are forbidden, the run ends by
// itself, failed, naming what people must do, instead of pausing on a checklist no Retry can pass.

let e2e: E2E;

beforeAll(async () => {
  e2e = await E2E.start({ sim: { allowRebuild: true } });
});

afterAll(async () => {
  await e2e?.close();
});

async function startProjections(): Promise<string> {
  const started = await e2e.command(ANA, 'recover projections');
  return e2e.startedRunId(started.responseId);
}

describe('cursors ahead of the event-log tail', () => {
  it('ends the run failed with the manual next step when the deployment forbids rebuilds', async () => {
    await e2e.sim.inject('cursor-ahead');
    await e2e.sim.inject('rebuild-disabled');
    const runId = await startProjections();

    // The evidence says what a cursor ahead means; a catch_up, which cannot help, is not offered.
    expect(await e2e.decideRecommended(BO, runId, 'cursors past the restored tail')).toBe('rebuild');
    const cursors = e2e.thread(runId).find((m) => textOf(m).includes('st-inspect_cursors'));
    expect(textOf(cursors)).toContain('newer than the event log');
    const decision = e2e.thread(runId).find((m) => textOf(m).includes('Transient or semantic'));
    expect(decision && buttons(decision).some((b) => b.value?.includes('|catch_up|'))).toBe(false);
    await e2e.approve(BO, runId);

    const state = await e2e.runFinished(runId);
    expect(state.outcome?.outcome).toBe('failed');
    const run = await e2e.bot.runtime.service.get(runId);
    expect(run?.events.filter((e) => e.type === 'run_paused')).toEqual([]);
    expect(state.steps.gate?.status ?? 'pending').toBe('pending');

    // The channel and the summary name the manual action: enable rebuilds, restart, run projections again.
    const result = await e2e.until(
      () =>
        e2e.fake
          .channelMessages(CHANNEL)
          .find((m) => m.reply_broadcast && textOf(m).includes(`Recovery run ${runId} failed`)),
      'the broadcast result',
    );
    expect(textOf(result)).toContain('Needs manual action: enable rebuilds (admin_controls allow_rebuild)');
    expect(textOf(result)).toContain('run `projections` again');
    const summary = await e2e.until(
      () => e2e.thread(runId).find((m) => m.text?.startsWith('Incident summary')),
      'the incident summary',
    );
    expect(textOf(summary)).toContain('Needs manual action');
    expect(textOf(summary)).toContain('Rebuild disabled in this deployment');
  });

  it('rebuilds after an approval where rebuilds are allowed, and recovers', async () => {
    await e2e.sim.clear('rebuild-disabled');
    const runId = await startProjections();
    expect(await e2e.decideRecommended(BO, runId, 'cursors past the restored tail')).toBe('rebuild');
    await e2e.approve(BO, runId);
    const state = await e2e.runFinished(runId, 30_000);
    expect(state.outcome?.outcome).toBe('recovered');
    expect(state.steps.start_rebuild?.status).toBe('passed');
    const gate = state.steps.gate?.evidence.find(
      (e) => e.label === 'checklist: projection cursors ahead of the event tail',
    );
    expect(gate).toMatchObject({ measured: 0, ok: true });
    e2e.expectEverythingWithinLimits();
  });
});
