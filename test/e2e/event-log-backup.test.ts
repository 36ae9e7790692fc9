import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANA, BO, buttons, E2E, textOf } from './harness.js';
import { clickChoice, eventLogToBackupChoice, recommendedOption, simBackups } from './steps.js';

// Event-log damage, and the newest backup carries damage too: after its restore the integrity check still fails.
// People are offered another backup instead of only Retry or Skip: the list is read again with the damaged one
// marked and not recommended, the new restore needs a new approval, and the broken database is not preserved
// a second time.

let e2e: E2E;

beforeAll(async () => {
  e2e = await E2E.start({ sim: { faults: ['hash-drift', 'drifted-backup'] } });
});

afterAll(async () => {
  await e2e?.close();
});

describe('/dg recover event-log when the restored backup is damaged too', () => {
  it('goes back to the backup choice, restores another one after a new approval, and recovers', async () => {
    const { nightly, scheduled } = await simBackups(e2e);
    expect(nightly && scheduled).toBeTruthy();
    const runId = await eventLogToBackupChoice(e2e);

    // The newest backup from before the run is recommended; the copy just preserved is named as such.
    const first = await clickChoice(e2e, runId, ANA, 'choose_backup', recommendedOption);
    expect(first.button.value).toContain(`|choose_backup|${nightly?.id}|`);
    expect(textOf(first.message)).toContain('the broken copy preserved by this run');
    await clickChoice(e2e, runId, BO, 'approve_restore', 'approve');

    // The restored backup still shows drift: another backup is offered, with the reason in the thread.
    const damaged = await clickChoice(e2e, runId, ANA, 'restored_damaged', 'choose_another');
    expect(textOf(damaged.message)).toContain('The integrity check of the restored database still finds damage');
    expect(buttons(damaged.message).map((b) => b.value?.split('|')[2])).toEqual(['choose_another', 'abort']);

    const again = await clickChoice(e2e, runId, ANA, 'choose_backup_again', recommendedOption);
    expect(again.button.value).toContain(`|choose_backup_again|${scheduled?.id}|`);
    const offered = buttons(again.message);
    const rejected = offered.find((b) => b.value?.includes(`|choose_backup_again|${nightly?.id}|`));
    expect(rejected?.text).toMatch(/^restored by this run and rejected · nightly/);
    expect(offered.find((b) => b.text.includes('the broken copy preserved by this run'))?.text).not.toMatch(/^★/);

    // A second restore is a new destructive step: it waits for its own approval.
    const approval = await clickChoice(e2e, runId, BO, 'approve_restore_again', 'approve');
    expect(textOf(approval.message)).toContain('Restore the other backup');

    await clickChoice(e2e, runId, ANA, 'rebuild_decision', recommendedOption);
    await clickChoice(e2e, runId, ANA, 'resume_writes', 'done');
    const end = await e2e.runFinished(runId, 60_000);
    expect(end.outcome?.outcome).toBe('recovered');
    expect(end.steps.verify_integrity).toMatchObject({ status: 'failed', error: { code: 'event_log_damaged' } });
    expect(end.steps.verify_integrity_again?.status).toBe('passed');
    expect(end.approvals.map((a) => [a.stepId, a.by.id])).toEqual([
      ['approve_stop_writes', BO.id],
      ['approve_preserve', BO.id],
      ['approve_restore', BO.id],
      ['approve_restore_again', BO.id],
    ]);
    const counts = e2e.sim.hostActionCounts();
    expect([counts.stop_writes, counts.preserve_database, counts.restore_backup, counts.restart]).toEqual([1, 1, 2, 1]);
    // The preserve step named its copy, which is how the listings told it apart.
    expect(end.steps.preserve_database?.outputs.preservedId).toEqual(expect.stringMatching(/^decisiongraph-/));
    e2e.expectEverythingWithinLimits();
  }, 120_000);
});
