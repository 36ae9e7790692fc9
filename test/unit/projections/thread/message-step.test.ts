import { describe, expect, it } from 'vitest';
import { alertKey, RESULT_KEY } from '../../../../src/projections/thread/alerts.js';
import { itemKey } from '../../../../src/projections/thread/decision-message.js';
import { HEADER_KEY } from '../../../../src/projections/thread/draft.js';
import { stepIdOfKey } from '../../../../src/projections/thread/message-step.js';
import { reminderKey } from '../../../../src/projections/thread/reminders.js';
import { stepKey } from '../../../../src/projections/thread/step-basics.js';
import { SUMMARY_KEY } from '../../../../src/projections/thread/summary-message.js';

describe('stepIdOfKey', () => {
  it('reads the step back from every key the thread builds for a step', () => {
    expect(stepIdOfKey(stepKey('check_healthz'))).toBe('check_healthz');
    expect(stepIdOfKey(itemKey('resume_writes', 2))).toBe('resume_writes');
    expect(stepIdOfKey(alertKey('replay_projections', 17))).toBe('replay_projections');
    expect(stepIdOfKey(reminderKey('approve_restore', 3))).toBe('approve_restore');
    expect(stepIdOfKey('remind-manual-resume_writes-12')).toBe('resume_writes');
  });

  it('finds no step in run-wide messages', () => {
    for (const key of [HEADER_KEY, RESULT_KEY, SUMMARY_KEY, alertKey(undefined, 4), 'remind-pause-run-9']) {
      expect(stepIdOfKey(key)).toBeUndefined();
    }
  });
});
