import { injectHashDrift } from '../db/faults.js';
import { BROKEN_RELEASE, GOOD_RELEASE } from '../runtime/context.js';
import { DEFAULT_FAULT_TENANT } from '../types.js';
import { rfc3339 } from '../util/time.js';
import type { FaultHost, FaultSwitch } from './fault-host.js';

/**
 * A newer backup (`nightly`) taken while two events carried payload-hash drift, which the live database no longer
 * has: restoring it brings the drift back. Two events a quarter and three quarters into the tenant's history, so
 * the `hash-drift` fault (the middle one) can be on as well. Clearing repairs the backup's copy of those rows.
 */
export const driftedBackup: FaultSwitch = {
  async inject(h: FaultHost) {
    const drift = await injectHashDrift(h.pool, { tenantId: DEFAULT_FAULT_TENANT, count: 2 });
    const backup = await h.backups.create('nightly');
    await h.backups.restoreEvents(h.initialBackupId, drift.logSeqs);
    return { backupId: backup.id, logSeqs: drift.logSeqs };
  },
  async clear(h: FaultHost, injected: unknown) {
    const { backupId, logSeqs } = injected as { backupId: string; logSeqs: number[] };
    await h.backups.restoreEvents(h.initialBackupId, logSeqs, backupId);
  },
};

/**
 * The failed upgrade without a `pre-upgrade` backup: release `v2-broken` installed (its time kept as the host's
 * `releaseInstalledAt`), then an `hourly` backup taken after it. Only the start-up `scheduled` backup predates the
 * upgrade. Cleared: release `v1`.
 */
export const failedUpgradeUnlabelled: FaultSwitch = {
  async inject(h: FaultHost) {
    const installedAt = h.clock.now();
    h.host.release = BROKEN_RELEASE;
    h.host.releaseInstalledAt = rfc3339(installedAt);
    // A later backup: its time differs from the install time even to a millisecond reader.
    return (await h.backups.create('hourly', Math.max(h.clock.now(), installedAt + 5))).id;
  },
  async clear(h: FaultHost) {
    h.host.release = GOOD_RELEASE;
    h.host.releaseInstalledAt = rfc3339(h.clock.now());
  },
};
