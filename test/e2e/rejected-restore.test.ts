import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANA, BO, buttons, E2E, textOf } from './harness.js';
import { clickChoice, eventLogToBackupChoice, recommendedOption, simBackups } from './steps.js';

// Event-log damage, and the newest backup (`nightly`) carries damage too: Bo, who knows it, rejects its restore.
// The run goes back to the backup choice (no pause), the rejected backup is still offered and marked, Ana picks
// `scheduled`, Bo approves it, and the restore runs once, on the second choice.

let e2e: E2E;

beforeAll(async () => {
  e2e = await E2E.start({ sim: { faults: ['hash-drift', 'drifted-backup'] } });
});

afterAll(async () => {
  await e2e?.close();
});

describe('/dg recover event-log when the restore approval is rejected', () => {
  it('asks the backup choice again, restores the one chosen next after a new approval, and recovers', async () => {
    const { nightly, scheduled } = await simBackups(e2e);
    expect(nightly && scheduled).toBeTruthy();
    const runId = await eventLogToBackupChoice(e2e);

    const first = await clickChoice(e2e, runId, ANA, 'choose_backup', recommendedOption);
    const firstId = first.button.value?.split('|')[2] ?? '';
    expect(firstId).toBe(nightly?.id);
    const rejected = await clickChoice(e2e, runId, BO, 'approve_restore', 'reject');
    expect(JSON.stringify(rejected.message.blocks)).toContain(
      'the run goes back to \\"Choose the backup to restore\\" to choose again.',
    );

    // Asked again as a new request: the rejected backup stays offered, marked and not recommended.
    const again = await clickChoice(
      e2e,
      runId,
      ANA,
      'choose_backup',
      (b) => b.value?.includes(`|choose_backup|${scheduled?.id}|`) === true,
    );
    const marked = buttons(again.message).find((b) => b.value?.includes(`|choose_backup|${firstId}|`));
    expect(marked?.text).toMatch(/\(approval rejected by bo\)$/);
    expect(marked?.text).not.toMatch(/^★/);
    const secondId = again.button.value?.split('|')[2] ?? '';

    // The new choice is a new round of the approval, its request a new message version.
    await e2e.until(
      () => e2e.thread(runId).find((m) => textOf(m).includes('Approval needed (round 2)')),
      'the second round of the restore approval',
    );
    const approval = await clickChoice(e2e, runId, BO, 'approve_restore', 'approve');
    expect(textOf(approval.message)).toContain('Approval needed (round 2)');
    expect(textOf(approval.message)).toContain('Round 1: rejected by <@U0BO>');
    expect(textOf(approval.message)).toContain(`\`${secondId}\``);
    // The listing gives the backup's last log_seq; the tail is what gather_parity read before the choice.
    const parity = (await e2e.bot.runtime.service.get(runId))?.state.steps.gather_parity?.outputs.maxLogSeq;
    expect(typeof parity).toBe('number');
    const tail = parity as number;
    const upTo = scheduled?.last_log_seq as number;
    expect(upTo).toBeLessThanOrEqual(tail);
    expect(textOf(approval.message)).toContain(
      `Would lose ${tail - upTo} events written after the backup (tail seq ${tail}, backup up to ${upTo}).`,
    );

    await clickChoice(e2e, runId, ANA, 'rebuild_decision', recommendedOption);
    await clickChoice(e2e, runId, ANA, 'resume_writes', 'done');
    const end = await e2e.runFinished(runId, 60_000);
    expect(end.outcome?.outcome).toBe('recovered');
    expect(end.pause).toBeNull();
    expect(end.rejectedDecisions.map((r) => [r.record.optionId, r.by.id])).toEqual([[firstId, BO.id]]);
    expect(end.decisions.find((d) => d.stepId === 'choose_backup')?.optionId).toBe(secondId);
    expect(end.approvals.map((a) => [a.stepId, a.round, a.by.id])).toEqual([
      ['approve_stop_writes', 1, BO.id],
      ['approve_preserve', 1, BO.id],
      ['approve_restore', 2, BO.id],
    ]);
    expect(e2e.sim.hostActionCounts().restore_backup).toBe(1);
    // The rejected nightly carries drift: a clean integrity check after the restore shows scheduled was restored.
    expect(end.steps.verify_integrity?.status).toBe('passed');
    e2e.expectEverythingWithinLimits();
  }, 120_000);
});
