import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANA, BO, buttons, E2E, textOf } from './harness.js';
import { clickChoice, recommendedOption, simState } from './steps.js';

// A failed upgrade whose host took no backup labelled pre-upgrade: the newest backup was taken after the new
// release went in. The bot must not recommend it; with the upgrade's time given it recommends the newest backup
// taken before, and without it recommends none and says why.

let e2e: E2E;

beforeAll(async () => {
  e2e = await E2E.start({ sim: { faults: ['failed-upgrade-unlabelled'] } });
});

afterAll(async () => {
  await e2e?.close();
});

interface Backup {
  id: string;
  label: string;
  created_at: string;
  last_log_seq: number;
}

async function backups(): Promise<Backup[]> {
  return (await simState(e2e)).backups as Backup[];
}

/** The simulator's event-log tail, read straight from its database. */
async function simTail(): Promise<number> {
  const client = new pg.Client({ connectionString: e2e.sim.databaseUrl });
  await client.connect();
  try {
    const rows = await client.query<{ tail: string }>('SELECT MAX(log_seq)::text AS tail FROM dg_event_log');
    return Number(rows.rows[0]?.tail);
  } finally {
    await client.end();
  }
}

describe('/dg recover upgrade with no pre-upgrade backup', () => {
  it('without upgraded_at recommends no backup and says why, and the run is aborted from the choice', async () => {
    const started = await e2e.command(ANA, 'recover upgrade');
    const runId = await e2e.startedRunId(started.responseId);
    await clickChoice(e2e, runId, BO, 'approve_stop', 'approve');
    const choice = await e2e.until(
      () => e2e.thread(runId).find((m) => textOf(m).includes(`${runId}|choose_backup|`)),
      'the backup choice',
      30_000,
    );
    const text = textOf(choice);
    expect(text).toContain('no backup is labelled \\"pre-upgrade\\" and the time of the upgrade is not known');
    expect(text).toContain('upgraded_at=');
    expect(text).not.toContain('★');
    await clickChoice(e2e, runId, ANA, 'choose_backup', 'abort');
    const end = await e2e.runFinished(runId);
    expect(end.outcome?.outcome).toBe('aborted');
    expect(e2e.sim.hostActionCounts().restore_backup ?? 0).toBe(0);
  }, 60_000);

  it('with upgraded_at recommends the newest backup taken before the upgrade and restores that one', async () => {
    const state = await simState(e2e);
    const upgradedAt = String(state.release_installed_at);
    const listed = await backups();
    const scheduled = listed.find((b) => b.label === 'scheduled');
    const hourly = listed.find((b) => b.label === 'hourly');
    expect(scheduled && hourly && Date.parse(hourly.created_at) > Date.parse(upgradedAt)).toBe(true);

    const started = await e2e.command(ANA, `recover upgrade upgraded_at=${upgradedAt}`);
    expect(started.ack.text).toContain('Starting a `upgrade` recovery run');
    const runId = await e2e.startedRunId(started.responseId);
    const stopsBefore = e2e.sim.hostActionCounts().stop ?? 0;
    await clickChoice(e2e, runId, BO, 'approve_stop', 'approve');
    const { button, message } = await clickChoice(e2e, runId, ANA, 'choose_backup', recommendedOption);
    // The recommended one is the backup from before the upgrade; the one taken after it is offered, not starred.
    expect(button.value).toContain(`|choose_backup|${scheduled?.id}|`);
    expect(textOf(message)).toContain('recommending the newest taken before the upgrade');
    const offered = buttons(message);
    expect(offered.find((b) => b.value?.includes(`|choose_backup|${hourly?.id}|`))?.text).toMatch(
      /^hourly · (just before the run|\d+ (s|min|h) before the run) · /,
    );
    const approval = await clickChoice(e2e, runId, BO, 'approve_restore', 'approve');
    // The tail is read once the runtime is stopped, so it is still the simulator's at the approval.
    const tail = await simTail();
    const upTo = scheduled?.last_log_seq as number;
    expect(upTo).toBeLessThanOrEqual(tail);
    expect(textOf(approval.message)).toContain(
      `Would lose ${tail - upTo} events written after the backup (tail seq ${tail}, backup up to ${upTo}).`,
    );
    await clickChoice(e2e, runId, ANA, 'choose_release', 'configured');
    await clickChoice(e2e, runId, BO, 'approve_switch', 'approve');
    const end = await e2e.runFinished(runId, 60_000);
    expect(end.outcome?.outcome).toBe('recovered');
    expect(end.params.upgradedAt).toBe(upgradedAt);
    const counts = e2e.sim.hostActionCounts();
    expect([(counts.stop ?? 0) - stopsBefore, counts.restore_backup, counts.switch_release, counts.start]).toEqual([
      1, 1, 1, 1,
    ]);
    const restored = end.decisions.find((d) => d.stepId === 'choose_backup');
    expect(restored?.optionId).toBe(scheduled?.id);
    e2e.expectEverythingWithinLimits();
  }, 90_000);
});
