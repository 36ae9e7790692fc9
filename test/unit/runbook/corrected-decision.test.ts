import { describe, expect, it } from 'vitest';
import { applyDecision } from '../../../src/runbook/index.js';
import { ACCESS, APPROVER, eventsOf, run, STARTER, start } from './driver.js';
import { World } from './world.js';

// A decision, once made, stands: a second dialog for the same decision with another value (backup A, then B) is
// refused with what was decided and by whom, never taken as a repeat of the first.

function decidedOnTypedBackup() {
  const w = new World();
  w.integrity = { payload_hash_drift: 2 };
  const d = start(w, 'event-log');
  run(d, {
    decide: (cmd) =>
      cmd.stepId === 'choose_backup' ? { optionId: 'other', value: 'backup-a', by: STARTER } : undefined,
    // Stop driving at the restore's approval: the choice is made and nothing has used it yet.
    approve: (cmd) => (cmd.stepId === 'approve_restore' ? 'stop' : 'approve'),
  });
  const made = eventsOf(d, 'decision_made').filter((e) => e.stepId === 'choose_backup');
  expect(made.map((e) => [e.optionId, e.value])).toEqual([['other', 'backup-a']]);
  return d;
}

describe('a corrected decision', () => {
  it('refuses another typed value from the same person, naming the first choice and who made it', () => {
    const d = decidedOnTypedBackup();
    const corrected = applyDecision(
      d.state,
      d.scenario,
      { stepId: 'choose_backup', optionId: 'other', value: 'backup-b', by: STARTER },
      ACCESS,
      d.now,
    );
    expect(corrected).toEqual({
      ok: false,
      refusal: { code: 'already_decided', message: 'already decided: backup-a by ana', by: STARTER },
    });
    expect(d.state.decisions.find((x) => x.stepId === 'choose_backup')?.value).toBe('backup-a');
  });

  it('takes the very same submission again as a repeat, and refuses another person’s', () => {
    const d = decidedOnTypedBackup();
    const same = { stepId: 'choose_backup', optionId: 'other', value: ' backup-a ', by: STARTER };
    expect(applyDecision(d.state, d.scenario, same, ACCESS, d.now)).toEqual({ ok: true, events: [], duplicate: true });
    expect(applyDecision(d.state, d.scenario, { ...same, by: APPROVER }, ACCESS, d.now)).toMatchObject({
      ok: false,
      refusal: { code: 'already_decided', message: 'already decided: backup-a by ana' },
    });
  });
});
