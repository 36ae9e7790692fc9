import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DECIDE_ACTION_PATTERNS,
  type DecideKind,
  decideActionId,
  decideKindOf,
  encodeActionValue,
  encodeReasonMetadata,
  parseActionValue,
  parseReasonMetadata,
} from '../../../src/slack/action-values.js';

const runId = fc.stringMatching(/^run-[0-9a-f]{10}$/);
const stepId = fc.stringMatching(/^[a-z][a-z0-9_]{0,62}$/);
const choice = fc.string({ minLength: 1, maxLength: 200 });
const seq = fc.integer({ min: 1, max: 999_999 });

describe('button values and dialog metadata', () => {
  it('round-trip whatever the option id holds, `|` and `;` included', () => {
    fc.assert(
      fc.property(runId, stepId, choice, seq, (r, s, c, n) => {
        const value = { runId: r, stepId: s, choice: c, seq: n };
        expect(parseActionValue(encodeActionValue(value))).toEqual(value);
        const meta = { purpose: 'decide' as const, target: value, channelId: 'C0INC', threadTs: '1700000000.000100' };
        expect(parseReasonMetadata(encodeReasonMetadata(meta))).toEqual(meta);
      }),
    );
  });

  it('reject anything that is not one of ours', () => {
    for (const raw of [
      '',
      'run-1',
      'run-1|step',
      'run-1|step|x|1',
      '<!channel>|s|x|v1',
      'run-1|Step|x|v1',
      'run-1|s||v1',
      'run-1|s|x|v0',
    ]) {
      expect(parseActionValue(raw)).toBeUndefined();
    }
    expect(parseReasonMetadata('nuke;C1;;run-1|s|x|v1')).toBeUndefined();
    expect(parseReasonMetadata('skip;<#C1>;;run-1|s|x|v1')).toBeUndefined();
  });

  it('tell from the action id whether a decision opens a dialog', () => {
    expect(decideKindOf(decideActionId(0))).toBe('direct');
    expect(decideKindOf(decideActionId(3, 'reason'))).toBe('reason');
    expect(decideKindOf(decideActionId(12, 'value'))).toBe('value');
    expect(decideKindOf('dg.approve')).toBeUndefined();
  });

  it('match each decision button with the listener of its kind only', () => {
    const kinds: DecideKind[] = ['direct', 'reason', 'value'];
    for (const kind of kinds) {
      for (const other of kinds) {
        expect(DECIDE_ACTION_PATTERNS[other].test(decideActionId(7, kind))).toBe(other === kind);
      }
    }
    expect(Object.values(DECIDE_ACTION_PATTERNS).some((p) => p.test('dg.approve'))).toBe(false);
  });
});
