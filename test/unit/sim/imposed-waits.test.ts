import { describe, expect, it } from 'vitest';
import { coveredMs, ImposedWaits } from '../../../sim/util/imposed-waits.js';

describe('imposed waits', () => {
  it('counts overlapping waits once and only inside the window', () => {
    const waits = new ImposedWaits();
    waits.record('boot', 1_000, 2_200);
    // A replay that starts while the node still boots, and one after a gap.
    waits.record('replay', 2_000, 3_700);
    waits.record('replay', 5_000, 6_000);
    expect(coveredMs(waits.list(), 0, 10_000)).toBe(2_700 + 1_000);
    // The run started half way through the boot and ended before the last replay did.
    expect(coveredMs(waits.list(), 1_600, 5_500)).toBe(2_100 + 500);
    expect(coveredMs(waits.list(), 3_700, 5_000)).toBe(0);
  });

  it('keeps a copy: what a caller does with the list does not change the record', () => {
    const waits = new ImposedWaits();
    waits.record('host', 0, 10);
    waits.list().pop();
    expect(waits.list()).toEqual([{ kind: 'host', startedAt: 0, endedAt: 10 }]);
  });
});
