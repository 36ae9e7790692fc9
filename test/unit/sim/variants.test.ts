import { describe, expect, it } from 'vitest';
import {
  faultsWithVariants,
  isVariantName,
  unknownVariantMessage,
  VARIANT_NAMES,
  variantOptions,
} from '../../../sim/index.js';

describe('simulator variants', () => {
  it('names every valid variant when a name is unknown', () => {
    expect(isVariantName('slow-replay')).toBe(false);
    const message = unknownVariantMessage('slow-replay');
    expect(message).toContain('unknown variant "slow-replay"');
    for (const name of VARIANT_NAMES) expect(message).toContain(name);
  });

  it('joins the options of several variants and scales their durations', () => {
    expect(variantOptions(['slow-replays', 'lagging-restore', 'orphaned-runs'], 0.1)).toEqual({
      replayDurationMs: 600,
      faultsInBackups: ['projections-behind', 'orphaned-run'],
    });
    expect(variantOptions([])).toEqual({});
  });

  it("adds a variant's faults to the scenario's, leaving out the textbook fault it stands in for", () => {
    expect(faultsWithVariants(['hash-drift'], ['drifted-backup'])).toEqual(['hash-drift', 'drifted-backup']);
    expect(faultsWithVariants(['failed-upgrade'], ['unlabelled-backups'])).toEqual(['failed-upgrade-unlabelled']);
    expect(faultsWithVariants(['projections-behind', 'orphaned-run'], ['cursors-ahead'])).toEqual([
      'orphaned-run',
      'cursor-ahead',
    ]);
    expect(faultsWithVariants(['node-down'], [])).toEqual(['node-down']);
  });
});
