import type pg from 'pg';
import type { BackupStore } from '../control/backups.js';
import type { HostState } from '../runtime/context.js';
import type { NodeProcess } from '../runtime/node-process.js';
import type { SimClock } from '../util/clock.js';

/** What fault switches may touch: the database, the host switches and the node's lifecycle. */
export interface FaultHost {
  pool: pg.Pool;
  adminUrl: string;
  databaseName: string;
  host: HostState;
  backups: BackupStore;
  clock: SimClock;
  /** The backup taken right after start (the last known-good state). */
  initialBackupId: string;
  node(): NodeProcess;
  stopNode(): Promise<void>;
  startNode(): Promise<void>;
}

/**
 * A fault's on/off switch; `inject` returns what `clear` needs to undo it. `tenantId` is the tenant whose rows a
 * tenant fault changes, or the host action a host-answer fault acts on (`*`: every one); others ignore it.
 */
export interface FaultSwitch {
  inject(host: FaultHost, tenantId: string): Promise<unknown>;
  clear(host: FaultHost, injected: unknown, tenantId: string): Promise<void>;
}
