import { BROKEN_RELEASE, GOOD_RELEASE } from '../runtime/context.js';
import type { FaultName } from '../types.js';
import { rfc3339 } from '../util/time.js';
import { driftedBackup, failedUpgradeUnlabelled } from './backup-faults.js';
import { brokenOrdering, cursorAhead, hashDrift, openFailures, orphanedRun } from './db-faults.js';
import type { FaultHost, FaultSwitch } from './fault-host.js';
import { lostAnswers } from './host-answers.js';
import { postgresDown } from './postgres-down.js';
import { projectionsBehind } from './projections-behind.js';

const flag: FaultSwitch = { inject: async () => null, clear: async () => undefined };

/**
 * Every fault's switch. Flags (`slow`, `rebuild-disabled`, `stop-ignored`, `replay-answer-lost`) act through
 * `host.faults` alone.
 */
export const FAULTS: Record<FaultName, FaultSwitch> = {
  'node-down': {
    inject: async (h: FaultHost) => h.stopNode(),
    clear: async (h: FaultHost) => h.startNode(),
  },
  'postgres-down': postgresDown,
  'projections-behind': projectionsBehind,
  'open-failures': openFailures,
  'orphaned-run': orphanedRun,
  'hash-drift': hashDrift,
  'broken-ordering': brokenOrdering,
  'cursor-ahead': cursorAhead,
  'failed-upgrade': {
    // An upgrade starts with a backup; the new release then fails its smoke checks.
    async inject(h: FaultHost) {
      const backup = await h.backups.create('pre-upgrade');
      h.host.release = BROKEN_RELEASE;
      h.host.releaseInstalledAt = rfc3339(h.clock.now());
      return backup.id;
    },
    async clear(h: FaultHost) {
      h.host.release = GOOD_RELEASE;
    },
  },
  'drifted-backup': driftedBackup,
  'failed-upgrade-unlabelled': failedUpgradeUnlabelled,
  slow: flag,
  'rebuild-disabled': flag,
  'stop-ignored': flag,
  'host-cut-off': lostAnswers('cut-off'),
  'host-answer-lost': lostAnswers('answer-lost'),
  'replay-answer-lost': flag,
};
